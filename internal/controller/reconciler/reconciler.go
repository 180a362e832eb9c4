package reconciler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

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
}

// DefaultConcurrency is the number of reconcile workers when Options leaves
// it zero. A reconcile mostly waits on its two writes (~50 ms each under
// load), so it takes 32 workers, not 16, for the client's QPS limit rather
// than the workers to bound throughput.
const DefaultConcurrency = 32

// KeySource is what the reconciler needs of the key store
// (internal/controller/keys).
type KeySource interface {
	Identities() []*crypto.Identity
	Subscribe() <-chan struct{}
}

// Reconciler turns a SealedSecret into its Secret.
type Reconciler struct {
	client   client.Client
	reader   client.Reader // uncached: full SealedSecrets, foreign Secrets
	scheme   *runtime.Scheme
	recorder recorder.EventRecorder
	keys     KeySource
	usage    *keyUsage
	prefetch *prefetch
	opts     Options
}

// outcome is what one reconcile found and did; the deferred status patch,
// metrics and event are made from it.
type outcome struct {
	ss       *v1alpha1.SealedSecret // read in full from the API server
	secret   *corev1.Secret         // the existing Secret, ours or foreign
	foreign  bool
	ids      []*crypto.Identity
	keyIDs   []string
	data     map[string][]byte
	reason   string
	message  string
	write    string // "", "create", "update" or "replace"
	attempts bool   // values were opened (or tried): counts in sealkit_unseal_total
}

// RBAC of the reconciler: SealedSecrets everywhere, Secrets everywhere (it
// creates, updates and, to replace an immutable one, deletes the Secrets it
// owns; conflicts are checked with a get), events.
//
// +kubebuilder:rbac:groups=sealkit.dev,resources=sealedsecrets,verbs=get;list;watch
// +kubebuilder:rbac:groups=sealkit.dev,resources=sealedsecrets/status,verbs=get;update;patch
// +kubebuilder:rbac:groups=sealkit.dev,resources=sealedsecrets/finalizers,verbs=update
// +kubebuilder:rbac:groups="",resources=secrets,verbs=get;list;watch;create;update;patch;delete
// +kubebuilder:rbac:groups="",resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=events.k8s.io,resources=events,verbs=create;patch
// +kubebuilder:rbac:groups=coordination.k8s.io,resources=leases,verbs=get;list;watch;create;update;patch,namespace=sealkit-system

// Reconcile makes the Secret of one SealedSecret, in steps: check the spec,
// look at the existing Secret (intact and current: done, nothing decrypted),
// open the values, write the Secret. A deferred patch records the outcome in
// the status, with metrics and, when something changed, an event.
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
			r.usage.set(req.NamespacedName, nil)
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

// validate refuses specs that can never give a Secret.
func (r *Reconciler) validate(_ context.Context, o *outcome) (bool, error) {
	if len(o.ss.Spec.EncryptedData) == 0 {
		return o.fail(v1alpha1.ReasonInvalidSpec, "spec.encryptedData is empty")
	}
	if o.ss.Spec.Scope != "" {
		if _, err := crypto.ParseScope(o.ss.Spec.Scope); err != nil {
			return o.fail(v1alpha1.ReasonInvalidSpec, fmt.Sprintf("spec.scope: %v", err))
		}
	}
	return false, nil
}

// fail records a terminal failure: retrying cannot help until the
// SealedSecret or the keys change, and both trigger a reconcile.
func (o *outcome) fail(reason, msg string) (bool, error) {
	o.reason, o.message = reason, msg
	return true, reconcile.TerminalError(errors.New(msg))
}

// observeSecret reads the existing Secret from the cache (only ours are
// there) and ends the reconcile when it is intact and current.
func (r *Reconciler) observeSecret(ctx context.Context, o *outcome) (bool, error) {
	s := &corev1.Secret{}
	err := r.client.Get(ctx, client.ObjectKeyFromObject(o.ss), s)
	if apierrors.IsNotFound(err) {
		return false, nil // or foreign and unlabelled: the create will tell
	}
	if err != nil {
		return false, fmt.Errorf("reading Secret: %w", err)
	}
	o.secret = s
	if !metav1.IsControlledBy(s, o.ss) {
		o.foreign = true
		return r.conflict(o)
	}
	if keyIDs, ok := r.current(o); ok {
		o.reason, o.keyIDs = v1alpha1.ReasonUnsealed, keyIDs
		o.message = unsealedMessage(o.ss, keyIDs)
		return true, nil
	}
	return false, nil
}

// conflict decides about a Secret that exists and is not ours.
func (r *Reconciler) conflict(o *outcome) (bool, error) {
	if o.ss.Annotations[v1alpha1.AnnotationOverwrite] == "true" {
		return false, nil
	}
	o.reason = v1alpha1.ReasonSecretConflict
	o.message = fmt.Sprintf("Secret %s exists and is not managed by this SealedSecret; annotate the SealedSecret %s=\"true\" to take it over",
		o.ss.Name, v1alpha1.AnnotationOverwrite)
	return true, nil
}

// current reports whether the existing Secret was made from this very
// SealedSecret with keys still loaded, and still holds what was written.
func (r *Reconciler) current(o *outcome) ([]string, bool) {
	s, ss := o.secret, o.ss
	keyIDs := splitKeyIDs(s.Annotations[AnnotationKeyIDs])
	if len(keyIDs) == 0 || s.Annotations[AnnotationSourceHash] != sourceHash(ss, keyIDs) {
		return nil, false
	}
	id := identityByID(o.ids, keyIDs[0])
	if id == nil || slices.ContainsFunc(keyIDs, func(k string) bool { return identityByID(o.ids, k) == nil }) {
		return nil, false // a key that opened it is gone: judge it again
	}
	if len(s.Data) != len(ss.Spec.EncryptedData) || s.Annotations[AnnotationDataMAC] != dataMAC(id, s.Data) {
		return nil, false
	}
	want := r.desired(o.ss, nil, keyIDs, "")
	return keyIDs, metadataMatches(s, want)
}

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
