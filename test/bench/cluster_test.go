package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller/webhooks"
	"github.com/sealkit/sealkit/internal/ctrlproc"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// cluster is a control plane with seal-controller running as a process,
// serving its webhooks through the configurations of manifests/webhook, as
// installed (a URL on this machine in place of the Service), and seal.
type cluster struct {
	env     *testenv.Env
	admin   client.Client
	seal    string
	flags   []string // --kubeconfig and --controller-namespace
	metrics string   // the controller's /metrics address
	pprof   string   // the controller's /debug/pprof address
	proc    *ctrlproc.Process
	hook    string // https://127.0.0.1:PORT of the webhook server
}

// startCluster starts the control plane, installs the webhook
// configurations (as webhookSetup says), and starts the controller,
// waiting until it answers a verify.
func startCluster(t testing.TB, setup webhookSetup) *cluster {
	t.Helper()
	env := testenv.New(t, testenv.Options{})
	c := &cluster{env: env, admin: newClient(t, env.Config, 0, 0), seal: sealBinary(t)}
	mkNamespace(t, c.admin, controllerNS)
	hookPort, metricsPort, pprofPort := freePort(t), freePort(t), freePort(t)
	c.hook = "https://127.0.0.1:" + strconv.Itoa(hookPort)
	c.metrics = "127.0.0.1:" + strconv.Itoa(metricsPort)
	c.pprof = "127.0.0.1:" + strconv.Itoa(pprofPort)
	c.setWebhooks(t, setup)
	c.proc = ctrlproc.Start(t, env, controllerNS, nil, "--enable-webhooks=true",
		"--webhook-port="+strconv.Itoa(hookPort), "--webhook-host=127.0.0.1", "--webhook-cert-dir="+t.TempDir(),
		"--metrics-bind-address="+c.metrics, "--metrics-secure=false", "--pprof-bind-address="+c.pprof)
	c.flags = []string{"--kubeconfig", env.Kubeconfig, "--controller-namespace", controllerNS}
	dir := t.TempDir()
	keys := c.fetchKeys(t, dir)
	probe := filepath.Join(dir, "probe.yaml")
	writeFile(t, filepath.Join(dir, "probe-secret.yaml"), "apiVersion: v1\nkind: Secret\nmetadata: {name: probe, namespace: default}\nstringData: {a: b}\n")
	c.must(t, "--keys", keys, "-f", filepath.Join(dir, "probe-secret.yaml"), "-w", probe)
	deadline := time.Now().Add(2 * time.Minute)
	for c.run("verify", probe) != nil {
		if time.Now().After(deadline) {
			t.Fatal("seal-controller's webhook did not answer in 2 minutes")
		}
		time.Sleep(250 * time.Millisecond)
	}
	return c
}

// fetchKeys writes the cluster's public keyring to dir, once the
// controller has published it, and returns its path.
func (c *cluster) fetchKeys(t testing.TB, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "cluster.keys")
	deadline := time.Now().Add(2 * time.Minute)
	for c.run("keys", "fetch", "-w", path) != nil {
		if time.Now().After(deadline) {
			t.Fatal("no public keyring in 2 minutes")
		}
		time.Sleep(250 * time.Millisecond)
	}
	return path
}

// activeKey reads the active key of a keyring file.
func activeKey(t testing.TB, path string) *crypto.Recipient {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	kr, err := keyring.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range kr.Keys {
		if k.State == keyring.StateActive {
			return k.Recipient
		}
	}
	t.Fatalf("%s: no active key", path)
	return nil
}

// run runs seal with the cluster's flags after args, quietly.
func (c *cluster) run(args ...string) error {
	cmd := execSeal(c.seal, append(args, c.flags...)...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("seal %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return nil
}

// must runs seal, timed; a failure fails the benchmark.
func (c *cluster) must(t testing.TB, args ...string) (time.Duration, string) {
	t.Helper()
	start := time.Now()
	out, err := execSeal(c.seal, append(args, c.flags...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("seal %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return time.Since(start), string(out)
}

// kubectl runs the built kubectl as admin, timed.
func (c *cluster) kubectl(t testing.TB, args ...string) time.Duration {
	t.Helper()
	start := time.Now()
	if out, err := c.env.Kubectl(args...).CombinedOutput(); err != nil {
		t.Fatalf("kubectl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return time.Since(start)
}

// webhookSetup is which webhook configurations are installed.
type webhookSetup string

const (
	// webhooksShipped: manifests/webhook as it is.
	webhooksShipped webhookSetup = "shipped"
	// webhooksAlways: every create and update calls both webhooks, as
	// before they had matchConditions.
	webhooksAlways webhookSetup = "always"
	// webhooksNone: no webhook configuration at all.
	webhooksNone webhookSetup = "none"
)

// setWebhooks installs (or replaces, or removes) the webhook
// configurations; the controller injects their caBundle, at once at start,
// and within its repair period (a minute) after a replacement.
func (c *cluster) setWebhooks(t testing.TB, setup webhookSetup) {
	t.Helper()
	ctx := context.Background()
	v, m := testenv.ShippedWebhooks(t)
	// Keep the caBundle the controller injected, if any.
	var curV admissionv1.ValidatingWebhookConfiguration
	var curM admissionv1.MutatingWebhookConfiguration
	_ = c.admin.Get(ctx, client.ObjectKey{Name: v.Name}, &curV)
	_ = c.admin.Get(ctx, client.ObjectKey{Name: m.Name}, &curM)
	var ca []byte
	if len(curV.Webhooks) > 0 {
		ca = curV.Webhooks[0].ClientConfig.CABundle
	}
	_ = c.admin.Delete(ctx, &curV)
	_ = c.admin.Delete(ctx, &curM)
	if setup == webhooksNone {
		return
	}
	if setup == webhooksAlways {
		v.Webhooks = v.Webhooks[:1]
		v.Webhooks[0].MatchConditions = nil
		m.Webhooks[0].MatchConditions = nil
	}
	for i := range v.Webhooks {
		v.Webhooks[i].ClientConfig = admissionv1.WebhookClientConfig{URL: ptr(c.hook + webhooks.ValidatePath), CABundle: ca}
	}
	for i := range m.Webhooks {
		m.Webhooks[i].ClientConfig = admissionv1.WebhookClientConfig{URL: ptr(c.hook + webhooks.MutatePath), CABundle: ca}
	}
	if err := c.admin.Create(ctx, v); err != nil {
		t.Fatal(err)
	}
	if err := c.admin.Create(ctx, m); err != nil {
		t.Fatal(err)
	}
}

func ptr[T any](v T) *T { return &v }

// freePort is a TCP port on 127.0.0.1 that nobody listens on.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = l.Close() }()
	return l.Addr().(*net.TCPAddr).Port
}

// byKey reads the controller's sealkit_sealedsecrets_by_key gauge: how
// many SealedSecrets each key opened.
func (c *cluster) byKey(t testing.TB) map[string]int {
	t.Helper()
	resp, err := http.Get("http://" + c.metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = resp.Body.Close() }()
	out := map[string]int{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		rest, ok := strings.CutPrefix(sc.Text(), `sealkit_sealedsecrets_by_key{key_id="`)
		if !ok {
			continue
		}
		id, value, ok := strings.Cut(rest, `"} `)
		if n, err := strconv.ParseFloat(value, 64); ok && err == nil {
			out[id] = int(n)
		}
	}
	return out
}

// waitKeys waits until the controller reports n SealedSecrets opened by
// key want and none by key gone.
func (c *cluster) waitKeys(t testing.TB, want, gone crypto.KeyID, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-c.proc.Exited():
			t.Fatal("controller exited (see its log)")
		default:
		}
		by := c.byKey(t)
		if by[string(want)] >= n && by[string(gone)] == 0 {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("after 10 minutes the controller still reports %v", c.byKey(t))
}

// namespace creates a namespace with labels.
func (c *cluster) namespace(t testing.TB, name string, labels map[string]string) {
	t.Helper()
	if err := c.admin.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}}); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// cpuTimes is the CPU time used so far by this process, each of its
// children (the control plane, the controller) and its children that have
// ended (seal, kubectl), by name.
func cpuTimes(t testing.TB) map[string]time.Duration {
	t.Helper()
	out := map[string]time.Duration{}
	self := os.Getpid()
	tick := 100.0 // USER_HZ
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ... utime(14) stime(15) cutime(16) cstime(17)
		s := string(b)
		open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
		if open < 0 || end < 0 {
			continue
		}
		comm, f := s[open+1:end], strings.Fields(s[end+2:])
		if len(f) < 15 {
			continue
		}
		ppid, _ := strconv.Atoi(f[1])
		if pid != self && ppid != self {
			continue
		}
		ticks := func(i int) float64 { v, _ := strconv.ParseFloat(f[i], 64); return v }
		if pid == self {
			out["bench (+ ended children)"] = time.Duration((ticks(11) + ticks(12) + ticks(13) + ticks(14)) / tick * float64(time.Second))
			continue
		}
		out[comm] += time.Duration((ticks(11) + ticks(12)) / tick * float64(time.Second))
	}
	return out
}

// cpuDelta describes the CPU time each process used between two cpuTimes.
func cpuDelta(before, after map[string]time.Duration, n int) string {
	var parts []string
	for _, name := range sortedKeys(after) {
		d := after[name] - before[name]
		if d > 0 {
			parts = append(parts, fmt.Sprintf("%s %s (%.2f ms/object)", name, d.Round(10*time.Millisecond), float64(d.Microseconds())/1000/float64(n)))
		}
	}
	return strings.Join(parts, ", ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// profileSeconds is how long profile samples.
const profileSeconds = 8

// profile saves CPU profiles of kube-apiserver and seal-controller, taken
// over the next profileSeconds, in dir; the channel closes when both are
// saved.
func (c *cluster) profile(t testing.TB, dir string) chan struct{} {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	cs, err := kubernetes.NewForConfig(c.env.Config)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		b, err := cs.RESTClient().Get().AbsPath("/debug/pprof/profile").Param("seconds", strconv.Itoa(profileSeconds)).
			Timeout(time.Minute).DoRaw(context.Background())
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "kube-apiserver.prof"), b, 0o644)
		}
		if err != nil {
			t.Logf("kube-apiserver profile: %v", err)
		}
	})
	wg.Go(func() {
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", c.pprof, profileSeconds))
		if err == nil {
			defer func() { _ = resp.Body.Close() }()
			var b []byte
			if b, err = io.ReadAll(resp.Body); err == nil {
				err = os.WriteFile(filepath.Join(dir, "seal-controller.prof"), b, 0o644)
			}
		}
		if err != nil {
			t.Logf("seal-controller profile: %v", err)
		}
	})
	go func() { wg.Wait(); close(done) }()
	return done
}
