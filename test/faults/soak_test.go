package faults

import (
	"context"
	"crypto/rand"
	"fmt"
	mrand "math/rand/v2"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/audit"
	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// soakSize is the scale of scenario 7: make soak's, or a small one for
// make test (so the churn and its audit are exercised on every change).
type soakSize struct {
	sealed, unrelated int
	churn, sample     time.Duration
	rate              int // churn operations per second
}

func soakSizes() soakSize {
	if *soak > 0 {
		return soakSize{sealed: 10000, unrelated: 10000, churn: *soak, sample: 30 * time.Second, rate: 10}
	}
	return soakSize{sealed: 100, unrelated: 100, churn: 15 * time.Second, sample: 3 * time.Second, rate: 10}
}

// Scenario 7: load. 10,000 SealedSecrets and 10,000 unrelated Secrets, then
// churn at a fixed rate (SealedSecrets changed, deleted and re-created,
// Secrets of ours edited and deleted by hand), the controller's RSS sampled
// throughout; then the audit.
func TestSoak(t *testing.T) {
	sz := soakSizes()
	w := newWorld(t)
	w.settle(sizes().settled)
	ctx := context.Background()
	start := time.Now()
	// Unrelated Secrets of 4 KiB each in the tenant namespace: the
	// controller must not cache, change or be slowed by them.
	err := parallel.Each(sz.unrelated, 16, func(i int) error {
		v := make([]byte, 4096)
		_, _ = rand.Read(v)
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: fmt.Sprintf("unrelated-%05d", i)},
			Data: map[string][]byte{"release": v}}
		return w.c.Create(ctx, s)
	})
	if err != nil {
		t.Fatal(err)
	}
	w.createSealed("load", sz.sealed)
	t.Logf("created %d SealedSecrets and %d unrelated Secrets in %s", sz.sealed, sz.unrelated, time.Since(start).Round(time.Second))
	w.run(1)
	initial := w.waitReady(60 * time.Minute)
	t.Logf("initial unseal of %d SealedSecrets: %s", sz.sealed, initial.Round(time.Second))
	// The unrelated Secrets are bystanders too, from now on.
	var list corev1.SecretList
	if err := w.c.List(ctx, &list, client.InNamespace(w.appNS)); err != nil {
		t.Fatal(err)
	}
	for _, s := range list.Items {
		if strings.HasPrefix(s.Name, "unrelated-") {
			w.bystanders = append(w.bystanders, audit.Of(&s))
		}
	}

	var samples []string
	sample := func() {
		samples = append(samples, fmt.Sprintf("%s %d MiB", time.Since(start).Round(time.Second), w.live(0).RSS(t)>>20))
	}
	sample()
	ops := map[string]int{}
	tick := time.NewTicker(time.Second / time.Duration(sz.rate))
	defer tick.Stop()
	lastSample := time.Now()
	churnStart := time.Now()
	for time.Since(churnStart) < sz.churn {
		<-tick.C
		ops[w.churnOne(sz.sealed)]++
		if time.Since(lastSample) >= sz.sample {
			w.tick()
			sample()
			lastSample = time.Now()
		}
	}
	rec := w.waitReady(30 * time.Minute)
	sample()
	peak := w.live(0).PeakRSS(t)
	t.Logf("RSS over time: %s", strings.Join(samples, ", "))
	recordRSS(t, samples)
	finish(w, "7 soak", fmt.Sprintf("%d SealedSecrets + %d unrelated Secrets, %s of churn at %d/s: %v", sz.sealed, sz.unrelated, sz.churn, sz.rate, ops), rec,
		fmt.Sprintf("initial unseal %s; peak RSS %d MiB; RSS %s", initial.Round(time.Second), peak>>20, strings.Join([]string{samples[0], samples[len(samples)-1]}, " -> ")))
}

// churnOne makes one random change among the load SealedSecrets and
// their Secrets, and returns its kind.
func (w *world) churnOne(n int) string {
	w.t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("load-%05d", mrand.IntN(n))
	key := client.ObjectKey{Namespace: w.appNS, Name: name}
	switch r := mrand.IntN(10); {
	case r < 4: // a new version of the values
		w.update(name, nil)
		return "update"
	case r < 6: // deleted and created again, as a GitOps tool that replaces it would
		if err := w.c.Delete(ctx, &v1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: name}}); err != nil {
			w.t.Fatal(err)
		}
		// envtest runs no garbage collector: do what it does to the
		// Secret the deleted SealedSecret owned.
		w.obs.allowDelete(name)
		if err := w.c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: name}}); err != nil && !apierrors.IsNotFound(err) {
			w.t.Fatal(err)
		}
		if err := w.c.Create(ctx, w.seal(w.recipients(), name, w.values(name), nil)); err != nil {
			w.t.Fatal(err)
		}
		return "re-create"
	case r < 8: // drift: values edited by hand
		var s corev1.Secret
		if err := w.c.Get(ctx, key, &s); err != nil {
			return "edit-missed"
		}
		drift := map[string][]byte{"password": []byte("edited by hand")}
		w.ledger.Accept(name, drift)
		s.Data = drift
		if err := w.c.Update(ctx, &s); err != nil && !apierrors.IsConflict(err) {
			w.t.Fatal(err)
		}
		return "drift-edit"
	default: // drift: the Secret deleted by hand
		w.obs.allowDelete(name)
		if err := w.c.Delete(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: name}}); err != nil && !apierrors.IsNotFound(err) {
			w.t.Fatal(err)
		}
		return "drift-delete"
	}
}

// recordRSS appends the RSS samples to the results file.
func recordRSS(t *testing.T, samples []string) {
	t.Helper()
	if *results == "" {
		return
	}
	appendResults(t, "\nSoak: controller RSS over time (elapsed since the load was created, RSS): "+strings.Join(samples, "; ")+"\n\n")
}

// Scenario 7, its regression case: a SealedSecret deleted and created
// again before the garbage collector removed its Secret (envtest runs no
// garbage collector, so here it never does). The soak found SealedSecrets
// stuck there: the Secret, controlled by the deleted SealedSecret of the
// same name, was "never taken over" (SecretConflict); it is the new one's
// to take.
func TestRecreatedBeforeGarbageCollection(t *testing.T) {
	w := newWorld(t)
	w.settle(sizes().settled)
	ctx := context.Background()
	const name = "reborn"
	if err := w.c.Create(ctx, w.seal(w.recipients(), name, w.values(name), nil)); err != nil {
		t.Fatal(err)
	}
	w.run(1)
	w.waitReady(2 * time.Minute)
	if err := w.c.Delete(ctx, &v1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Namespace: w.appNS, Name: name}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := w.c.Create(ctx, w.seal(w.recipients(), name, w.values(name), nil)); err != nil {
		t.Fatal(err)
	}
	rec := w.waitReady(2 * time.Minute)
	var s corev1.Secret
	if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.appNS, Name: name}, &s); err != nil {
		t.Fatal(err)
	}
	var ss v1alpha1.SealedSecret
	if err := w.c.Get(ctx, client.ObjectKey{Namespace: w.appNS, Name: name}, &ss); err != nil {
		t.Fatal(err)
	}
	if !metav1.IsControlledBy(&s, &ss) {
		t.Errorf("Secret %s is controlled by %v, not by the new SealedSecret %s", name, metav1.GetControllerOf(&s), ss.UID)
	}
	finish(w, "7b re-created before GC", "SealedSecret deleted and created again with new values while its Secret (of the deleted one) remained", rec,
		fmt.Sprintf("the new SealedSecret took its Secret over in %s", time.Since(start).Round(100*time.Millisecond)))
}
