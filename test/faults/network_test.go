package faults

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	flowcontrolv1 "k8s.io/api/flowcontrol/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/faultproxy"
	"github.com/sealkit/sealkit/internal/testenv"
)

// viaProxy puts a fault proxy between the controller and the API server:
// the controller's kubeconfig names the proxy (the API server's
// certificate is for 127.0.0.1, whatever the port, so TLS still verifies).
func (w *world) viaProxy() *faultproxy.Proxy {
	w.t.Helper()
	u, err := url.Parse(w.env.Config.Host)
	if err != nil {
		w.t.Fatal(err)
	}
	p, err := faultproxy.New(u.Host, 0)
	if err != nil {
		w.t.Fatal(err)
	}
	w.t.Cleanup(func() { _ = p.Close() })
	cfg, err := clientcmd.LoadFromFile(w.kubeconfig)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, c := range cfg.Clusters {
		c.Server = "https://" + p.Addr()
	}
	path := filepath.Join(w.t.TempDir(), "proxied.kubeconfig")
	if err := clientcmd.WriteToFile(*cfg, path); err != nil {
		w.t.Fatal(err)
	}
	w.kubeconfig = path
	return p
}

// Scenario 6: a slow and flaky network between the controller and the API
// server: every chunk delayed 20-80 ms each way, and every connection cut
// after 0.5 to 3 s (watches, and requests in flight, included).
func TestSlowFlakyNetwork(t *testing.T) {
	w, _ := backlogWorld(t)
	proxy := w.viaProxy()
	proxy.Set(faultproxy.Faults{Latency: 20 * time.Millisecond, Jitter: 60 * time.Millisecond,
		CutAfterMin: 500 * time.Millisecond, CutAfterMax: 3 * time.Second})
	w.run(1)
	rec := w.waitReady(10 * time.Minute)
	st := proxy.Stats()
	proxy.Set(faultproxy.Faults{})
	if st.Cut == 0 {
		t.Fatal("the proxy cut no connection: nothing was injected")
	}
	finish(w, "6a slow, flaky network", fmt.Sprintf("20-80 ms latency each way, every connection cut after 0.5-3 s (%d cut)", st.Cut), rec,
		"time is the whole backlog, under the faults")
}

// apiserverMetric sums the samples of an API server metric whose line
// contains every one of match.
func apiserverMetric(t *testing.T, w *world, name string, match ...string) float64 {
	t.Helper()
	body, err := w.cs.RESTClient().Get().AbsPath("/metrics").Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = body.Close() }()
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
lines:
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(l, name+"{") && !strings.HasPrefix(l, name+" ") {
			continue
		}
		for _, m := range match {
			if !strings.Contains(l, m) {
				continue lines
			}
		}
		var v float64
		if _, err := fmt.Sscan(l[strings.LastIndexByte(l, ' ')+1:], &v); err == nil {
			sum += v
		}
	}
	return sum
}

// Scenario 6, throttling: API Priority and Fairness configured on the
// server to give the controller's requests a priority level of about three
// seats that rejects (429) what does not fit, the controller running as
// its ServiceAccount with the RBAC of manifests/ (system:masters would be
// exempt from APF).
func TestThrottledByPriorityAndFairness(t *testing.T) {
	env := testenv.Shared(t)
	ctrltest.ApplyManifests(t, env)
	_, kubeconfig := env.User(ctrltest.User, "system:serviceaccounts", "system:serviceaccounts:"+ctrltest.Namespace)
	sz := sizes()
	w := newWorldAs(t, ctrltest.Namespace, kubeconfig)
	// Client limits far above what the priority level admits: the server,
	// not the client, is what throttles.
	w.args = []string{"--kube-api-qps=1000", "--kube-api-burst=2000"}
	w.settle(sz.settled)
	w.createSealed("backlog", sz.backlog)

	ctx := context.Background()
	const name = "sealkit-faults-throttle"
	plc := &flowcontrolv1.PriorityLevelConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: flowcontrolv1.PriorityLevelConfigurationSpec{Type: flowcontrolv1.PriorityLevelEnablementLimited,
			Limited: &flowcontrolv1.LimitedPriorityLevelConfiguration{
				NominalConcurrencyShares: ptr.To[int32](1), LendablePercent: ptr.To[int32](0), BorrowingLimitPercent: ptr.To[int32](0),
				LimitResponse: flowcontrolv1.LimitResponse{Type: flowcontrolv1.LimitResponseTypeReject}}}}
	fs := &flowcontrolv1.FlowSchema{ObjectMeta: metav1.ObjectMeta{Name: name},
		Spec: flowcontrolv1.FlowSchemaSpec{
			PriorityLevelConfiguration: flowcontrolv1.PriorityLevelConfigurationReference{Name: name},
			MatchingPrecedence:         500,
			DistinguisherMethod:        &flowcontrolv1.FlowDistinguisherMethod{Type: flowcontrolv1.FlowDistinguisherMethodByUserType},
			Rules: []flowcontrolv1.PolicyRulesWithSubjects{{
				Subjects: []flowcontrolv1.Subject{{Kind: flowcontrolv1.SubjectKindUser, User: &flowcontrolv1.UserSubject{Name: ctrltest.User}}},
				ResourceRules: []flowcontrolv1.ResourcePolicyRule{{Verbs: []string{"*"}, APIGroups: []string{"*"}, Resources: []string{"*"},
					ClusterScope: true, Namespaces: []string{"*"}}},
				NonResourceRules: []flowcontrolv1.NonResourcePolicyRule{{Verbs: []string{"*"}, NonResourceURLs: []string{"*"}}},
			}},
		}}
	for _, o := range []client.Object{plc, fs} {
		if err := w.c.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = w.c.Delete(context.Background(), o) })
	}
	testenv.Eventually(t, "the FlowSchema in use", func() bool {
		var got flowcontrolv1.FlowSchema
		if err := w.c.Get(ctx, client.ObjectKeyFromObject(fs), &got); err != nil {
			return false
		}
		for _, c := range got.Status.Conditions {
			if c.Type == flowcontrolv1.FlowSchemaConditionDangling && c.Status == flowcontrolv1.ConditionFalse {
				return true
			}
		}
		return false
	})

	rejected := func() float64 {
		return apiserverMetric(t, w, "apiserver_flowcontrol_rejected_requests_total", `flow_schema="`+name+`"`)
	}
	before := rejected()
	w.run(1)
	rec := w.waitReady(10 * time.Minute)
	n := rejected() - before
	if n == 0 {
		t.Fatal("API Priority and Fairness rejected none of the controller's requests: nothing was injected")
	}
	finish(w, "6b APF throttling (429)", fmt.Sprintf("controller's requests in a priority level of ~3 seats that rejects the rest: %.0f requests rejected with 429", n), rec,
		"time is the whole backlog, under throttling")
}
