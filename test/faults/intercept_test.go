package faults

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	certutil "k8s.io/client-go/util/cert"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/testenv"
)

// controllerUser is the user the controller runs as in these tests (a
// member of system:masters, so with every permission): the interceptor
// tells its requests from the test's by it.
const controllerUser = "faults-controller"

// decide is called for every request the interceptor sees; it may kill a
// controller process before returning. Returning true denies the request,
// as if it never reached the API server: the way to SIGKILL the controller
// at an exact step of its work (after the previous write was stored,
// before the next one is).
type decide func(req *admissionv1.AdmissionRequest) (deny bool)

// intercept serves a validating admission webhook for Secrets and
// ConfigMaps of namespaces and installs it in the API server, until the
// test ends. It returns once the API server calls it.
func intercept(t *testing.T, env *testenv.Env, namespaces []string, d decide) {
	t.Helper()
	certPEM, keyPEM, err := certutil.GenerateSelfSignedCertKey("127.0.0.1", []net.IP{net.ParseIP("127.0.0.1")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	var seen atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var review admissionv1.AdmissionReview
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err == nil {
			err = json.Unmarshal(body, &review)
		}
		if err != nil || review.Request == nil {
			http.Error(rw, "bad admission review", http.StatusBadRequest)
			return
		}
		seen.Add(1)
		resp := &admissionv1.AdmissionResponse{UID: review.Request.UID, Allowed: true}
		if d(review.Request) {
			resp.Allowed = false
			resp.Result = &metav1.Status{Code: http.StatusForbidden, Message: "fault injected by the test"}
		}
		review.Response, review.Request = resp, nil
		_ = json.NewEncoder(rw).Encode(&review)
	}))
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	name := fmt.Sprintf("faults-interceptor-%s", namespaces[0])
	url := srv.URL + "/validate"
	cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: name},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name:         "interceptor.faults.sealkit.dev",
			ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: &url, CABundle: certPEM},
			Rules: []admissionregistrationv1.RuleWithOperations{{
				Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update, admissionregistrationv1.Delete},
				Rule: admissionregistrationv1.Rule{APIGroups: []string{""}, APIVersions: []string{"v1"},
					Resources: []string{"secrets", "configmaps"}, Scope: ptr.To(admissionregistrationv1.NamespacedScope)},
			}},
			NamespaceSelector: &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
				Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: namespaces}}},
			// Ignore: while the test server is gone (the API server
			// restarting), requests pass as if there were no interceptor.
			FailurePolicy:           ptr.To(admissionregistrationv1.Ignore),
			SideEffects:             ptr.To(admissionregistrationv1.SideEffectClassNone),
			AdmissionReviewVersions: []string{"v1"},
			TimeoutSeconds:          ptr.To[int32](20),
		}},
	}
	ctx := context.Background()
	c := fastClient(t, env.Config)
	if err := c.Create(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Delete(context.Background(), cfg) })
	// The API server picks new configurations up within a moment: probe
	// until the interceptor sees a request.
	testenv.Eventually(t, "the interceptor webhook called", func() bool {
		cm := &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Namespace: namespaces[0], GenerateName: "probe-"}}
		before := seen.Load()
		if err := c.Create(ctx, cm, client.DryRunAll); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
		return seen.Load() > before
	})
}

// isController reports whether req is a write the controller makes for
// real (not a dry-run) on a kind of object, in a namespace.
func isController(req *admissionv1.AdmissionRequest, kind, ns string) bool {
	return req.UserInfo.Username == controllerUser && req.Kind.Kind == kind && req.Namespace == ns && !ptr.Deref(req.DryRun, false)
}
