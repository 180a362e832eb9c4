package controller

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
	"sigs.k8s.io/controller-runtime/pkg/webhook"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// Paths the webhooks are served on; manifests/webhook points the webhook
// configurations at them.
const (
	ValidatePath = "/validate-sealkit-dev-v1alpha1-sealedsecret"
	MutatePath   = "/mutate-sealkit-dev-v1alpha1-sealedsecret"
)

// DefaultWebhookPort is the port the webhook server listens on when
// WebhookOptions leaves it zero.
const DefaultWebhookPort = 9443

// WebhookOptions configure [SetupWebhooks].
type WebhookOptions struct {
	// Host is the address the webhook server listens on; empty means all.
	Host string
	// Port is the webhook server's port; zero means DefaultWebhookPort.
	Port int
	// CertDir holds the serving certificate (tls.crt, tls.key), written
	// there by [SetupCerts] or mounted by the operator. Empty means
	// controller-runtime's default directory.
	CertDir string
	// RecoveryRecipients are sealed to, besides the active key, by every
	// re-seal: offline keys that can recover values without the cluster.
	RecoveryRecipients []*crypto.Recipient
}

// SetupWebhooks registers the SealedSecret admission webhooks with mgr's
// webhook server, which runs on every replica (not only the leader): the
// validating webhook at [ValidatePath] and the re-sealing mutating webhook at
// [MutatePath]. Both read keys from keys, which every replica loads.
//
// The server's certificate is read from opts.CertDir whenever it appears
// there and reloaded when it changes; until then TLS handshakes fail and the
// readiness check "webhook" fails, so a Service sends no traffic to a replica
// without its certificate.
func SetupWebhooks(mgr ctrl.Manager, keys *KeyStore, opts WebhookOptions) error {
	if keys == nil {
		return errors.New("webhook options: no key store")
	}
	if err := checkRecipients(opts.RecoveryRecipients); err != nil {
		return err
	}
	if opts.Port == 0 {
		opts.Port = DefaultWebhookPort
	}
	srv := mgr.GetWebhookServer()
	ds, ok := srv.(*webhook.DefaultServer)
	if !ok {
		return fmt.Errorf("webhook server is a %T, not controller-runtime's default server", srv)
	}
	if opts.CertDir == "" {
		opts.CertDir = filepath.Join(os.TempDir(), "k8s-webhook-server", "serving-certs")
	}
	cert := &servingCert{
		certPath: filepath.Join(opts.CertDir, "tls.crt"),
		keyPath:  filepath.Join(opts.CertDir, "tls.key"),
		log:      mgr.GetLogger().WithName("webhook-cert"),
	}
	// The default server would refuse to start without the files; the
	// certificate is instead served from cert once it is in place. This
	// must be set before the first Register, which fixes the options.
	ds.Options.Host, ds.Options.Port, ds.Options.CertDir = opts.Host, opts.Port, opts.CertDir
	ds.Options.TLSOpts = append(ds.Options.TLSOpts, func(c *tls.Config) {
		c.GetCertificate = cert.GetCertificate
		c.MinVersion = tls.VersionTLS12
	})
	if err := mgr.Add(cert); err != nil {
		return fmt.Errorf("adding webhook certificate loader: %w", err)
	}
	registerCertMetrics(cert)

	log := mgr.GetLogger().WithName("webhook")
	decoder := admission.NewDecoder(mgr.GetScheme())
	srv.Register(ValidatePath, &admission.Webhook{
		Handler:        &validator{keys: keys, decoder: decoder, log: log.WithName("validate")},
		LogConstructor: webhookLogger,
	})
	srv.Register(MutatePath, &admission.Webhook{
		Handler:        &resealer{keys: keys, recovery: opts.RecoveryRecipients, decoder: decoder, log: log.WithName("reseal")},
		LogConstructor: webhookLogger,
	})
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
// together: age does not mix classic and post-quantum recipients.
func checkRecipients(rs []*crypto.Recipient) error {
	for _, r := range rs {
		if r.PostQuantum() != rs[0].PostQuantum() {
			return fmt.Errorf("recovery recipients %s and %s: %w", rs[0].KeyID(), r.KeyID(), crypto.ErrMixedRecipients)
		}
	}
	return nil
}

// certPoll is how often servingCert looks for a certificate that is not yet
// in place; once loaded, certwatcher follows changes.
const certPoll = 500 * time.Millisecond

// servingCert gives the webhook server its certificate: it waits for the
// files to appear (SetupCerts writes them once the leader has issued them)
// and then hands over to controller-runtime's certwatcher.
type servingCert struct {
	certPath, keyPath string
	log               logr.Logger

	mu      sync.RWMutex
	watcher *certwatcher.CertWatcher
}

// NeedLeaderElection is false: every replica serves webhooks.
func (c *servingCert) NeedLeaderElection() bool { return false }

// Start polls for the certificate files until they load, then runs a
// certwatcher on them until ctx ends.
func (c *servingCert) Start(ctx context.Context) error {
	tick := time.NewTicker(certPoll)
	defer tick.Stop()
	for {
		w, err := certwatcher.New(c.certPath, c.keyPath)
		if err == nil {
			c.mu.Lock()
			c.watcher = w
			c.mu.Unlock()
			c.log.Info("serving certificate loaded", "path", c.certPath)
			return w.Start(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// GetCertificate is the webhook server's tls.Config.GetCertificate.
func (c *servingCert) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.RLock()
	w := c.watcher
	c.mu.RUnlock()
	if w == nil {
		return nil, fmt.Errorf("webhook serving certificate %s not in place yet", c.certPath)
	}
	return w.GetCertificate(hello)
}
