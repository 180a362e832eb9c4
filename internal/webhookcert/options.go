package webhookcert

import (
	"errors"
	"fmt"
	"net"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
)

// Defaults of [Options], matching manifests/webhook.
const (
	DefaultSecret  = "seal-controller-webhook-tls"
	DefaultService = "seal-controller-webhook"
	// DefaultConfig names both the ValidatingWebhookConfiguration
	// and the MutatingWebhookConfiguration.
	DefaultConfig = "seal-controller"
	// DefaultValidity is the lifetime of the CA and of the serving
	// certificate; both are replaced after two thirds of it.
	DefaultValidity = 365 * 24 * time.Hour
)

// Data keys of the webhook certificate Secret (type kubernetes.io/tls).
// DataCA is a PEM bundle: the CA that signed tls.crt, then the previous
// CA while it is valid, so replicas still serving the previous certificate
// stay trusted while the new one propagates. No CA private key is kept.
const (
	DataCA = "ca.crt"
)

// Options configure [Setup].
type Options struct {
	// Namespace is the controller namespace, where the Secret lives and
	// whose Service name the certificate is issued for. Required.
	Namespace string
	// CertDir is where every replica writes tls.crt and tls.key: the
	// webhook server's WebhookOptions.CertDir. Required.
	CertDir string
	// SecretName, ServiceName, ValidatingName and MutatingName default to
	// DefaultSecret, DefaultService and DefaultConfig.
	SecretName     string
	ServiceName    string
	ValidatingName string
	MutatingName   string
	// Hosts are extra names in the certificate: IP addresses or DNS names
	// (e.g. 127.0.0.1 for a controller run as a local process).
	Hosts []string
	// Validity is the certificate lifetime; zero means DefaultValidity.
	Validity time.Duration
	// Clock tells the time; nil means the real clock. A clock.Clock (a
	// FakeClock) also schedules renewals.
	Clock clock.PassiveClock
}

// RBAC for the webhook certificates: the Secret is in the controller
// namespace (secrets there are granted with the keys); the webhook
// configurations only by name. Renaming them (Options) needs a matching
// Role edit.
//
// +kubebuilder:rbac:groups=admissionregistration.k8s.io,resources=validatingwebhookconfigurations;mutatingwebhookconfigurations,verbs=get;update;patch,resourceNames=seal-controller

// Setup registers the self-managed webhook certificates with mgr (no
// cert-manager). On the leader, a runnable keeps a CA and a serving
// certificate (ECDSA P-256) for the webhook Service and opts.Hosts in the
// Secret opts.SecretName, renews them after two thirds of their life, and
// patches the CA bundle into both webhook configurations. On every replica,
// a controller writes the Secret's certificate and key into opts.CertDir,
// where the webhook server (see [SetupWebhooks]) picks them up.
func Setup(mgr ctrl.Manager, opts Options) error {
	if opts.Namespace == "" || opts.CertDir == "" {
		return errors.New("cert options: namespace and cert dir are required")
	}
	for _, h := range opts.Hosts {
		if h == "" || (net.ParseIP(h) == nil && len(validation.IsDNS1123Subdomain(h)) > 0) {
			return fmt.Errorf("cert options: %q is neither an IP address nor a DNS name", h)
		}
	}
	opts = certDefaults(opts)
	log := mgr.GetLogger().WithName("webhook-certs")
	r := &certRotator{
		client: mgr.GetClient(),
		reader: mgr.GetAPIReader(),
		opts:   opts,
		log:    log,
	}
	if err := mgr.Add(r); err != nil {
		return fmt.Errorf("adding webhook certificate rotator: %w", err)
	}
	w := &certWriter{client: mgr.GetClient(), opts: opts, log: log.WithName("files")}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("sealkit-webhook-certs").
		For(&corev1.Secret{}, builder.WithPredicates(isNamed(opts.Namespace, opts.SecretName))).
		WithOptions(controller.Options{
			NeedLeaderElection: ptr.To(false), // every replica serves webhooks
			SkipNameValidation: ptr.To(true),
		}).
		Complete(w)
	if err != nil {
		return fmt.Errorf("setting up webhook certificate writer: %w", err)
	}
	return nil
}

func certDefaults(o Options) Options {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&o.SecretName, DefaultSecret)
	def(&o.ServiceName, DefaultService)
	def(&o.ValidatingName, DefaultConfig)
	def(&o.MutatingName, DefaultConfig)
	if o.Validity == 0 {
		o.Validity = DefaultValidity
	}
	if o.Clock == nil {
		o.Clock = clock.RealClock{}
	}
	return o
}

// certHosts are the names the serving certificate is issued for.
func certHosts(o Options) []string {
	svc := o.ServiceName + "." + o.Namespace + ".svc"
	hosts := []string{svc, svc + ".cluster.local"}
	for _, h := range o.Hosts {
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String() // as a certificate's IP SAN reads back
		}
		hosts = append(hosts, h)
	}
	return hosts
}

func isNamed(namespace, name string) predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == namespace && o.GetName() == name
	})
}
