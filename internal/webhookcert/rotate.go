package webhookcert

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/syncloop"
)

// certResync bounds how long the rotator sleeps (in real time): it re-checks
// the Secret and the caBundles at least this often, which repairs webhook
// configurations applied or re-applied after the controller started.
const certResync = time.Minute

// certRotator runs on the leader only, so two replicas never issue
// competing certificates.
type certRotator struct {
	client client.Client
	reader client.Reader // uncached: the webhook configurations are not cached
	opts   Options
	log    logr.Logger
}

// NeedLeaderElection makes the rotator leader-only.
func (r *certRotator) NeedLeaderElection() bool { return true }

// Start keeps the certificate and the caBundles current until ctx ends.
// Errors are logged and retried with backoff; readiness shows their effect.
func (r *certRotator) Start(ctx context.Context) error {
	return syncloop.Loop{Sync: r.sync, Clock: r.opts.Clock, Resync: certResync,
		Failed: func(err error, retryIn time.Duration) {
			r.log.Error(err, "managing webhook certificates", "retryIn", retryIn)
		}}.Run(ctx)
}

// sync makes sure the Secret holds a certificate that is not due for
// renewal and that both webhook configurations trust its CA; it returns how
// long until the certificate is due.
func (r *certRotator) sync(ctx context.Context) (time.Duration, error) {
	b, err := r.ensureSecret(ctx)
	if err != nil {
		return 0, err
	}
	if err := r.inject(ctx, b.caPEM); err != nil {
		return 0, err
	}
	now := r.opts.Clock.Now()
	_, due := renewReason(b, now, certHosts(r.opts))
	return max(due.Sub(now), 0), nil
}

func (r *certRotator) ensureSecret(ctx context.Context) (*certBundle, error) {
	key := types.NamespacedName{Namespace: r.opts.Namespace, Name: r.opts.SecretName}
	var s corev1.Secret
	err := r.reader.Get(ctx, key, &s)
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, fmt.Errorf("getting secret %s: %w", key, err)
	}
	exists := err == nil
	cur := bundleOf(&s)
	now := r.opts.Clock.Now()
	reason := "no certificate yet"
	if exists {
		if reason, _ = renewReason(cur, now, certHosts(r.opts)); reason == "" {
			return cur, nil
		}
	}
	b, err := issueCerts(now, r.opts.Validity, certHosts(r.opts), cur.caPEM)
	if err != nil {
		return nil, err
	}
	s.Type = corev1.SecretTypeTLS
	s.Data = map[string][]byte{DataCA: b.caPEM, corev1.TLSCertKey: b.certPEM, corev1.TLSPrivateKeyKey: b.keyPEM}
	if exists {
		err = r.client.Update(ctx, &s) // resourceVersion from the get: no lost update
	} else {
		s.ObjectMeta = metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name,
			Labels: map[string]string{"app.kubernetes.io/part-of": "sealkit"}}
		err = r.client.Create(ctx, &s)
	}
	if err != nil {
		return nil, fmt.Errorf("writing secret %s: %w", key, err)
	}
	r.log.Info("issued webhook certificate", "secret", key, "reason", reason, "hosts", certHosts(r.opts))
	return b, nil
}

func bundleOf(s *corev1.Secret) *certBundle {
	return &certBundle{caPEM: s.Data[DataCA], certPEM: s.Data[corev1.TLSCertKey], keyPEM: s.Data[corev1.TLSPrivateKeyKey]}
}

// inject sets caBundle on every webhook of both configurations.
func (r *certRotator) inject(ctx context.Context, ca []byte) error {
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	if err := r.reader.Get(ctx, client.ObjectKey{Name: r.opts.ValidatingName}, &v); err != nil {
		return fmt.Errorf("getting validatingwebhookconfiguration %s: %w", r.opts.ValidatingName, err)
	}
	changed := false
	for i := range v.Webhooks {
		changed = setCABundle(&v.Webhooks[i].ClientConfig, ca) || changed
	}
	if err := r.update(ctx, &v, "validatingwebhookconfiguration", changed); err != nil {
		return err
	}
	var m admissionregistrationv1.MutatingWebhookConfiguration
	if err := r.reader.Get(ctx, client.ObjectKey{Name: r.opts.MutatingName}, &m); err != nil {
		return fmt.Errorf("getting mutatingwebhookconfiguration %s: %w", r.opts.MutatingName, err)
	}
	changed = false
	for i := range m.Webhooks {
		changed = setCABundle(&m.Webhooks[i].ClientConfig, ca) || changed
	}
	return r.update(ctx, &m, "mutatingwebhookconfiguration", changed)
}

func (r *certRotator) update(ctx context.Context, obj client.Object, kind string, changed bool) error {
	if !changed {
		return nil
	}
	if err := r.client.Update(ctx, obj); err != nil {
		return fmt.Errorf("injecting caBundle into %s %s: %w", kind, obj.GetName(), err)
	}
	r.log.Info("injected caBundle", "kind", kind, "name", obj.GetName())
	return nil
}

func setCABundle(cc *admissionregistrationv1.WebhookClientConfig, ca []byte) bool {
	if bytes.Equal(cc.CABundle, ca) {
		return false
	}
	cc.CABundle = ca
	return true
}
