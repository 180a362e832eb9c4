package webhookcert

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/prometheus/client_golang/prometheus/testutil"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clocktesting "k8s.io/utils/clock/testing"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/testenv"
)

// whConfigs creates the webhook configurations of manifests/webhook under
// names of the test's own, matching no namespace so that other tests
// sharing the control plane never call them.
func whConfigs(t *testing.T, env *testenv.Env, name string) {
	t.Helper()
	never := &metav1.LabelSelector{MatchLabels: map[string]string{"sealkit.dev/test": "never"}}
	v, m := testenv.ShippedWebhooks(t)
	for i := range v.Webhooks {
		v.Webhooks[i].NamespaceSelector = never
	}
	for i := range m.Webhooks {
		m.Webhooks[i].NamespaceSelector = never
	}
	for _, o := range []client.Object{v, m} {
		o.SetName(name)
		if err := env.Client.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = env.Client.Delete(context.Background(), o) })
	}
}

// caBundles returns the caBundle of every webhook of both configurations.
func caBundles(t *testing.T, env *testenv.Env, name string) [][]byte {
	t.Helper()
	var v admissionregistrationv1.ValidatingWebhookConfiguration
	var m admissionregistrationv1.MutatingWebhookConfiguration
	ctx := context.Background()
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &v); err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Get(ctx, client.ObjectKey{Name: name}, &m); err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, w := range v.Webhooks {
		out = append(out, w.ClientConfig.CABundle)
	}
	for _, w := range m.Webhooks {
		out = append(out, w.ClientConfig.CABundle)
	}
	return out
}

func certSecret(t *testing.T, env *testenv.Env, ns string) *certBundle {
	t.Helper()
	var s corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: DefaultSecret}, &s); err != nil {
		return nil
	}
	if s.Type != corev1.SecretTypeTLS {
		t.Errorf("secret type %s", s.Type)
	}
	return bundleOf(&s)
}

func allEqual(bs [][]byte, want []byte) bool {
	return len(bs) > 0 && !slices.ContainsFunc(bs, func(b []byte) bool { return !bytes.Equal(b, want) })
}

func filesHold(dir string, b *certBundle) bool {
	c, err1 := os.ReadFile(filepath.Join(dir, "tls.crt"))
	k, err2 := os.ReadFile(filepath.Join(dir, "tls.key"))
	return err1 == nil && err2 == nil && bytes.Equal(c, b.certPEM) && bytes.Equal(k, b.keyPEM)
}

func TestCertsIssueInjectRenew(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	name := "seal-controller-" + ns
	whConfigs(t, env, name)
	clk := clocktesting.NewFakeClock(time.Now())
	dir := t.TempDir()

	mgr := ctrltest.NewManager(t, env.Config, controller.ManagerOptions{Namespace: ns, Logger: logr.Discard()})
	err := Setup(mgr, Options{Namespace: ns, CertDir: dir, ValidatingName: name, MutatingName: name,
		Hosts: []string{"127.0.0.1", "seal.example.com"}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctrltest.Run(t, mgr)

	var first *certBundle
	testenv.Eventually(t, "the certificate Secret", func() bool { first = certSecret(t, env, ns); return first != nil })
	testenv.Eventually(t, "caBundle in both configurations", func() bool { return allEqual(caBundles(t, env, name), first.caPEM) })
	testenv.Eventually(t, "the cert dir", func() bool { return filesHold(dir, first) })

	leaf, err := firstCert(first.certPEM)
	if err != nil {
		t.Fatal(err)
	}
	svc := "seal-controller-webhook." + ns + ".svc"
	if want := sortedCopy([]string{"127.0.0.1", "seal.example.com", svc, svc + ".cluster.local"}); !slices.Equal(sortedCopy(certNames(leaf)), want) {
		t.Errorf("names %v, want %v", certNames(leaf), want)
	}
	if life := leaf.NotAfter.Sub(clk.Now()); life < 364*24*time.Hour || life > 366*24*time.Hour {
		t.Errorf("certificate valid for %s more, want a year", life)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(first.caPEM)
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: svc, CurrentTime: clk.Now()}); err != nil {
		t.Errorf("serving certificate does not verify for %s: %v", svc, err)
	}

	// Not yet due: a step short of two thirds of the year changes nothing.
	// If the step fired the rotator's timer, the rotator is waiting on the
	// clock again only once its pass (and any write) is done.
	testenv.Eventually(t, "the rotator to wait on the clock", clk.HasWaiters)
	clk.Step(200 * 24 * time.Hour)
	testenv.Eventually(t, "the rotator to wait on the clock again", clk.HasWaiters)
	if b := certSecret(t, env, ns); !b.equal(first) {
		t.Fatal("renewed before two thirds of the certificate's life")
	}
	testenv.Eventually(t, "the rotator to wait on the clock", clk.HasWaiters)
	clk.Step(50 * 24 * time.Hour) // day 250 > 243
	var second *certBundle
	testenv.Eventually(t, "a renewed certificate", func() bool {
		second = certSecret(t, env, ns)
		return !bytes.Equal(second.certPEM, first.certPEM)
	})
	if !bytes.HasSuffix(second.caPEM, first.caPEM) || bytes.Equal(second.caPEM, first.caPEM) {
		t.Error("the renewed CA bundle does not keep the previous CA after the new one")
	}
	testenv.Eventually(t, "the new caBundle", func() bool { return allEqual(caBundles(t, env, name), second.caPEM) })
	testenv.Eventually(t, "the new certificate in the cert dir", func() bool { return filesHold(dir, second) })
}

func TestRenewReason(t *testing.T) {
	now := time.Now()
	hosts := []string{"a.svc", "127.0.0.1"}
	b, err := issueCerts(now, DefaultValidity, hosts, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r, due := renewReason(b, now, hosts); r != "" || due.Sub(now) < 240*24*time.Hour {
		t.Errorf("fresh certificate: reason %q, due %s", r, due)
	}
	if r, _ := renewReason(b, now, []string{"a.svc"}); r == "" {
		t.Error("changed names not noticed")
	}
	if r, _ := renewReason(b, now.Add(250*24*time.Hour), hosts); r == "" {
		t.Error("not renewed past two thirds of its life")
	}
	other, _ := issueCerts(now, DefaultValidity, hosts, nil)
	if r, _ := renewReason(&certBundle{caPEM: other.caPEM, certPEM: b.certPEM, keyPEM: b.keyPEM}, now, hosts); r == "" {
		t.Error("certificate from another CA not noticed")
	}
	if r, _ := renewReason(&certBundle{caPEM: b.caPEM, certPEM: b.certPEM, keyPEM: other.keyPEM}, now, hosts); r == "" {
		t.Error("mismatched key not noticed")
	}
}

// TestServingCertWaitsForFiles: no handshake succeeds (so readiness fails)
// until the certificate is in the cert dir; later changes are picked up.
func TestServingCertWaitsForFiles(t *testing.T) {
	dir := t.TempDir()
	sc := NewServing(dir, logr.Discard())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = sc.Start(ctx) }()
	if _, err := sc.GetCertificate(&tls.ClientHelloInfo{}); err == nil {
		t.Fatal("a certificate before any file exists")
	}
	w := &certWriter{opts: Options{CertDir: dir}, log: logr.Discard()}
	var gauge certCollector
	gauge.Set(sc)
	if n := testutil.CollectAndCount(&gauge); n != 0 {
		t.Errorf("an expiry reported before any certificate is served (%d metrics)", n)
	}
	for i := range 2 {
		validity := time.Duration(i+1) * time.Hour
		b, err := issueCerts(time.Now(), validity, []string{"x.svc"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := w.write(b); err != nil {
			t.Fatal(err)
		}
		testenv.Eventually(t, "the certificate served", func() bool {
			c, err := sc.GetCertificate(&tls.ClientHelloInfo{})
			return err == nil && bytes.Equal(pemBlock("CERTIFICATE", c.Certificate[0]), b.certPEM)
		})
		leaf, err := firstCert(b.certPEM)
		if err != nil {
			t.Fatal(err)
		}
		if got := testutil.ToFloat64(&gauge); got != float64(leaf.NotAfter.Unix()) {
			t.Errorf("expiry gauge %v, want %d (the served certificate's notAfter)", got, leaf.NotAfter.Unix())
		}
	}
}
