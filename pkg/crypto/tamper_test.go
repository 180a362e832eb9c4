package crypto

import (
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"testing"
)

// TestBitFlipFile flips a bit in every byte of the age file inside a sealed value
// (two recipients, so the damaged stanza may belong to the key opening it or
// to the other). Nothing may open: the header MAC, the stanza AEADs and the
// payload tags between them cover every byte.
func TestBitFlipFile(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "s3cret", k.pq, k.pq2)
	head, b64 := splitEncoded(t, enc)
	file, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	for i := range file {
		// One bit per byte, a different one each time: every bit would
		// take eight times as long and cover no other code path.
		bit := byte(1) << (i % 8)
		file[i] ^= bit
		v, _, err := Open(head+base64.StdEncoding.EncodeToString(file), strictFrame, []*Identity{k.pq})
		file[i] ^= bit
		assertRefused(t, v, err, "flip of byte "+itoa(i))
	}
}

// TestBitFlipEncoded flips bits all along the encoded text. The key ID hints
// are not authenticated: a flip there may still open, but only to the value.
func TestBitFlipEncoded(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "s3cret", k.pq)
	hintsEnd := strings.LastIndexByte(enc, ':')
	for i := range len(enc) {
		// Every bit of the prefix and hints, where parsing is ours; one per
		// character of the base64, which TestBitFlipFile covers bit by bit.
		bits := []byte{1, 2, 4, 8, 16, 32, 64, 128}
		if i > hintsEnd {
			bits = []byte{1 << (i % 8)}
		}
		for _, bit := range bits {
			v, _, err := Open(flipBit(enc, i, bit), strictFrame, []*Identity{k.pq})
			if i >= len(prefix) && i < hintsEnd && err == nil {
				if string(v) != "s3cret" {
					t.Fatalf("flip in hints at %d opened to %q", i, v)
				}
				continue
			}
			assertRefused(t, v, err, "flip of char "+itoa(i))
		}
	}
}

func TestTruncation(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "s3cret", k.pq)
	for n := range len(enc) {
		v, _, err := Open(enc[:n], strictFrame, []*Identity{k.pq})
		assertRefused(t, v, err, "encoded cut to "+itoa(n))
		if _, err := KeyIDs(enc[:n]); err == nil && n < len(prefix)+17 {
			t.Fatalf("KeyIDs accepted %q", enc[:n])
		}
	}
	// Cutting the file itself keeps the base64 valid, so every cut reaches
	// age's header parser or the payload checks.
	head, b64 := splitEncoded(t, enc)
	file, _ := base64.StdEncoding.DecodeString(b64)
	for n := range len(file) {
		v, _, err := Open(head+base64.StdEncoding.EncodeToString(file[:n]), strictFrame, []*Identity{k.pq})
		assertRefused(t, v, err, "file cut to "+itoa(n))
	}
	// So does appending to it.
	v, _, err := Open(head+base64.StdEncoding.EncodeToString(append(file, 0)), strictFrame, []*Identity{k.pq})
	assertRefused(t, v, err, "trailing byte")
}

func TestMalformedEncoding(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "s3cret", k.pq)
	head, b64 := splitEncoded(t, enc)
	hint := strings.TrimSuffix(strings.TrimPrefix(head, prefix), ":")
	for name, bad := range map[string]string{
		"empty":              "",
		"no prefix":          hint + ":" + b64,
		"other version":      "sealkit:v2:" + hint + ":" + b64,
		"upper-case prefix":  "SEALKIT:v1:" + hint + ":" + b64,
		"no hints":           prefix + ":" + b64,
		"no hint separator":  prefix + b64,
		"short hint":         prefix + hint[:15] + ":" + b64,
		"upper-case hint":    prefix + strings.ToUpper(hint) + ":" + b64,
		"non-hex hint":       prefix + "g" + hint[1:] + ":" + b64,
		"empty second hint":  prefix + hint + ",:" + b64,
		"hint with space":    prefix + " " + hint + ":" + b64,
		"extra field":        head + "x:" + b64,
		"empty base64":       head,
		"base64 newline":     head + b64[:40] + "\n" + b64[40:],
		"base64 unpadded":    head + strings.TrimRight(b64, "="),
		"url-safe base64":    head + strings.NewReplacer("+", "-", "/", "_").Replace(b64) + "-_",
		"trailing space":     enc + " ",
		"not base64":         head + "!!!!",
		"armored age":        head + base64.StdEncoding.EncodeToString([]byte("-----BEGIN AGE ENCRYPTED FILE-----\n")),
		"base64 of nonsense": head + base64.StdEncoding.EncodeToString([]byte("hello")),
	} {
		if _, err := KeyIDs(bad); !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: KeyIDs: got %v, want ErrCorrupt", name, err)
		}
		if v, _, err := Open(bad, strictFrame, []*Identity{k.pq}); v != nil || !errors.Is(err, ErrCorrupt) {
			t.Errorf("%s: Open: got %q, %v, want ErrCorrupt", name, v, err)
		}
	}
}

func TestTooLarge(t *testing.T) {
	k := testKeys()
	huge := prefix + strings.Repeat("0", 16) + ":" + strings.Repeat("A", maxEncodedSize)
	if _, err := KeyIDs(huge); !errors.Is(err, ErrTooLarge) {
		t.Errorf("KeyIDs: got %v, want ErrTooLarge", err)
	}
	if _, _, err := Open(huge, strictFrame, []*Identity{k.pq}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Open: got %v, want ErrTooLarge", err)
	}
	// The largest value that can be sealed is also one that can be opened.
	enc := mustSeal(t, strictFrame, strings.Repeat("x", MaxValueSize), k.pq, k.pq2)
	if len(enc) > maxEncodedSize {
		t.Fatalf("a maximal value encodes to %d bytes, over the %d limit", len(enc), maxEncodedSize)
	}
	if v, _, err := Open(enc, strictFrame, []*Identity{k.pq2}); err != nil || len(v) != MaxValueSize {
		t.Fatalf("maximal value: %d bytes, %v", len(v), err)
	}
}

func TestSealTooManyRecipientsForMaxValue(t *testing.T) {
	id := testKeys().pq
	rs := make([]*Recipient, 60)
	for i := range rs {
		rs[i] = id.Recipient()
	}
	if _, err := Seal(rs, strictFrame, make([]byte, MaxValueSize)); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("got %v, want ErrTooLarge", err)
	}
}

func TestKeyIDs(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "v", k.pq, k.pq2, k.pq)
	ids, err := KeyIDs(enc)
	if err != nil || len(ids) != 2 || ids[0] != k.pq.KeyID() || ids[1] != k.pq2.KeyID() {
		t.Fatalf("KeyIDs = %v, %v; want [%s %s] (duplicates dropped)", ids, err, k.pq.KeyID(), k.pq2.KeyID())
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
