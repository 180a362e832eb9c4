// Command seal-controller runs the sealkit controller: it unseals
// SealedSecrets into Secrets and manages the cluster's keys. It turns flags
// into the options of internal/controller and its subsystems, wires them
// into one manager and starts it; nothing else.
package main

import (
	"cmp"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/controller/keys"
	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/internal/controller/reconciler"
	"github.com/sealkit/sealkit/internal/controller/webhooks"
	"github.com/sealkit/sealkit/internal/memlimit"
	"github.com/sealkit/sealkit/internal/version"
	"github.com/sealkit/sealkit/internal/webhookcert"
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
		mo            controller.ManagerOptions
		ro            reconciler.Options
		ko            keys.Options
		watch         string
		logFormat     string
		qps           float64
		wo            webhooks.Options
		co            webhookcert.Options
		recovery      []string
		serveWebhooks bool
	)
	fs := flag.CommandLine // controller-runtime registers --kubeconfig there
	fs.StringVar(&mo.Namespace, "namespace", envOr("POD_NAMESPACE", keyring.DefaultNamespace),
		"the controller's own namespace: keys, keyring ConfigMap, leader election Lease")
	fs.StringVar(&watch, "watch-namespaces", "", "comma-separated namespaces whose SealedSecrets are unsealed (default all)")
	fs.DurationVar(&ko.RotationPeriod, "key-rotation-period", keys.DefaultRotationPeriod, "age at which the active key is replaced")
	fs.Float64Var(&qps, "kube-api-qps", controller.DefaultQPS, "client requests per second to the API server")
	fs.IntVar(&mo.Burst, "kube-api-burst", controller.DefaultBurst, "client request burst to the API server")
	fs.IntVar(&ro.Concurrency, "concurrency", reconciler.DefaultConcurrency, "SealedSecrets reconciled in parallel")
	fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	fs.BoolVar(&mo.LeaderElection, "leader-elect", true, "run as one of several replicas, only the leader active")
	fs.StringVar(&mo.MetricsBindAddress, "metrics-bind-address", ":8443", "address of /metrics (0 disables it)")
	fs.BoolVar(&mo.SecureMetrics, "metrics-secure", true,
		"serve /metrics over HTTPS to authenticated callers RBAC allows to get /metrics (false: plain HTTP to anyone, for a local process)")
	fs.StringVar(&mo.HealthProbeBindAddress, "health-probe-bind-address", ":8081", "address of /healthz and /readyz (0 disables them)")
	fs.StringVar(&mo.PprofBindAddress, "pprof-bind-address", "0", "address of /debug/pprof (0 disables it)")
	fs.BoolVar(&serveWebhooks, "enable-webhooks", true, "serve the admission webhooks (online seal verify and seal reseal) with self-managed certificates")
	fs.IntVar(&wo.Port, "webhook-port", webhooks.DefaultPort, "port of the admission webhook server")
	fs.StringVar(&wo.CertDir, "webhook-cert-dir", filepath.Join(os.TempDir(), "seal-controller-webhook-certs"),
		"directory the webhook serving certificate is written to and served from")
	fs.Func("webhook-host", "extra IP address or DNS name in the webhook certificate (repeatable)", func(v string) error {
		co.Hosts = append(co.Hosts, v)
		return nil
	})
	fs.BoolVar(&ro.Policy.AllowControllerNamespace, "allow-controller-namespace", false,
		"unseal SealedSecrets in the controller's own namespace too (never into its key or certificate Secrets)")
	fs.Func("allow-secret-type", "let SealedSecrets make Secrets of this credential-minting type: "+
		"kubernetes.io/service-account-token or bootstrap.kubernetes.io/token (repeatable)", func(v string) error {
		if !slices.Contains(policy.CredentialTypes, corev1.SecretType(v)) {
			return fmt.Errorf("%q is not a type that is refused by default: every other type is allowed already", v)
		}
		ro.Policy.AllowedTypes = append(ro.Policy.AllowedTypes, corev1.SecretType(v))
		return nil
	})
	fs.StringVar(&wo.ClientCAFile, "webhook-client-ca", "",
		"PEM `FILE` of the CAs whose client certificates the webhook server requires (the API server's, from its admission configuration)")
	fs.Func("webhook-client-name", "with --webhook-client-ca, a name (common name or DNS SAN) the client certificate must carry (repeatable)", func(v string) error {
		wo.ClientNames = append(wo.ClientNames, v)
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
	if limit := memlimit.Set(); limit > 0 {
		ctrl.Log.Info("memory limit from the container's", "goMemLimitBytes", limit)
	}

	mo.QPS = float32(qps)
	if watch != "" {
		mo.WatchNamespaces = strings.Split(watch, ",")
	}
	ko.Namespace = mo.Namespace
	ro.Policy.ControllerNamespace = mo.Namespace
	ro.Policy.ReservedNames = []string{cmp.Or(co.SecretName, webhookcert.DefaultSecret)}
	wo.Policy = ro.Policy

	cfg, err := ctrl.GetConfig()
	if err != nil {
		return fmt.Errorf("loading kubeconfig: %w", err)
	}
	mgr, err := controller.NewManager(cfg, mo)
	if err != nil {
		return err
	}
	store, err := keys.Setup(mgr, ko)
	if err != nil {
		return err
	}
	if err := reconciler.Setup(mgr, store, ro); err != nil {
		return err
	}
	if serveWebhooks {
		if err := setupWebhooks(mgr, store, wo, co, mo.Namespace, recovery); err != nil {
			return err
		}
	}
	ctrl.Log.Info("starting seal-controller", "version", version.String(), "namespace", mo.Namespace, "watchNamespaces", mo.WatchNamespaces)
	return mgr.Start(ctrl.SetupSignalHandler())
}

func setupWebhooks(mgr ctrl.Manager, store *keys.Store, wo webhooks.Options, co webhookcert.Options, ns string, recovery []string) error {
	for _, r := range recovery {
		rc, err := crypto.ParseRecipient(r)
		if err != nil {
			return fmt.Errorf("--recovery-recipient: %w", err)
		}
		wo.RecoveryRecipients = append(wo.RecoveryRecipients, rc)
	}
	co.Namespace, co.CertDir = ns, wo.CertDir
	if err := webhookcert.Setup(mgr, co); err != nil {
		return err
	}
	return webhooks.Setup(mgr, store, wo)
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}
