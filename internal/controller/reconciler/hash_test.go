package reconciler

import (
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/internal/controller/secretcache"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

func TestSourceHash(t *testing.T) {
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
	keys := []string{string(id.KeyID())}
	want := sourceHash(full, keys)
	if sourceHash(full.DeepCopy(), keys) != want {
		t.Error("hash is not deterministic")
	}
	if sourceHash(full, []string{"other"}) == want {
		t.Error("hash ignores the opening keys")
	}
	changed := full.DeepCopy()
	changed.Spec.EncryptedData["a"] = changed.Spec.EncryptedData["b"]
	if sourceHash(changed, keys) == want {
		t.Error("hash ignores the encrypted values")
	}
}

func TestDataMACKeyed(t *testing.T) {
	a, _ := crypto.GenerateIdentity()
	b, _ := crypto.GenerateIdentity()
	d := secretcache.DataDigest(map[string][]byte{"k": []byte("v")})
	if dataMAC(a, d) == dataMAC(b, d) {
		t.Error("MAC does not depend on the key")
	}
	if dataMAC(a, d) == dataMAC(a, secretcache.DataDigest(map[string][]byte{"k": []byte("w")})) {
		t.Error("MAC does not depend on the data")
	}
}
