package crypto

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"filippo.io/age"
)

// Keys are generated once per test binary: they are not what is under test,
// and bit-flip and truncation tests open thousands of values with them.
var testKeys = sync.OnceValue(func() (k struct{ pq, pq2, pq3, classic, classic2 *Identity }) {
	gen := func() *Identity {
		id, err := GenerateIdentity()
		if err != nil {
			panic(err)
		}
		return id
	}
	x := func() *Identity {
		raw, err := age.GenerateX25519Identity()
		if err != nil {
			panic(err)
		}
		id, err := ParseIdentity(raw.String())
		if err != nil {
			panic(err)
		}
		return id
	}
	k.pq, k.pq2, k.pq3, k.classic, k.classic2 = gen(), gen(), gen(), x(), x()
	return k
})

var strictFrame = Frame{Scope: ScopeStrict, Namespace: "shop", Name: "db", Key: "password"}

func mustSeal(t testing.TB, f Frame, value string, ids ...*Identity) string {
	t.Helper()
	rs := make([]*Recipient, len(ids))
	for i, id := range ids {
		rs[i] = id.Recipient()
	}
	enc, err := Seal(rs, f, []byte(value))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	return enc
}

// assertRefused checks that Open failed without a value and with one of
// the errors a damaged value may give: corrupt, or (when the damage is in the
// recipient stanza) no key match, or too large for an oversized input.
func assertRefused(t *testing.T, value []byte, err error, what string) {
	t.Helper()
	var noMatch *NoKeyMatchError
	switch {
	case value != nil:
		t.Fatalf("%s: opened to %q", what, value)
	case errors.Is(err, ErrCorrupt), errors.As(err, &noMatch), errors.Is(err, ErrTooLarge):
	default:
		t.Fatalf("%s: unexpected error %v", what, err)
	}
}

func flipBit(s string, i int, bit byte) string {
	b := []byte(s)
	b[i] ^= bit
	return string(b)
}

func splitEncoded(t testing.TB, enc string) (head, b64 string) {
	t.Helper()
	i := strings.LastIndexByte(enc, ':')
	if i < 0 {
		t.Fatalf("no colon in %q", enc)
	}
	return enc[:i+1], enc[i+1:]
}
