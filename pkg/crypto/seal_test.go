package crypto

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	k := testKeys()
	for _, tc := range []struct {
		name   string
		sealTo []*Identity
		open   []*Identity
		want   *Identity
	}{
		{"one recipient", []*Identity{k.pq}, []*Identity{k.pq}, k.pq},
		{"hinted key listed last", []*Identity{k.pq}, []*Identity{k.pq3, k.pq2, k.pq}, k.pq},
		{"two recipients, first key", []*Identity{k.pq, k.pq2}, []*Identity{k.pq}, k.pq},
		{"two recipients, second key", []*Identity{k.pq, k.pq2}, []*Identity{k.pq3, k.pq2}, k.pq2},
		{"two recipients, both keys", []*Identity{k.pq, k.pq2}, []*Identity{k.pq2, k.pq}, k.pq2},
		{"classic", []*Identity{k.classic}, []*Identity{k.pq, k.classic}, k.classic},
		{"two classic", []*Identity{k.classic, k.classic2}, []*Identity{k.classic2}, k.classic2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			enc := mustSeal(t, strictFrame, "s3cret", tc.sealTo...)
			v, opened, err := Open(enc, strictFrame, tc.open)
			if err != nil {
				t.Fatal(err)
			}
			if string(v) != "s3cret" || opened != tc.want.KeyID() {
				t.Errorf("Open = %q, %s; want %q, %s", v, opened, "s3cret", tc.want.KeyID())
			}
		})
	}
}

func TestRoundTripValues(t *testing.T) {
	k := testKeys()
	for _, v := range [][]byte{{}, {0}, []byte("\n\n"), bytes.Repeat([]byte{0xff}, chunkSize), make([]byte, MaxValueSize)} {
		enc, err := Seal([]*Recipient{k.pq.Recipient()}, strictFrame, v)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := Open(enc, strictFrame, []*Identity{k.pq})
		if err != nil || !bytes.Equal(got, v) {
			t.Fatalf("%d-byte value: got %d bytes, %v", len(v), len(got), err)
		}
	}
}

// TestHintedKeyFirst checks the hints decide which key is tried first: the
// only observable sign is which key ID Open reports when both could open.
func TestHintedKeyFirst(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "v", k.pq2)
	_, _, err := Open(enc, strictFrame, []*Identity{k.pq, k.pq3})
	var nm *NoKeyMatchError
	if !errors.As(err, &nm) {
		t.Fatalf("got %v, want NoKeyMatchError", err)
	}
	// The tried list keeps the caller's order when no key is hinted.
	if !slices.Equal(nm.Tried, []KeyID{k.pq.KeyID(), k.pq3.KeyID()}) {
		t.Errorf("Tried = %v", nm.Tried)
	}
}

func TestMixedRecipients(t *testing.T) {
	k := testKeys()
	_, err := Seal([]*Recipient{k.pq.Recipient(), k.classic.Recipient()}, strictFrame, []byte("v"))
	if !errors.Is(err, ErrMixedRecipients) {
		t.Fatalf("got %v, want ErrMixedRecipients", err)
	}
	_, err = Seal([]*Recipient{k.classic.Recipient(), k.pq.Recipient()}, strictFrame, []byte("v"))
	if !errors.Is(err, ErrMixedRecipients) {
		t.Fatalf("got %v, want ErrMixedRecipients", err)
	}
}

func TestSealRefuses(t *testing.T) {
	k := testKeys()
	r := []*Recipient{k.pq.Recipient()}
	for name, f := range map[string]Frame{
		"no key":          {Scope: ScopeStrict, Namespace: "a", Name: "b"},
		"bad scope":       {Scope: "global", Key: "k"},
		"newline in name": {Scope: ScopeStrict, Name: "a\nscope: cluster", Key: "k"},
		"cr in key":       {Scope: ScopeStrict, Key: "k\r"},
	} {
		if _, err := Seal(r, f, []byte("v")); err == nil {
			t.Errorf("%s: Seal succeeded", name)
		}
	}
	if _, err := Seal(nil, strictFrame, []byte("v")); err == nil {
		t.Error("Seal with no recipients succeeded")
	}
	if _, err := Seal(r, strictFrame, make([]byte, MaxValueSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized value: got %v, want ErrTooLarge", err)
	}
}

func TestNoKeyMatch(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "v", k.pq, k.pq2)
	v, _, err := Open(enc, strictFrame, []*Identity{k.pq3, k.classic})
	var nm *NoKeyMatchError
	if v != nil || !errors.As(err, &nm) {
		t.Fatalf("got %q, %v; want NoKeyMatchError", v, err)
	}
	if !slices.Equal(nm.SealedTo, []KeyID{k.pq.KeyID(), k.pq2.KeyID()}) {
		t.Errorf("SealedTo = %v", nm.SealedTo)
	}
	if !slices.Equal(nm.Tried, []KeyID{k.pq3.KeyID(), k.classic.KeyID()}) {
		t.Errorf("Tried = %v", nm.Tried)
	}
	for _, id := range []*Identity{k.pq, k.pq2, k.pq3, k.classic} {
		if !strings.Contains(err.Error(), string(id.KeyID())) {
			t.Errorf("error %q does not name %s", err, id.KeyID())
		}
	}
	if _, _, err := Open(enc, strictFrame, nil); !errors.As(err, &nm) {
		t.Errorf("no identities: got %v", err)
	}
}

// TestNoPlaintextInErrors is the canary: whatever goes wrong, no error
// string carries the value.
func TestNoPlaintextInErrors(t *testing.T) {
	k := testKeys()
	const canary = "CANARY-7d1f0c-do-not-log"
	enc := mustSeal(t, strictFrame, canary, k.pq)
	_, b64 := splitEncoded(t, enc)
	elsewhere := strictFrame
	elsewhere.Key = "other"
	for _, tc := range []struct {
		enc   string
		where Frame
		ids   []*Identity
	}{
		{enc, elsewhere, []*Identity{k.pq}},
		{enc, strictFrame, []*Identity{k.pq2}},
		{flipBit(enc, len(enc)-10, 1), strictFrame, []*Identity{k.pq}},
		{enc[:len(enc)-4], strictFrame, []*Identity{k.pq}},
		{"sealkit:v1:zz:" + b64, strictFrame, []*Identity{k.pq}},
	} {
		v, _, err := Open(tc.enc, tc.where, tc.ids)
		if err == nil || v != nil {
			t.Fatalf("opened: %v", err)
		}
		if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "CANARY") {
			t.Fatalf("error leaks the value: %v", err)
		}
	}
	if _, err := Seal([]*Recipient{k.pq.Recipient(), k.classic.Recipient()}, strictFrame, []byte(canary)); strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("error leaks the value: %v", err)
	}
}
