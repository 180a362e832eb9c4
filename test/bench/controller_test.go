// Package bench measures seal-controller against a plain client on a real
// API server. It is a benchmark, so `make test` neither runs nor counts it:
// run `make bench-controller`
// (go test ./test/bench -run '^$' -bench BenchmarkController -benchtime 1x).
// One iteration is one full run per size; b.N is not used.
package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/controller/reconciler"
	"github.com/sealkit/sealkit/internal/ctrlproc"
	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

var (
	sizes       = flag.String("bench-n", "1000,10000", "comma-separated numbers of SealedSecrets")
	rounds      = flag.Int("bench-rounds", 3, "rounds per size (the table gives each and the median ratio)")
	unrelated   = flag.Int("bench-unrelated", 10000, "unrelated 4 KiB Secrets present")
	out         = flag.String("bench-out", "", "also write the table to this file")
	pprofListen = flag.String("bench-pprof", "127.0.0.1:18081", "with -bench-metrics: the controller's pprof address; a heap profile is saved in the temporary directory when done")
	metrics     = flag.String("bench-metrics", "", "serve the controller's /metrics on this address and log its request and workqueue counters when done")
)

const (
	controllerNS = "sealkit-system"
	qps          = controller.DefaultQPS
	burst        = controller.DefaultBurst
	workers      = reconciler.DefaultConcurrency
)

type result struct {
	n, round          int
	ctrlDur, plainDur time.Duration
	rssKiB            int
}

func BenchmarkController(b *testing.B) {
	t := testing.TB(b)
	// The clients log through controller-runtime, which prints a stack trace
	// into the results after 30 s if no logger was ever set.
	log.SetLogger(logr.Discard())
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	admin := newClient(t, env.Config, 0, 0)
	mkNamespace(t, admin, controllerNS)
	id := ctrlproc.CreateKey(t, admin, controllerNS)

	mkNamespace(t, admin, "unrelated")
	start := time.Now()
	parallelOrPanic(*unrelated, 16, func(i int) error {
		v := make([]byte, 4096)
		_, _ = rand.Read(v)
		return admin.Create(ctx, &corev1.Secret{
			ObjectMeta: metav1.ObjectMeta{Namespace: "unrelated", Name: fmt.Sprintf("helm-%05d", i)},
			Data:       map[string][]byte{"release": v},
		})
	})
	t.Logf("created %d unrelated 4 KiB Secrets in %s", *unrelated, time.Since(start).Round(time.Millisecond))

	var results []result
	for _, f := range strings.Split(*sizes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil {
			t.Fatal(err)
		}
		for r := 1; r <= *rounds; r++ {
			results = append(results, runOne(t, env, admin, id, n, r))
		}
	}
	table := format(results)
	fmt.Print(table)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runOne is one round for n: n fresh SealedSecrets, the controller, then
// the plain client; at the end the round's objects are deleted, so that the
// next round's controller starts on its own n objects only.
func runOne(t testing.TB, env *testenv.Env, admin client.Client, id *crypto.Identity, n, round int) result {
	ctx := context.Background()
	ns, plainNS := fmt.Sprintf("bench-%d-%d", n, round), fmt.Sprintf("plain-%d-%d", n, round)
	mkNamespace(t, admin, ns)
	mkNamespace(t, admin, plainNS)
	start := time.Now()
	parallelOrPanic(n, 16, func(i int) error {
		ss, err := sealedSecret(ns, fmt.Sprintf("s-%05d", i), id)
		if err != nil {
			return err
		}
		return admin.Create(ctx, ss)
	})
	t.Logf("N=%d: created SealedSecrets in %s", n, time.Since(start).Round(time.Millisecond))

	// The controller: a separate process, as in a cluster.
	metricsAddr, pprofAddr := "0", "0"
	if *metrics != "" {
		metricsAddr, pprofAddr = *metrics, *pprofListen
	}
	start = time.Now()
	p := ctrlproc.Start(t, env, controllerNS, nil, "--metrics-secure=false",
		"--metrics-bind-address="+metricsAddr, "--pprof-bind-address="+pprofAddr,
		fmt.Sprintf("--kube-api-qps=%d", qps), fmt.Sprintf("--kube-api-burst=%d", burst), fmt.Sprintf("--concurrency=%d", workers))
	t.Logf("N=%d: controller log in %s", n, p.LogPath)
	waitDone(t, admin, env.Config, ns, n, p.Exited())
	r := result{n: n, round: round, ctrlDur: time.Since(start), rssKiB: int(p.PeakRSS(t) >> 10)}
	if *metrics != "" {
		time.Sleep(2 * time.Second) // let asynchronous writes (events) finish
		logMetrics(t, *metrics)
		saveHeapProfile(t, *pprofListen, filepath.Join(os.TempDir(), fmt.Sprintf("seal-controller-heap-%d-%d.pprof", n, round)))
	}
	p.Kill()

	// The plain client: the same writes (N Secrets, N status patches), same
	// QPS, burst and concurrency.
	plain := newClient(t, env.Config, qps, burst)
	keyID := string(id.KeyID())
	start = time.Now()
	parallelOrPanic(n, workers, func(i int) error {
		name := fmt.Sprintf("s-%05d", i)
		data := map[string][]byte{}
		for k := range 5 {
			v := make([]byte, 32)
			_, _ = rand.Read(v)
			data[fmt.Sprintf("key-%d", k)] = v
		}
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: plainNS, Name: name,
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByController}}, Data: data}
		if err := plain.Create(ctx, s); err != nil {
			return err
		}
		// The status the controller writes, to the byte: so that a later
		// controller run finds these SealedSecrets current and does not
		// pay for rewriting what the plain client wrote.
		patch := fmt.Sprintf(`{"status":{"conditions":[{"type":"Ready","status":"True","observedGeneration":1,"reason":"Unsealed","message":"Secret %s holds 5 values opened with key(s) %s","lastTransitionTime":%q}],"observedGeneration":1,"keyIDs":[%q]}}`,
			name, keyID, time.Now().UTC().Format(time.RFC3339), keyID)
		ss := &v1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}}
		return plain.Status().Patch(ctx, ss, client.RawPatch("application/merge-patch+json", []byte(patch)))
	})
	r.plainDur = time.Since(start)
	t.Logf("N=%d round %d: controller %s, plain client %s, peak RSS %d KiB", n, round, r.ctrlDur, r.plainDur, r.rssKiB)
	for _, c := range []struct {
		obj client.Object
		ns  string
	}{{&v1alpha1.SealedSecret{}, ns}, {&corev1.Secret{}, ns}, {&v1alpha1.SealedSecret{}, plainNS}, {&corev1.Secret{}, plainNS}} {
		if err := admin.DeleteAllOf(ctx, c.obj, client.InNamespace(c.ns)); err != nil {
			t.Fatal(err)
		}
	}
	return r
}

// waitDone waits until n Secrets exist in ns and n SealedSecrets are Ready.
// The poll must not load the API server it measures: Secrets are counted
// with a one-item metadata list (its remainingItemCount), and SealedSecrets
// are listed as a table (name and Ready columns, not 13 KB objects) only
// once every Secret exists.
func waitDone(t testing.TB, c client.Client, cfg *rest.Config, ns string, n int, exited <-chan struct{}) {
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Minute)
	ctx := context.Background()
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatal("controller exited (see its log)")
		default:
		}
		var secrets metav1.PartialObjectMetadataList
		secrets.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("SecretList"))
		if err := c.List(ctx, &secrets, client.InNamespace(ns), client.Limit(1)); err != nil {
			t.Fatal(err)
		}
		count := len(secrets.Items)
		if secrets.RemainingItemCount != nil {
			count += int(*secrets.RemainingItemCount)
		} else if secrets.Continue != "" { // no count given: list them all
			if err := c.List(ctx, &secrets, client.InNamespace(ns)); err != nil {
				t.Fatal(err)
			}
			count = len(secrets.Items)
		}
		if count >= n && ctrlproc.ReadyCount(t, cs.RESTClient(), ns) >= n {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("controller did not finish in 30 minutes")
}

// logMetrics logs the controller's API requests and workqueue counters: the
// calls it spent per object.
func logMetrics(t testing.TB, addr string) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Logf("metrics: %v", err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		for _, p := range []string{"rest_client_requests_total", "rest_client_rate_limiter_duration_seconds_sum", "rest_client_request_duration_seconds_sum", "rest_client_request_duration_seconds_count", "controller_runtime_reconcile_time_seconds_sum", "workqueue_adds_total", "sealkit_", "go_memstats_heap_inuse", "process_resident", "process_cpu_seconds_total", "go_gc_duration_seconds_count", "go_memstats_alloc_bytes_total"} {
			if strings.HasPrefix(l, p) {
				t.Log(l)
			}
		}
	}
}

func saveHeapProfile(t testing.TB, addr, file string) {
	resp, err := http.Get("http://" + addr + "/debug/pprof/heap?gc=1")
	if err != nil {
		t.Logf("heap profile: %v", err)
		return
	}
	defer func() { _ = resp.Body.Close() }()
	b, err := io.ReadAll(resp.Body)
	if err == nil {
		err = os.WriteFile(file, b, 0o644)
	}
	if err != nil {
		t.Logf("heap profile: %v", err)
		return
	}
	t.Logf("heap profile (after a GC) in %s", file)
}

func sealedSecret(ns, name string, id *crypto.Identity) (*v1alpha1.SealedSecret, error) {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, Data: map[string][]byte{}}
	for k := range 5 {
		v := make([]byte, 32)
		_, _ = rand.Read(v)
		s.Data[fmt.Sprintf("key-%d", k)] = v
	}
	return sealed.Seal(s, sealed.SealOptions{Scope: crypto.ScopeStrict, Recipients: []*crypto.Recipient{id.Recipient()}})
}

func newClient(t testing.TB, cfg *rest.Config, qps float32, burst int) client.Client {
	cfg = rest.CopyConfig(cfg)
	if qps == 0 {
		qps, burst = 1000, 2000 // setup traffic, not measured
	}
	cfg.QPS, cfg.Burst = qps, burst
	return testenv.NewClient(t, cfg)
}

func mkNamespace(t testing.TB, c client.Client, name string) {
	if err := c.Create(context.Background(), &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}); err != nil {
		t.Fatal(err)
	}
}

// parallelOrPanic runs f(0..n-1) on w workers and panics on the first
// error (the benchmark is meaningless past one).
func parallelOrPanic(n, w int, f func(i int) error) {
	if err := parallel.Each(n, w, f); err != nil {
		panic(err)
	}
}

func format(rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-7s %-6s %-14s %-11s %-14s %-12s %-6s %s\n", "N", "round", "controller", "ctrl obj/s", "plain client", "plain obj/s", "ratio", "peak RSS")
	for i, r := range rs {
		fmt.Fprintf(&b, "%-7d %-6d %-14s %-11.0f %-14s %-12.0f %-6.2f %.1f MiB\n", r.n, r.round, r.ctrlDur.Round(time.Millisecond), r.rate(r.ctrlDur),
			r.plainDur.Round(time.Millisecond), r.rate(r.plainDur), r.ratio(), float64(r.rssKiB)/1024)
		if i+1 == len(rs) || rs[i+1].n != r.n {
			var ratios []float64
			peak := 0
			for _, o := range rs {
				if o.n == r.n {
					ratios = append(ratios, o.ratio())
					peak = max(peak, o.rssKiB)
				}
			}
			slices.Sort(ratios)
			fmt.Fprintf(&b, "%-7d median ratio %.2f over %d rounds (lowest %.2f), highest peak RSS %.1f MiB\n",
				r.n, ratios[len(ratios)/2], len(ratios), ratios[0], float64(peak)/1024)
		}
	}
	return b.String()
}

func (r result) rate(d time.Duration) float64 { return float64(r.n) / d.Seconds() }

// ratio is the controller's rate over the plain client's.
func (r result) ratio() float64 { return r.rate(r.ctrlDur) / r.rate(r.plainDur) }
