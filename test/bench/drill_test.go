package bench

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/repofixture"
	"github.com/sealkit/sealkit/pkg/crypto"
)

var (
	drillN     = flag.Int("drill-n", 1000, "SealedSecret files in the repository of BenchmarkDrill and BenchmarkApply")
	drillApply = flag.String("drill-apply", "server", "how the drill applies the repository: kubectl apply --server-side (server, as Flux applies) or client-side (client)")
	applyRound = flag.Int("apply-rounds", 3, "rounds of BenchmarkApply (each applies the repository once per webhook setup)")
	resealConc = flag.String("reseal-concurrency", "1,4,16,32", "the --concurrency values BenchmarkResealOnline tries")
	profileDir = flag.String("reseal-profile", "", "BenchmarkResealOnline: save CPU profiles of kube-apiserver, seal-controller and seal (the last --concurrency) in this directory")
)

// drillNS is the namespace of the drill's repository.
const drillNS = "shop"

func execSeal(bin string, args ...string) *exec.Cmd { return exec.Command(bin, args...) }

// applyArgs are the kubectl arguments that apply dir, as -drill-apply says.
func applyArgs(dir string) []string {
	args := []string{"apply", "-R", "-f", dir}
	if *drillApply == "server" {
		args = append(args, "--server-side", "--force-conflicts")
	}
	return args
}

// step is one timed step of the drill.
type step struct {
	name string
	took time.Duration
}

// BenchmarkDrill is the compromised-key drill on a repository of -drill-n
// SealedSecret files of 5 values, all applied and unsealed, with
// seal-controller (a process) and its webhooks as shipped:
//
//  1. seal keys rotate --compromised OLD (the active key: a new one at once)
//  2. seal reseal REPO (online, through the re-seal webhook)
//  3. kubectl apply -R -f REPO
//  4. wait until the controller reports every SealedSecret opened by the
//     new key and none by the old one (sealkit_sealedsecrets_by_key)
//  5. seal keys retire OLD (which checks that nothing needs it any more)
//
// It prints each step's time and the total; `make drill` runs it.
func BenchmarkDrill(b *testing.B) {
	t := testing.TB(b)
	c := startCluster(t, webhooksShipped)
	c.namespace(t, drillNS, nil)
	dir := t.TempDir()
	old := activeKey(t, c.fetchKeys(t, dir))
	repo := filepath.Join(dir, "repo")
	start := time.Now()
	if _, err := repofixture.WriteSealedRepo(repo, *drillN, cliValues, drillNS, []*crypto.Recipient{old}); err != nil {
		t.Fatal(err)
	}
	t.Logf("sealed %d files in %s", *drillN, time.Since(start).Round(time.Millisecond))
	took := c.kubectl(t, applyArgs(repo)...)
	t.Logf("applied them in %s", took.Round(time.Millisecond))
	c.waitKeys(t, old.KeyID(), "", *drillN)
	load := loadAverage()

	var steps []step
	took, out := c.must(t, "keys", "rotate", "--compromised", string(old.KeyID()))
	steps = append(steps, step{"seal keys rotate --compromised", took})
	newKey := activeKey(t, c.fetchKeys(t, dir))
	if newKey.KeyID() == old.KeyID() {
		t.Fatalf("rotate: the active key is still %s\n%s", old.KeyID(), out)
	}
	cpu := cpuTimes(t)
	took, out = c.must(t, "reseal", repo)
	resealCPU := cpuDelta(cpu, cpuTimes(t), *drillN)
	if want := fmt.Sprintf("resealed %d values in %d objects, %d files changed", *drillN*cliValues, *drillN, *drillN); !strings.HasPrefix(out, want) {
		t.Fatalf("reseal: %s, want %s…", out, want)
	}
	steps = append(steps, step{"seal reseal (online)", took})
	steps = append(steps, step{"kubectl " + strings.Join(applyArgs("REPO"), " "), c.kubectl(t, applyArgs(repo)...)})
	start = time.Now()
	c.waitKeys(t, newKey.KeyID(), old.KeyID(), *drillN)
	steps = append(steps, step{"wait: no SealedSecret needs the old key", time.Since(start)})
	took, _ = c.must(t, "keys", "retire", string(old.KeyID()))
	steps = append(steps, step{"seal keys retire", took})

	var total time.Duration
	var tb strings.Builder
	fmt.Fprintf(&tb, "compromised-key drill, %d SealedSecret files of %d values (load average %s at the start)\n", *drillN, cliValues, load)
	for i, s := range steps {
		total += s.took
		fmt.Fprintf(&tb, "%d. %-45s %8s\n", i+1, s.name, s.took.Round(time.Millisecond))
	}
	fmt.Fprintf(&tb, "   %-45s %8s\n", "total", total.Round(time.Millisecond))
	fmt.Fprintf(&tb, "   seal reseal online: %.0f SealedSecrets/s; CPU time meanwhile: %s\n", float64(*drillN)/steps[1].took.Seconds(), resealCPU)
	fmt.Print(tb.String())
}

// BenchmarkApply re-applies a repository of -drill-n SealedSecret files,
// every value changed, with kubectl apply, under each webhook setup in
// turn (-apply-rounds rounds): no webhooks; as shipped (not called for a
// real write); as shipped in a namespace labelled to validate real writes;
// and both webhooks called for every write, as before matchConditions.
func BenchmarkApply(b *testing.B) {
	t := testing.TB(b)
	c := startCluster(t, webhooksShipped)
	dir := t.TempDir()
	key := activeKey(t, c.fetchKeys(t, dir))
	setups := []struct {
		name  string
		hooks webhookSetup
		ns    string
	}{
		{"no webhooks", webhooksNone, "plain"},
		{"as shipped (matchConditions)", webhooksShipped, "plain"},
		{"as shipped, namespace validated", webhooksShipped, "validated"},
		{"every write calls both", webhooksAlways, "plain"},
	}
	c.namespace(t, "plain", nil)
	c.namespace(t, "validated", map[string]string{"sealkit.dev/validate-on-apply": "true"})
	// The repository, applied once in each namespace.
	for _, ns := range []string{"plain", "validated"} {
		repo := filepath.Join(dir, ns)
		if _, err := repofixture.WriteSealedRepo(repo, *drillN, cliValues, ns, []*crypto.Recipient{key}); err != nil {
			t.Fatal(err)
		}
		c.kubectl(t, applyArgs(repo)...)
	}
	results := make([][]time.Duration, len(setups))
	var loads []string
	for range *applyRound {
		loads = append(loads, loadAverage())
		for i, s := range setups {
			c.setWebhooks(t, s.hooks)
			if s.hooks != webhooksNone {
				c.waitCABundle(t)
			}
			repo := filepath.Join(dir, s.ns)
			if err := os.RemoveAll(repo); err != nil {
				t.Fatal(err)
			}
			if _, err := repofixture.WriteSealedRepo(repo, *drillN, cliValues, s.ns, []*crypto.Recipient{key}); err != nil {
				t.Fatal(err)
			}
			results[i] = append(results[i], c.kubectl(t, applyArgs(repo)...))
		}
	}
	c.setWebhooks(t, webhooksShipped)
	var tb strings.Builder
	fmt.Fprintf(&tb, "kubectl %s of %d changed SealedSecrets (5 values), %d rounds (load average at each round's start: %s)\n",
		strings.Join(applyArgs("DIR"), " "), *drillN, *applyRound, strings.Join(loads, ", "))
	for i, s := range setups {
		var each []string
		for _, d := range results[i] {
			each = append(each, d.Round(time.Millisecond).String())
		}
		m := median(results[i])
		fmt.Fprintf(&tb, "%-34s median %8s (%4.0f objects/s); rounds: %s\n", s.name, m.Round(time.Millisecond), float64(*drillN)/m.Seconds(), strings.Join(each, ", "))
	}
	fmt.Print(tb.String())
}

// waitCABundle waits until the controller has injected its CA into the
// webhook configurations just installed (it repairs them within a minute;
// a verify succeeds once it has).
func (c *cluster) waitCABundle(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	probe := filepath.Join(dir, "probe.yaml")
	writeFile(t, filepath.Join(dir, "probe-secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata: {name: probe, namespace: default}\nstringData: {a: b}\n")
	c.must(t, "--keys", c.fetchKeys(t, dir), "-f", filepath.Join(dir, "probe-secret.yaml"), "-w", probe)
	deadline := time.Now().Add(3 * time.Minute)
	for c.run("verify", probe) != nil {
		if time.Now().After(deadline) {
			t.Fatal("the webhooks did not answer within 3 minutes of being installed")
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// BenchmarkResealOnline re-seals a repository of -drill-n SealedSecret
// files (applied, so every dry-run is an update) through the webhook with
// each --concurrency in -reseal-concurrency, on a fresh copy each time,
// and gives the CPU time each process used meanwhile.
func BenchmarkResealOnline(b *testing.B) {
	t := testing.TB(b)
	c := startCluster(t, webhooksShipped)
	c.namespace(t, drillNS, nil)
	dir := t.TempDir()
	key := activeKey(t, c.fetchKeys(t, dir))
	master := filepath.Join(dir, "master")
	if _, err := repofixture.WriteSealedRepo(master, *drillN, cliValues, drillNS, []*crypto.Recipient{key}); err != nil {
		t.Fatal(err)
	}
	c.kubectl(t, "apply", "--server-side", "-R", "-f", master)
	c.must(t, "keys", "rotate")
	var tb strings.Builder
	fmt.Fprintf(&tb, "seal reseal (online) of %d applied SealedSecrets of %d values\n", *drillN, cliValues)
	for _, conc := range strings.Split(*resealConc, ",") {
		repo := filepath.Join(dir, "repo-"+conc)
		if out, err := exec.Command("cp", "-r", master, repo).CombinedOutput(); err != nil {
			t.Fatalf("copying the repository: %v\n%s", err, out)
		}
		load, cpu := loadAverage(), cpuTimes(t)
		args := []string{"reseal", "--concurrency", conc, repo}
		var profiled chan struct{}
		if *profileDir != "" {
			profiled = c.profile(t, *profileDir)
			t.Setenv("SEAL_CPUPROFILE", filepath.Join(*profileDir, "seal.prof"))
		}
		took, out := c.must(t, args...)
		if profiled != nil {
			<-profiled
		}
		if want := fmt.Sprintf("resealed %d values", *drillN*cliValues); !strings.HasPrefix(out, want) {
			t.Fatalf("reseal: %s", out)
		}
		fmt.Fprintf(&tb, "--concurrency %-3s %8s %5.0f objects/s (load %s); CPU: %s\n", conc, took.Round(time.Millisecond),
			float64(*drillN)/took.Seconds(), load, cpuDelta(cpu, cpuTimes(t), *drillN))
	}
	fmt.Print(tb.String())
}
