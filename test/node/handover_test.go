//go:build node

package node

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/ctrlproc"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// backlogSize is how many SealedSecrets are created around the leader's
// deletion.
const backlogSize = 1000

// testLeaderHandover deletes the leader Pod while a backlog of 1,000
// SealedSecrets is being created and unsealed: the other replica takes the
// Lease, and in the end every Secret holds exactly what was sealed, the
// bystander Secrets (others' Secrets, a look-alike carrying our label, and
// one adopted with its owner's consent, sealkit.dev/managed) are untouched,
// exactly one key is active, every SealedSecret is Ready for its generation,
// no log, event or condition shows a sealed value, and the other replica ran
// throughout without a restart. It reports the
// handover time (leader Pod deleted -> new Lease holder) and the time until
// everything is Ready.
//
// The audit is this file's own, compact one: test/faults's audit is bound to
// its world of controller processes (test-only code there).
func testLeaderHandover(t *testing.T) {
	ctx := context.Background()
	c := fastClient(t)
	a := &audit{t: t, c: c, ns: namespace(t, "backlog", nil), expected: map[string]map[string][]byte{}}
	var b [12]byte
	_, _ = rand.Read(b[:])
	a.canary = "CANARY-" + hex.EncodeToString(b[:])[:17] // 24 bytes: its base64 is a prefix of every value's
	rs := sealingRecipients(t, c)

	a.settle(rs, namespace(t, "elsewhere", nil))

	leader, survivor := leaderPods(t)
	leaderLog := followLog(t, leader)
	t.Logf("leader %s, survivor %s; creating %d SealedSecrets", leader, survivor, backlogSize)

	var deleted time.Time
	var readyAtDelete int
	var g errgroup.Group
	g.SetLimit(16)
	for i := range backlogSize {
		if i == backlogSize/2 {
			// Half the backlog is there, the rest arrives during the handover.
			if err := g.Wait(); err != nil {
				t.Fatal(err)
			}
			readyAtDelete, _ = ctrlproc.CountReady(ctx, kc.Client.CoreV1().RESTClient(), a.ns)
			deleted = time.Now()
			if err := kc.Client.CoreV1().Pods(controllerNS).Delete(ctx, leader, metav1.DeleteOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		name := fmt.Sprintf("backlog-%05d", i)
		ss := a.seal(rs, name)
		g.Go(func() error { return c.Create(ctx, ss) })
	}
	if err := g.Wait(); err != nil {
		t.Fatal(err)
	}
	t.Logf("leader %s deleted with %d of %d SealedSecrets created and %d Ready", leader, backlogSize/2, backlogSize, readyAtDelete)

	var holder string
	eventually(t, 2*time.Minute, func() error { // polled every 250 ms
		holder = leaseHolder(t)
		if holder == "" || strings.HasPrefix(holder, leader+"_") {
			return fmt.Errorf("the Lease is still held by %q", holder)
		}
		return nil
	})
	handover := time.Since(deleted)
	// The leader releases the Lease as it stops (ReleaseOnCancel): the
	// survivor takes it at its next retry (every 2 s), unless the Pod
	// replacing the leader, which asks as soon as it starts, is first.
	// Either is a replica other than the deleted one; which one is reported.
	live := controllerPods(t)
	newLeader := ""
	for _, p := range live {
		if strings.HasPrefix(holder, p+"_") {
			newLeader = p
		}
	}
	switch newLeader {
	case "":
		t.Errorf("the new Lease holder %q is none of the live controller Pods %v", holder, live)
	case survivor:
		t.Logf("handover: leader Pod deleted -> the other replica %s holds the Lease in %s", survivor, handover.Round(10*time.Millisecond))
	default:
		t.Logf("handover: leader Pod deleted -> %s, the Pod replacing the leader, holds the Lease in %s (it asked first once the leader released it)", newLeader, handover.Round(10*time.Millisecond))
	}

	eventually(t, 5*time.Minute, a.converged)
	t.Logf("all %d SealedSecrets Ready and every Secret as sealed %s after the leader's deletion", len(a.expected), time.Since(deleted).Round(100*time.Millisecond))

	a.check()
	p, err := kc.Client.CoreV1().Pods(controllerNS).Get(ctx, survivor, metav1.GetOptions{})
	if err != nil || p.DeletionTimestamp != nil || p.Status.ContainerStatuses[0].RestartCount != 0 {
		t.Errorf("the other replica %s did not run throughout: %v", survivor, err)
	}
	logs := map[string]string{leader + " (deleted)": leaderLog()}
	for _, p := range controllerPods(t) {
		logs[p] = podLogs(t, controllerNS, p)
	}
	a.checkLeaks(logs)
}

// audit is what the test sealed and what nobody may change.
type audit struct {
	t      *testing.T
	c      client.Client
	ns     string
	canary string

	mu         sync.Mutex
	expected   map[string]map[string][]byte // Secret name -> data
	bystanders []*corev1.Secret             // as recorded before the fault
}

// seal seals fresh values, the canary in them, as the Secret ns/name and
// records them as expected.
func (a *audit) seal(rs []*crypto.Recipient, name string) *v1alpha1.SealedSecret {
	r := make([]byte, 16)
	_, _ = rand.Read(r)
	data := map[string][]byte{"password": []byte(a.canary + "-" + name + "-" + hex.EncodeToString(r[:4])), "token": r}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: name}, Data: data, Type: corev1.SecretTypeOpaque}
	ss, err := sealed.Seal(s, sealed.SealOptions{Scope: crypto.ScopeStrict, Recipients: rs})
	if err != nil {
		a.t.Fatal(err)
	}
	a.mu.Lock()
	a.expected[name] = maps.Clone(data)
	a.mu.Unlock()
	return ss
}

// settle makes the bystanders: Secrets of others in the tenant namespace
// (one even carrying our managed-by label) and in another namespace, and one
// adopted with its owner's consent, once the controller has unsealed its
// SealedSecret into it. They are recorded as they are then.
func (a *audit) settle(rs []*crypto.Recipient, other string) {
	ctx := context.Background()
	byst := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "elsewhere"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "plain"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "lookalike",
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByController}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: a.ns, Name: "adopted",
			Annotations: map[string]string{v1alpha1.AnnotationManaged: "true"}}},
	}
	for _, s := range byst {
		s.Data = map[string][]byte{"owner": []byte("someone else"), "blob": []byte(a.canary)}
		if err := a.c.Create(ctx, s); err != nil {
			a.t.Fatal(err)
		}
	}
	if err := a.c.Create(ctx, a.seal(rs, "adopted")); err != nil {
		a.t.Fatal(err)
	}
	eventually(a.t, time.Minute, a.converged)
	for _, s := range byst {
		var cur corev1.Secret
		if err := a.c.Get(ctx, client.ObjectKeyFromObject(s), &cur); err != nil {
			a.t.Fatal(err)
		}
		a.bystanders = append(a.bystanders, &cur)
	}
}

// converged: every SealedSecret is Ready for its generation and every Secret
// holds exactly what was sealed.
func (a *audit) converged() error {
	ctx := context.Background()
	var list v1alpha1.SealedSecretList
	if err := a.c.List(ctx, &list, client.InNamespace(a.ns)); err != nil {
		return err
	}
	if len(list.Items) != len(a.expected) {
		return fmt.Errorf("%d SealedSecrets, the test made %d", len(list.Items), len(a.expected))
	}
	notReady := 0
	for _, ss := range list.Items {
		c := meta.FindStatusCondition(ss.Status.Conditions, v1alpha1.ConditionReady)
		if c == nil || c.Status != metav1.ConditionTrue || c.ObservedGeneration != ss.Generation || ss.Status.ObservedGeneration != ss.Generation {
			notReady++
		}
	}
	if notReady > 0 {
		return fmt.Errorf("%d of %d SealedSecrets not Ready for their generation", notReady, len(list.Items))
	}
	var secrets corev1.SecretList
	if err := a.c.List(ctx, &secrets, client.InNamespace(a.ns)); err != nil {
		return err
	}
	have := map[string]*corev1.Secret{}
	for i := range secrets.Items {
		have[secrets.Items[i].Name] = &secrets.Items[i]
	}
	for name, data := range a.expected {
		s, ok := have[name]
		switch {
		case !ok:
			return fmt.Errorf("Secret %s/%s missing", a.ns, name)
		case !maps.EqualFunc(s.Data, data, bytes.Equal) || s.Type != corev1.SecretTypeOpaque:
			return fmt.Errorf("Secret %s/%s does not hold what was sealed", a.ns, name)
		}
	}
	return nil
}

// check: the state converged, the bystanders are as recorded, and exactly
// one key is active and published as such.
func (a *audit) check() {
	t := a.t
	ctx := context.Background()
	if err := a.converged(); err != nil {
		t.Error(err)
	}
	for _, b := range a.bystanders {
		var s corev1.Secret
		err := a.c.Get(ctx, client.ObjectKeyFromObject(b), &s)
		if err != nil || s.ResourceVersion != b.ResourceVersion || !maps.EqualFunc(s.Data, b.Data, bytes.Equal) {
			t.Errorf("bystander Secret %s/%s changed (resourceVersion %s, was %s; %v)", b.Namespace, b.Name, s.ResourceVersion, b.ResourceVersion, err)
		}
	}
	var list corev1.SecretList
	if err := a.c.List(ctx, &list, keysecret.ListOptions(controllerNS)...); err != nil {
		t.Fatal(err)
	}
	set := keysecret.ParseAll(list.Items)
	var active []crypto.KeyID
	for _, k := range set.Keys {
		if k.Labelled == keyring.StateActive {
			active = append(active, k.ID)
		}
	}
	if len(active) != 1 || set.Active() == nil {
		t.Fatalf("active keys %v, want exactly one", active)
	}
	kr := publishedKeyring(t, a.c)
	var pub []crypto.KeyID
	for _, k := range kr.Keys {
		if k.State == keyring.StateActive {
			pub = append(pub, k.ID)
		}
	}
	if len(pub) != 1 || pub[0] != active[0] || len(kr.Keys) != len(set.Keys) {
		t.Errorf("published keyring: active %v of %d keys; the Secrets: active %v of %d", pub, len(kr.Keys), active, len(set.Keys))
	}
}

// checkLeaks: no sealed value's canary in any controller log, event or
// condition, and no panic in any log.
func (a *audit) checkLeaks(logs map[string]string) {
	t := a.t
	needles := []string{a.canary, base64.StdEncoding.EncodeToString([]byte(a.canary))}
	leak := func(where, s string) {
		for _, n := range needles {
			if strings.Contains(s, n) {
				t.Errorf("a sealed value's canary appears in %s", where)
			}
		}
	}
	for pod, log := range logs {
		if log == "" {
			t.Errorf("the log of %s is empty", pod)
		}
		leak("the log of "+pod, log)
		if strings.Contains(log, "Observed a panic") || strings.Contains(log, "panic: ") {
			t.Errorf("controller Pod %s panicked", pod)
		}
	}
	for _, ns := range []string{a.ns, controllerNS} {
		var events corev1.EventList
		if err := a.c.List(context.Background(), &events, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		for _, e := range events.Items {
			leak("event "+ns+"/"+e.Name, e.Message+e.Reason)
		}
	}
	var list v1alpha1.SealedSecretList
	if err := a.c.List(context.Background(), &list, client.InNamespace(a.ns)); err != nil {
		t.Fatal(err)
	}
	for _, ss := range list.Items {
		for _, c := range ss.Status.Conditions {
			leak("the status of "+ss.Name, c.Message)
		}
	}
}

// fastClient is an admin client of the cluster without client-side
// throttling: the test's own traffic is not what is measured.
func fastClient(t *testing.T) client.Client {
	t.Helper()
	cfg := rest.CopyConfig(kc.Config)
	cfg.QPS, cfg.Burst = 2000, 4000
	return testenv.NewClient(t, cfg)
}

func publishedKeyring(t *testing.T, c client.Client) *keyring.Keyring {
	t.Helper()
	var cm corev1.ConfigMap
	if err := c.Get(context.Background(), client.ObjectKey{Namespace: controllerNS, Name: keyring.KeyringConfigMap}, &cm); err != nil {
		t.Fatal(err)
	}
	kr, err := keyring.Parse(strings.NewReader(cm.Data[keyring.KeyringDataKey]))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

// sealingRecipients are the keys the published keyring says to seal to.
func sealingRecipients(t *testing.T, c client.Client) []*crypto.Recipient {
	t.Helper()
	rs, err := publishedKeyring(t, c).SealingRecipients()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// leaseHolder is the leader Lease's holder identity ("" when none).
func leaseHolder(t *testing.T) string {
	t.Helper()
	lease, err := kc.Client.CoordinationV1().Leases(controllerNS).Get(context.Background(), controller.LeaderElectionID, metav1.GetOptions{})
	if err != nil || lease.Spec.HolderIdentity == nil {
		return ""
	}
	return *lease.Spec.HolderIdentity
}

// leaderPods names the controller Pod holding the Lease and the other one.
func leaderPods(t *testing.T) (leader, other string) {
	t.Helper()
	eventually(t, 2*time.Minute, func() error {
		names := controllerPods(t)
		if len(names) != 2 {
			return fmt.Errorf("controller Pods %v, want 2", names)
		}
		holder := leaseHolder(t)
		for i, n := range names {
			// controller-runtime's identity is the host name (the Pod's
			// name) and a random suffix.
			if strings.HasPrefix(holder, n+"_") {
				leader, other = n, names[1-i]
				return nil
			}
		}
		return fmt.Errorf("lease holder %q is none of the Pods %v", holder, names)
	})
	return leader, other
}

// followLog follows a controller Pod's log from now until its container
// ends (a deleted Pod's log is gone afterwards); the function returns what
// was read, waiting up to a minute for the end.
func followLog(t *testing.T, pod string) func() string {
	t.Helper()
	rc, err := kc.Client.CoreV1().Pods(controllerNS).GetLogs(pod, &corev1.PodLogOptions{Follow: true}).Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = io.Copy(&buf, rc)
	}()
	return func() string {
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Errorf("the log of %s did not end a minute after its deletion", pod)
			_ = rc.Close()
			<-done
		}
		return buf.String()
	}
}
