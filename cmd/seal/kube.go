package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"time"

	"github.com/spf13/pflag"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/controller-runtime/pkg/client"

	kscheme "github.com/sealkit/sealkit/internal/scheme"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// defaultControllerName is the name of seal-controller's Deployment and
// webhook configurations in manifests/.
const defaultControllerName = "seal-controller"

// kubeRequestTimeout bounds every request seal makes to the API server, so
// an unreachable cluster fails in seconds rather than hanging; it is the
// default of --request-timeout.
const kubeRequestTimeout = 30 * time.Second

// clientQPS and clientBurst bound the requests seal makes per second (the
// client-side rate limit): above the 200 objects a second verify and
// reseal aim for, well under what an API server's fairness limits let one
// user have.
const (
	clientQPS   = 400
	clientBurst = 400
)

// kubeOptions are the flags that reach a cluster, as kubectl has them:
// --kubeconfig (else $KUBECONFIG, else ~/.kube/config), client-go's
// override flags (--context, --cluster, --user, --as, --as-group, --server,
// --token, --request-timeout, …), -n, and where seal-controller runs.
type kubeOptions struct {
	kubeconfig          string
	overrides           clientcmd.ConfigOverrides
	namespace           string
	controllerNamespace string
	controllerName      string

	// Resolved by connect.
	client client.Client
	// versions, when listed, spare dry-runs of existing objects a create.
	versions versions
	// defaultNS is -n, else the kubeconfig context's namespace, else
	// "default".
	defaultNS string
}

// addFlags adds the kubeconfig flags; withNamespace adds -n/--namespace
// too (the sealing commands have their own -n).
func (o *kubeOptions) addFlags(fs *pflag.FlagSet, withNamespace bool) {
	before := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) { before[f.Name] = true })
	fs.StringVar(&o.kubeconfig, "kubeconfig", "", "path to the kubeconfig `FILE` (default: $KUBECONFIG, else ~/.kube/config)")
	names := clientcmd.RecommendedConfigOverrideFlags("")
	names.ContextOverrideFlags.Namespace.LongName = "" // -n is seal's own
	names.CurrentContext.Description = "kubeconfig `CONTEXT` to use (default: the current context)"
	names.Timeout.Default = kubeRequestTimeout.String()
	names.Timeout.Description = "how long to wait for each request to the API server, as a `DURATION` (0: no limit)"
	clientcmd.BindOverrideFlags(&o.overrides, fs, names)
	if withNamespace {
		fs.StringVarP(&o.namespace, "namespace", "n", "", "`NAMESPACE` of objects that name none (default: the context's, else \"default\")")
	}
	fs.StringVar(&o.controllerNamespace, "controller-namespace", keyring.DefaultNamespace, "`NAMESPACE` seal-controller runs in (its keys and public keyring)")
	fs.StringVar(&o.controllerName, "controller-name", defaultControllerName, "`NAME` of seal-controller (its webhook configurations)")
	fs.VisitAll(func(f *pflag.Flag) {
		if !before[f.Name] && f.Name != "namespace" {
			markKubeFlag(f)
		}
	})
}

// useContext makes ctx, a context a .sealkit.yaml rule names, the one to
// use unless --context was given.
func (o *kubeOptions) useContext(ctx string) {
	if o.overrides.CurrentContext == "" {
		o.overrides.CurrentContext = ctx
	}
}

// loader is kubectl's kubeconfig resolution.
func (o *kubeOptions) loader() clientcmd.ClientConfig {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.kubeconfig
	return clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &o.overrides)
}

// errNoKubeconfig is the friendly form of client-go's "no configuration
// has been provided".
func errNoKubeconfig() error {
	return withHint(&cliError{code: ExitUsage, err: errors.New("no kubeconfig found: neither $KUBECONFIG nor ~/.kube/config names a cluster")},
		"give --kubeconfig FILE or set KUBECONFIG to reach a cluster; to seal offline, give --keys FILE (a keyring 'seal keys fetch' wrote) or --recipient")
}

// restConfig loads the kubeconfig and resolves the default namespace.
func (o *kubeOptions) restConfig() (*rest.Config, error) {
	cc := o.loader()
	cfg, err := cc.ClientConfig()
	if clientcmd.IsEmptyConfig(err) {
		return nil, errNoKubeconfig()
	}
	if err != nil {
		return nil, withHint(fmt.Errorf("loading kubeconfig: %w", err),
			"give --kubeconfig FILE or set KUBECONFIG, and --context to pick a cluster")
	}
	o.defaultNS = o.namespace
	if o.defaultNS == "" {
		ns, _, err := cc.Namespace()
		if err != nil {
			return nil, fmt.Errorf("loading kubeconfig: %w", err)
		}
		o.defaultNS = ns
	}
	if o.defaultNS == "" {
		o.defaultNS = defaultNamespace
	}
	cfg = rest.CopyConfig(cfg)
	// Verify and re-seal send a request per object, --concurrency at once;
	// a repository of thousands should not crawl at client-go's default 5
	// requests per second. The limit holds for all of them together.
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	cfg.UserAgent = "seal"
	cfg.WarningHandlerWithContext = sinkWarnings{}
	return cfg, nil
}

// contextNamespace is the namespace the kubeconfig's context sets, and
// the context's name; "" when there is no kubeconfig, or the context sets
// none. It reads only the kubeconfig file.
func (o *kubeOptions) contextNamespace() (ns, context string) {
	raw, err := o.loader().RawConfig()
	if err != nil {
		return "", ""
	}
	context = o.overrides.CurrentContext
	if context == "" {
		context = raw.CurrentContext
	}
	if c := raw.Contexts[context]; c != nil {
		return c.Namespace, context
	}
	return "", context
}

// describe names the cluster the kubeconfig reaches, for messages:
// context "NAME" (cluster "NAME", server URL).
func (o *kubeOptions) describe() string {
	raw, err := o.loader().RawConfig()
	if err != nil {
		return "the cluster"
	}
	context := o.overrides.CurrentContext
	if context == "" {
		context = raw.CurrentContext
	}
	cluster := o.overrides.Context.Cluster
	if c := raw.Contexts[context]; c != nil && cluster == "" {
		cluster = c.Cluster
	}
	server := o.overrides.ClusterInfo.Server
	if c := raw.Clusters[cluster]; c != nil && server == "" {
		server = c.Server
	}
	return fmt.Sprintf("context %q (cluster %q, server %s)", context, cluster, server)
}

// connect makes the client, once. Tests may set o.client beforehand.
func (o *kubeOptions) connect() (client.Client, error) {
	if o.client != nil {
		return o.client, nil
	}
	cfg, err := o.restConfig()
	if err != nil {
		return nil, err
	}
	scheme, err := kscheme.New()
	if err != nil {
		return nil, err
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		return nil, kubeError(fmt.Errorf("connecting to the cluster: %w", err))
	}
	o.client = c
	return c, nil
}

// kubeContext is the context for one command's requests.
func kubeContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Minute)
}

// kubeError adds a hint to errors that mean the cluster cannot be reached.
func kubeError(err error) error {
	if unreachable(err) {
		return withHint(err, "check that the cluster is reachable: --kubeconfig, --context, KUBECONFIG")
	}
	return err
}

// unreachable reports whether err means the API server could not be
// reached at all.
func unreachable(err error) bool {
	var ne net.Error
	var ue *url.Error
	return err != nil && (errors.As(err, &ne) || errors.As(err, &ue))
}
