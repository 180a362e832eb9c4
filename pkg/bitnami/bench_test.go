package bitnami

import (
	"crypto/rand"
	"crypto/rsa"
	"fmt"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// BenchmarkOpenValue opens one 32-byte value sealed to a 4096-bit key, the
// size Bitnami makes: one RSA-OAEP decryption and one AES-GCM open.
func BenchmarkOpenValue(b *testing.B) {
	keys := testKeys(b, "key-4096.pem")
	label := ScopeStrict.Label("shop", "db")
	enc := sealValue(b, &keys[0].key.PublicKey, label, make([]byte, 32))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := OpenValue(enc, label, keys); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnsealManyKeys opens an object of 5 values sealed to the last of
// 12 keys (a year of monthly rotation): the first value tries every key, the
// others start with the one that opened it.
func BenchmarkUnsealManyKeys(b *testing.B) {
	keys := testKeys(b, "key-pkcs1.pem")
	for range 11 {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			b.Fatal(err)
		}
		keys = append([]*PrivateKey{{Source: "generated", key: k}}, keys...)
	}
	ss := &SealedSecret{ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop"}, Spec: Spec{EncryptedData: map[string]string{}}}
	for i := range 5 {
		ss.Spec.EncryptedData[fmt.Sprint("k", i)] = sealValue(b, &keys[11].key.PublicKey, ScopeStrict.Label("shop", "db"), make([]byte, 32))
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := ss.Unseal(keys); err != nil {
			b.Fatal(err)
		}
	}
}
