package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/sealkit/sealkit/internal/repofixture"
	"github.com/sealkit/sealkit/pkg/crypto"
)

// In-process benchmarks of the commands, for profiling
// (go test -bench . -cpuprofile); test/bench measures the built binary
// against kubeseal.

// BenchmarkSealFile seals a file of 1,000 Secrets of 5 values.
func BenchmarkSealFile(b *testing.B) {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		b.Fatal(err)
	}
	input := filepath.Join(b.TempDir(), "secrets.yaml")
	if err := os.WriteFile(input, repofixture.Secrets(1000, 5, "shop"), 0o644); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if rc, _, errOut := runSealQuiet("--recipient", id.Recipient().String(), "-f", input); rc != 0 {
			b.Fatal(errOut)
		}
	}
	b.ReportMetric(1000*float64(b.N)/b.Elapsed().Seconds(), "Secrets/s")
}

// BenchmarkResealOffline re-seals 500 files of 5 values from one key to
// another with -i, on a fresh copy each time.
func BenchmarkResealOffline(b *testing.B) {
	dir := b.TempDir()
	oldID, err := crypto.GenerateIdentity()
	if err != nil {
		b.Fatal(err)
	}
	newID, err := crypto.GenerateIdentity()
	if err != nil {
		b.Fatal(err)
	}
	ids := filepath.Join(dir, "admin.key")
	if err := os.WriteFile(ids, []byte(oldID.String()+"\n"+newID.String()+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	const n = 500
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		repo := filepath.Join(dir, fmt.Sprint("repo", i))
		if _, err := repofixture.WriteSealedRepo(repo, n, 5, "shop", []*crypto.Recipient{oldID.Recipient()}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if rc, _, errOut := runSealQuiet("reseal", "-i", ids, "--recipient", newID.Recipient().String(), repo); rc != 0 {
			b.Fatal(errOut)
		}
	}
	b.ReportMetric(n*float64(b.N)/b.Elapsed().Seconds(), "objects/s")
}
