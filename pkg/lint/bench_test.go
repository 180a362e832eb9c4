package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// BenchmarkLint10000 lints a repository of 10,000 SealedSecrets of 5 values
// each, in 100 directories under one .sealkit.yaml, with key checks on.
func BenchmarkLint10000(b *testing.B) {
	const n = 10000
	dir := b.TempDir()
	prod, recovery := testIdentity(b, "prod"), testIdentity(b, "recovery")
	writeFile(b, filepath.Join(dir, ".sealkit.yaml"), "rules:\n- path: '**'\n  keys: [prod.keys]\n  recovery: ["+recovery.Recipient().String()+"]\n")
	writeFile(b, filepath.Join(dir, "prod.keys"), keyringFile(key(prod, "2026-10-01", keyring.StateActive)))
	// Sealing is the slow part of setup: seal one object per namespace
	// and rename, since lint cannot tell (the frame is inside the ciphertext).
	data := map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}
	m := manifests(b, "yaml", sealedSecret(b, "shop", "db", crypto.ScopeStrict, data, prod, recovery))
	for i := range n {
		p := filepath.Join(dir, fmt.Sprintf("ns%02d", i%100), fmt.Sprintf("db%05d.yaml", i))
		if i < 100 {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				b.Fatal(err)
			}
		}
		if err := os.WriteFile(p, []byte(m), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := Lint([]string{dir}, Options{MaxKeyAge: 365 * 24 * 3600e9, Now: fixedNow})
		if err != nil || res.Documents != n || len(res.Findings) != 0 {
			b.Fatalf("lint: %d documents, %d findings, %v", res.Documents, len(res.Findings), err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "manifests/s")
}
