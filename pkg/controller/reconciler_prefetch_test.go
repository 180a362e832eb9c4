package controller

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
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
	ctx := context.Background()
	ns, cns := env.Namespace(t), env.Namespace(t)
	const n = prefetchPage + 50 // two pages
	c := startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
	c.stop()
	for i := range n {
		create(t, env, c.sealedSecret(t, ns, fmt.Sprintf("s%03d", i), map[string]string{"v": strconv.Itoa(i)}, v1alpha1.SecretTemplate{}))
	}
	before := sealedSecretRequests(t, env)

	startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
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

	after := sealedSecretRequests(t, env)
	gets, lists := after["GET"]-before["GET"], after["LIST"]-before["LIST"]
	t.Logf("starting on %d SealedSecrets: %d GET, %d LIST", n, gets, lists)
	// A worker that finds the pages held drained before the next one
	// arrives reads its object alone; most must come from the pages.
	if gets > n/4 {
		t.Errorf("%d GETs of single SealedSecrets for %d objects: the start does not read in pages", gets, n)
	}
	if lists == 0 {
		t.Error("no LIST of SealedSecrets")
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
