package crypto

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"filippo.io/age"
)

// ageHeader returns the header of a fresh value sealed to the identities.
func ageHeader(t testing.TB, ids ...*Identity) []byte {
	t.Helper()
	enc := mustSeal(t, Frame{Scope: ScopeStrict, Namespace: "ns", Name: "n", Key: "k"}, "v", ids...)
	file, err := base64.StdEncoding.DecodeString(enc[strings.LastIndex(enc, ":")+1:])
	if err != nil {
		t.Fatal(err)
	}
	n, ok := splitHeader(file)
	if !ok {
		t.Fatal("no header end")
	}
	return file[:n]
}

// headerWellFormed reports whether h is exactly one well-formed header.
func headerWellFormed(h []byte) bool {
	n, ok := wellFormedHeader(h)
	return ok && n == len(h)
}

func TestHeaderWellFormed(t *testing.T) {
	k := testKeys()
	for _, h := range [][]byte{ageHeader(t, k.pq), ageHeader(t, k.pq, k.pq2), ageHeader(t, k.classic)} {
		if !headerWellFormed(h) {
			t.Fatalf("real header refused:\n%s", h)
		}
		lines := bytes.SplitAfter(bytes.TrimSuffix(h, []byte("\n")), []byte("\n"))
		lines[len(lines)-1] = append(lines[len(lines)-1], '\n')
		badBody := bytes.Clone(h)
		badBody[len(ageIntro)+len(lines[1])] = '!' // first byte of the first body line
		bad := map[string][]byte{
			"no intro":      h[len(ageIntro):],
			"no mac line":   bytes.Join(lines[:len(lines)-1], nil),
			"short mac":     append(bytes.Join(lines[:len(lines)-1], nil), []byte("--- AAAA\n")...),
			"no stanza":     []byte(ageIntro + string(lines[len(lines)-1])),
			"bad body char": badBody,
			"trailing data": append(bytes.Clone(h), 'x'),
		}
		for name, b := range bad {
			if headerWellFormed(b) {
				t.Errorf("%s: accepted", name)
			}
		}
	}
}

// FuzzHeaderWellFormed checks the shape check never refuses a header age
// itself accepts, so lint raises no false alarms.
func FuzzHeaderWellFormed(f *testing.F) {
	f.Add(ageHeader(f, testKeys().pq))
	f.Add(ageHeader(f, testKeys().classic))
	f.Fuzz(func(t *testing.T, h []byte) {
		n, ok := splitHeader(h)
		if !ok || n != len(h) {
			return
		}
		if _, err := age.ExtractHeader(bytes.NewReader(h)); err == nil && !headerWellFormed(h) {
			t.Fatalf("age accepts, we refuse:\n%q", h)
		}
	})
}
