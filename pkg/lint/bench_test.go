package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

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
	cpu := cpuTime()
	for b.Loop() {
		res, err := Lint([]string{dir}, Options{MaxKeyAge: 365 * 24 * 3600e9, Now: fixedNow})
		if err != nil || res.Documents != n || len(res.Findings) != 0 {
			b.Fatalf("lint: %d documents, %d findings, %v", res.Documents, len(res.Findings), err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "manifests/s")
	// CPU time depends far less than wall time on what else the machine
	// runs: on a shared machine, compare this.
	b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(n*b.N), "cpu-µs/manifest")
}

// cpuTime is the CPU time this process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkLintCharts lints a repository of 50 Helm charts (the sample
// "web" chart, each rendered with a values file holding its sealed
// values) beside 1,000 SealedSecret files: rendering included.
func BenchmarkLintCharts(b *testing.B) {
	const charts, files = 50, 1000
	dir := b.TempDir()
	prod := testIdentity(b, "prod")
	config := "rules:\n"
	for i := range charts {
		config += fmt.Sprintf("- path: charts/web%02d/**\n  keys: [prod.keys]\n  values: [charts/web%02d/values-prod.yaml]\n", i, i)
	}
	writeFile(b, filepath.Join(dir, ".sealkit.yaml"), config+"- path: '**'\n  keys: [prod.keys]\n")
	writeFile(b, filepath.Join(dir, "prod.keys"), keyringFile(key(prod, "2026-10-01", keyring.StateActive)))
	data := map[string]string{"a": "1", "b": "2", "c": "3", "d": "4", "e": "5"}
	ss := sealedSecret(b, "shop", "web-db", crypto.ScopeStrict, data, prod)
	values := "db:\n  sealed:\n"
	for k, v := range ss.Spec.EncryptedData {
		values += "    " + k + ": " + v + "\n"
	}
	for i := range charts {
		for p, content := range webChart {
			writeFile(b, filepath.Join(dir, fmt.Sprintf("charts/web%02d", i), p), content)
		}
		writeFile(b, filepath.Join(dir, fmt.Sprintf("charts/web%02d/values-prod.yaml", i)), values)
	}
	m := manifests(b, "yaml", sealedSecret(b, "shop", "db", crypto.ScopeStrict, data, prod))
	for i := range files {
		writeFile(b, filepath.Join(dir, fmt.Sprintf("apps/ns%02d/db%05d.yaml", i%10, i)), m)
	}
	b.ResetTimer()
	for b.Loop() {
		res, err := Lint([]string{dir}, Options{Now: fixedNow})
		if err != nil || res.Charts != charts || len(res.Findings) != 0 {
			b.Fatalf("lint: %d charts, %d findings, %v", res.Charts, len(res.Findings), err)
		}
	}
	b.ReportMetric(float64(charts*b.N)/b.Elapsed().Seconds(), "charts/s")
	b.ReportMetric(float64((charts+files)*b.N)/b.Elapsed().Seconds(), "units/s")
}
