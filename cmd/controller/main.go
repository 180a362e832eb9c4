// Command seal-controller runs the sealkit controller: it unseals
// SealedSecrets into Secrets and manages the cluster's keys. It turns flags
// into pkg/controller options and starts the manager; nothing else.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sealkit/sealkit/internal/version"
	"github.com/sealkit/sealkit/pkg/controller"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "seal-controller: error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		mo        controller.ManagerOptions
		ro        controller.ReconcilerOptions
		ko        controller.KeyOptions
		watch     string
		logFormat string
		qps       float64
		wo        controller.WebhookOptions
		co        controller.CertOptions
		recovery  []string
		webhooks  bool
	)
	fs := flag.CommandLine // controller-runtime registers --kubeconfig there
	fs.StringVar(&mo.Namespace, "namespace", envOr("POD_NAMESPACE", keyring.DefaultNamespace),
		"the controller's own namespace: keys, keyring ConfigMap, leader election Lease")
	fs.StringVar(&watch, "watch-namespaces", "", "comma-separated namespaces whose SealedSecrets are unsealed (default all)")
	fs.DurationVar(&ko.RotationPeriod, "key-rotation-period", controller.DefaultRotationPeriod, "age at which the active key is replaced")
	fs.Float64Var(&qps, "kube-api-qps", controller.DefaultQPS, "client requests per second to the API server")
	fs.IntVar(&mo.Burst, "kube-api-burst", controller.DefaultBurst, "client request burst to the API server")
	fs.IntVar(&ro.Concurrency, "concurrency", controller.DefaultConcurrency, "SealedSecrets reconciled in parallel")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&mo.LeaderElection, "leader-elect", true, "run as one of several replicas, only the leader active")
	fs.StringVar(&mo.MetricsBindAddress, "metrics-bind-address", ":8080", "address of /metrics (0 disables it)")
	fs.StringVar(&mo.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "address of /healthz and /readyz (0 disables them)")
	fs.StringVar(&mo.PprofBindAddress, "pprof-bind-address", "0", "address of /debug/pprof (0 disables it)")
	fs.BoolVar(&webhooks, "enable-webhooks", true, "serve the admission webhooks (online seal verify and seal reseal) with self-managed certificates")
	fs.IntVar(&wo.Port, "webhook-port", controller.DefaultWebhookPort, "port of the admission webhook server")
	fs.StringVar(&wo.CertDir, "webhook-cert-dir", filepath.Join(os.TempDir(), "seal-controller-webhook-certs"),
		"directory the webhook serving certificate is written to and served from")
	fs.Func("webhook-host", "extra IP address or DNS name in the webhook certificate (repeatable)", func(v string) error {
		co.Hosts = append(co.Hosts, v)
		return nil
	})
	fs.Func("recovery-recipient", "age recipient every re-seal also seals to, e.g. an offline recovery key (repeatable)", func(v string) error {
		recovery = append(recovery, v)
		return nil
	})
	printVersion := fs.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *printVersion {
		// The same version as `seal --version` of the same build.
		fmt.Printf("seal-controller %s (%s, %s/%s)\n", version.String(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
		return nil
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	zo := zap.Options{}
	switch logFormat {
	case "json":
		zo.Encoder = nil // zap.Options defaults to JSON outside development mode
	case "text":
		zap.ConsoleEncoder()(&zo)
	default:
		return fmt.Errorf("--log-format: %q is neither text nor json", logFormat)
	}
	ctrl.SetLogger(zap.New(zap.UseFlagOptions(&zo)))

	mo.QPS = float32(qps)
	if watch != "" {
		mo.WatchNamespaces = strings.Split(watch, ",")
	}
	ko.Namespace = mo.Namespace

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	mgr, err := controller.NewManager(cfg, mo)
	if err != nil {
		return err
	}
	keys, err := controller.SetupKeys(mgr, ko)
	if err != nil {
		return err
	}
	if err := controller.SetupReconciler(mgr, keys, ro); err != nil {
		return err
	}
	if webhooks {
		if err := setupWebhooks(mgr, keys, wo, co, mo.Namespace, recovery); err != nil {
			return err
		}
	}
	ctrl.Log.Info("starting seal-controller", "version", version.String(), "namespace", mo.Namespace, "watchNamespaces", mo.WatchNamespaces)
	return mgr.Start(ctrl.SetupSignalHandler())
}

func setupWebhooks(mgr ctrl.Manager, keys *controller.KeyStore, wo controller.WebhookOptions, co controller.CertOptions, ns string, recovery []string) error {
	for _, r := range recovery {
		rc, err := crypto.ParseRecipient(r)
		if err != nil {
			return fmt.Errorf("--recovery-recipient: %w", err)
		}
		wo.RecoveryRecipients = append(wo.RecoveryRecipients, rc)
	}
	co.Namespace, co.CertDir = ns, wo.CertDir
	if err := controller.SetupCerts(mgr, co); err != nil {
		return err
	}
	return controller.SetupWebhooks(mgr, keys, wo)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
