//go:build node

package node

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"golang.org/x/sync/errgroup"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/audit"
	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/ctrlproc"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
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
// The audit is internal/audit's, the one test/faults ends every scenario
// with; the controller's logs are its Pods'.
func testLeaderHandover(t *testing.T) {
	ctx := context.Background()
	c := fastClient(t)
	a := &handoverAudit{t: t, c: c, ns: namespace(t, "backlog", nil), canary: audit.NewCanary(), ledger: audit.NewLedger()}
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
	t.Logf("all %d SealedSecrets Ready and every Secret as sealed %s after the leader's deletion", a.ledger.Len(), time.Since(deleted).Round(100*time.Millisecond))

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

// handoverAudit is what the test sealed and what nobody may change.
type handoverAudit struct {
	t      *testing.T
	c      client.Client
	ns     string
	canary string
	ledger *audit.Ledger

	bystanders []audit.Bystander // as recorded before the fault
}

// seal seals fresh values, the canary in them, as the Secret ns/name and
// records them as expected.
func (a *handoverAudit) seal(rs []*crypto.Recipient, name string) *v1alpha1.SealedSecret {
	ss, err := a.ledger.Seal(rs, a.ns, name, audit.Values(a.canary, name), nil)
	if err != nil {
		a.t.Fatal(err)
	}
	return ss
}

// settle makes the bystanders: Secrets of others in the tenant namespace
// (one even carrying our managed-by label) and in another namespace, and one
// adopted with its owner's consent, once the controller has unsealed its
// SealedSecret into it. They are recorded as they are then.
func (a *handoverAudit) settle(rs []*crypto.Recipient, other string) {
	ctx := context.Background()
	keys, err := audit.CreateBystanders(ctx, a.c, a.ns, other, a.canary)
	if err != nil {
		a.t.Fatal(err)
	}
	if err := a.c.Create(ctx, a.seal(rs, audit.Adopted)); err != nil {
		a.t.Fatal(err)
	}
	eventually(a.t, time.Minute, a.converged)
	if a.bystanders, err = audit.Record(ctx, a.c, keys...); err != nil {
		a.t.Fatal(err)
	}
}

// converged: every SealedSecret is Ready for its generation and every Secret
// holds exactly what was sealed.
func (a *handoverAudit) converged() error {
	ctx := context.Background()
	var list v1alpha1.SealedSecretList
	if err := a.c.List(ctx, &list, client.InNamespace(a.ns)); err != nil {
		return err
	}
	if probs := audit.StatusProblems(list.Items, a.ledger.Len()); len(probs) > 0 {
		return fmt.Errorf("%d problem(s) with the SealedSecrets' status, the first: %s", len(probs), probs[0])
	}
	var secrets corev1.SecretList
	if err := a.c.List(ctx, &secrets, client.InNamespace(a.ns)); err != nil {
		return err
	}
	if lost, wrong := a.ledger.Compare(secrets.Items); len(lost)+len(wrong) > 0 {
		return fmt.Errorf("in %s, Secrets missing: %v; not holding what was sealed: %v", a.ns, lost, wrong)
	}
	return nil
}

// check: the state converged, the bystanders are as recorded, and exactly
// one key is active and published as such.
func (a *handoverAudit) check() {
	ctx := context.Background()
	if err := a.converged(); err != nil {
		a.t.Error(err)
	}
	for _, c := range audit.Changed(ctx, a.c, a.bystanders) {
		a.t.Error(c)
	}
	if err := audit.CheckKeys(ctx, a.c, controllerNS); err != nil {
		a.t.Error(err)
	}
}

// checkLeaks: no sealed value's canary in any controller log, event (of the
// tenant and the controller namespace) or condition, no empty log (it would
// prove nothing), and no panic in any log.
func (a *handoverAudit) checkLeaks(logs map[string]string) {
	t := a.t
	texts, err := audit.ClusterTexts(context.Background(), a.c, a.ns, a.ns, controllerNS)
	if err != nil {
		t.Fatal(err)
	}
	for pod, log := range logs {
		if log == "" {
			t.Errorf("the log of %s is empty", pod)
		}
		texts["the log of "+pod] = log
		if audit.Panicked(log) {
			t.Errorf("controller Pod %s panicked", pod)
		}
	}
	for _, where := range audit.Leaks(a.canary, texts) {
		t.Errorf("a sealed value's canary appears in %s", where)
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

// sealingRecipients are the keys the published keyring says to seal to.
func sealingRecipients(t *testing.T, c client.Client) []*crypto.Recipient {
	t.Helper()
	kr, err := audit.PublishedKeyring(context.Background(), c, controllerNS)
	if err != nil {
		t.Fatal(err)
	}
	rs, err := kr.SealingRecipients()
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
