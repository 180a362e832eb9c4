package reconciler

import (
	"context"
	"errors"

	"golang.org/x/sync/semaphore"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/util/workqueue"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/event"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/source"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// Setup registers the SealedSecret reconciler with mgr. It runs on
// the leader only, opens values with the identities of keys, heals drift of
// the Secrets it owns, and looks again at SealedSecrets that a key change may
// affect.
func Setup(mgr ctrl.Manager, keys KeySource, opts Options) error {
	_, err := setup(mgr, keys, opts)
	return err
}

func setup(mgr ctrl.Manager, keys KeySource, opts Options) (*Reconciler, error) {
	if opts.Policy.ControllerNamespace == "" {
		return nil, errors.New("reconciler options: the policy's controller namespace is required")
	}
	r := &Reconciler{
		client:   mgr.GetClient(),
		reader:   mgr.GetAPIReader(),
		scheme:   mgr.GetScheme(),
		recorder: mgr.GetEventRecorder("seal-controller"),
		keys:     keys,
		usage:    newKeyUsage(),
		opts:     opts,
	}
	r.budget = orDefault(opts.MemoryBudget, DefaultMemoryBudget)
	r.memory = semaphore.NewWeighted(r.budget)
	// Pages read at start get a quarter of the budget: what is held
	// waiting for a worker is on top of what the workers hold.
	r.prefetch = newPrefetch(mgr.GetAPIReader(), mgr.GetClient(), keys, r.budget/4)
	registerReconcilerMetrics(r.usage)
	// Subscribed now, so that no change is missed before start.
	changed, loaded := keys.Subscribe(), keys.Subscribe()
	return r, ctrl.NewControllerManagedBy(mgr).
		Named("sealedsecret").
		// Status-only updates (our own patches) need no reconcile.
		// Metadata only: ten thousand SealedSecrets of post-quantum
		// ciphertexts are over a hundred MiB to list, decode and watch; the
		// reconciler reads each one in full when it looks at it.
		For(&v1alpha1.SealedSecret{}, builder.OnlyMetadata, builder.WithPredicates(
			predicate.Or(predicate.GenerationChangedPredicate{}, predicate.AnnotationChangedPredicate{}))).
		// Drift is an update or a delete of a Secret we own. Its creation
		// is our own write (or, at start, comes with its SealedSecret,
		// enqueued by For anyway): reconciling it again would only repeat
		// the work against a cache that may not show the status yet.
		Owns(&corev1.Secret{}, builder.WithPredicates(predicate.Funcs{
			CreateFunc: func(event.CreateEvent) bool { return false },
		})).
		WatchesRawSource(source.Func(func(ctx context.Context, q workqueue.TypedRateLimitingInterface[reconcile.Request]) error {
			go r.watchKeys(ctx, changed, q)
			go r.prefetch.run(ctx, q, loaded)
			return nil
		})).
		WithOptions(controller.Options{MaxConcurrentReconciles: orDefault(opts.Concurrency, DefaultConcurrency)}).
		Complete(r)
}

// watchKeys enqueues, on every key change, the SealedSecrets it may
// concern: those not Ready (a new or imported key may open them), those
// opened by a key no longer loaded (retired), and those whose
// KeyCompromised warning a state change makes wrong.
func (r *Reconciler) watchKeys(ctx context.Context, changed <-chan struct{}, q workqueue.TypedRateLimitingInterface[reconcile.Request]) {
	log := ctrl.LoggerFrom(ctx).WithName("key-changes")
	// The first signal is the keys' first load: every SealedSecret is queued
	// at start anyway (by the informer and the start-up pages), and queuing
	// them again would only have each looked at twice.
	select {
	case <-ctx.Done():
		return
	case <-changed:
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
		items, err := cachedSealedSecrets(ctx, r.client)
		if err != nil {
			log.Error(err, "listing SealedSecrets after a key change")
			continue
		}
		n := 0
		for i := range items {
			nn := client.ObjectKeyFromObject(&items[i])
			if r.usage.affectedByKeys(nn, r.keys.State) {
				q.Add(reconcile.Request{NamespacedName: nn})
				n++
			}
		}
		log.V(1).Info("keys changed", "enqueued", n)
	}
}
