package faults

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// Scenario 3: the controller SIGKILLed at random moments of the backlog,
// and started again, ten times in a row.
func TestKilledRepeatedly(t *testing.T) {
	w, sz := backlogWorld(t)
	w.run(1)
	const kills = 10
	total := sz.settled + 1 + sz.backlog
	midway := 0
	for range kills {
		p := w.live(0)
		// A random moment once the new process has done some work: so
		// that the kills spread over the backlog instead of hitting
		// processes still starting.
		from, deadline := max(w.readyCount(), 0), time.Now().Add(2*time.Minute)
		for n := w.readyCount(); n < min(from+sz.backlog/(kills+2), total) && time.Now().Before(deadline); n = w.readyCount() {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(time.Duration(rand.IntN(300)) * time.Millisecond)
		if n := w.readyCount(); n >= 0 && n < total {
			midway++
		}
		w.kill(0)
		<-p.Exited()
		w.tick() // started again, as the kubelet would
	}
	rec := w.waitReady(10 * time.Minute)
	finish(w, "3a SIGKILL x10", fmt.Sprintf("controller SIGKILLed at random moments %d times in a row, restarted each time (%d mid-backlog)", kills, midway), rec, "")
}

// Scenario 3, replacement: an immutable Secret whose values change, and a
// Secret whose type changes, must be deleted and created again; the
// controller is SIGKILLed at the delete (before it happens) and, started
// again, at the create (after the delete happened, before the create), for
// each of the two.
func TestKilledMidReplacement(t *testing.T) {
	w := newWorld(t)
	w.settle(sizes().settled)
	ctx := t.Context()
	rs := w.recipients()
	names := []string{"immutable", "typed"}
	for _, name := range names {
		edit := func(s *corev1.Secret) { s.Immutable = ptr.To(name == "immutable") }
		if err := w.c.Create(ctx, w.seal(rs, name, w.values(name), edit)); err != nil {
			t.Fatal(err)
		}
	}
	w.run(1)
	w.waitReady(2 * time.Minute)

	// Per Secret: kill at the delete, then at the create, then let it be.
	var mu sync.Mutex
	stage := map[string]int{}
	var injected []string
	intercept(t, w.env, []string{w.appNS}, func(req *admissionv1.AdmissionRequest) bool {
		if !isController(req, "Secret", w.appNS) {
			return false
		}
		mu.Lock()
		defer mu.Unlock()
		st := stage[req.Name]
		switch {
		case st == 0 && req.Operation == admissionv1.Delete, st == 2 && req.Operation == admissionv1.Create:
			stage[req.Name]++
			injected = append(injected, fmt.Sprintf("%s %s", req.Operation, req.Name))
			w.kill(0)
			return true
		case st == 1 && req.Operation == admissionv1.Delete:
			stage[req.Name]++
		}
		return false
	})
	for _, name := range names {
		w.obs.allowDelete(name)
	}
	w.update("immutable", func(s *corev1.Secret) { s.Immutable = ptr.To(true) })
	w.update("typed", func(s *corev1.Secret) { s.Type = "example.com/custom" })
	rec := w.waitReady(5 * time.Minute)
	mu.Lock()
	defer mu.Unlock()
	if stage["immutable"] != 3 || stage["typed"] != 3 {
		t.Fatalf("the controller was not killed at every step: %v", injected)
	}
	finish(w, "3b SIGKILL mid-replacement", fmt.Sprintf("controller SIGKILLed at the delete and at the create of two replacements (immutable Secret, type change): %v", injected), rec,
		"time from the change to both Secrets replaced, through four kills")
}
