package main

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
)

// migrateBenchObjects is the repository size the issue asks about.
const migrateBenchObjects = 1000

// BenchmarkMigrateOffline runs `seal migrate -i` in-process, through Main,
// on a repository of 1,000 Bitnami SealedSecrets of 5 values each that the
// real kubeseal sealed to a 4096-bit key (Bitnami's size), in 20 files of
// 50 objects with comments, to one post-quantum recipient. One op is the
// whole repository, files rewritten in place; objects/s is what a user
// waits for, objects/cpu-s what one idle core does.
func BenchmarkMigrateOffline(b *testing.B) {
	key, files := benchRepo(b)
	keys := filepath.Join(b.TempDir(), "bitnami-keys.yaml")
	if err := os.WriteFile(keys, kubeseal.KeyBackup(b, kubeseal.KeySecret(b, key, "sealed-secrets-key", "kube-system", "active")), 0o600); err != nil {
		b.Fatal(err)
	}
	benchMigrate(b, files, "-i", keys, "--recipient", newBenchIdentity(b))
}

// BenchmarkMigrateOnline is BenchmarkMigrateOffline through a real API
// server and seal-controller's webhook (in-process, so objects/cpu-s counts
// the controller's decryptions and the CLI; the API server is another
// process), with Bitnami's key read from kube-system.
func BenchmarkMigrateOnline(b *testing.B) {
	key, files := benchRepo(b)
	env := testenv.New(b, testenv.Options{Webhooks: webhookOptions(b)})
	ctrlNS := newNamespace(b, env, "sealkit-system")
	if err := env.Client.Create(context.Background(), kubeseal.KeySecret(b, key, "sealed-secrets-key", "kube-system", "active")); err != nil {
		b.Fatal(err)
	}
	for i := range 10 {
		newNamespace(b, env, fmt.Sprintf("team-%d", i))
	}
	startController(b, env, ctrlNS, "kube-system")
	benchMigrate(b, files, onlineFlags(env, ctrlNS)...)
}

// benchRepo is the 4096-bit test key and the repository kubeseal sealed to
// it: 20 files of 50 objects.
func benchRepo(b *testing.B) (*rsa.PrivateKey, map[string][]byte) {
	b.Helper()
	pemKey, err := os.ReadFile("../../pkg/bitnami/testdata/key-4096.pem") // generating one takes too long
	if err != nil {
		b.Fatal(err)
	}
	block, _ := pem.Decode(pemKey)
	key, err := x509.ParsePKCS1PrivateKey(block.Bytes)
	if err != nil {
		b.Fatal(err)
	}
	cert := kubeseal.Cert(b, key)
	const perFile = 50
	files := map[string][]byte{}
	for f := range migrateBenchObjects / perFile {
		var in strings.Builder
		for i := range perFile {
			n := f*perFile + i
			fmt.Fprintf(&in, "---\napiVersion: v1\nkind: Secret\nmetadata: {name: app-%d, namespace: team-%d}\nstringData:\n", n, n%10)
			for k := range 5 {
				fmt.Fprintf(&in, "  key-%d: value-%d-%d-0123456789abcdef0123456789\n", k, n, k)
			}
		}
		files[fmt.Sprintf("team-%02d.yaml", f)] = append([]byte("# sealed by kubeseal\n"), kubeseal.Seal(b, cert, []byte(in.String()))...)
	}
	return key, files
}

// benchMigrate runs `seal migrate ARGS... DIR` on a fresh copy of files per
// op and reports objects/s and objects/cpu-s.
func benchMigrate(b *testing.B, files map[string][]byte, args ...string) {
	b.Helper()
	b.ReportAllocs()
	cpu := processCPU(b)
	var wall time.Duration
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		start := time.Now()
		var errOut strings.Builder
		if code := Main(append(append([]string{"migrate"}, args...), dir), Streams{In: strings.NewReader(""), Out: io.Discard, ErrOut: &errOut}); code != 0 {
			b.Fatalf("seal migrate: exit %d\n%.2000s", code, errOut.String())
		}
		wall += time.Since(start)
	}
	b.ReportMetric(float64(migrateBenchObjects*b.N)/wall.Seconds(), "objects/s")
	b.ReportMetric(float64(migrateBenchObjects*b.N)/(processCPU(b)-cpu).Seconds(), "objects/cpu-s")
}

func newBenchIdentity(b *testing.B) string {
	b.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		b.Fatal(err)
	}
	return id.Recipient().String()
}

// processCPU is the process's user and system CPU time so far.
func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
