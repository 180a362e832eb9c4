package controller

import (
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/metrics/filters"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sealkit/sealkit/internal/controller/secretcache"
	kscheme "github.com/sealkit/sealkit/internal/scheme"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// LeaderElectionID names the Lease, in the controller namespace, that the
// replicas compete for; only its holder reconciles and manages keys.
const LeaderElectionID = "seal-controller.sealkit.dev"

// Client limits sized for thousands of SealedSecrets: at client-go's own
// defaults (QPS 5) a thousand objects take minutes.
const (
	DefaultQPS   = 200
	DefaultBurst = 400
)

// ManagerOptions configure [NewManager].
type ManagerOptions struct {
	// Namespace is the controller's own namespace: keys, the keyring
	// ConfigMap and the leader election Lease live there.
	Namespace string
	// WatchNamespaces restricts the SealedSecrets watched; empty means all.
	WatchNamespaces []string
	// QPS and Burst limit the client; zero means DefaultQPS and DefaultBurst.
	QPS   float32
	Burst int
	// LeaderElection makes only one replica active at a time.
	LeaderElection bool
	// MetricsBindAddress serves /metrics ("0" disables it).
	MetricsBindAddress string
	// SecureMetrics serves /metrics over HTTPS, only to callers the API
	// server authenticates (TokenReview) and authorizes (a
	// SubjectAccessReview for get on the non-resource URL /metrics).
	SecureMetrics bool
	// HealthProbeBindAddress serves /healthz and /readyz ("0" disables it).
	HealthProbeBindAddress string
	// PprofBindAddress serves /debug/pprof; empty or "0" disables it.
	PprofBindAddress string
	// GracefulShutdownTimeout bounds how long a stopping manager waits for
	// its runnables; zero keeps controller-runtime's default.
	GracefulShutdownTimeout time.Duration
	// Logger is the manager's logger; the zero value means ctrl.Log.
	Logger logr.Logger
	// SkipNameValidation allows several managers in one process (tests).
	SkipNameValidation bool
}

// NewManager returns a manager whose caches hold only what the controller
// owns: Secrets labelled [v1alpha1.LabelManagedBy] in the watched namespaces,
// the Secrets and ConfigMaps of the controller namespace (where keys and the
// keyring live), and SealedSecrets' metadata only (see
// [TransformSealedSecret]). Unrelated Secrets, however many, are never
// listed or watched.
func NewManager(cfg *rest.Config, opts ManagerOptions) (ctrl.Manager, error) {
	if opts.Namespace == "" {
		opts.Namespace = keyring.DefaultNamespace
	}
	cfg = rest.CopyConfig(cfg)
	// The only responses large enough for the API server to compress are
	// pages of SealedSecrets, whose ciphertexts (base64 of random bytes)
	// shrink by a quarter at best: compressing them costs the API server
	// more CPU than the bytes are worth.
	cfg.DisableCompression = true
	cfg.QPS, cfg.Burst = opts.QPS, opts.Burst
	if cfg.QPS == 0 {
		cfg.QPS = DefaultQPS
	}
	if cfg.Burst == 0 {
		cfg.Burst = DefaultBurst
	}
	scheme, err := kscheme.New()
	if err != nil {
		return nil, err
	}
	mo := ctrl.Options{
		Scheme:                        scheme,
		Cache:                         cacheOptions(opts),
		Metrics:                       metricsOptions(opts),
		HealthProbeBindAddress:        opts.HealthProbeBindAddress,
		PprofBindAddress:              opts.PprofBindAddress,
		LeaderElection:                opts.LeaderElection,
		LeaderElectionID:              LeaderElectionID,
		LeaderElectionNamespace:       opts.Namespace,
		LeaderElectionReleaseOnCancel: true,
		Logger:                        opts.Logger,
		Controller:                    config.Controller{SkipNameValidation: &opts.SkipNameValidation},
	}
	if opts.GracefulShutdownTimeout != 0 {
		mo.GracefulShutdownTimeout = &opts.GracefulShutdownTimeout
	}
	mgr, err := ctrl.NewManager(cfg, mo)
	if err != nil {
		return nil, fmt.Errorf("creating manager: %w", err)
	}
	if err := mgr.AddHealthzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	if err := mgr.AddReadyzCheck("ping", healthz.Ping); err != nil {
		return nil, err
	}
	return mgr, nil
}

// RBAC of the secure metrics server: it asks the API server who a caller is
// and whether it may get /metrics.
//
// +kubebuilder:rbac:groups=authentication.k8s.io,resources=tokenreviews,verbs=create
// +kubebuilder:rbac:groups=authorization.k8s.io,resources=subjectaccessreviews,verbs=create

// metricsOptions serves /metrics with controller-runtime's secure server
// when asked: its own self-signed certificate, and authentication and
// authorization delegated to the API server.
func metricsOptions(opts ManagerOptions) metricsserver.Options {
	mo := metricsserver.Options{BindAddress: opts.MetricsBindAddress}
	if opts.SecureMetrics {
		mo.SecureServing = true
		mo.FilterProvider = filters.WithAuthenticationAndAuthorization
	}
	return mo
}

// ManagedSecretSelector selects the Secrets the reconciler owns.
func ManagedSecretSelector() labels.Selector {
	r, err := labels.NewRequirement(v1alpha1.LabelManagedBy, selection.Exists, nil)
	if err != nil {
		panic(err) // a constant, valid label key
	}
	return labels.NewSelector().Add(*r)
}

// cacheOptions restricts what is cached. A label selector cannot say "this
// label or that one", so Secrets are selected per namespace: every Secret of
// the controller namespace (keys are labelled sealkit.dev/key, and that
// namespace is ours and small) and, everywhere else, only Secrets labelled
// sealkit.dev/managed-by.
func cacheOptions(opts ManagerOptions) cache.Options {
	own := cache.Config{LabelSelector: labels.Everything()}
	managed := cache.Config{LabelSelector: ManagedSecretSelector()}
	secrets := map[string]cache.Config{opts.Namespace: own}
	var defaults map[string]cache.Config
	if len(opts.WatchNamespaces) == 0 {
		secrets[cache.AllNamespaces] = managed
	} else {
		defaults = map[string]cache.Config{}
		for _, ns := range opts.WatchNamespaces {
			defaults[ns] = cache.Config{}
			if ns != opts.Namespace {
				secrets[ns] = managed
			}
		}
	}
	return cache.Options{
		DefaultNamespaces: defaults,
		ByObject: map[client.Object]cache.ByObject{
			// Outside its own namespace, a bounded summary of each Secret:
			// anyone may label a Secret sealkit.dev/managed-by.
			&corev1.Secret{}: {Namespaces: secrets, Transform: secretcache.Transform(opts.Namespace)},
			&corev1.ConfigMap{}: {
				Namespaces: map[string]cache.Config{opts.Namespace: {}},
				Transform:  stripManagedFields,
			},
			&v1alpha1.SealedSecret{}: {Transform: TransformSealedSecret},
		},
	}
}
