package keys

import (
	"errors"
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/clock"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/predicate"

	"github.com/sealkit/sealkit/pkg/keysecret"
)

// DefaultRotationPeriod is the key rotation period when Options leaves it
// zero: 30 days.
const DefaultRotationPeriod = 720 * time.Hour

// Options configure the key manager.
type Options struct {
	// Namespace is the controller namespace, where key Secrets and the
	// keyring ConfigMap live. Required.
	Namespace string
	// RotationPeriod is the age at which the active key is replaced;
	// zero means DefaultRotationPeriod.
	RotationPeriod time.Duration
	// Clock tells the time; nil means the real clock. When it also
	// implements clock.Clock (as k8s.io/utils/clock/testing.FakeClock does),
	// its timers schedule the periodic rotation, so tests can step time.
	Clock clock.PassiveClock
}

// RBAC of the key manager: key Secrets and the keyring ConfigMap in the
// controller namespace only. Keys are never deleted, so no delete verb here.
// The ConfigMap's update is limited to its name; create cannot be.
//
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch,namespace=sealkit-system
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=create,namespace=sealkit-system
// +kubebuilder:rbac:groups="",resources=configmaps,verbs=get;update;patch,resourceNames=sealkit-keyring,namespace=sealkit-system

// Setup registers the key machinery with mgr and returns the Store the
// reconciler opens values with. On every replica a controller loads the key
// Secrets of opts.Namespace (see [keysecret.IsKey]) into the store, so keys
// created, imported or relabelled while running are picked up at once. On
// the leader only, a key manager generates the first key, rotates (period,
// [keysecret.AnnotationRotate], compromised active key) and publishes the keyring
// ConfigMap. A readiness check "keys" fails until an active key is loaded.
func Setup(mgr ctrl.Manager, opts Options) (*Store, error) {
	if opts.Namespace == "" {
		return nil, errors.New("key options: namespace is required")
	}
	if opts.RotationPeriod < 0 {
		return nil, fmt.Errorf("key options: negative rotation period %s", opts.RotationPeriod)
	}
	if opts.RotationPeriod == 0 {
		opts.RotationPeriod = DefaultRotationPeriod
	}
	if opts.Clock == nil {
		opts.Clock = clock.RealClock{}
	}
	store := newStore()
	log := mgr.GetLogger().WithName("keys")

	loader := &keyLoader{client: mgr.GetClient(), namespace: opts.Namespace, store: store, log: log}
	err := ctrl.NewControllerManagedBy(mgr).
		Named("sealkit-keys").
		For(&corev1.Secret{}, builder.WithPredicates(isKeySecret(opts.Namespace))).
		// Every replica needs the keys (webhooks serve on all of them). A
		// process runs one key loader; tests run several managers, whose
		// loaders would otherwise trip the process-wide name check.
		WithOptions(controller.Options{
			NeedLeaderElection: ptr.To(false),
			SkipNameValidation: ptr.To(true),
		}).
		Complete(loader)
	if err != nil {
		return nil, fmt.Errorf("setting up key loader: %w", err)
	}

	m := &keyManager{
		client:    mgr.GetClient(),
		reader:    mgr.GetAPIReader(),
		namespace: opts.Namespace,
		period:    opts.RotationPeriod,
		clock:     opts.Clock,
		store:     store,
		log:       log.WithName("manager"),
	}
	if err := mgr.Add(m); err != nil {
		return nil, fmt.Errorf("adding key manager: %w", err)
	}
	if err := mgr.AddReadyzCheck("keys", store.readyCheck); err != nil {
		return nil, fmt.Errorf("adding keys readiness check: %w", err)
	}
	registerKeyMetrics(store, opts.Clock)
	return store, nil
}

// isKeySecret filters events down to key Secrets of the controller namespace,
// whatever else the manager's cache holds.
func isKeySecret(namespace string) predicate.Predicate {
	return predicate.NewPredicateFuncs(func(o client.Object) bool {
		return o.GetNamespace() == namespace && keysecret.IsKey(o)
	})
}
