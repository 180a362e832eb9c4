package faults

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/faultproxy"
)

// backlogWorld is a settled world with a backlog of SealedSecrets the
// controller has not seen, the controller throttled (CI size) so that the
// backlog lasts while the fault is injected.
func backlogWorld(t *testing.T) (*world, size) {
	t.Helper()
	sz := sizes()
	w := newWorld(t)
	w.args = []string{"--kube-api-qps=" + sz.qps, "--kube-api-burst=" + sz.qps}
	w.settle(sz.settled)
	w.createSealed("backlog", sz.backlog)
	return w, sz
}

// midBacklog is the number of Ready SealedSecrets at which a fault is
// injected: a quarter into the backlog.
func midBacklog(sz size) int { return sz.settled + 1 + sz.backlog/4 }

// Scenario 1: kube-apiserver restarted while the controller unseals a
// backlog.
//
// The controller runs as deployed, with leader election: a restart that
// outlasts the lease's renew deadline (10 s) makes it exit (controller-
// runtime gives up a lease it cannot renew rather than risk two leaders),
// and it is started again, as the kubelet would.
func TestAPIServerRestart(t *testing.T) {
	w, sz := backlogWorld(t)
	w.exitsExpected = true
	w.run(1, "--leader-elect=true")
	w.waitProgress(midBacklog(sz))
	start := time.Now()
	if err := w.env.RestartAPIServer(); err != nil {
		t.Fatal(err)
	}
	t.Logf("kube-apiserver restarted in %s", time.Since(start))
	rec := w.waitReady(10 * time.Minute)
	finish(w, "1 kube-apiserver restart", "kube-apiserver stopped (SIGTERM; SIGKILL after 10 s) and started again, a quarter into the backlog", rec, w.exitNote())
}

// Scenario 2: etcd restarted while the controller unseals a backlog; the
// API server fails every request meanwhile. Leader election on, as in
// scenario 1.
func TestEtcdRestart(t *testing.T) {
	w, sz := backlogWorld(t)
	w.exitsExpected = true
	w.run(1, "--leader-elect=true")
	w.waitProgress(midBacklog(sz))
	if err := w.env.StopEtcd(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second) // the controller's requests fail meanwhile
	if err := w.env.StartEtcd(); err != nil {
		t.Fatal(err)
	}
	rec := w.waitReady(10 * time.Minute)
	finish(w, "2a etcd restart", "etcd stopped for 5 s and started again a quarter into the backlog", rec, w.exitNote())
}

// Scenario 2, compaction: the controller is cut off from the API server
// (its watches end), Secrets it owns are edited and deleted and
// SealedSecrets created and changed meanwhile, etcd is compacted past all
// of it and kube-apiserver restarted, so that its watch cache starts at the
// compacted revision too: the controller's watches resume at a
// resourceVersion that is gone (410), and it must list again to see what
// happened. Leader election is off here, so that the process survives the
// partition and its watches, not a fresh process, meet the 410.
func TestEtcdCompactionWatchExpiry(t *testing.T) {
	w, sz := backlogWorld(t)
	proxy := w.viaProxy()
	w.run(1)
	w.waitProgress(midBacklog(sz))

	proxy.Set(faultproxy.Faults{Refuse: true})
	proxy.CutAll()
	ctx := context.Background()
	var before corev1.SecretList
	if err := w.c.List(ctx, &before, client.InNamespace(w.appNS), client.Limit(1)); err != nil {
		t.Fatal(err)
	}
	edited, deleted, changed := w.driftWhileAway(10)
	w.createSealed("late", 20)
	rev, err := w.env.CompactEtcd(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.env.RestartAPIServer(); err != nil {
		t.Fatal(err)
	}
	// What the controller's watches will meet: a watch from before the
	// partition is answered 410 Gone.
	if err := watchFrom(ctx, w, before.ResourceVersion); !apierrors.IsResourceExpired(err) && !apierrors.IsGone(err) {
		t.Fatalf("a watch at resourceVersion %s after compacting to %d: %v, want 410 Gone", before.ResourceVersion, rev, err)
	}
	proxy.Set(faultproxy.Faults{})
	rec := w.waitReady(10 * time.Minute)
	finish(w, "2b etcd compaction", fmt.Sprintf("controller partitioned; %d owned Secrets edited, %d deleted, %d SealedSecrets changed, 20 created; etcd compacted, kube-apiserver restarted; watches resumed with 410 Gone", edited, deleted, changed), rec, "")
}

// watchFrom opens a watch of the tenant namespace's Secrets at rv and
// returns the error it ends with at once, if any.
func watchFrom(ctx context.Context, w *world, rv string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	wi, err := w.cs.CoreV1().Secrets(w.appNS).Watch(ctx, metav1.ListOptions{ResourceVersion: rv})
	if err != nil {
		return err
	}
	defer wi.Stop()
	ev, ok := <-wi.ResultChan()
	switch {
	case !ok:
		return errors.New("watch ended without an event")
	case ev.Type != watch.Error:
		return nil // an event: the watch was accepted
	}
	if st, ok := ev.Object.(*metav1.Status); ok {
		return &apierrors.StatusError{ErrStatus: *st}
	}
	return fmt.Errorf("watch error %v", ev.Object)
}

// driftWhileAway edits n Secrets the controller owns, deletes n others and
// changes n SealedSecrets, among the settled ones.
func (w *world) driftWhileAway(n int) (edited, deleted, changed int) {
	w.t.Helper()
	ctx := context.Background()
	for i := range n {
		name := fmt.Sprintf("backlog-%05d", i)
		var s corev1.Secret
		if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.appNS, Name: name}, &s); err != nil {
			continue // not unsealed yet
		}
		drift := map[string][]byte{"password": []byte("edited by hand")}
		w.ledger.Accept(name, drift)
		s.Data = drift
		if err := w.c.Update(ctx, &s); err != nil {
			w.t.Fatal(err)
		}
		edited++
	}
	for i := n; i < 2*n; i++ {
		name := fmt.Sprintf("backlog-%05d", i)
		w.obs.allowDelete(name)
		err := w.c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: name}})
		if err == nil {
			deleted++
		} else if !apierrors.IsNotFound(err) {
			w.t.Fatal(err)
		}
	}
	for i := 2 * n; i < 3*n; i++ {
		w.update(fmt.Sprintf("backlog-%05d", i), nil)
		changed++
	}
	return edited, deleted, changed
}
