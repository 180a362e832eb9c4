package reconciler

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// TestStartReadsInPages starts a controller on SealedSecrets made while none
// ran: it reads them in pages (LIST) rather than one GET each, and every one
// still gets its Secret. The API server's own request counter tells; the
// server is this test's alone.
func TestStartReadsInPages(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ns, cns := env.Namespace(t), env.Namespace(t)
	const n = prefetchPage + 50 // two pages
	sealWhileStopped(t, env, ns, cns, n)
	before := sealedSecretRequests(t, env)

	startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
	waitAllUnsealed(t, env, ns, n)

	after := sealedSecretRequests(t, env)
	gets, lists := after["GET"]-before["GET"], after["LIST"]-before["LIST"]
	t.Logf("starting on %d SealedSecrets: %d GET, %d LIST", n, gets, lists)
	// Every object known at start comes from a page. A few GETs are
	// designed, not a fault: the informer's own request for an object can
	// be in a worker just as its page arrives; that worker takes the
	// prefetched copy, and the page's request, queued while the object was
	// in work, runs once more and reads it with a GET (a prefetched copy is
	// taken once). Without pages every object costs a GET.
	if gets > n/10 {
		t.Errorf("%d GETs of single SealedSecrets for %d objects: the start does not read in pages", gets, n)
	}
	if lists == 0 {
		t.Error("no LIST of SealedSecrets")
	}
}

// TestStartPrefetchFails: when listing a page fails, the objects whose
// reconciles waited for it are reconciled all the same, read one by one.
func TestStartPrefetchFails(t *testing.T) {
	env := testenv.Shared(t)
	ns, cns := env.Namespace(t), env.Namespace(t)
	const n = prefetchPage + 50
	sealWhileStopped(t, env, ns, cns, n)
	startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}, prefetchReader: func(r client.Reader) client.Reader {
		return &failingLists{Reader: r, ok: 1}
	}})
	waitAllUnsealed(t, env, ns, n)
}

// failingLists fails every List after the first ok ones.
type failingLists struct {
	client.Reader
	ok    int
	calls atomic.Int32
}

func (f *failingLists) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if int(f.calls.Add(1)) > f.ok {
		return errors.New("injected list failure")
	}
	return f.Reader.List(ctx, list, opts...)
}

// sealWhileStopped starts a controller for its key, stops it and creates n
// SealedSecrets s000… whose value v is their number.
func sealWhileStopped(t *testing.T, env *testenv.Env, ns, cns string, n int) {
	t.Helper()
	c := startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
	c.stop()
	for i := range n {
		create(t, env, c.sealedSecret(t, ns, fmt.Sprintf("s%03d", i), map[string]string{"v": strconv.Itoa(i)}, v1alpha1.SecretTemplate{}))
	}
}

// waitAllUnsealed waits for n Ready SealedSecrets in ns and checks their
// Secrets' values.
func waitAllUnsealed(t *testing.T, env *testenv.Env, ns string, n int) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, "every SealedSecret Ready", func() bool {
		var list v1alpha1.SealedSecretList
		if err := env.Client.List(ctx, &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		ready := 0
		for _, ss := range list.Items {
			if meta.IsStatusConditionTrue(ss.Status.Conditions, v1alpha1.ConditionReady) {
				ready++
			}
		}
		return ready == n
	})
	var secrets corev1.SecretList
	if err := env.Client.List(ctx, &secrets, client.InNamespace(ns)); err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets.Items {
		i, err := strconv.Atoi(strings.TrimPrefix(s.Name, "s"))
		if err != nil || string(s.Data["v"]) != strconv.Itoa(i) {
			t.Errorf("Secret %s holds v=%q", s.Name, s.Data["v"])
		}
	}
	if len(secrets.Items) != n {
		t.Errorf("%d Secrets, want %d", len(secrets.Items), n)
	}
}

// sealedSecretRequests returns the API server's count of requests for
// SealedSecrets (not their status), by verb.
func sealedSecretRequests(t *testing.T, env *testenv.Env) map[string]int {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := cs.RESTClient().Get().AbsPath("/metrics").DoRaw(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		l := sc.Text()
		if !strings.HasPrefix(l, "apiserver_request_total{") || !strings.Contains(l, `resource="sealedsecrets"`) || !strings.Contains(l, `subresource=""`) {
			continue
		}
		i := strings.Index(l, `verb="`)
		sp := strings.LastIndexByte(l, ' ')
		if i < 0 || sp < 0 {
			t.Fatalf("unexpected metric line %q", l)
		}
		verb := l[i+len(`verb="`):]
		verb = verb[:strings.IndexByte(verb, '"')]
		v, err := strconv.ParseFloat(l[sp+1:], 64)
		if err != nil {
			t.Fatalf("metric line %q: %v", l, err)
		}
		counts[verb] += int(v)
	}
	return counts
}
