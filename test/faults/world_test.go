package faults

import (
	"context"
	"fmt"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/audit"
	"github.com/sealkit/sealkit/internal/ctrlproc"
	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// world is one scenario's cluster state and what the test expects of it:
// a controller namespace with its keys, a tenant namespace of SealedSecrets
// whose plaintext the test knows, and bystander Secrets nobody may change.
type world struct {
	t      *testing.T
	env    *testenv.Env
	c      client.Client // admin, fast
	cs     *kubernetes.Clientset
	ctrlNS string
	appNS  string
	// canary starts every value sealed: no log may ever show it.
	canary string
	// kubeconfig and args are how the controller runs (see start).
	kubeconfig string
	args       []string

	// ledger is what every SealedSecret's Secret must hold, and every data
	// it may show on its way: the observer flags anything else.
	ledger *audit.Ledger

	mu         sync.Mutex
	bystanders []audit.Bystander
	procs      []*ctrlproc.Process
	replicas   []*replica
	obs        *observer
	kills      atomic.Int64 // processes the test killed
	crashes    int          // processes that exited by themselves
	// exitsExpected: the scenario's fault may make the controller exit by
	// itself (a lost leader lease); the exits are reported, not failed.
	exitsExpected bool
}

// newWorld makes namespaces and the first key, and watches the tenant
// namespace's Secrets for the whole scenario.
func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldAs(t, "", "")
}

// newWorldAs is newWorld with a controller namespace and a kubeconfig for
// the controller of the caller's (empty: a namespace of the test's own, and
// a system:masters user of the test's own).
func newWorldAs(t *testing.T, ctrlNS, kubeconfig string) *world {
	t.Helper()
	env := testenv.Shared(t)
	w := &world{t: t, env: env, c: fastClient(t, env.Config), cs: kubernetes.NewForConfigOrDie(env.Config),
		ledger: audit.NewLedger(), canary: audit.NewCanary()}
	w.ctrlNS, w.kubeconfig = ctrlNS, kubeconfig
	if w.ctrlNS == "" {
		w.ctrlNS = env.Namespace(t)
	}
	w.appNS = env.Namespace(t)
	ctrlproc.CreateKey(t, w.c, w.ctrlNS)
	if w.kubeconfig == "" {
		// A user of its own, with every permission: interceptors tell the
		// controller's requests from the test's by it.
		_, w.kubeconfig = env.User(controllerUser, "system:masters")
	}
	w.obs = observe(t, w)
	return w
}

// fastClient is an admin client without client-side throttling: the test's
// own setup traffic is not what is measured.
func fastClient(t *testing.T, cfg *rest.Config) client.Client {
	t.Helper()
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 2000, 4000
	return testenv.NewClient(t, cfg)
}

// start runs one more seal-controller process for this world.
func (w *world) start(extra ...string) *ctrlproc.Process {
	w.t.Helper()
	args := append([]string{"--watch-namespaces=" + w.appNS}, w.args...)
	p := ctrlproc.StartWith(w.t, w.env, ctrlproc.Config{Namespace: w.ctrlNS, Kubeconfig: w.kubeconfig, Args: append(args, extra...)})
	w.mu.Lock()
	w.procs = append(w.procs, p)
	w.mu.Unlock()
	return p
}

// recipients are the keys to seal to: the active key of the published
// keyring, or the first key before anything was published.
func (w *world) recipients() []*crypto.Recipient {
	w.t.Helper()
	kr, err := audit.PublishedKeyring(context.Background(), w.c, w.ctrlNS)
	if err == nil {
		rs, err := kr.SealingRecipients()
		if err != nil {
			w.t.Fatal(err)
		}
		return rs
	}
	if !apierrors.IsNotFound(err) {
		w.t.Fatal(err)
	}
	set := w.keys()
	if set.Active() == nil {
		w.t.Fatal("no active key to seal to")
	}
	return []*crypto.Recipient{set.Active().Identity.Recipient()}
}

func (w *world) keys() keysecret.Set {
	w.t.Helper()
	set, err := audit.Keys(context.Background(), w.c, w.ctrlNS)
	if err != nil {
		w.t.Fatal(err)
	}
	return set
}

// values are the plaintext of one SealedSecret: a canary value and a
// random one.
func (w *world) values(name string) map[string][]byte { return audit.Values(w.canary, name) }

// seal seals data as the Secret name of the tenant namespace, edited by
// edit (type, immutability), and records it as expected.
func (w *world) seal(rs []*crypto.Recipient, name string, data map[string][]byte, edit func(*corev1.Secret)) *v1alpha1.SealedSecret {
	ss, err := w.ledger.Seal(rs, w.appNS, name, data, edit)
	if err != nil {
		w.t.Error(err)
		return nil
	}
	return ss
}

// createSealed creates n SealedSecrets named prefix-00000…, 16 at a time.
func (w *world) createSealed(prefix string, n int) {
	w.t.Helper()
	rs := w.recipients()
	ctx := context.Background()
	err := parallel.Each(n, 16, func(i int) error {
		name := fmt.Sprintf("%s-%05d", prefix, i)
		ss := w.seal(rs, name, w.values(name), nil)
		if ss == nil {
			return fmt.Errorf("sealing %s", name)
		}
		return w.c.Create(ctx, ss)
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// update re-seals an existing SealedSecret with new values (a new
// generation), edited by edit.
func (w *world) update(name string, edit func(*corev1.Secret)) {
	w.t.Helper()
	ctx := context.Background()
	ss := w.seal(w.recipients(), name, w.values(name), edit)
	// The controller may write the status between the read and the
	// update: read again then.
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		var cur v1alpha1.SealedSecret
		if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.appNS, Name: name}, &cur); err != nil {
			return err
		}
		cur.Spec = ss.Spec
		return w.c.Update(ctx, &cur)
	}); err != nil {
		w.t.Fatal(err)
	}
}

// settle makes the state a long-running cluster has before the fault: a
// few SealedSecrets unsealed, a Secret adopted with its owner's consent,
// and Secrets of others in the tenant namespace (one even carrying our
// managed-by label) and in another namespace. The controller unseals what
// it must and is stopped; everything is then recorded as a bystander,
// which the scenario must leave exactly as it is.
func (w *world) settle(n int) {
	w.t.Helper()
	ctx := context.Background()
	keys, err := audit.CreateBystanders(ctx, w.c, w.appNS, w.env.Namespace(w.t), w.canary)
	if err != nil {
		w.t.Fatal(err)
	}
	rs := w.recipients()
	if err := w.c.Create(ctx, w.seal(rs, audit.Adopted, w.values(audit.Adopted), nil)); err != nil {
		w.t.Fatal(err)
	}
	w.createSealed("settled", n)
	w.run(1)
	w.waitReady(2 * time.Minute)
	w.stop()

	for i := range n {
		keys = append(keys, types.NamespacedName{Namespace: w.appNS, Name: fmt.Sprintf("settled-%05d", i)})
	}
	bs, err := audit.Record(ctx, w.c, keys...)
	if err != nil {
		w.t.Fatal(err)
	}
	w.mu.Lock()
	w.bystanders = append(w.bystanders, bs...)
	w.mu.Unlock()
}

// replica is one controller slot, as a Pod of a Deployment: when its
// process exits, [world.tick] starts another. killed marks exits the test
// caused.
type replica struct {
	p      *ctrlproc.Process
	extra  []string
	killed atomic.Bool
}

// run starts n supervised controller processes.
func (w *world) run(n int, extra ...string) {
	w.t.Helper()
	for range n {
		r := &replica{extra: extra}
		r.p = w.start(extra...)
		w.mu.Lock()
		w.replicas = append(w.replicas, r)
		w.mu.Unlock()
	}
}

// kill SIGKILLs replica i's process; tick starts it again. Safe to call
// from an interceptor's goroutine.
func (w *world) kill(i int) {
	w.mu.Lock()
	r := w.replicas[i]
	w.mu.Unlock()
	r.killed.Store(true)
	r.p.Kill()
	w.kills.Add(1)
}

// terminate stops replica i's process with SIGTERM, as a rolling update
// does, and returns its exit status; tick starts it again.
func (w *world) terminate(i int) *os.ProcessState {
	w.t.Helper()
	w.mu.Lock()
	r := w.replicas[i]
	w.mu.Unlock()
	r.killed.Store(true)
	st, err := r.p.Terminate(30 * time.Second)
	if err != nil {
		w.t.Error(err)
	}
	return st
}

// stop kills every replica for good.
func (w *world) stop() {
	w.mu.Lock()
	rs := w.replicas
	w.replicas = nil
	w.mu.Unlock()
	for _, r := range rs {
		r.p.Kill()
	}
}

// tick starts a new process for every replica whose process is gone, as
// the kubelet would, and counts the exits the test did not cause.
func (w *world) tick() {
	w.t.Helper()
	w.mu.Lock()
	rs := slices.Clone(w.replicas)
	w.mu.Unlock()
	for _, r := range rs {
		select {
		case <-r.p.Exited():
		default:
			continue
		}
		if !r.killed.Swap(false) {
			w.crashes++
			w.t.Logf("controller process exited by itself: %v; its log ends:\n%s", r.p.Cmd.ProcessState, tail(r.p.Log(w.t), 2000))
		}
		p := w.start(r.extra...)
		w.mu.Lock()
		r.p = p
		w.mu.Unlock()
	}
}

// live is replica i's current process.
func (w *world) live(i int) *ctrlproc.Process {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.replicas[i].p
}

// exitNote tells how often the controller exited by itself.
func (w *world) exitNote() string {
	if w.crashes == 0 {
		return "the controller kept running"
	}
	return fmt.Sprintf("the controller exited %d time(s) (leader lease not renewed while the control plane was down) and was started again", w.crashes)
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// readyCount is how many SealedSecrets of the tenant namespace are Ready,
// or -1 while the API server does not answer. It also keeps the
// controller replicas running.
func (w *world) readyCount() int {
	w.tick()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := ctrlproc.CountReady(ctx, w.cs.RESTClient(), w.appNS)
	if err != nil {
		return -1
	}
	return n
}

// waitCount polls until at least n SealedSecrets are Ready and returns how
// long that took; it fails the test after limit.
func (w *world) waitCount(n int, limit time.Duration) time.Duration {
	w.t.Helper()
	start := time.Now()
	for {
		if w.readyCount() >= n {
			return time.Since(start)
		}
		if time.Since(start) > limit {
			w.t.Fatalf("timed out after %s waiting for %d SealedSecrets Ready (%d are)", limit, n, w.readyCount())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitReady waits until every SealedSecret expected is Ready and the
// cluster has converged (see converged), and returns how long that took.
func (w *world) waitReady(limit time.Duration) time.Duration {
	w.t.Helper()
	start := time.Now()
	w.waitCount(w.ledger.Len(), limit)
	for !w.converged() {
		if time.Since(start) > limit {
			w.t.Fatalf("timed out after %s waiting for every Secret to hold what was sealed", limit)
		}
		time.Sleep(500 * time.Millisecond)
		w.tick()
	}
	return time.Since(start)
}

// converged reports whether every Secret holds what the test sealed last
// and every SealedSecret's status is for its generation: Ready counts alone
// miss drift being healed and new generations being written.
func (w *world) converged() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var secrets corev1.SecretList
	if err := w.c.List(ctx, &secrets, client.InNamespace(w.appNS)); err != nil {
		return false
	}
	if lost, wrong := w.ledger.Compare(secrets.Items); len(lost)+len(wrong) > 0 {
		return false
	}
	var list v1alpha1.SealedSecretList
	if err := w.c.List(ctx, &list, client.InNamespace(w.appNS)); err != nil {
		return false
	}
	for _, ss := range list.Items {
		if ss.Status.ObservedGeneration != ss.Generation {
			return false
		}
	}
	return true
}

// waitProgress waits until at least n SealedSecrets are Ready: the moment
// a fault is injected mid-backlog.
func (w *world) waitProgress(n int) { w.t.Helper(); w.waitCount(n, 5*time.Minute) }

// auditResult is what the check every scenario ends with counted.
type auditResult struct {
	objects, lost, wrong, bystandersChanged int
}

// audit is the check every scenario ends with: every Secret holds what was
// sealed, the bystanders are untouched, every SealedSecret is Ready for its
// generation, one key is active and published, no canary leaked, and the
// observer saw nothing wrong on the way.
func (w *world) audit() auditResult {
	w.t.Helper()
	ctx := context.Background()
	var secrets corev1.SecretList
	if err := w.c.List(ctx, &secrets, client.InNamespace(w.appNS)); err != nil {
		w.t.Fatal(err)
	}
	lost, wrong := w.ledger.Compare(secrets.Items)
	for _, name := range lost {
		w.t.Errorf("Secret %s lost", name)
	}
	for _, name := range wrong {
		w.t.Errorf("Secret %s holds the wrong data or type", name)
	}
	w.mu.Lock()
	bs := slices.Clone(w.bystanders)
	w.mu.Unlock()
	changed := audit.Changed(ctx, w.c, bs)
	for _, c := range changed {
		w.t.Error(c)
	}
	if w.crashes > 0 && !w.exitsExpected {
		w.t.Errorf("the controller exited by itself %d times", w.crashes)
	}
	w.auditStatus()
	w.auditKeys()
	w.auditLeaks()
	w.obs.check(w)
	return auditResult{objects: w.ledger.Len(), lost: len(lost), wrong: len(wrong), bystandersChanged: len(changed)}
}

// auditStatus: every SealedSecret is Ready for its current generation.
func (w *world) auditStatus() {
	w.t.Helper()
	var list v1alpha1.SealedSecretList
	if err := w.c.List(context.Background(), &list, client.InNamespace(w.appNS)); err != nil {
		w.t.Fatal(err)
	}
	for _, p := range audit.StatusProblems(list.Items, w.ledger.Len()) {
		w.t.Error(p)
	}
}

// auditKeys: exactly one active key, and the published keyring says so. A
// key rotation may still be on its way: the controller is kept running
// until it is.
func (w *world) auditKeys() {
	w.t.Helper()
	var last error
	defer func() {
		if last != nil {
			w.t.Logf("keys, last seen: %v", last)
		}
	}()
	testenv.EventuallyWithin(w.t, 2*time.Minute, "one active key, published", func() bool {
		w.tick()
		last = audit.CheckKeys(context.Background(), w.c, w.ctrlNS)
		return last == nil
	})
}

// auditLeaks: no canary in any controller log, event (of the tenant and
// the controller namespace) or status, and no panic in any log.
func (w *world) auditLeaks() {
	w.t.Helper()
	texts, err := audit.ClusterTexts(context.Background(), w.c, w.appNS, w.appNS, w.ctrlNS)
	if err != nil {
		w.t.Fatal(err)
	}
	w.mu.Lock()
	procs := slices.Clone(w.procs)
	w.mu.Unlock()
	for i, p := range procs {
		log := p.Log(w.t)
		texts[fmt.Sprintf("the log of controller process %d", i)] = log
		if audit.Panicked(log) {
			w.t.Errorf("controller process %d panicked; its log: %s", i, p.LogPath)
		}
	}
	for _, where := range audit.Leaks(w.canary, texts) {
		w.t.Errorf("a sealed value's canary appears in %s", where)
	}
}
