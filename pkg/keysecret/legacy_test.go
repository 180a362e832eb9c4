package keysecret_test

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// TestLegacyKeys: an imported Bitnami key reads back as the same key and
// state, and is never taken for a sealkit key: ParseAll, which feeds the
// key store and the public keyring, does not see it.
func TestLegacyKeys(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})
	k, err := bitnami.ParseKeyPEM(pemKey, "secret kube-system/sealed-secrets-keyx", bitnami.KeyCompromised)
	if err != nil {
		t.Fatal(err)
	}
	s := keysecret.NewLegacy("sealkit-system", k, time.Now())
	if !keysecret.IsLegacy(s) || keysecret.IsKey(s) || s.Name != keysecret.LegacyNamePrefix+k.Fingerprint() || s.Immutable == nil || !*s.Immutable {
		t.Fatalf("legacy secret %s: labels %v", s.Name, s.Labels)
	}
	got, err := keysecret.ParseLegacy(s)
	if err != nil || got.Fingerprint() != k.Fingerprint() || got.State != bitnami.KeyCompromised {
		t.Fatalf("parsed %v, %v", got, err)
	}
	if set := keysecret.ParseAll([]corev1.Secret{*s}); len(set.Keys)+len(set.Invalid) != 0 {
		t.Errorf("ParseAll saw a legacy key: %+v", set)
	}
	bad := s.DeepCopy()
	bad.Data[corev1.TLSPrivateKeyKey] = []byte("SECRET-MATERIAL")
	keys, invalid := keysecret.ParseLegacyAll([]corev1.Secret{*s, *bad})
	if len(keys) != 1 || len(invalid) != 1 || strings.Contains(invalid[0].Error(), "SECRET-MATERIAL") {
		t.Errorf("ParseLegacyAll: %d keys, %v", len(keys), invalid)
	}
}
