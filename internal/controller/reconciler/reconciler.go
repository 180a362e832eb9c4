package reconciler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"golang.org/x/sync/semaphore"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// DefaultConcurrency is the number of reconcile workers when Options leaves
// it zero. A reconcile mostly waits on its two writes (~50 ms each under
// load), so it takes 32 workers, not 16, for the client's QPS limit rather
// than the workers to bound throughput.
const DefaultConcurrency = 32

// DefaultMemoryBudget bounds the bytes that SealedSecrets being opened and
// written may hold at once, and, a quarter of it, those read ahead at
// start (see [Options.MemoryBudget]): with the caches, the client's buffers
// and the garbage collector's headroom, it keeps the controller under the
// Deployment's 256 MiB limit whatever the size and number of SealedSecrets
// one tenant creates (test/e2e TestMemoryBoundedByMaximalObjects).
const DefaultMemoryBudget = 64 << 20

// Options configure [Setup].
type Options struct {
	// Concurrency is the number of reconcile workers; zero means
	// DefaultConcurrency.
	Concurrency int
	// ConflictRetry is how soon a SealedSecret blocked by a foreign Secret
	// is looked at again (foreign Secrets are not watched); zero means a
	// minute.
	ConflictRetry time.Duration
	// NoKeysRetry is how soon a SealedSecret is looked at again while no
	// key is loaded yet; zero means five seconds.
	NoKeysRetry time.Duration
	// Policy is the tenant boundary: what a SealedSecret may make the
	// controller write. Its ControllerNamespace is required.
	Policy policy.Policy
	// MemoryBudget bounds the bytes of SealedSecrets opened at once, and of
	// those read in pages at start; zero means DefaultMemoryBudget.
	MemoryBudget int64
}

// KeySource is what the reconciler needs of the key store
// (internal/controller/keys).
type KeySource interface {
	// Identities are the keys that may open values: compromised ones
	// last, so that a value opens with one only if no other key opens it.
	Identities() []*crypto.Identity
	// State is the effective state of a key loaded.
	State(crypto.KeyID) keyring.State
	Subscribe() <-chan struct{}
}

// Reconciler turns a SealedSecret into its Secret.
type Reconciler struct {
	client   client.Client
	reader   client.Reader // uncached: full SealedSecrets, full Secrets
	scheme   *runtime.Scheme
	recorder recorder.EventRecorder
	keys     KeySource
	usage    *keyUsage
	prefetch *prefetch
	memory   *semaphore.Weighted
	budget   int64
	opts     Options
}

// outcome is what one reconcile found and did; the deferred status patch,
// metrics and event are made from it.
type outcome struct {
	ss       *v1alpha1.SealedSecret // read in full from the API server
	secret   *corev1.Secret         // the existing Secret: cached summary, or read in full
	foreign  bool                   // secret is not controlled by ss
	ids      []*crypto.Identity
	keyIDs   []string
	data     map[string][]byte
	reason   string
	message  string
	write    string // "", "create", "update" or "replace"
	attempts bool   // values were opened (or tried): counts in sealkit_unseal_total
	// compromised are the keys marked compromised that some value opens
	// with only: the KeyCompromised condition.
	compromised []string
}

// RBAC of the reconciler (docs/operations.md explains each verb): it reads
// SealedSecrets and patches their status; on Secrets, list and watch feed
// the cache of those labelled managed-by, get reads one in full before it is
// written over or judged for adoption, create makes them (and checks a
// replacement as a dry-run), update writes new data over one it controls,
// and delete removes one it controls only to replace it (immutable, or a
// type change). Events tell of updates and failures.
//
// +kubebuilder:rbac:groups=sealkit.dev,resources=sealedsecrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=sealkit.dev,resources=sealedsecrets/status,verbs=get;patch
// +kubebuilder:rbac:groups=sealkit.dev,resources=sealedsecrets/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch,namespace=sealkit-system

// Reconcile makes the Secret of one SealedSecret, in steps: check the spec
// and the tenant policy, look at the existing Secret (intact and current:
// done, nothing decrypted; someone else's: adopted only with its owner's
// consent), open the values, write the Secret. A deferred patch records the
// outcome in the status, with metrics and, when something changed, an
// event.
func (r *Reconciler) Reconcile(ctx context.Context, req ctrl.Request) (res ctrl.Result, err error) {
	// The cache holds SealedSecrets' metadata only (ciphertexts are large):
	// it tells whether the object is there, and the object itself, spec and
	// status, is read once from the API server (at start, in pages).
	pre, later := r.prefetch.take(ctx, req.NamespacedName)
	if later {
		return ctrl.Result{}, nil // its page, being read, queues it again
	}
	// A SealedSecret that is gone no longer uses any key.
	gone := func(err error) (ctrl.Result, error) {
		if apierrors.IsNotFound(err) {
			r.usage.set(req.NamespacedName, nil, false)
		}
		return ctrl.Result{}, client.IgnoreNotFound(err)
	}
	m := sealedSecretMetadata()
	if err := r.client.Get(ctx, req.NamespacedName, m); err != nil {
		return gone(err)
	}
	if !m.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil // the garbage collector removes the Secret
	}
	ids := r.keys.Identities()
	if len(ids) == 0 {
		// Keys load right after start; judging now would mark everything NoKey.
		log.FromContext(ctx).V(1).Info("no keys loaded yet, waiting")
		return ctrl.Result{RequeueAfter: orDefault(r.opts.NoKeysRetry, 5*time.Second)}, nil
	}
	ss, err := r.readSealedSecret(ctx, req.NamespacedName, m, pre)
	if err != nil {
		return gone(err)
	}
	if !ss.DeletionTimestamp.IsZero() {
		return ctrl.Result{}, nil
	}
	// What one reconcile holds grows with the object; the budget bounds the
	// sum over the workers, so one tenant's maximal objects cannot exhaust
	// the controller's memory.
	weight := min(inFlightWeight(ss), r.budget)
	if err := r.memory.Acquire(ctx, weight); err != nil {
		return ctrl.Result{}, err
	}
	defer r.memory.Release(weight)

	o := &outcome{ss: ss, ids: ids}
	defer func() { res, err = r.finish(ctx, o, res, err) }()

	steps := []func(context.Context, *outcome) (done bool, err error){
		r.validate,
		r.observeSecret,
		r.unseal,
		r.writeSecret,
	}
	for _, step := range steps {
		done, err := step(ctx, o)
		if err != nil || done {
			return ctrl.Result{}, err
		}
	}
	return ctrl.Result{}, nil
}

// validate refuses specs that can never give a Secret, and what the tenant
// policy forbids, before anything is read or opened.
func (r *Reconciler) validate(_ context.Context, o *outcome) (bool, error) {
	if len(o.ss.Spec.EncryptedData) == 0 {
		return o.fail(v1alpha1.ReasonInvalidSpec, "spec.encryptedData is empty")
	}
	if o.ss.Spec.Scope != "" {
		if _, err := crypto.ParseScope(o.ss.Spec.Scope); err != nil {
			return o.fail(v1alpha1.ReasonInvalidSpec, "spec.scope must be strict, namespace or cluster")
		}
	}
	if v := r.opts.Policy.Check(o.ss); v != nil {
		return o.fail(v.Reason, v.Message)
	}
	return false, nil
}

// fail records a terminal failure: retrying cannot help until the
// SealedSecret or the keys change, and both trigger a reconcile.
func (o *outcome) fail(reason, msg string) (bool, error) {
	o.reason, o.message = reason, msg
	return true, reconcile.TerminalError(errors.New(msg))
}

// objectSize estimates the bytes ss holds in memory: its values, and a
// generous allowance for the rest (metadata, template, status).
func objectSize(ss *v1alpha1.SealedSecret) int64 {
	n := int64(4096)
	for k, v := range ss.Spec.EncryptedData {
		n += int64(len(k) + len(v))
	}
	return n
}

// inFlightWeight is what reconciling ss may hold at once, in bytes: the
// object, the values opened, the Secret built, its encoding in the request
// and the Secret in the response.
func inFlightWeight(ss *v1alpha1.SealedSecret) int64 { return 5 * objectSize(ss) }

// readSealedSecret returns the full SealedSecret: the prefetched copy when
// it is the version the cache shows, else read from the API server's watch
// cache (resourceVersion "0": no etcd read, no decoding there), which is at
// least as new as the event that brought us here when it is the same API
// server; a copy the informer has seen newer (another API server lagging)
// is read again from etcd.
func (r *Reconciler) readSealedSecret(ctx context.Context, key client.ObjectKey, seen *metav1.PartialObjectMetadata, pre *v1alpha1.SealedSecret) (*v1alpha1.SealedSecret, error) {
	if pre != nil && pre.UID == seen.UID && pre.ResourceVersion == seen.ResourceVersion {
		return pre, nil
	}
	ss := &v1alpha1.SealedSecret{}
	err := r.reader.Get(ctx, key, ss, &client.GetOptions{Raw: &metav1.GetOptions{ResourceVersion: "0"}})
	if err != nil && !apierrors.IsNotFound(err) {
		return nil, err
	}
	if err == nil && ss.UID == seen.UID && ss.Generation >= seen.Generation {
		return ss, nil
	}
	// Not found, another object of that name, or older than what the
	// informer saw: ask etcd.
	ss = &v1alpha1.SealedSecret{}
	if err := r.reader.Get(ctx, key, ss); err != nil {
		return nil, err
	}
	return ss, nil
}

// sealedSecretMetadata is an empty SealedSecret as the cache holds it:
// metadata only.
func sealedSecretMetadata() *metav1.PartialObjectMetadata {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("SealedSecret"))
	return m
}

// cachedSealedSecrets lists the metadata of every SealedSecret in cache.
// The items are the cache's own: read them, never change them.
func cachedSealedSecrets(ctx context.Context, cache client.Reader) ([]metav1.PartialObjectMetadata, error) {
	list := &metav1.PartialObjectMetadataList{}
	list.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("SealedSecretList"))
	err := cache.List(ctx, list, client.UnsafeDisableDeepCopy)
	return list.Items, err
}

func identityByID(ids []*crypto.Identity, keyID string) *crypto.Identity {
	for _, id := range ids {
		if string(id.KeyID()) == keyID {
			return id
		}
	}
	return nil
}

func unsealedMessage(ss *v1alpha1.SealedSecret, keyIDs []string) string {
	return fmt.Sprintf("Secret %s holds %d values opened with key(s) %s", ss.Name, len(ss.Spec.EncryptedData), joinComma(keyIDs))
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
