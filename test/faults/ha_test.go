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
	leader := -1
	for i := range 2 {
		if strings.Contains(w.live(i).Log(t), "Successfully acquired lease") {
			leader = i
		}
	}
	holder := w.leaseHolder()
	if leader < 0 || holder == "" {
		t.Fatalf("no leader among the two replicas (lease holder %q)", holder)
	}
	killed := time.Now()
	w.kill(leader)
	var handover time.Duration
	for {
		w.tick() // the killed replica comes back as a standby
		if h := w.leaseHolder(); h != "" && h != holder {
			handover = time.Since(killed)
			break
		}
		if time.Since(killed) > 2*time.Minute {
			t.Fatal("no replica took the lease over")
		}
		time.Sleep(100 * time.Millisecond)
	}
	rec := w.waitReady(10 * time.Minute)
	creates, writes := w.obs.stats() // the audit fails any Secret created twice
	finish(w, "5 leader SIGKILLed (2 replicas)", "leader SIGKILLed a quarter into the backlog", rec,
		fmt.Sprintf("handover %s (lease 15 s); %d Secret writes for %d Secrets, none deleted or created twice", handover.Round(100*time.Millisecond), writes, creates))
}

func (w *world) leaseHolder() string {
	var l coordinationv1.Lease
	if err := w.c.Get(context.Background(), client.ObjectKey{Namespace: w.ctrlNS, Name: controller.LeaderElectionID}, &l); err != nil {
		return ""
	}
	return ptr.Deref(l.Spec.HolderIdentity, "")
}
