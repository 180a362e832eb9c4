package bitnami

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// FuzzOpenValue: no input panics, and what opens under the test key is only
// what that key sealed (the seed).
func FuzzOpenValue(f *testing.F) {
	keys := testKeys(f, "key-pkcs1.pem")
	label := []byte("shop/db")
	f.Add(sealValue(f, &keys[0].key.PublicKey, label, []byte(canary)))
	f.Add("")
	f.Add("AAA=")
	f.Add("//8AAAA=")
	f.Fuzz(func(t *testing.T, enc string) {
		v, k, err := OpenValue(enc, label, keys)
		if err != nil {
			if strings.Contains(err.Error(), canary) {
				t.Fatal("error holds the plaintext")
			}
			return
		}
		if k != keys[0] || string(v) != canary {
			t.Fatalf("opened something not sealed by the test: %q", v)
		}
	})
}

// FuzzParsePrivateKeys: no input panics; what parses is a usable key.
func FuzzParsePrivateKeys(f *testing.F) {
	for _, name := range []string{"key-pkcs1.pem", "key-pkcs8.pem", "keys-list.yaml"} {
		b, err := os.ReadFile("testdata/" + name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("-----BEGIN RSA PRIVATE KEY-----\n\n-----END RSA PRIVATE KEY-----\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		keys, err := ParsePrivateKeys(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for _, k := range keys {
			if k.key.N.BitLen() > maxKeyBits || k.Fingerprint() == "unknown" {
				t.Fatalf("accepted an unusable key from %s", k.Source)
			}
		}
	})
}

// FuzzDecode: no manifest panics the reader, the decoder or the checks.
func FuzzDecode(f *testing.F) {
	b, err := os.ReadFile("testdata/kubeseal-v0.36.6.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte("apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: a}\nspec: {template: {data: {a: b}}}\n"))
	keys := testKeys(f, "key-pkcs1.pem")
	f.Fuzz(func(_ *testing.T, data []byte) {
		docs, err := sealed.ReadManifests(bytes.NewReader(data), "fuzz")
		if err != nil {
			return
		}
		for _, d := range docs {
			if !Is(d) {
				continue
			}
			ss, err := Decode(d)
			if err != nil {
				continue
			}
			_ = ss.Check()
			_, _, _ = ss.Unseal(keys)
		}
	})
}
