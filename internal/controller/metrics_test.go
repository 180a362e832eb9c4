package controller_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/testenv"
)

// TestSecureMetrics runs the manager as the controller's ServiceAccount
// (so with the RBAC manifests/ grants) serving /metrics securely: only
// callers the API server authenticates, and RBAC lets get /metrics (the
// ClusterRole sealkit-metrics-reader), may scrape.
func TestSecureMetrics(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ctrltest.ApplyManifests(t, env)
	ns := env.Namespace(t)
	for _, sa := range []string{"prometheus", "nosy"} {
		if err := env.Client.Create(ctx, &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: sa}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := env.Client.Create(ctx, &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "scrape-" + ns},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "sealkit-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: ns, Name: "prometheus"}},
	}); err != nil {
		t.Fatal(err)
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	cfg, _ := env.User(ctrltest.User, "system:serviceaccounts", "system:serviceaccounts:"+ctrltest.Namespace)
	opts := controller.ManagerOptions{Namespace: ctrltest.Namespace, SecureMetrics: true, SkipNameValidation: true,
		MetricsBindAddress: addr, HealthProbeBindAddress: "0"}
	mgr, err := controller.NewManager(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctrltest.Run(t, mgr)

	cs := kubernetes.NewForConfigOrDie(env.Config)
	token := func(sa string) string {
		tr, err := cs.CoreV1().ServiceAccounts(ns).CreateToken(ctx, sa, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		return tr.Status.Token
	}
	scrape := func(bearer string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "https://"+addr+"/metrics", nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
			TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // the server's certificate is self-signed
		resp, err := c.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer func() { _ = resp.Body.Close() }()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	testenv.Eventually(t, "the metrics server to answer", func() bool { code, _ := scrape(""); return code != 0 })
	if code, _ := scrape(""); code != http.StatusUnauthorized {
		t.Errorf("anonymous scrape: HTTP %d, want 401", code)
	}
	if code, _ := scrape(token("nosy")); code != http.StatusForbidden {
		t.Errorf("scrape by an account RBAC does not allow: HTTP %d, want 403", code)
	}
	var body string
	testenv.Eventually(t, "the allowed account to scrape (RBAC caches settle)", func() bool {
		var code int
		code, body = scrape(token("prometheus"))
		return code == http.StatusOK
	})
	if !strings.Contains(body, "go_goroutines") {
		t.Errorf("scraped body has no metrics:\n%.300s", body)
	}
}
