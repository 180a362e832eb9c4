package webhooks

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/internal/webhookcert"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// KeySource is what the webhooks need of the key store
// (internal/controller/keys): the identities that open values and the
// recipients a re-seal seals to.
type KeySource interface {
	Identities() []*crypto.Identity
	Recipients() []*crypto.Recipient
	State(crypto.KeyID) keyring.State
}

// Paths the webhooks are served on; manifests/webhook points the webhook
// configurations at them.
const (
	ValidatePath = "/validate-sealkit-dev-v1alpha1-sealedsecret"
	MutatePath   = "/mutate-sealkit-dev-v1alpha1-sealedsecret"
)

// DefaultPort is the port the webhook server listens on when
// Options leaves it zero.
const DefaultPort = 9443

// Options configure [Setup].
type Options struct {
	// Host is the address the webhook server listens on; empty means all.
	Host string
	// Port is the webhook server's port; zero means DefaultPort.
	Port int
	// CertDir holds the serving certificate (tls.crt, tls.key), written
	// there by [SetupCerts] or mounted by the operator. Empty means
	// controller-runtime's default directory.
	CertDir string
	// RecoveryRecipients are sealed to, besides the active key, by every
	// re-seal: offline keys that can recover values without the cluster.
	RecoveryRecipients []*crypto.Recipient
	// Policy is the tenant boundary the reconciler enforces; the
	// validating webhook refuses at apply time what it would refuse.
	Policy policy.Policy
	// ClientCAFile, when set, is a PEM bundle of the CAs whose client
	// certificates the server requires: the API server's, configured in
	// its admission configuration (see docs/security.md). Without it any
	// caller may connect, and gains nothing a SealedSecret author lacks.
	ClientCAFile string
	// ClientNames, when set with ClientCAFile, are the names (common name
	// or DNS SAN) a client certificate must carry.
	ClientNames []string
}

// Setup registers the SealedSecret admission webhooks with mgr's
// webhook server, which runs on every replica (not only the leader): the
// validating webhook at [ValidatePath] and the re-sealing mutating webhook at
// [MutatePath]. Both read keys from keys, which every replica loads.
//
// The server's certificate is read from opts.CertDir whenever it appears
// there and reloaded when it changes; until then TLS handshakes fail and the
// readiness check "webhook" fails, so a Service sends no traffic to a replica
// without its certificate.
func Setup(mgr ctrl.Manager, keys KeySource, opts Options) error {
	if keys == nil {
		return errors.New("webhook options: no key store")
	}
	if err := checkRecipients(opts.RecoveryRecipients); err != nil {
		return err
	}
	if opts.Port == 0 {
		opts.Port = DefaultPort
	}
	srv := mgr.GetWebhookServer()
	ds, ok := srv.(*webhook.DefaultServer)
	if !ok {
		return fmt.Errorf("webhook server is a %T, not controller-runtime's default server", srv)
	}
	if opts.CertDir == "" {
		opts.CertDir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
	}
	cert := webhookcert.NewServing(opts.CertDir, mgr.GetLogger().WithName("webhook-cert"))
	// The default server would refuse to start without the files; the
	// certificate is instead served from cert once it is in place. This
	// must be set before the first Register, which fixes the options.
	clientCAs, err := loadClientCAs(opts.ClientCAFile)
	if err != nil {
		return err
	}
	ds.Options.Host, ds.Options.Port, ds.Options.CertDir = opts.Host, opts.Port, opts.CertDir
	ds.Options.TLSOpts = append(ds.Options.TLSOpts, func(c *tls.Config) {
		c.GetCertificate = cert.GetCertificate
		c.MinVersion = tls.VersionTLS12
		if clientCAs != nil {
			// Verified if given; required per request (see authenticated),
			// so that the readiness check's bare handshake still works.
			c.ClientAuth = tls.VerifyClientCertIfGiven
			c.ClientCAs = clientCAs
		}
	})
	if err := mgr.Add(cert); err != nil {
		return fmt.Errorf("adding webhook certificate loader: %w", err)
	}

	log := mgr.GetLogger().WithName("webhook")
	decoder := admission.NewDecoder(mgr.GetScheme())
	guard := func(h http.Handler) http.Handler { return h }
	if clientCAs != nil {
		guard = func(h http.Handler) http.Handler { return authenticated(h, opts.ClientNames, log) }
	}
	srv.Register(ValidatePath, guard(&admission.Webhook{
		Handler:        &validator{keys: keys, policy: opts.Policy, decoder: decoder, log: log.WithName("validate")},
		LogConstructor: webhookLogger,
	}))
	srv.Register(MutatePath, guard(&admission.Webhook{
		Handler:        &resealer{keys: keys, recovery: opts.RecoveryRecipients, decoder: decoder, log: log.WithName("reseal")},
		LogConstructor: webhookLogger,
	}))
	if err := mgr.AddReadyzCheck("webhook", srv.StartedChecker()); err != nil {
		return fmt.Errorf("adding webhook readiness check: %w", err)
	}
	return nil
}

// webhookLogger names the object and the user of a request, nothing of its
// content (controller-runtime logs no request bodies either).
func webhookLogger(base logr.Logger, req *admission.Request) logr.Logger {
	if req == nil {
		return base
	}
	return base.WithValues("namespace", req.Namespace, "name", req.Name,
		"operation", req.Operation, "user", req.UserInfo.Username, "requestID", req.UID)
}

// checkRecipients refuses recovery recipients that could never be sealed to
// together with the active key: age does not mix classic and post-quantum
// recipients, and a value has at most crypto.MaxRecipients.
func checkRecipients(rs []*crypto.Recipient) error {
	if len(rs) > crypto.MaxRecipients-1 {
		return fmt.Errorf("%d recovery recipients: with the active key, a value may be sealed to at most %d", len(rs), crypto.MaxRecipients)
	}
	for _, r := range rs {
		if r.PostQuantum() != rs[0].PostQuantum() {
			return fmt.Errorf("recovery recipients %s and %s: %w", rs[0].KeyID(), r.KeyID(), crypto.ErrMixedRecipients)
		}
	}
	return nil
}

// loadClientCAs reads the client CA bundle, or returns nil when there is
// none to read.
func loadClientCAs(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	pemData, err := os.ReadFile(path) //nolint:gosec // the operator's flag
	if err != nil {
		return nil, fmt.Errorf("webhook client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("webhook client CA %s: no PEM certificate in it", path)
	}
	return pool, nil
}

// authenticated serves only requests whose TLS client certificate verified
// against the client CAs and, if names are given, carries one of them as
// its common name or a DNS name: the API server, configured to present it.
func authenticated(next http.Handler, names []string, log logr.Logger) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 {
			log.Info("refused a request without a verified client certificate", "remote", r.RemoteAddr, "path", r.URL.Path)
			http.Error(w, "a client certificate is required", http.StatusUnauthorized)
			return
		}
		leaf := r.TLS.VerifiedChains[0][0]
		if len(names) > 0 && !slices.Contains(names, leaf.Subject.CommonName) &&
			!slices.ContainsFunc(leaf.DNSNames, func(n string) bool { return slices.Contains(names, n) }) {
			log.Info("refused a client certificate with another name", "remote", r.RemoteAddr, "commonName", leaf.Subject.CommonName)
			http.Error(w, "this client certificate may not call the webhook", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}
