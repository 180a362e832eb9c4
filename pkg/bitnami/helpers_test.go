package bitnami

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"os"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// sealValue makes a value the way the format description says kubeseal does,
// for tests that need many values or values of their own. Tests against
// kubeseal's real output keep this honest.
func sealValue(t testing.TB, pub *rsa.PublicKey, label, value []byte) string {
	t.Helper()
	sessionKey := make([]byte, sessionKeySize)
	if _, err := rand.Read(sessionKey); err != nil {
		t.Fatal(err)
	}
	wrapped, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, sessionKey, label)
	if err != nil {
		t.Fatal(err)
	}
	block, err := aes.NewCipher(sessionKey)
	if err != nil {
		t.Fatal(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	out := binary.BigEndian.AppendUint16(nil, uint16(len(wrapped)))
	out = append(out, wrapped...)
	out = aead.Seal(out, make([]byte, aead.NonceSize()), value, nil)
	return base64.StdEncoding.EncodeToString(out)
}

// testKeys reads a key file of testdata.
func testKeys(t testing.TB, name string) []*PrivateKey {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys, err := ParsePrivateKeys(f, name)
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// readSealedSecrets decodes every Bitnami SealedSecret of a manifest.
func readSealedSecrets(t testing.TB, manifest []byte, source string) []*SealedSecret {
	t.Helper()
	docs, err := sealed.ReadManifests(strings.NewReader(string(manifest)), source)
	if err != nil {
		t.Fatal(err)
	}
	var out []*SealedSecret
	for _, d := range docs {
		if !Is(d) {
			t.Fatalf("%s: document %d is a %s %s", source, d.Index, d.APIVersion, d.Kind)
		}
		ss, err := Decode(d)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ss)
	}
	return out
}
