package webhookcert

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/atomicfile"
)

// certWriter runs on every replica: it copies the serving certificate and
// key from the Secret into the webhook server's cert dir, where the
// server's certwatcher picks them up.
type certWriter struct {
	client client.Client
	opts   Options
	log    logr.Logger
}

func (w *certWriter) Reconcile(ctx context.Context, req ctrl.Request) (ctrl.Result, error) {
	var s corev1.Secret
	if err := w.client.Get(ctx, req.NamespacedName, &s); err != nil {
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	b := bundleOf(&s)
	if len(b.certPEM) == 0 || len(b.keyPEM) == 0 {
		return ctrl.Result{}, nil
	}
	return ctrl.Result{}, w.write(b)
}

// write puts b's key and certificate into the cert dir, each atomically,
// skipping a file that already holds the same bytes.
func (w *certWriter) write(b *certBundle) error {
	if err := os.MkdirAll(w.opts.CertDir, 0o700); err != nil {
		return fmt.Errorf("creating cert dir: %w", err)
	}
	// Key first: the watcher loads the pair when the certificate changes,
	// and keeps the previous pair if the two do not match yet.
	for _, f := range []struct {
		name string
		data []byte
	}{{corev1.TLSPrivateKeyKey, b.keyPEM}, {corev1.TLSCertKey, b.certPEM}} {
		path := filepath.Join(w.opts.CertDir, f.name)
		// #nosec G304 -- the operator's --webhook-cert-dir and a fixed name
		if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, f.data) {
			continue
		}
		if err := atomicfile.WriteFile(path, f.data, 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
		w.log.Info("wrote webhook serving certificate file", "path", path)
	}
	return nil
}
