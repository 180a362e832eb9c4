package bench

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/repofixture"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
)

// The CLI benchmarks run the built seal (and Bitnami's kubeseal) as
// processes, as a user does, `-benchtime 1x`: one iteration is the whole
// measurement, of -cli-rounds rounds; the tables give every round and the
// medians. `make bench` runs them.

var (
	cliSecrets = flag.Int("cli-secrets", 2000, "Secrets in the file BenchmarkSealCLI seals")
	cliObjects = flag.Int("cli-objects", 1000, "SealedSecret files BenchmarkResealOffline re-seals")
	cliRounds  = flag.Int("cli-rounds", 5, "rounds of each CLI benchmark")
)

// cliValues is the number of random 32-byte values of each Secret.
const cliValues = 5

// run is one timed process: wall clock and the CPU time it used.
type run struct {
	wall, cpu time.Duration
	load      string // the 1-minute load average when it started
}

// timed runs name with args and stdin from the file in (if any), and
// returns its times and stdout; a failure fails the benchmark.
func timed(t testing.TB, in string, name string, args ...string) (run, []byte) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "KUBECONFIG="+filepath.Join(t.TempDir(), "none"))
	if in != "" {
		f, err := os.Open(in)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		cmd.Stdin = f
	}
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	r := run{load: loadAverage()}
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, errOut.String())
	}
	r.wall = time.Since(start)
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return r, out.Bytes()
}

// loadAverage is the machine's 1-minute load average, as /proc/loadavg
// gives it.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	return strings.Fields(string(b))[0]
}

var buildSeal struct {
	once sync.Once
	bin  string
	err  error
}

// sealBinary builds cmd/seal once per test binary.
func sealBinary(t testing.TB) string {
	t.Helper()
	buildSeal.once.Do(func() {
		root, err := testenv.ModuleRoot()
		if err != nil {
			buildSeal.err = err
			return
		}
		dir, err := os.MkdirTemp("", "seal-bench-")
		if err != nil {
			buildSeal.err = err
			return
		}
		buildSeal.bin = filepath.Join(dir, "seal")
		cmd := exec.Command("go", "build", "-o", buildSeal.bin, "./cmd/seal")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildSeal.err = fmt.Errorf("building seal: %w\n%s", err, out)
		}
	})
	if buildSeal.err != nil {
		t.Fatal(buildSeal.err)
	}
	return buildSeal.bin
}

// keyringFile writes a keyring of one new post-quantum key and returns it
// with the key's identity.
func keyringFile(t testing.TB, dir, name string) (string, *crypto.Identity) {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(id.Recipient().String()+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, id
}

// bitnamiCert is a certificate for the fixed 4096-bit key of the Bitnami
// tests (the size Bitnami's controller generates).
func bitnamiCert(t testing.TB) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(root, "pkg", "bitnami", "testdata", "key-4096.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(b)
	if block == nil {
		t.Fatal("key-4096.pem: no PEM block")
	}
	var key *rsa.PrivateKey
	if k, err := x509.ParsePKCS1PrivateKey(block.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		key, _ = k.(*rsa.PrivateKey)
	}
	if key == nil {
		t.Fatal("key-4096.pem: not an RSA key")
	}
	return kubeseal.Cert(t, key)
}

// BenchmarkSealCLI seals one multi-document file of -cli-secrets Secrets
// of 5 random 32-byte values with `seal --keys` and with Bitnami's
// `kubeseal --cert`, alternating, -cli-rounds times.
func BenchmarkSealCLI(b *testing.B) {
	t := testing.TB(b)
	seal, ks := sealBinary(t), kubeseal.Path(t)
	dir := t.TempDir()
	input := filepath.Join(dir, "secrets.yaml")
	if err := os.WriteFile(input, repofixture.Secrets(*cliSecrets, cliValues, "shop"), 0o644); err != nil {
		t.Fatal(err)
	}
	keys, _ := keyringFile(t, dir, "cluster.keys")
	cert := bitnamiCert(t)
	var rounds [][2]run
	for range *cliRounds {
		s, out := timed(t, "", seal, "--keys", keys, "-f", input)
		countObjects(t, "seal", out, *cliSecrets)
		k, out := timed(t, input, ks, "--cert", cert, "-o", "yaml")
		countObjects(t, "kubeseal", out, *cliSecrets)
		rounds = append(rounds, [2]run{s, k})
	}
	fmt.Print(pairTable(fmt.Sprintf("sealing %d Secrets of %d values (one file)", *cliSecrets, cliValues), "Secrets", *cliSecrets,
		[2]string{"seal", "kubeseal"}, rounds))
}

// countObjects checks that out holds n SealedSecrets.
func countObjects(t testing.TB, tool string, out []byte, n int) {
	t.Helper()
	if got := bytes.Count(out, []byte("kind: SealedSecret\n")); got != n {
		t.Fatalf("%s wrote %d SealedSecrets, want %d", tool, got, n)
	}
}

// pairTable formats rounds of two tools on the same input: each round's
// wall time, rate and CPU time per item, then the medians, and the ratio
// of rates (first over second).
func pairTable(title, unit string, n int, tools [2]string, rounds [][2]run) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, %d rounds\n", title, len(rounds))
	fmt.Fprintf(&b, "%-6s %-5s %-10s %-10s %-12s %-10s %-10s %-12s %s\n", "round", "load",
		tools[0], unit+"/s", "CPU ms/item", tools[1], unit+"/s", "CPU ms/item", "ratio")
	var ratios []float64
	var walls [2][]time.Duration
	var cpus [2][]time.Duration
	for i, r := range rounds {
		ratio := r[1].wall.Seconds() / r[0].wall.Seconds()
		ratios = append(ratios, ratio)
		for j := range 2 {
			walls[j] = append(walls[j], r[j].wall)
			cpus[j] = append(cpus[j], r[j].cpu)
		}
		fmt.Fprintf(&b, "%-6d %-5s %-10s %-10.0f %-12.3f %-10s %-10.0f %-12.3f %.2f\n", i+1, r[0].load,
			r[0].wall.Round(time.Millisecond), float64(n)/r[0].wall.Seconds(), perItem(r[0].cpu, n),
			r[1].wall.Round(time.Millisecond), float64(n)/r[1].wall.Seconds(), perItem(r[1].cpu, n), ratio)
	}
	w0, w1 := median(walls[0]), median(walls[1])
	fmt.Fprintf(&b, "%-6s %-5s %-10s %-10.0f %-12.3f %-10s %-10.0f %-12.3f %.2f\n", "median", "",
		w0.Round(time.Millisecond), float64(n)/w0.Seconds(), perItem(median(cpus[0]), n),
		w1.Round(time.Millisecond), float64(n)/w1.Seconds(), perItem(median(cpus[1]), n), medianF(ratios))
	return b.String()
}

func perItem(d time.Duration, n int) float64 { return float64(d.Microseconds()) / 1000 / float64(n) }

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianF(fs []float64) float64 {
	s := slices.Clone(fs)
	slices.Sort(s)
	return s[len(s)/2]
}

// BenchmarkResealOffline re-seals a repository of -cli-objects SealedSecret
// files (5 values each) with `seal reseal -i` from an old key to a new one,
// then runs it again on the result, which finds every value already sealed
// to the new key (and checks that from the header, not the hints), -cli-rounds
// times each on a fresh copy.
func BenchmarkResealOffline(b *testing.B) {
	t := testing.TB(b)
	seal := sealBinary(t)
	dir := t.TempDir()
	newKeys, newID := keyringFile(t, dir, "new.keys")
	oldID, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	ids := filepath.Join(dir, "admin.key")
	// The administrator's identity file holds both keys: the old one opens
	// the values, the new one lets the second run check that a value is
	// sealed to it.
	if err := os.WriteFile(ids, []byte(oldID.String()+"\n"+newID.String()+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	master := filepath.Join(dir, "master")
	if _, err := repofixture.WriteSealedRepo(master, *cliObjects, cliValues, "shop", []*crypto.Recipient{oldID.Recipient()}); err != nil {
		t.Fatal(err)
	}
	var rounds [][2]run
	for i := range *cliRounds {
		repo := filepath.Join(dir, fmt.Sprint("repo", i))
		if out, err := exec.Command("cp", "-r", master, repo).CombinedOutput(); err != nil {
			t.Fatalf("copying the repository: %v\n%s", err, out)
		}
		first, out := timed(t, "", seal, "reseal", "-i", ids, "--keys", newKeys, repo)
		if want := fmt.Sprintf("resealed %d values in %d objects, %d files changed", *cliObjects*cliValues, *cliObjects, *cliObjects); !bytes.HasPrefix(out, []byte(want)) {
			t.Fatalf("first reseal: %s, want %s…", out, want)
		}
		again, out := timed(t, "", seal, "reseal", "-i", ids, "--keys", newKeys, repo)
		if want := "resealed 0 values in 0 objects, 0 files changed"; !bytes.HasPrefix(out, []byte(want)) {
			t.Fatalf("second reseal: %s, want %s…", out, want)
		}
		rounds = append(rounds, [2]run{first, again})
		if err := os.RemoveAll(repo); err != nil {
			t.Fatal(err)
		}
	}
	fmt.Print(pairTable(fmt.Sprintf("seal reseal -i: %d SealedSecret files of %d values, old key -> new key, then again", *cliObjects, cliValues),
		"objects", *cliObjects, [2]string{"re-seal", "again"}, rounds))
}
