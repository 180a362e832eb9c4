package reconciler

import (
	"context"
	"fmt"
	"slices"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/internal/controller/secretcache"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// observeSecret looks at the existing Secret and ends the reconcile when it
// is ours, intact and current (nothing is decrypted), or someone else's and
// not to be taken (nothing is decrypted either).
func (r *Reconciler) observeSecret(ctx context.Context, o *outcome) (bool, error) {
	s := &corev1.Secret{}
	err := r.client.Get(ctx, client.ObjectKeyFromObject(o.ss), s)
	switch {
	case apierrors.IsNotFound(err):
		// Only Secrets labelled managed-by are cached. One we were told
		// conflicts is looked at again before any work; any other comes
		// out when the Secret is created.
		if !r.wasConflict(o.ss) {
			return false, nil
		}
		s = &corev1.Secret{}
		if err := r.reader.Get(ctx, client.ObjectKeyFromObject(o.ss), s); err != nil {
			return false, client.IgnoreNotFound(err)
		}
	case err != nil:
		return false, fmt.Errorf("reading Secret: %w", err)
	}
	o.secret = s
	if !metav1.IsControlledBy(s, o.ss) {
		return r.judgeForeign(ctx, o)
	}
	if keyIDs, ok := r.current(o); ok {
		o.reason, o.keyIDs = v1alpha1.ReasonUnsealed, keyIDs
		o.message = unsealedMessage(o.ss, keyIDs)
		o.compromised = r.compromisedOf(keyIDs)
		return true, nil
	}
	return false, nil
}

func (r *Reconciler) wasConflict(ss *v1alpha1.SealedSecret) bool {
	c := meta.FindStatusCondition(ss.Status.Conditions, v1alpha1.ConditionReady)
	return c != nil && c.Reason == v1alpha1.ReasonSecretConflict
}

// judgeForeign decides about o.secret, which exists and is not controlled
// by o.ss: it is read in full (the cache may hold a summary, or nothing),
// and adopted only if its owner consented and no other controller holds
// it. It ends the reconcile unless the Secret is to be adopted.
func (r *Reconciler) judgeForeign(ctx context.Context, o *outcome) (bool, error) {
	if _, _, summary := secretcache.Digests(o.secret); summary || o.secret.ResourceVersion == "" {
		full := &corev1.Secret{}
		if err := r.reader.Get(ctx, client.ObjectKeyFromObject(o.ss), full); err != nil {
			if apierrors.IsNotFound(err) {
				o.secret = nil
				return false, nil // gone meanwhile: the create will tell
			}
			return false, fmt.Errorf("reading Secret: %w", err)
		}
		o.secret = full
	}
	if metav1.IsControlledBy(o.secret, o.ss) {
		return false, nil
	}
	o.foreign = true
	if v := r.opts.Policy.CheckExisting(o.secret); v != nil {
		return o.fail(v.Reason, v.Message)
	}
	switch how, msg := policy.Adoptable(o.ss, o.secret); how {
	case policy.Refused:
		o.reason, o.message = v1alpha1.ReasonSecretConflict, msg
		return true, nil
	case policy.FromEarlier:
		// Only the live SealedSecret of this name takes it: a deleted one
		// read late would take its successor's Secret.
		live := sealedSecretMetadata()
		if err := r.reader.Get(ctx, client.ObjectKeyFromObject(o.ss), live); err != nil || live.UID != o.ss.UID {
			return true, client.IgnoreNotFound(err)
		}
	}
	return false, nil
}

// current reports whether the existing Secret, ours, was made from this
// very SealedSecret with keys still loaded, and still holds what was
// written: its bookkeeping annotations and the digests the cache keeps of
// its data and metadata must all agree with what this reconcile would
// write.
func (r *Reconciler) current(o *outcome) ([]string, bool) {
	s, ss := o.secret, o.ss
	dataDigest, metaDigest, ok := secretcache.Digests(s)
	if !ok {
		// Kept whole (the controller's own namespace): digest it here.
		dataDigest, metaDigest = secretcache.DataDigest(s.Data), secretcache.MetadataDigest(s.Labels, s.Annotations)
	}
	keyIDs := splitKeyIDs(s.Annotations[AnnotationKeyIDs])
	if len(keyIDs) == 0 || s.Annotations[AnnotationSourceHash] != sourceHash(ss, keyIDs) {
		return nil, false
	}
	id := identityByID(o.ids, keyIDs[0])
	if id == nil || slices.ContainsFunc(keyIDs, func(k string) bool { return identityByID(o.ids, k) == nil }) {
		return nil, false // a key that opened it is gone: judge it again
	}
	if s.Annotations[AnnotationDataMAC] != dataMAC(id, dataDigest) {
		return nil, false
	}
	want := r.desired(o.ss, nil, keyIDs, "")
	return keyIDs, metaDigest == secretcache.MetadataDigest(want.Labels, want.Annotations) &&
		s.Type == want.Type && ptr.Deref(s.Immutable, false) == ptr.Deref(want.Immutable, false)
}

// compromisedOf returns the keys of keyIDs marked compromised.
func (r *Reconciler) compromisedOf(keyIDs []string) []string {
	var out []string
	for _, id := range keyIDs {
		if r.keys.State(crypto.KeyID(id)) == keyring.StateCompromised {
			out = append(out, id)
		}
	}
	return out
}
