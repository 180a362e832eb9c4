package bitnami

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
)

const canary = "CANARY-plaintext-3f9a"

// openErr checks that err is one of the errors OpenValue promises and does
// not hold the value.
func openErr(t *testing.T, what string, err error) {
	t.Helper()
	var noKey *NoKeyError
	switch {
	case err == nil:
		t.Fatalf("%s: opened", what)
	case !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) && !errors.As(err, &noKey):
		t.Fatalf("%s: unexpected error %v", what, err)
	case strings.Contains(err.Error(), canary):
		t.Fatalf("%s: error holds the plaintext: %v", what, err)
	}
}

// TestOpenValueBitFlips flips bits of a value: none opens. Flips in the RSA
// part fail OAEP (no key fits): one bit of each of its bytes is flipped, as
// each costs an RSA decryption. Every bit of the rest is flipped: flips in
// the GCM part fail its tag (corrupt).
func TestOpenValueBitFlips(t *testing.T) {
	keys := testKeys(t, "key-pkcs1.pem")
	label := ScopeStrict.Label("shop", "db")
	enc := sealValue(t, &keys[0].key.PublicKey, label, []byte(canary))
	if v, _, err := OpenValue(enc, label, keys); err != nil || string(v) != canary {
		t.Fatalf("the untouched value: %q, %v", v, err)
	}
	raw, _ := base64.StdEncoding.DecodeString(enc)
	rsaPart := func(i int) bool { return i >= 2*8 && i < (2+256)*8 }
	for i := range len(raw) * 8 {
		if rsaPart(i) && i%8 != (i/8)%8 {
			continue
		}
		flipped := append([]byte(nil), raw...)
		flipped[i/8] ^= 1 << (i % 8)
		_, _, err := OpenValue(base64.StdEncoding.EncodeToString(flipped), label, keys)
		openErr(t, "bit "+strconv.Itoa(i), err)
		if i >= (2+256)*8 && !errors.Is(err, ErrCorrupt) {
			t.Fatalf("bit %d of the GCM part: %v, want ErrCorrupt", i, err)
		}
	}
}

// TestOpenValueTruncated cuts the value at every length, and extends it.
func TestOpenValueTruncated(t *testing.T) {
	keys := testKeys(t, "key-pkcs1.pem")
	enc := sealValue(t, &keys[0].key.PublicKey, nil, []byte(canary))
	raw, _ := base64.StdEncoding.DecodeString(enc)
	for n := range len(raw) {
		_, _, err := OpenValue(base64.StdEncoding.EncodeToString(raw[:n]), nil, keys)
		openErr(t, "cut at "+strconv.Itoa(n), err)
	}
	_, _, err := OpenValue(base64.StdEncoding.EncodeToString(append(raw, 0)), nil, keys)
	openErr(t, "one byte more", err)
}

func TestOpenValueMalformed(t *testing.T) {
	keys := testKeys(t, "key-pkcs1.pem")
	enc := sealValue(t, &keys[0].key.PublicKey, nil, []byte(canary))
	for name, in := range map[string]string{
		"empty":          "",
		"not base64":     "!!!!",
		"url base64":     strings.NewReplacer("+", "-", "/", "_").Replace(enc),
		"line break":     enc[:40] + "\n" + enc[40:],
		"no padding":     strings.TrimRight(enc+"A", "="),
		"sealkit value":  "sealkit:v1:0011223344556677:" + enc,
		"length too big": base64.StdEncoding.EncodeToString([]byte{0xff, 0xff, 1, 2, 3}),
	} {
		_, _, err := OpenValue(in, nil, keys)
		openErr(t, name, err)
	}
	_, _, err := OpenValue(strings.Repeat("A", maxEncodedSize+4), nil, keys)
	if !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized value: %v, want ErrTooLarge", err)
	}
	var noKey *NoKeyError
	if _, _, err := OpenValue(enc, nil, nil); !errors.As(err, &noKey) || !strings.Contains(err.Error(), "no bitnami private key given") {
		t.Errorf("no keys: %v", err)
	}
	// A key of another size is not even tried.
	if _, _, err := OpenValue(enc, nil, testKeys(t, "key-4096.pem")); !errors.As(err, &noKey) || noKey.Tried != 0 || noKey.Given != 1 {
		t.Errorf("a 4096-bit key for a 2048-bit value: %v", err)
	}
}

// TestOpenValueWrongSessionKey seals a session key of the wrong size: OAEP
// opens, the value is still refused as corrupt, not misread.
func TestOpenValueWrongSessionKey(t *testing.T) {
	keys := testKeys(t, "key-pkcs1.pem")
	enc := sealValue(t, &keys[0].key.PublicKey, nil, []byte(canary))
	raw, _ := base64.StdEncoding.DecodeString(enc)
	short, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &keys[0].key.PublicKey, make([]byte, 16), nil)
	if err != nil {
		t.Fatal(err)
	}
	copy(raw[2:], short)
	_, _, err = OpenValue(base64.StdEncoding.EncodeToString(raw), nil, keys)
	if !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
}
