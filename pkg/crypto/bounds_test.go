package crypto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
)

// craft seals plaintext (a frame and value written by hand) to n classic
// recipients with age itself, bypassing Seal's checks: what an attacker
// could put in a SealedSecret. The first recipient is opener's.
func craft(t *testing.T, opener *Identity, n int, plaintext string) string {
	t.Helper()
	rs := []age.Recipient{opener.recipient.r}
	for range n - 1 {
		x, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, x.Recipient())
	}
	var file bytes.Buffer
	w, err := age.Encrypt(&file, rs...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(plaintext)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return prefix + string(opener.KeyID()) + ":" + base64.StdEncoding.EncodeToString(file.Bytes())
}

func frameText(f Frame, value string) string {
	return frameMagic + "\nscope: " + string(f.Scope) + "\nnamespace: " + f.Namespace + "\nname: " + f.Name + "\nkey: " + f.Key + "\n\n" + value
}

func TestRecipientLimit(t *testing.T) {
	k := testKeys()
	var rs []*Recipient
	for range MaxRecipients + 1 {
		x, err := age.GenerateX25519Identity()
		if err != nil {
			t.Fatal(err)
		}
		r, err := ParseRecipient(x.Recipient().String())
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if _, err := Seal(rs[:MaxRecipients], strictFrame, []byte("v")); err != nil {
		t.Fatalf("sealing to %d recipients: %v", MaxRecipients, err)
	}
	_, err := Seal(rs, strictFrame, []byte("v"))
	if !errors.Is(err, ErrTooManyRecipients) || !strings.Contains(err.Error(), "at most 16 recipients, not 17") {
		t.Fatalf("sealing to %d recipients: %v", len(rs), err)
	}

	// A value crafted with more stanzas than that is refused before any
	// key is tried, by Open, KeyIDs and SealedTo alike.
	over := craft(t, k.classic, MaxRecipients+1, frameText(strictFrame, "v"))
	if v, _, err := Open(over, strictFrame, []*Identity{k.classic}); v != nil || !errors.Is(err, ErrTooManyRecipients) {
		t.Errorf("Open of %d stanzas: %q, %v", MaxRecipients+1, v, err)
	}
	if _, err := KeyIDs(over); !errors.Is(err, ErrTooManyRecipients) {
		t.Errorf("KeyIDs of %d stanzas: %v", MaxRecipients+1, err)
	}
	if _, _, err := SealedTo(over, []*Identity{k.classic}); !errors.Is(err, ErrTooManyRecipients) {
		t.Errorf("SealedTo of %d stanzas: %v", MaxRecipients+1, err)
	}
	at := craft(t, k.classic, MaxRecipients, frameText(strictFrame, "v"))
	if v, _, err := Open(at, strictFrame, []*Identity{k.classic}); err != nil || string(v) != "v" {
		t.Errorf("Open of %d stanzas: %q, %v", MaxRecipients, v, err)
	}
	hints := prefix + strings.Repeat(string(k.classic.KeyID())+",", MaxRecipients) + string(k.classic.KeyID()) + ":" + strings.SplitN(at, ":", 4)[3]
	if _, err := KeyIDs(hints); !errors.Is(err, ErrTooManyRecipients) {
		t.Errorf("KeyIDs with %d hints: %v", MaxRecipients+1, err)
	}
}

func TestFrameBounds(t *testing.T) {
	k := testKeys()
	long := Frame{Scope: ScopeStrict, Namespace: strings.Repeat("n", MaxNamespaceLen+1), Name: "db", Key: "k"}
	if _, err := Seal([]*Recipient{k.pq.Recipient()}, long, []byte("v")); err == nil || !strings.Contains(err.Error(), "namespace is 64 bytes long, over the Kubernetes limit of 63") {
		t.Errorf("sealing a 64-byte namespace: %v", err)
	}
	for _, f := range []Frame{
		{Scope: ScopeStrict, Namespace: "shop", Name: strings.Repeat("x", MaxNameLen+1), Key: "k"},
		{Scope: ScopeStrict, Namespace: "shop", Name: "db", Key: strings.Repeat("k", MaxKeyLen+1)},
	} {
		if _, err := Seal([]*Recipient{k.pq.Recipient()}, f, []byte("v")); err == nil {
			t.Errorf("sealed a frame over the bounds: %d-byte name, %d-byte key", len(f.Name), len(f.Key))
		}
		// Opened where it claims to belong, a crafted value with such a
		// frame is corrupt: no message ever repeats an unbounded field.
		v, _, err := Open(craft(t, k.classic, 1, frameText(f, "v")), f, []*Identity{k.classic})
		if v != nil || !errors.Is(err, ErrCorrupt) {
			t.Errorf("opened a frame over the bounds: %q, %v", v, err)
		}
	}
	at := Frame{Scope: ScopeStrict, Namespace: strings.Repeat("n", MaxNamespaceLen), Name: strings.Repeat("x", MaxNameLen), Key: strings.Repeat("k", MaxKeyLen)}
	enc := mustSeal(t, at, "v", k.pq)
	if v, _, err := Open(enc, at, []*Identity{k.pq}); err != nil || string(v) != "v" {
		t.Errorf("a frame at the bounds: %q, %v", v, err)
	}
}

// TestSealedTo: what a value is sealed to comes from its header, checked
// against the MAC, not from the hints, which anyone can edit.
func TestSealedTo(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "v", k.pq, k.pq2)
	n, opens, err := SealedTo(enc, []*Identity{k.pq3, k.pq2, k.pq})
	if err != nil || n != 2 || !slices.Equal(opens, []KeyID{k.pq2.KeyID(), k.pq.KeyID()}) {
		t.Errorf("SealedTo = %d, %v, %v; want 2 stanzas opened by pq2 and pq", n, opens, err)
	}
	// Hints edited to name pq3: SealedTo still says pq and pq2.
	_, b64 := splitEncoded(t, enc)
	forged := prefix + string(k.pq3.KeyID()) + ":" + b64
	if _, opens, err := SealedTo(forged, []*Identity{k.pq3, k.pq}); err != nil || !slices.Equal(opens, []KeyID{k.pq.KeyID()}) {
		t.Errorf("forged hints: opens %v, %v; want only pq", opens, err)
	}
	// A damaged stanza is corrupt, not "not sealed to".
	file, _ := base64.StdEncoding.DecodeString(b64)
	i := bytes.Index(file, []byte("\n-> ")) + 10
	file[i] ^= 1
	if _, _, err := SealedTo(prefix+string(k.pq.KeyID())+":"+base64.StdEncoding.EncodeToString(file), []*Identity{k.pq, k.pq2}); err == nil {
		t.Error("a damaged header passed")
	}
}
