package webhookcert

import (
	"context"
	"crypto/tls"
	"fmt"
	"path/filepath"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"sigs.k8s.io/controller-runtime/pkg/certwatcher"
)

// servingPoll is how often Serving looks for a certificate that is not yet
// in place; once loaded, certwatcher follows changes.
const servingPoll = 500 * time.Millisecond

// Serving gives a TLS server its certificate from a directory: it waits
// for tls.crt and tls.key to appear there (the writer [Setup] adds puts
// them there once the leader has issued them) and then hands over to
// controller-runtime's certwatcher, which follows changes. Until then
// every handshake fails, so a readiness check on the server fails too.
// It is a manager runnable that runs on every replica.
type Serving struct {
	certPath, keyPath string
	log               logr.Logger

	mu      sync.RWMutex
	watcher *certwatcher.CertWatcher
}

// NewServing returns the certificate source for certDir and points the
// expiry gauge (sealkit_webhook_certificate_expiry_timestamp_seconds) at it.
func NewServing(certDir string, log logr.Logger) *Serving {
	s := &Serving{certPath: filepath.Join(certDir, "tls.crt"), keyPath: filepath.Join(certDir, "tls.key"), log: log}
	certMetrics.Set(s, &certMetrics)
	return s
}

// NeedLeaderElection is false: every replica serves.
func (s *Serving) NeedLeaderElection() bool { return false }

// Start polls for the certificate files until they load, then runs a
// certwatcher on them until ctx ends.
func (s *Serving) Start(ctx context.Context) error {
	tick := time.NewTicker(servingPoll)
	defer tick.Stop()
	for {
		w, err := certwatcher.New(s.certPath, s.keyPath)
		if err == nil {
			s.mu.Lock()
			s.watcher = w
			s.mu.Unlock()
			s.log.Info("serving certificate loaded", "path", s.certPath)
			return w.Start(ctx)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// GetCertificate is a tls.Config.GetCertificate.
func (s *Serving) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.mu.RLock()
	w := s.watcher
	s.mu.RUnlock()
	if w == nil {
		return nil, fmt.Errorf("serving certificate %s not in place yet", s.certPath)
	}
	return w.GetCertificate(hello)
}
