package faults

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// Scenario 8: webhooks under load. Many `seal verify` processes at once
// (500 at full size) dry-run SealedSecrets through the API server, which
// calls the controller's validating webhook for each: every one must be
// checked (the webhook fails open, so an overloaded webhook shows as
// UNCHECKED, exit 2), the API server's admission latency and the
// controller's memory must stay bounded.
func TestWebhooksUnderLoad(t *testing.T) {
	n := 50
	if *full {
		n = 500
	}
	w := newWorld(t)
	w.settle(sizes().settled)
	port := freePort(t)
	installWebhooks(t, w, port)
	w.run(1, "--enable-webhooks=true", "--webhook-port="+strconv.Itoa(port), "--webhook-host=127.0.0.1",
		"--webhook-cert-dir="+t.TempDir())
	seal := buildSeal(t)

	// One file per process, each a SealedSecret of its own, sealed to the
	// published keyring (the controller publishes it when it starts).
	testenv.Eventually(t, "the keyring published", func() bool {
		var cm corev1.ConfigMap
		return w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ctrlNS, Name: "sealkit-keyring"}, &cm) == nil
	})
	dir := t.TempDir()
	recipients := w.recipients()
	for i := range n {
		name := fmt.Sprintf("verify-%04d", i)
		ss := w.seal(recipients, name, w.values(name), nil)
		w.ledger.Forget(name) // dry-runs: nothing is stored, nothing expected
		ss.APIVersion, ss.Kind = v1alpha1.GroupVersion.String(), "SealedSecret"
		b, err := yaml.Marshal(ss)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".yaml"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	verify := func(file string) (string, error) {
		cmd := exec.Command(seal, "verify", "--kubeconfig", w.env.Kubeconfig, "--controller-namespace", w.ctrlNS, file)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	// The webhook serves once its certificate is issued and injected.
	testenv.EventuallyWithin(t, 2*time.Minute, "the webhook verifying", func() bool {
		out, err := verify(filepath.Join(dir, "verify-0000.yaml"))
		return err == nil && strings.HasPrefix(out, "ok ")
	})

	countBefore, sumBefore := admissionLatency(t, w)
	bucketsBefore := admissionBuckets(t, w)
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failures []string
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := verify(filepath.Join(dir, fmt.Sprintf("verify-%04d.yaml", i)))
			if err != nil || !strings.HasPrefix(out, "ok ") {
				mu.Lock()
				failures = append(failures, fmt.Sprintf("%v: %s", err, strings.TrimSpace(out)))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	for i, f := range failures {
		if i < 5 {
			t.Errorf("seal verify: %s", f)
		}
	}
	if len(failures) > 0 {
		t.Errorf("%d of %d concurrent seal verify runs were not checked", len(failures), n)
	}
	count, sum := admissionLatency(t, w)
	calls := count - countBefore
	if calls < float64(n) {
		t.Fatalf("the API server called the webhook %.0f times for %d dry-runs", calls, n)
	}
	mean := time.Duration((sum - sumBefore) / calls * float64(time.Second))
	// The smallest histogram bucket that holds every call of this run:
	// an upper bound of the slowest.
	bound := "over the largest bucket"
	after := admissionBuckets(t, w)
	for _, le := range slices.Sorted(maps.Keys(after)) {
		if after[le]-bucketsBefore[le] >= calls {
			bound = fmt.Sprintf("%g s", le)
			break
		}
	}
	rss := w.live(0).PeakRSS(t)
	finish(w, "8 webhooks under load", fmt.Sprintf("%d concurrent seal verify processes (server-side dry-runs through the validating webhook)", n), elapsed,
		fmt.Sprintf("all %d checked; admission webhook latency mean %s, every call under %s; controller peak RSS %d MiB", n-len(failures), mean.Round(time.Millisecond), bound, rss>>20))
}

// verifyWebhook is the validating webhook the API server calls for
// dry-runs (manifests/webhook), which seal verify makes.
const verifyWebhook = `name="verify.sealedsecrets.sealkit.dev"`

// admissionLatency returns the count and sum (seconds) of the API server's
// admission webhook latency histogram for the validating webhook that
// answers dry-runs.
func admissionLatency(t *testing.T, w *world) (count, sum float64) {
	t.Helper()
	return apiserverMetric(t, w, "apiserver_admission_webhook_admission_duration_seconds_count", verifyWebhook),
		apiserverMetric(t, w, "apiserver_admission_webhook_admission_duration_seconds_sum", verifyWebhook)
}

// admissionBuckets returns the validating webhook's latency histogram:
// cumulative counts by upper bound in seconds.
func admissionBuckets(t *testing.T, w *world) map[float64]float64 {
	t.Helper()
	out := map[float64]float64{}
	for _, le := range []string{"0.005", "0.025", "0.1", "0.5", "1", "2.5", "10", "25"} {
		v, err := strconv.ParseFloat(le, 64)
		if err != nil {
			t.Fatal(err)
		}
		out[v] = apiserverMetric(t, w, "apiserver_admission_webhook_admission_duration_seconds_bucket",
			verifyWebhook, `le="`+le+`"`)
	}
	return out
}

// installWebhooks installs manifests/webhook pointing at the controller
// process on 127.0.0.1:port, for the world's namespace only; the controller
// injects the CA bundle.
func installWebhooks(t *testing.T, w *world, port int) {
	t.Helper()
	sel := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: corev1.LabelMetadataName, Operator: metav1.LabelSelectorOpIn, Values: []string{w.appNS}}}}
	url := func(cc *admissionregistrationv1.WebhookClientConfig) {
		u := fmt.Sprintf("https://127.0.0.1:%d%s", port, ptr.Deref(cc.Service.Path, "/"))
		cc.Service, cc.URL = nil, &u
	}
	v, m := testenv.ShippedWebhooks(t)
	for i := range v.Webhooks {
		url(&v.Webhooks[i].ClientConfig)
		v.Webhooks[i].NamespaceSelector = sel
	}
	for i := range m.Webhooks {
		url(&m.Webhooks[i].ClientConfig)
		m.Webhooks[i].NamespaceSelector = sel
	}
	for _, o := range []client.Object{v, m} {
		if err := w.c.Create(context.Background(), o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.c.Delete(context.Background(), o) })
	}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = ln.Close() }()
	return ln.Addr().(*net.TCPAddr).Port
}

// buildSeal builds the seal CLI for the test.
func buildSeal(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "seal")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/seal")
	cmd.Dir = root
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("building seal: %v\n%s", err, out.String())
	}
	return bin
}
