// Package kubeseal runs Bitnami's real kubeseal, built from source by
// hack/build-kubeseal.sh, for the migration tests: they check sealkit's
// reading of Bitnami's format against the tool's actual output, not against
// our idea of it.
package kubeseal

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Version is the Bitnami Sealed Secrets release hack/build-kubeseal.sh builds;
// it names the cache directory and must match BITNAMI_VERSION there.
const Version = "0.36.6"

// Dir is where hack/build-kubeseal.sh puts the binaries: $SEALKIT_KUBESEAL_DIR
// (which `make test` sets), else $XDG_CACHE_HOME/sealkit/kubeseal-VERSION,
// falling back to ~/.cache.
func Dir() string {
	if d := os.Getenv("SEALKIT_KUBESEAL_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "sealkit", "kubeseal-"+Version)
}

// Path returns the kubeseal binary, failing the test with how to build it
// when it is not there: a migration test never passes without the real tool.
func Path(t testing.TB) string {
	t.Helper()
	p := filepath.Join(Dir(), "kubeseal")
	if fi, err := os.Stat(p); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
		t.Fatalf("kubeseal missing at %s; run `make kubeseal` (hack/build-kubeseal.sh), which `make test` does", p)
	}
	return p
}

// KeyPair makes an RSA key of the given size and a self-signed certificate
// for it, as the Bitnami controller makes its sealing keys, and writes the
// certificate to a file for kubeseal --cert.
func KeyPair(t testing.TB, bits int) (*rsa.PrivateKey, string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return key, Cert(t, key)
}

// Cert writes a self-signed certificate for key, as the Bitnami controller
// makes one for each sealing key, to a file for kubeseal --cert. (Generating
// a 4096-bit key takes seconds, half a minute on a loaded machine: tests of
// that size bring a fixed key and make only the certificate.)
func Cert(t testing.TB, key *rsa.PrivateKey) string {
	t.Helper()
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "sealed-secret", Organization: []string{"sealed-secret"}},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(10 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageKeyEncipherment | x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(cert, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return cert
}

// Seal runs `kubeseal --cert cert -o yaml ARGS...` offline with input on
// stdin and returns what it writes.
func Seal(t testing.TB, cert string, input []byte, args ...string) []byte {
	t.Helper()
	return Run(t, input, append([]string{"--cert", cert, "-o", "yaml"}, args...)...)
}

// Run runs kubeseal with args and input on stdin, failing the test with its
// stderr if it fails. It never talks to a cluster: the environment points
// kubeconfig at nothing.
func Run(t testing.TB, input []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(Path(t), args...) //nolint:gosec // the kubeseal hack/build-kubeseal.sh built, with the test's arguments
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "no-kubeconfig"))
	cmd.Stdin = bytes.NewReader(input)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("kubeseal %v: %v\n%s", args, err, stderr.String())
	}
	return stdout.Bytes()
}
