package faults

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	coordinationv1 "k8s.io/api/coordination/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller"
)

// Scenario 5: two replicas with leader election; the leader is SIGKILLed
// during the backlog. The standby takes over once the lease expires; no
// work is lost, and none done twice in a harmful way: no Secret deleted or
// created twice, none ever holding data the test did not seal, one key.
func TestLeaderKilled(t *testing.T) {
	w, sz := backlogWorld(t)
	w.run(2, "--leader-elect=true")
	w.waitProgress(midBacklog(sz))
	leader, holder := w.leader(), w.leaseHolder()
	if leader < 0 || holder == "" {
		t.Fatalf("no leader among the two replicas (lease holder %q)", holder)
	}
	killed := time.Now()
	w.kill(leader)
	handover := w.waitHandover(holder, killed)
	rec := w.waitReady(10 * time.Minute)

	// A rolling update: the new leader gets SIGTERM. It must exit cleanly
	// and give the lease up, so the standby takes over at its next retry
	// (2 s) instead of waiting for the lease to expire.
	leader, holder = w.leader(), w.leaseHolder()
	if leader < 0 {
		t.Fatal("no leader after the handover")
	}
	stopped := time.Now()
	if st := w.terminate(leader); st == nil || !st.Success() {
		t.Errorf("the leader's exit on SIGTERM: %v, want status 0", st)
	}
	if h := w.leaseHolder(); h == holder {
		t.Errorf("the leader exited on SIGTERM still holding the lease (%s): the standby must wait for it to expire", h)
	}
	graceful := w.waitHandover(holder, stopped)
	creates, writes := w.obs.stats() // the audit fails any Secret created twice
	finish(w, "5 leader SIGKILLed (2 replicas)", "leader SIGKILLed a quarter into the backlog; then the new leader stopped with SIGTERM", rec,
		fmt.Sprintf("handover %s after SIGKILL (lease 15 s), %s after SIGTERM (lease released); %d Secret writes for %d Secrets, none deleted or created twice",
			handover.Round(100*time.Millisecond), graceful.Round(100*time.Millisecond), writes, creates))
}

// leader is the replica whose current process acquired the lease, or -1.
func (w *world) leader() int {
	w.t.Helper()
	w.mu.Lock()
	n := len(w.replicas)
	w.mu.Unlock()
	for i := range n {
		if strings.Contains(w.live(i).Log(w.t), "Successfully acquired lease") {
			return i
		}
	}
	return -1
}

// waitHandover waits until another process than holder holds the lease
// and returns the time since from; it keeps the replicas running.
func (w *world) waitHandover(holder string, from time.Time) time.Duration {
	w.t.Helper()
	for {
		w.tick() // a stopped replica comes back as a standby
		if h := w.leaseHolder(); h != "" && h != holder {
			return time.Since(from)
		}
		if time.Since(from) > 2*time.Minute {
			w.t.Fatal("no replica took the lease over")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (w *world) leaseHolder() string {
	var l coordinationv1.Lease
	if err := w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ctrlNS, Name: controller.LeaderElectionID}, &l); err != nil {
		return ""
	}
	return ptr.Deref(l.Spec.HolderIdentity, "")
}
