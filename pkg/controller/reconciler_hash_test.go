package controller

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// The cache's digest copy and the full object must give the same source
// hash, or every reconcile would decrypt.
func TestTransformKeepsSourceHash(t *testing.T) {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "ns", Name: "db"},
		Data: map[string][]byte{"a": []byte("1"), "b": []byte("2")}}
	full, err := sealed.Seal(s, sealed.SealOptions{Scope: crypto.ScopeStrict, Recipients: []*crypto.Recipient{id.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	full.Annotations = map[string]string{AnnotationLastApplied: "{big}"}
	keys := []string{string(id.KeyID())}
	want := sourceHash(full, keys)

	obj, err := TransformSealedSecret(full.DeepCopy())
	if err != nil {
		t.Fatal(err)
	}
	cached := obj.(*v1alpha1.SealedSecret)
	if !hasDigests(cached) || hasDigests(full) {
		t.Fatal("digest detection wrong")
	}
	if _, ok := cached.Annotations[AnnotationLastApplied]; ok {
		t.Error("last-applied annotation kept in cache")
	}
	for k, v := range cached.Spec.EncryptedData {
		if !strings.HasPrefix(v, digestPrefix) || len(v) > 80 {
			t.Errorf("value %s not reduced to a digest", k)
		}
	}
	if got := sourceHash(cached, keys); got != want {
		t.Errorf("hash of cached copy %s != hash of full object %s", got, want)
	}
	if sourceHash(full, []string{"other"}) == want {
		t.Error("hash ignores the opening keys")
	}
	again, _ := TransformSealedSecret(cached)
	if sourceHash(again.(*v1alpha1.SealedSecret), keys) != want {
		t.Error("transform is not idempotent")
	}
}

func TestDataMACKeyed(t *testing.T) {
	a, _ := crypto.GenerateIdentity()
	b, _ := crypto.GenerateIdentity()
	d := map[string][]byte{"k": []byte("v")}
	if dataMAC(a, d) == dataMAC(b, d) {
		t.Error("MAC does not depend on the key")
	}
	if dataMAC(a, d) == dataMAC(a, map[string][]byte{"k": []byte("w")}) {
		t.Error("MAC does not depend on the data")
	}
}
