package faults

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/ctrlproc"
	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed"
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

	mu sync.Mutex
	// expected is what every SealedSecret's Secret must hold: data and type.
	expected map[string]want
	// accepted are every data a Secret may show on its way (earlier
	// versions, drift the test wrote): the observer flags anything else.
	accepted   map[string][]map[string][]byte
	bystanders []bystander
	procs      []*ctrlproc.Process
	replicas   []*replica
	obs        *observer
	kills      atomic.Int64 // processes the test killed
	crashes    int          // processes that exited by themselves
	// exitsExpected: the scenario's fault may make the controller exit by
	// itself (a lost leader lease); the exits are reported, not failed.
	exitsExpected bool
}

type want struct {
	data map[string][]byte
	typ  corev1.SecretType
}

type bystander struct {
	key  types.NamespacedName
	rv   string
	data map[string][]byte
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
		expected: map[string]want{}, accepted: map[string][]map[string][]byte{}}
	var b [12]byte
	_, _ = rand.Read(b[:])
	w.canary = "CANARY-" + hex.EncodeToString(b[:])[:17] // 24 bytes: its base64 is a fixed prefix of every value's
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
	var cm corev1.ConfigMap
	err := w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ctrlNS, Name: keyring.KeyringConfigMap}, &cm)
	if err == nil {
		kr, err := keyring.Parse(strings.NewReader(cm.Data[keyring.KeyringDataKey]))
		if err != nil {
			w.t.Fatal(err)
		}
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
	var list corev1.SecretList
	if err := w.c.List(context.Background(), &list, keysecret.ListOptions(w.ctrlNS)...); err != nil {
		w.t.Fatal(err)
	}
	return keysecret.ParseAll(list.Items)
}

// values are the plaintext of one SealedSecret: a canary value and a
// random one.
func (w *world) values(name string) map[string][]byte {
	r := make([]byte, 16)
	_, _ = rand.Read(r)
	return map[string][]byte{
		"password": []byte(w.canary + "-" + name + "-" + hex.EncodeToString(r[:4])),
		"token":    r,
	}
}

// seal seals data as the Secret name of the tenant namespace, edited by
// edit (type, immutability), and records it as expected.
func (w *world) seal(rs []*crypto.Recipient, name string, data map[string][]byte, edit func(*corev1.Secret)) *v1alpha1.SealedSecret {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: name}, Data: data, Type: corev1.SecretTypeOpaque}
	if edit != nil {
		edit(s)
	}
	ss, err := sealed.Seal(s, sealed.SealOptions{Scope: crypto.ScopeStrict, Recipients: rs})
	if err != nil {
		w.t.Error(err)
		return nil
	}
	w.mu.Lock()
	w.expected[name] = want{data: maps.Clone(data), typ: s.Type}
	w.accepted[name] = append(w.accepted[name], maps.Clone(data))
	w.mu.Unlock()
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
	var cur v1alpha1.SealedSecret
	if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.appNS, Name: name}, &cur); err != nil {
		w.t.Fatal(err)
	}
	cur.Spec = ss.Spec
	if err := w.c.Update(ctx, &cur); err != nil {
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
	other := w.env.Namespace(w.t)
	byst := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "elsewhere"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: "plain"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: "lookalike",
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByController}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: "adopted",
			Annotations: map[string]string{v1alpha1.AnnotationManaged: "true"}}},
	}
	for _, s := range byst {
		s.Data = map[string][]byte{"owner": []byte("someone else"), "blob": []byte(w.canary)}
		if err := w.c.Create(ctx, s); err != nil {
			w.t.Fatal(err)
		}
	}
	rs := w.recipients()
	if err := w.c.Create(ctx, w.seal(rs, "adopted", w.values("adopted"), nil)); err != nil {
		w.t.Fatal(err)
	}
	w.createSealed("settled", n)
	w.run(1)
	w.waitReady(2 * time.Minute)
	w.stop()

	var keys []types.NamespacedName
	for _, s := range byst {
		keys = append(keys, client.ObjectKeyFromObject(s))
	}
	for i := range n {
		keys = append(keys, types.NamespacedName{Namespace: w.appNS, Name: fmt.Sprintf("settled-%05d", i)})
	}
	for _, k := range keys {
		var s corev1.Secret
		if err := w.c.Get(ctx, k, &s); err != nil {
			w.t.Fatal(err)
		}
		w.bystanders = append(w.bystanders, bystander{key: k, rv: s.ResourceVersion, data: s.Data})
	}
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
	w.mu.Lock()
	n := len(w.expected)
	w.mu.Unlock()
	w.waitCount(n, limit)
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
	w.mu.Lock()
	expected := maps.Clone(w.expected)
	w.mu.Unlock()
	for i := range secrets.Items {
		s := &secrets.Items[i]
		if e, ok := expected[s.Name]; ok && maps.EqualFunc(s.Data, e.data, bytes.Equal) && s.Type == e.typ {
			delete(expected, s.Name)
		}
	}
	if len(expected) > 0 {
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

// audit is the check every scenario ends with.
type auditResult struct {
	objects, lost, wrong, bystandersChanged int
}

func (w *world) audit() auditResult {
	w.t.Helper()
	ctx := context.Background()
	var r auditResult
	var secrets corev1.SecretList
	if err := w.c.List(ctx, &secrets, client.InNamespace(w.appNS)); err != nil {
		w.t.Fatal(err)
	}
	have := map[string]*corev1.Secret{}
	for i := range secrets.Items {
		have[secrets.Items[i].Name] = &secrets.Items[i]
	}
	w.mu.Lock()
	expected := maps.Clone(w.expected)
	w.mu.Unlock()
	r.objects = len(expected)
	for name, e := range expected {
		s, ok := have[name]
		switch {
		case !ok:
			r.lost++
			w.t.Errorf("Secret %s lost", name)
		case !maps.EqualFunc(s.Data, e.data, bytes.Equal) || s.Type != e.typ:
			r.wrong++
			w.t.Errorf("Secret %s holds the wrong data or type (%s, want %s)", name, s.Type, e.typ)
		}
	}
	for _, b := range w.bystanders {
		var s corev1.Secret
		err := w.c.Get(ctx, b.key, &s)
		if err != nil || s.ResourceVersion != b.rv || !maps.EqualFunc(s.Data, b.data, bytes.Equal) {
			r.bystandersChanged++
			w.t.Errorf("bystander Secret %s changed (resourceVersion %s, was %s; %v)", b.key, s.ResourceVersion, b.rv, err)
		}
	}
	if w.crashes > 0 && !w.exitsExpected {
		w.t.Errorf("the controller exited by itself %d times", w.crashes)
	}
	w.auditStatus(expected)
	w.auditKeys()
	w.auditLeaks()
	w.obs.check(w)
	return r
}

// auditStatus: every SealedSecret is Ready for its current generation.
func (w *world) auditStatus(expected map[string]want) {
	w.t.Helper()
	var list v1alpha1.SealedSecretList
	if err := w.c.List(context.Background(), &list, client.InNamespace(w.appNS)); err != nil {
		w.t.Fatal(err)
	}
	if len(list.Items) != len(expected) {
		w.t.Errorf("%d SealedSecrets, the test made %d", len(list.Items), len(expected))
	}
	for _, ss := range list.Items {
		c := meta.FindStatusCondition(ss.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != ss.Generation || ss.Status.ObservedGeneration != ss.Generation {
			w.t.Errorf("SealedSecret %s (generation %d): status %+v", ss.Name, ss.Generation, ss.Status)
		}
	}
}

// auditKeys: exactly one active key, and the published keyring says so.
func (w *world) auditKeys() {
	w.t.Helper()
	testenv.EventuallyWithin(w.t, 2*time.Minute, "one active key, published", func() bool {
		w.tick()
		set := w.keys()
		active := 0
		for _, k := range set.Keys {
			if k.Labelled == keyring.StateActive {
				active++
			}
		}
		if active != 1 || set.Active() == nil {
			return false
		}
		var cm corev1.ConfigMap
		if err := w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ctrlNS, Name: keyring.KeyringConfigMap}, &cm); err != nil {
			return false
		}
		kr, err := keyring.Parse(strings.NewReader(cm.Data[keyring.KeyringDataKey]))
		if err != nil {
			return false
		}
		var pub []crypto.KeyID
		for _, k := range kr.Keys {
			if k.State == keyring.StateActive {
				pub = append(pub, k.ID)
			}
		}
		return len(pub) == 1 && pub[0] == set.Active().ID && len(kr.Keys) == len(set.Keys)
	})
}

// auditLeaks: no canary in any controller log, event or status, and no
// panic in any log.
func (w *world) auditLeaks() {
	w.t.Helper()
	needles := []string{w.canary, base64.StdEncoding.EncodeToString([]byte(w.canary))}
	leak := func(where, s string) {
		for _, n := range needles {
			if strings.Contains(s, n) {
				w.t.Errorf("a sealed value's canary appears in %s", where)
			}
		}
	}
	w.mu.Lock()
	procs := append([]*ctrlproc.Process(nil), w.procs...)
	w.mu.Unlock()
	for i, p := range procs {
		log := p.Log(w.t)
		leak(fmt.Sprintf("the log of controller process %d", i), log)
		// A panic, even one controller-runtime recovered from, is a bug.
		if strings.Contains(log, "Observed a panic") || strings.Contains(log, "\npanic: ") || strings.HasPrefix(log, "panic: ") {
			w.t.Errorf("controller process %d panicked; its log: %s", i, p.LogPath)
		}
	}
	var events corev1.EventList
	if err := w.c.List(context.Background(), &events, client.InNamespace(w.appNS)); err != nil {
		w.t.Fatal(err)
	}
	for _, e := range events.Items {
		leak("event "+e.Name, e.Message+e.Reason)
	}
	var list v1alpha1.SealedSecretList
	if err := w.c.List(context.Background(), &list, client.InNamespace(w.appNS)); err != nil {
		w.t.Fatal(err)
	}
	for _, ss := range list.Items {
		for _, c := range ss.Status.Conditions {
			leak("the status of "+ss.Name, c.Message)
		}
	}
}
