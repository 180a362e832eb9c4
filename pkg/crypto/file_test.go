package crypto

import (
	"bytes"
	"io"
	"testing"

	"filippo.io/age"
	"filippo.io/age/armor"
)

// TestDecryptFile opens what the age library (and so the age command)
// encrypts, armored or not, and refuses identities it was not made for.
func TestDecryptFile(t *testing.T) {
	k := testKeys()
	plain := []byte("- keyID: 0123456789abcdef\n")
	for _, armored := range []bool{false, true} {
		var buf bytes.Buffer
		var w io.WriteCloser = nopCloser{&buf}
		if armored {
			w = armor.NewWriter(&buf)
		}
		ew, err := age.Encrypt(w, k.pq.Recipient().r)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ew.Write(plain); err != nil {
			t.Fatal(err)
		}
		if err := ew.Close(); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		r, err := DecryptFile(buf.Bytes(), []*Identity{k.pq2, k.pq})
		if err != nil {
			t.Fatalf("armored %v: %v", armored, err)
		}
		got, err := io.ReadAll(r)
		if err != nil || !bytes.Equal(got, plain) {
			t.Errorf("armored %v: got %q, %v", armored, got, err)
		}
		if _, err := DecryptFile(buf.Bytes(), []*Identity{k.pq2}); err == nil {
			t.Errorf("armored %v: opened with an identity it was not encrypted to", armored)
		}
	}
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
