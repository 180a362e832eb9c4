package reconciler

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"strings"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// unseal opens every value of the SealedSecret, which Reconcile has read in
// full.
func (r *Reconciler) unseal(_ context.Context, o *outcome) (bool, error) {
	o.attempts = true
	decryptOps.Add(float64(len(o.ss.Spec.EncryptedData)))
	s, opened, err := sealed.Unseal(o.ss, o.ids)
	if err != nil {
		return o.fail(reasonFor(err), err.Error())
	}
	o.data = s.Data
	// opened is sorted and unique, and nothing before this step set keyIDs.
	o.keyIDs = make([]string, len(opened))
	for i, id := range opened {
		o.keyIDs[i] = string(id)
	}
	return false, nil
}

// reasonFor maps an opening error to the Ready reason.
func reasonFor(err error) string {
	var mismatch *crypto.FrameMismatchError
	var noKey *crypto.NoKeyMatchError
	switch {
	case errors.As(err, &mismatch):
		return v1alpha1.ReasonScopeMismatch
	case errors.As(err, &noKey):
		return v1alpha1.ReasonNoKey
	default:
		return v1alpha1.ReasonDecryptFailed
	}
}

// writeSecret creates, updates or replaces the Secret. Nothing is written
// unless every value opened, so a failure leaves the Secret as it was.
func (r *Reconciler) writeSecret(ctx context.Context, o *outcome) (bool, error) {
	mac := dataMAC(identityByID(o.ids, o.keyIDs[0]), o.data)
	want := r.desired(o.ss, o.data, o.keyIDs, mac)
	existing := o.secret
	if existing == nil {
		if err := r.setOwner(o, want, nil); err != nil {
			return false, err
		}
		err := r.client.Create(ctx, want)
		if err == nil {
			return o.wrote("create"), nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return false, fmt.Errorf("creating Secret: %w", err)
		}
		// Not in the cache, yet there: most likely a Secret of someone else
		// (unlabelled, so not cached). Ask the API server.
		existing = &corev1.Secret{}
		if err := r.reader.Get(ctx, client.ObjectKeyFromObject(want), existing); err != nil {
			return false, fmt.Errorf("reading existing Secret: %w", err)
		}
		o.secret = existing
		if !metav1.IsControlledBy(existing, o.ss) {
			o.foreign = true
			if done, err := r.conflict(o); done || err != nil {
				return done, err
			}
		}
	}
	if err := r.setOwner(o, want, existing); err != nil {
		return false, err
	}
	if needsReplace(existing, want) {
		uid, rv := existing.UID, existing.ResourceVersion
		pre := client.Preconditions{UID: &uid, ResourceVersion: &rv}
		if err := r.client.Delete(ctx, existing, pre); err != nil && !apierrors.IsNotFound(err) {
			return false, fmt.Errorf("deleting immutable Secret to replace it: %w", err)
		}
		if err := r.client.Create(ctx, want); err != nil {
			return false, fmt.Errorf("re-creating Secret: %w", err)
		}
		return o.wrote("replace"), nil
	}
	want.ResourceVersion = existing.ResourceVersion
	want.Finalizers = existing.Finalizers
	if err := r.client.Update(ctx, want); err != nil {
		return false, fmt.Errorf("updating Secret: %w", err)
	}
	return o.wrote("update"), nil
}

// setOwner makes the SealedSecret the Secret's controller, keeping the
// other (non-controller) owners an existing Secret had.
func (r *Reconciler) setOwner(o *outcome, want, existing *corev1.Secret) error {
	want.OwnerReferences = nil
	if existing != nil {
		for _, ref := range existing.OwnerReferences {
			if !ptr.Deref(ref.Controller, false) {
				want.OwnerReferences = append(want.OwnerReferences, ref)
			}
		}
	}
	if err := ctrl.SetControllerReference(o.ss, want, r.scheme); err != nil {
		return fmt.Errorf("setting owner of Secret: %w", err)
	}
	return nil
}

func (o *outcome) wrote(op string) bool {
	o.write = op
	o.reason = v1alpha1.ReasonUnsealed
	o.message = unsealedMessage(o.ss, o.keyIDs)
	secretWrites.WithLabelValues(op).Inc()
	return true
}

// needsReplace reports whether want cannot be written over existing:
// immutable Secrets keep their data, and no Secret changes its type.
func needsReplace(existing, want *corev1.Secret) bool {
	if existing.Type != want.Type {
		return true
	}
	if !ptr.Deref(existing.Immutable, false) {
		return false
	}
	return !ptr.Deref(want.Immutable, false) || !maps.EqualFunc(existing.Data, want.Data, bytes.Equal)
}

// desired is the Secret made from ss: template metadata, our label and
// bookkeeping annotations, the opened data.
func (r *Reconciler) desired(ss *v1alpha1.SealedSecret, data map[string][]byte, keyIDs []string, mac string) *corev1.Secret {
	t := ss.Spec.Template
	labels := maps.Clone(t.Metadata.Labels)
	if labels == nil {
		labels = map[string]string{}
	}
	labels[v1alpha1.LabelManagedBy] = v1alpha1.ManagedByController
	annotations := maps.Clone(t.Metadata.Annotations)
	if annotations == nil {
		annotations = map[string]string{}
	}
	annotations[AnnotationSourceHash] = sourceHash(ss, keyIDs)
	annotations[AnnotationKeyIDs] = joinComma(keyIDs)
	if mac != "" {
		annotations[AnnotationDataMAC] = mac
	}
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:        ss.Name,
			Namespace:   ss.Namespace,
			Labels:      labels,
			Annotations: annotations,
		},
		Type: orDefault(t.Type, corev1.SecretTypeOpaque),
		Data: data,
	}
	if ptr.Deref(t.Immutable, false) {
		s.Immutable = ptr.To(true)
	}
	return s
}

// metadataMatches reports whether s has the labels, annotations, type and
// mutability of want (the data MAC aside, checked by the caller).
func metadataMatches(s, want *corev1.Secret) bool {
	got := maps.Clone(s.Annotations)
	delete(got, AnnotationDataMAC)
	return maps.Equal(s.Labels, want.Labels) && maps.Equal(got, want.Annotations) &&
		s.Type == want.Type && ptr.Deref(s.Immutable, false) == ptr.Deref(want.Immutable, false)
}

func joinComma(ids []string) string { return strings.Join(ids, ",") }
