package crypto

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"fmt"
	"testing"
)

var benchFrame = Frame{Scope: ScopeStrict, Namespace: "shop", Name: "db", Key: "password"}

// benchValue is the size of a typical password or token.
var benchValue = []byte("0123456789abcdef0123456789abcdef")

func benchIdentities(b *testing.B, n int) ([]*Identity, []*Recipient) {
	b.Helper()
	ids := make([]*Identity, n)
	rs := make([]*Recipient, n)
	for i := range ids {
		id, err := GenerateIdentity()
		if err != nil {
			b.Fatal(err)
		}
		ids[i], rs[i] = id, id.Recipient()
	}
	return ids, rs
}

func BenchmarkSeal(b *testing.B) {
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("recipients=%d", n), func(b *testing.B) {
			_, rs := benchIdentities(b, n)
			b.ReportAllocs()
			var enc string
			for b.Loop() {
				var err error
				if enc, err = Seal(rs, benchFrame, benchValue); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc)), "encoded-bytes")
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	ids, rs := benchIdentities(b, 1)
	enc, err := Seal(rs, benchFrame, benchValue)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := Open(enc, benchFrame, ids); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRSA4096OAEPDecrypt is what the reference system pays per value:
// the comparison point for BenchmarkOpen.
func BenchmarkRSA4096OAEPDecrypt(b *testing.B) {
	key, err := rsa.GenerateKey(rand.Reader, 4096)
	if err != nil {
		b.Fatal(err)
	}
	ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, &key.PublicKey, benchValue, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := rsa.DecryptOAEP(sha256.New(), nil, key, ct, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSeal1000Secrets5Keys seals what a repository of 1000 Secrets of
// five values each costs, the unit `seal` users feel.
func BenchmarkSeal1000Secrets5Keys(b *testing.B) {
	_, rs := benchIdentities(b, 1)
	keys := []string{"a", "b", "c", "d", "e"}
	for b.Loop() {
		for i := range 1000 {
			for _, k := range keys {
				f := Frame{Scope: ScopeStrict, Namespace: "shop", Name: fmt.Sprint("s", i), Key: k}
				if _, err := Seal(rs, f, benchValue); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "Secrets/s")
}

// BenchmarkKeyIDs is what offline lint pays per value.
func BenchmarkKeyIDs(b *testing.B) {
	_, rs := benchIdentities(b, 2)
	enc, err := Seal(rs, benchFrame, benchValue)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := KeyIDs(enc); err != nil {
			b.Fatal(err)
		}
	}
}
