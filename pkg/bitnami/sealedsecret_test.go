package bitnami

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/pkg/sealed"
)

func TestCheckRefuses(t *testing.T) {
	keys := testKeys(t, "key-pkcs1.pem")
	for _, tc := range []struct {
		name, manifest string
		is             error
		want           string
	}{
		{"go templates", `apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: cfg, namespace: shop}
spec:
  encryptedData: {password: AQA=}
  template:
    data:
      config.yaml: "password: {{ index . \"password\" }}"
`, ErrTemplateData, "bitnami sealedsecret shop/cfg: spec.template.data holds Go templates"},
		{"legacy data", `apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: old, namespace: shop}
spec:
  data: AQID
`, ErrLegacyData, "bitnami sealedsecret shop/old: spec.data is the form kubeseal wrote before v0.7"},
		{"no values", `apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: empty, namespace: shop}
spec: {encryptedData: {}}
`, nil, "bitnami sealedsecret shop/empty has no spec.encryptedData"},
		{"no namespace", `apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: floating}
spec: {encryptedData: {a: AQA=}}
`, nil, "bitnami sealedsecret floating has no namespace, which its strict scope binds"},
		{"no name", `apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {namespace: shop}
spec: {encryptedData: {a: AQA=}}
`, nil, "bitnami sealedsecret has no name"},
	} {
		ss := readSealedSecrets(t, []byte(tc.manifest), tc.name)[0]
		_, _, err := ss.Unseal(keys)
		if err == nil || !strings.Contains(err.Error(), tc.want) || (tc.is != nil && !errors.Is(err, tc.is)) {
			t.Errorf("%s: got %v, want %q", tc.name, err, tc.want)
		}
	}
}

// TestDecodeStrict refuses a misspelt field rather than dropping it, and
// accepts what a cluster export adds (status, server metadata).
func TestDecodeStrict(t *testing.T) {
	docs, err := sealed.ReadManifests(strings.NewReader(`apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: db, namespace: shop}
spec: {encrytedData: {a: AQA=}}
`), "typo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(docs[0]); err == nil || !strings.Contains(err.Error(), "encrytedData") {
		t.Errorf("misspelt field: %v", err)
	}
	docs, err = sealed.ReadManifests(strings.NewReader(`apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  name: db
  namespace: shop
  uid: 5c0f5a2e-0000-4000-8000-000000000001
  resourceVersion: "42"
  generation: 1
  creationTimestamp: "2025-03-01T10:00:00Z"
spec:
  encryptedData: {a: AQA=}
  template:
    metadata: {creationTimestamp: null, name: db, namespace: shop}
status:
  conditions: [{type: Synced, status: "True"}]
  observedGeneration: 1
`), "export.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Decode(docs[0]); err != nil {
		t.Errorf("cluster export: %v", err)
	}
	if Is(sealed.Document{APIVersion: "sealkit.dev/v1alpha1", Kind: "SealedSecret"}) {
		t.Error("a sealkit SealedSecret taken for a Bitnami one")
	}
}

// TestUnsealErrorNamesKey names the object and data key of a value that
// does not open, and returns no partial Secret.
func TestUnsealErrorNamesKey(t *testing.T) {
	manifest, err := os.ReadFile("testdata/kubeseal-v0.36.6.yaml")
	if err != nil {
		t.Fatal(err)
	}
	ss := readSealedSecrets(t, manifest, "vectors")[0]
	ss.Spec.EncryptedData["username"] = ss.Spec.EncryptedData["password"] // moved data key: Bitnami does not notice
	ss.Spec.EncryptedData["zz"] = "AQA="
	s, _, err := ss.Unseal(testKeys(t, "key-pkcs1.pem"))
	var ve *sealed.ValueError
	if s != nil || !errors.As(err, &ve) || ve.Key != "zz" || !strings.Contains(err.Error(), `bitnami sealedsecret shop/db: key "zz"`) {
		t.Errorf("got %v, %v", s, err)
	}
}
