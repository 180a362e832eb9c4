package migrate

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"maps"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// keySecretList is a Bitnami key as users back it up:
// kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml
func keySecretList(key *rsa.PrivateKey, state bitnami.KeyState) string {
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	return fmt.Sprintf(`apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: sealed-secrets-key%s
    namespace: kube-system
    labels:
      sealedsecrets.bitnami.com/sealed-secrets-key: %s
  type: kubernetes.io/tls
  data:
    tls.key: %s
`, state[:4], state, base64.StdEncoding.EncodeToString(pemKey))
}

func parseKeys(t testing.TB, files ...string) []*bitnami.PrivateKey {
	t.Helper()
	var keys []*bitnami.PrivateKey
	for i, f := range files {
		k, err := bitnami.ParsePrivateKeys(strings.NewReader(f), fmt.Sprintf("keys-%d.yaml", i))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k...)
	}
	return keys
}

// readDocs reads a manifest, failing the test on error.
func readDocs(t testing.TB, manifest []byte, source string) []sealed.Document {
	t.Helper()
	docs, err := sealed.ReadManifests(bytes.NewReader(manifest), source)
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// originals reads the Secrets given to kubeseal, keyed by name, with their
// data as Kubernetes would store it (stringData merged into data).
func originals(t testing.TB, manifest string) map[string]*corev1.Secret {
	t.Helper()
	out := map[string]*corev1.Secret{}
	for _, d := range readDocs(t, []byte(manifest), "input") {
		s, err := d.Secret()
		if err != nil {
			t.Fatal(err)
		}
		if s.Data == nil {
			s.Data = map[string][]byte{}
		}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
		out[s.Name] = s
	}
	return out
}

// roundTrip writes sealed SealedSecrets as seal would and reads them back,
// so that tests check the manifest users get, not just the Go value.
func roundTrip(t testing.TB, sss []*v1alpha1.SealedSecret) []*v1alpha1.SealedSecret {
	t.Helper()
	objs := make([]runtime.Object, len(sss))
	for i, ss := range sss {
		objs[i] = ss
	}
	var b bytes.Buffer
	if err := sealed.WriteManifests(&b, objs, "yaml"); err != nil {
		t.Fatal(err)
	}
	var out []*v1alpha1.SealedSecret
	for _, d := range readDocs(t, b.Bytes(), "migrated.yaml") {
		ss, err := d.SealedSecret()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ss)
	}
	return out
}

// sameData compares opened data with the original's, exactly.
func sameData(got, want map[string][]byte) bool {
	return maps.EqualFunc(got, want, bytes.Equal)
}

func identities(t testing.TB, n int) ([]*crypto.Identity, []*crypto.Recipient) {
	t.Helper()
	ids := make([]*crypto.Identity, n)
	rs := make([]*crypto.Recipient, n)
	for i := range ids {
		id, err := crypto.GenerateIdentity()
		if err != nil {
			t.Fatal(err)
		}
		ids[i], rs[i] = id, id.Recipient()
	}
	return ids, rs
}

// parseRSA reads a PKCS#1 PEM key, for tests that make its certificate.
func parseRSA(t testing.TB, pemKey []byte) *rsa.PrivateKey {
	t.Helper()
	block, _ := pem.Decode(pemKey)
	if block == nil {
		t.Fatal("no PEM block")
	}
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
