package reconciler

import (
	"context"
	"slices"
	"sync"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller/priorityqueue"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// Page sizes of the prefetch. A list response is held whole, so pages are
// bounded by bytes, not only by count: the first page is small, and the
// next ones are sized from the objects seen so far to fit half the byte
// budget (a typical object is about 13 KB with five post-quantum sealed
// values, so a page is prefetchPage objects; a maximal one is over 1 MiB).
const (
	prefetchPage      = 100
	prefetchFirstPage = 10
)

// prefetchPriority is the queue priority of prefetched objects: above
// everything else (events have priority 0 or below), so that workers take
// them while they are held.
const prefetchPriority = 10

// prefetch reads the SealedSecrets a starting controller must look at in
// pages instead of one GET each: the cache holds their metadata only, and at
// start every one of them is reconciled. The objects the cache knows at
// start are pending; a reconcile of a pending object ends at once, and its
// page, when read, queues it again (at a priority above events) with the
// object. A reconcile takes a prefetched object once, and only if it is the
// very version the cache shows. Anything else (an object created or changed
// since) is read with a GET, as it always is after start.
type prefetch struct {
	reader client.Reader
	cache  client.Reader
	keys   KeySource
	budget int64 // bytes of objects held at most (one page may exceed it alone)

	mu      sync.Mutex
	pending map[types.NamespacedName]bool // known at start, page not read yet; nil once the listing ended
	objs    map[types.NamespacedName]*v1alpha1.SealedSecret
	held    int64 // bytes of objs
	seen    int64 // bytes and count of every object read, for page sizes
	seenN   int64
	taken   chan struct{}
	// ready is closed once pending is known (or the listing ended): until
	// then, reconciles wait.
	ready     chan struct{}
	readyOnce sync.Once
}

func newPrefetch(reader, cache client.Reader, keys KeySource, budget int64) *prefetch {
	return &prefetch{
		reader: reader, cache: cache, keys: keys, budget: budget,
		objs:  map[types.NamespacedName]*v1alpha1.SealedSecret{},
		taken: make(chan struct{}, 1),
		ready: make(chan struct{}),
	}
}

// take returns the prefetched SealedSecret of key, once, or nil; later is
// true while key's page is still to be read: the reconcile should end, the
// page will queue it again.
func (p *prefetch) take(ctx context.Context, key types.NamespacedName) (ss *v1alpha1.SealedSecret, later bool) {
	select {
	case <-p.ready:
	case <-ctx.Done():
		return nil, false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ss, ok := p.objs[key]
	if !ok {
		return nil, p.pending[key]
	}
	delete(p.objs, key)
	p.held -= objectSize(ss)
	select {
	case p.taken <- struct{}{}:
	default:
	}
	return ss, false
}

// run lists, namespace by namespace, the SealedSecrets the cache knows of,
// in pages, and enqueues each page once there is room for it. It gives up
// quietly on an error: reconciles then read objects one by one.
func (p *prefetch) run(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request], keysChanged <-chan struct{}) {
	defer p.end(q)
	log := ctrl.LoggerFrom(ctx).WithName("prefetch")
	// A reconcile without keys only waits for them: do not spend the
	// objects on it.
	for len(p.keys.Identities()) == 0 {
		select {
		case <-ctx.Done():
			return
		case <-keysChanged:
		}
	}
	items, err := cachedSealedSecrets(ctx, p.cache)
	if err != nil {
		log.Error(err, "listing SealedSecrets from the cache")
		return
	}
	pending := make(map[types.NamespacedName]bool, len(items))
	var namespaces []string
	for i := range items {
		m := &items[i]
		pending[client.ObjectKeyFromObject(m)] = true
		namespaces = append(namespaces, m.Namespace)
	}
	slices.Sort(namespaces)
	namespaces = slices.Compact(namespaces)
	p.mu.Lock()
	p.pending = pending
	p.mu.Unlock()
	p.readyOnce.Do(func() { close(p.ready) })

	n := 0
	for _, ns := range namespaces {
		cont := ""
		for {
			list := &v1alpha1.SealedSecretList{}
			if err := p.reader.List(ctx, list, client.InNamespace(ns), client.Limit(p.pageLimit()), client.Continue(cont)); err != nil {
				log.Error(err, "listing SealedSecrets; reading them one by one instead", "namespace", ns)
				return
			}
			if !p.put(ctx, list.Items, q) {
				return
			}
			n += len(list.Items)
			if cont = list.Continue; cont == "" {
				break
			}
		}
	}
	log.V(1).Info("prefetched", "sealedSecrets", n, "namespaces", len(namespaces))
}

// pageLimit is how many objects the next page may hold: a small first
// page, then as many as fit half the budget at the average size seen.
func (p *prefetch) pageLimit() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seenN == 0 {
		return prefetchFirstPage
	}
	return max(1, min(prefetchPage, p.budget/2/max(1, p.seen/p.seenN)))
}

// put waits until the page fits the budget beside what is held (or nothing
// is held), then holds the pending items and enqueues them.
func (p *prefetch) put(ctx context.Context, items []v1alpha1.SealedSecret, q workqueue.TypedRateLimitingInterface[reconcile.Request]) bool {
	var size int64
	for i := range items {
		size += objectSize(&items[i])
	}
	p.mu.Lock()
	p.seen, p.seenN = p.seen+size, p.seenN+int64(len(items))
	p.mu.Unlock()
	for {
		p.mu.Lock()
		held := p.held
		p.mu.Unlock()
		if held == 0 || held+size <= p.budget {
			break
		}
		select {
		case <-ctx.Done():
			return false
		case <-p.taken:
		}
	}
	reqs := make([]reconcile.Request, 0, len(items))
	p.mu.Lock()
	for i := range items {
		key := client.ObjectKeyFromObject(&items[i])
		if !p.pending[key] {
			continue // created since start: its own event brings it
		}
		delete(p.pending, key)
		p.objs[key] = &items[i]
		p.held += objectSize(&items[i])
		reqs = append(reqs, reconcile.Request{NamespacedName: key})
	}
	p.mu.Unlock()
	if pq, ok := q.(priorityqueue.PriorityQueue[reconcile.Request]); ok {
		pq.AddWithOpts(priorityqueue.AddOpts{Priority: ptr.To(prefetchPriority)}, reqs...)
	} else {
		for _, req := range reqs {
			q.Add(req)
		}
	}
	return true
}

// end queues the objects still pending, whose reconciles were put off for a
// page that will not come (an error; objects deleted since start), and lets
// reconciles read alone from now on. Objects still held are taken by the
// reconciles already queued for them.
func (p *prefetch) end(q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	p.mu.Lock()
	left := p.pending
	p.pending = nil
	p.mu.Unlock()
	p.readyOnce.Do(func() { close(p.ready) })
	for key := range left {
		q.Add(reconcile.Request{NamespacedName: key})
	}
}
