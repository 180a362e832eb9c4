package faults

import (
	"context"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/tools/cache"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// observer watches the tenant namespace's Secrets for the whole scenario,
// through every restart (an informer relists when its watch expires), and
// counts what the end state cannot show: a Secret of ours that held, even
// for a moment, data that is no version the test sealed or wrote, Secrets
// deleted by someone other than the test, and writes per Secret.
type observer struct {
	mu      sync.Mutex
	bad     []string          // "name: what"
	creates map[string]int    // ADDED events per Secret of ours
	writes  map[string]int    // resourceVersions seen per Secret of ours
	deletes map[string]int    // deletions seen per Secret of ours
	allowed map[string]int    // deletions the test made or expects (replacements)
	last    map[string]string // last resourceVersion seen
}

func observe(t *testing.T, w *world) *observer {
	t.Helper()
	o := &observer{creates: map[string]int{}, writes: map[string]int{}, deletes: map[string]int{},
		allowed: map[string]int{}, last: map[string]string{}}
	f := informers.NewSharedInformerFactoryWithOptions(w.cs, 0, informers.WithNamespace(w.appNS))
	inf := f.Core().V1().Secrets().Informer()
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    func(obj any) { o.seen(w, obj, true) },
		UpdateFunc: func(_, obj any) { o.seen(w, obj, false) },
		DeleteFunc: func(obj any) {
			if d, ok := obj.(cache.DeletedFinalStateUnknown); ok {
				obj = d.Obj
			}
			if s, ok := obj.(*corev1.Secret); ok && ours(s) {
				o.mu.Lock()
				o.deletes[s.Name]++
				o.mu.Unlock()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	f.Start(ctx.Done())
	t.Cleanup(func() { cancel(); f.Shutdown() })
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		t.Fatal("observer: informer did not sync")
	}
	return o
}

// ours: a Secret a SealedSecret controls.
func ours(s *corev1.Secret) bool {
	ref := metav1.GetControllerOf(s)
	return ref != nil && ref.Kind == "SealedSecret" && s.Labels[v1alpha1.LabelManagedBy] == v1alpha1.ManagedByController
}

func (o *observer) seen(w *world, obj any, added bool) {
	s, ok := obj.(*corev1.Secret)
	if !ok || !ours(s) {
		return
	}
	okData := w.ledger.Accepts(s.Name, s.Data)
	o.mu.Lock()
	defer o.mu.Unlock()
	if !okData {
		o.bad = append(o.bad, s.Name+": held data the test never sealed")
	}
	if added {
		o.creates[s.Name]++
	}
	if o.last[s.Name] != s.ResourceVersion {
		o.writes[s.Name]++
		o.last[s.Name] = s.ResourceVersion
	}
}

// allowDelete records that name's Secret may be deleted once more: the
// test deletes it, or the controller replaces it.
func (o *observer) allowDelete(name string) {
	o.mu.Lock()
	o.allowed[name]++
	o.mu.Unlock()
}

// stats are the totals: Secrets of ours created (counting re-creations)
// and written.
func (o *observer) stats() (creates, writes int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range o.creates {
		creates += n
	}
	for _, n := range o.writes {
		writes += n
	}
	return creates, writes
}

// check fails the test for every moment a Secret of ours was wrong or was
// deleted without the test allowing it.
func (o *observer) check(w *world) {
	w.t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, b := range o.bad {
		w.t.Errorf("observed: %s", b)
	}
	for name, n := range o.deletes {
		if n > o.allowed[name] {
			w.t.Errorf("observed: Secret %s deleted %d times, %d allowed", name, n, o.allowed[name])
		}
	}
	for name, n := range o.creates {
		if n > 1+o.allowed[name] {
			w.t.Errorf("observed: Secret %s created %d times", name, n)
		}
	}
}
