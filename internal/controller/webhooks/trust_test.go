package webhooks

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	jsonpatch "github.com/evanphx/json-patch/v5"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// review is an AdmissionReview for ss as a caller of the webhook server
// itself, not the API server, could make it up: any user, any namespace.
func review(t *testing.T, ss *v1alpha1.SealedSecret, dryRun bool) []byte {
	t.Helper()
	ss = ss.DeepCopy()
	ss.APIVersion, ss.Kind = v1alpha1.GroupVersion.String(), "SealedSecret"
	raw, err := json.Marshal(ss)
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(admissionv1.AdmissionReview{
		TypeMeta: metav1.TypeMeta{APIVersion: "admission.k8s.io/v1", Kind: "AdmissionReview"},
		Request: &admissionv1.AdmissionRequest{
			UID:       types.UID("forged-1"),
			Kind:      metav1.GroupVersionKind{Group: "sealkit.dev", Version: "v1alpha1", Kind: "SealedSecret"},
			Resource:  metav1.GroupVersionResource{Group: "sealkit.dev", Version: "v1alpha1", Resource: "sealedsecrets"},
			Name:      ss.Name,
			Namespace: ss.Namespace,
			Operation: admissionv1.Create,
			UserInfo:  authenticationv1.UserInfo{Username: "system:admin", Groups: []string{"system:masters"}},
			Object:    runtimeRaw(raw),
			DryRun:    ptr.To(dryRun),
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post sends body to the webhook server at path, trusting nothing, and
// returns the AdmissionResponse.
func post(t *testing.T, f *whFixture, path string, body []byte, certs ...tls.Certificate) (*admissionv1.AdmissionResponse, error) {
	t.Helper()
	wh := f.env.Webhooks()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, //nolint:gosec // a direct caller trusts nothing either
		Certificates:       certs,
	}}}
	url := "https://" + net.JoinHostPort(wh.LocalServingHost, strconv.Itoa(wh.LocalServingPort)) + path
	resp, err := c.Post(url, "application/json", bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	defer func() { _ = resp.Body.Close() }()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, b)
	}
	f.errs = append(f.errs, string(b))
	var r admissionv1.AdmissionReview
	if err := json.Unmarshal(b, &r); err != nil || r.Response == nil {
		return nil, fmt.Errorf("not an AdmissionReview response: %s", b)
	}
	return r.Response, nil
}

// TestForgedReviewGainsNothing: the webhook server does not know who calls
// it, so anyone who reaches it can post an AdmissionReview naming any user
// and namespace. Nothing comes back that the caller could not have had:
// values are only ever re-sealed to the active key and the operator's
// recovery recipients, with their frames unchanged, and nothing opens where
// its frame does not allow.
func TestForgedReviewGainsNothing(t *testing.T) {
	f := startWebhooks(t, testenv.Options{}, Options{})
	victim := f.sealedSecret(t, "victim", "db", map[string]*crypto.Identity{"password": f.old})

	// A re-seal of the victim's object: back comes the same value, sealed
	// for the victim's namespace, to the active and recovery keys only.
	resp, err := post(t, f, MutatePath, review(t, withMarker(victim), true))
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Allowed || resp.PatchType == nil {
		t.Fatalf("forged re-seal: %+v", resp.Result)
	}
	orig, _ := json.Marshal(withMarker(victim))
	patch, err := jsonpatch.DecodePatch(resp.Patch)
	if err != nil {
		t.Fatal(err)
	}
	patched, err := patch.Apply(orig)
	if err != nil {
		t.Fatal(err)
	}
	var got v1alpha1.SealedSecret
	if err := json.Unmarshal(patched, &got); err != nil {
		t.Fatal(err)
	}
	enc := got.Spec.EncryptedData["password"]
	everyone := []*crypto.Identity{f.active, f.old, f.leaked, f.recovery}
	n, opens, err := crypto.SealedTo(enc, everyone)
	if err != nil || n != 2 || !slices.Equal(opens, []crypto.KeyID{f.active.KeyID(), f.recovery.KeyID()}) {
		t.Errorf("re-sealed to %d recipients, of which %v: want exactly the active and recovery keys", n, opens)
	}
	if _, _, err := crypto.Open(enc, sealed.FrameFor(victim, "password"), []*crypto.Identity{f.active}); err != nil {
		t.Errorf("the re-sealed value does not open where it belongs: %v", err)
	}
	moved := victim.DeepCopy()
	moved.Namespace = "mallory"
	var mismatch *crypto.FrameMismatchError
	if _, _, err := crypto.Open(enc, sealed.FrameFor(moved, "password"), []*crypto.Identity{f.active}); !errors.As(err, &mismatch) {
		t.Errorf("the re-sealed value opens in another namespace: %v", err)
	}

	// The victim's value presented as the caller's own: refused by both.
	for _, path := range []string{MutatePath, ValidatePath} {
		resp, err := post(t, f, path, review(t, withMarker(moved), true))
		if err != nil {
			t.Fatal(err)
		}
		if resp.Allowed || resp.Result == nil || !bytes.Contains([]byte(resp.Result.Message), []byte(`namespace "victim", not "mallory"`)) {
			t.Errorf("%s: a value sealed for another namespace: allowed %v, %+v", path, resp.Allowed, resp.Result)
		}
	}
}

// TestValidateRefusesPolicyAndCompromised: at apply time the validating
// webhook refuses what the reconciler would: reserved template metadata,
// and new values that open only with a compromised key; the re-seal
// webhook re-seals those to the active key.
func TestValidateRefusesPolicyAndCompromised(t *testing.T) {
	f := startWebhooks(t, testenv.Options{}, Options{})
	ctx := context.Background()
	ns := validatedNamespace(t, f.env)
	c := f.env.Client

	keyLike := f.sealedSecret(t, ns, "key-like", map[string]*crypto.Identity{"identity": f.active})
	keyLike.Spec.Template.Metadata.Labels = map[string]string{"sealkit.dev/key": "true"}
	wantDenied(t, f.try(c.Create(ctx, keyLike, client.DryRunAll)), "reserved for seal-controller")

	leaked := f.sealedSecret(t, ns, "leaked", map[string]*crypto.Identity{"password": f.leaked})
	wantDenied(t, f.try(c.Create(ctx, leaked.DeepCopy(), client.DryRunAll)), "marked compromised")
	wantDenied(t, f.try(c.Create(ctx, leaked.DeepCopy())), "marked compromised")

	got := withMarker(leaked)
	if err := f.try(c.Create(ctx, got, client.DryRunAll)); err != nil {
		t.Fatalf("re-seal of a value sealed to a compromised key: %v", err)
	}
	f.checkResealed(t, leaked, got)
}

// TestWebhookClientCertificate: with --webhook-client-ca the server answers
// only callers presenting a certificate from that CA, which the API server
// does as its admission configuration tells it.
func TestWebhookClientCertificate(t *testing.T) {
	dir := t.TempDir()
	caCert, caKey := newCA(t, "api-server-client-ca")
	writePEM(t, filepath.Join(dir, "ca.crt"), "CERTIFICATE", caCert.Raw)
	apiCert := newClientCert(t, dir, "apiserver", caCert, caKey)
	kubeconfig := filepath.Join(dir, "webhook-kubeconfig.yaml")
	writeText(t, kubeconfig, fmt.Sprintf(`apiVersion: v1
kind: Config
users:
- name: "*"
  user:
    client-certificate: %s
    client-key: %s
`, filepath.Join(dir, "apiserver.crt"), filepath.Join(dir, "apiserver.key")))
	admission := filepath.Join(dir, "admission.yaml")
	writeText(t, admission, fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: ValidatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %[1]s
- name: MutatingAdmissionWebhook
  configuration:
    apiVersion: apiserver.config.k8s.io/v1
    kind: WebhookAdmissionConfiguration
    kubeConfigFile: %[1]s
`, kubeconfig))

	f := startWebhooks(t, testenv.Options{APIServerArgs: map[string]string{"admission-control-config-file": admission}},
		Options{ClientCAFile: filepath.Join(dir, "ca.crt"), ClientNames: []string{"apiserver"}})

	// Through the API server: answered (startWebhooks waited for that),
	// and a verify carries the verification warning.
	ns := f.env.Namespace(t)
	ss := f.sealedSecret(t, ns, "db", map[string]*crypto.Identity{"password": f.active})
	got := withMarker(ss)
	if err := f.try(f.env.Client.Create(context.Background(), got, client.DryRunAll)); err != nil {
		t.Fatal(err)
	}
	f.checkResealed(t, ss, got)

	// Directly: no certificate, another CA's, or this CA's with another
	// name are all turned away before any handler runs.
	body := review(t, withMarker(ss), true)
	if _, err := post(t, f, MutatePath, body); err == nil || !bytes.Contains([]byte(err.Error()), []byte("HTTP 401")) {
		t.Errorf("no client certificate: %v, want HTTP 401", err)
	}
	otherCA, otherKey := newCA(t, "someone-else")
	if _, err := post(t, f, MutatePath, body, newClientCert(t, dir, "apiserver-forged", otherCA, otherKey)); err == nil {
		t.Error("a certificate from another CA was accepted")
	}
	if _, err := post(t, f, MutatePath, body, newClientCert(t, dir, "pod", caCert, caKey)); err == nil || !bytes.Contains([]byte(err.Error()), []byte("HTTP 403")) {
		t.Errorf("a certificate with another name: %v, want HTTP 403", err)
	}
	if _, err := post(t, f, MutatePath, body, apiCert); err != nil {
		t.Errorf("the API server's certificate: %v", err)
	}
}

func newCA(t *testing.T, cn string) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// newClientCert issues a client certificate for cn under ca, writes it to
// dir/cn.crt and dir/cn.key, and returns it.
func newClientCert(t *testing.T, dir, cn string, ca *x509.Certificate, caKey *ecdsa.PrivateKey) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, filepath.Join(dir, cn+".crt"), "CERTIFICATE", der)
	writePEM(t, filepath.Join(dir, cn+".key"), "PRIVATE KEY", keyDER)
	pair, err := tls.LoadX509KeyPair(filepath.Join(dir, cn+".crt"), filepath.Join(dir, cn+".key"))
	if err != nil {
		t.Fatal(err)
	}
	return pair
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	writeText(t, path, string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})))
}

func writeText(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

func runtimeRaw(b []byte) runtime.RawExtension { return runtime.RawExtension{Raw: b} }
