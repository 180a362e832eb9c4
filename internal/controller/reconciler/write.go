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
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/sealkit/sealkit/internal/controller/secretcache"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// writeSecret creates, updates or replaces the Secret. Nothing is written
// unless every value opened, and an existing Secret is never lost: it is
// read in full before it is written over, and replaced only once the API
// server has accepted its replacement in a dry-run.
func (r *Reconciler) writeSecret(ctx context.Context, o *outcome) (bool, error) {
	mac := dataMAC(identityByID(o.ids, o.keyIDs[0]), secretcache.DataDigest(o.data))
	want := r.desired(o.ss, o.data, o.keyIDs, mac)
	if o.secret == nil {
		if err := r.setOwner(o, want, nil); err != nil {
			return false, err
		}
		err := r.client.Create(ctx, want)
		if err == nil {
			return o.wrote("create"), nil
		}
		if !apierrors.IsAlreadyExists(err) {
			return r.rejected(o, "create", err, "")
		}
		// Not in the cache, yet there: most likely someone else's Secret
		// (unlabelled, so not cached).
		o.secret = &corev1.Secret{}
	}
	// The cache holds a summary: read the Secret whole, so that nothing of
	// it (finalizers, other owners) is lost in the write.
	existing := &corev1.Secret{}
	if err := r.reader.Get(ctx, client.ObjectKeyFromObject(want), existing); err != nil {
		if apierrors.IsNotFound(err) {
			return false, errors.New("the Secret was deleted while being written; trying again")
		}
		return false, fmt.Errorf("reading existing Secret: %w", err)
	}
	o.secret = existing
	if !metav1.IsControlledBy(existing, o.ss) {
		if done, err := r.judgeForeign(ctx, o); done || err != nil {
			return done, err
		}
	}
	if err := r.setOwner(o, want, existing); err != nil {
		return false, err
	}
	if needsReplace(existing, want) {
		return r.replace(ctx, o, existing, want)
	}
	want.ResourceVersion = existing.ResourceVersion
	want.Finalizers = existing.Finalizers
	if err := r.client.Update(ctx, want); err != nil {
		return r.rejected(o, "update", err, "")
	}
	return o.wrote("update"), nil
}

// replace deletes existing and creates want in its place: an immutable
// Secret keeps its data, and no Secret changes its type. The replacement is
// first submitted as a server-side dry-run (under a generated name: the old
// Secret still holds the real one), so that a Secret the API server would
// refuse (validation, admission, quota) never costs the one in place. Should
// the create still fail, the old Secret is put back.
func (r *Reconciler) replace(ctx context.Context, o *outcome, existing, want *corev1.Secret) (bool, error) {
	probe := want.DeepCopy()
	probe.Name, probe.GenerateName = "", checkName(want.Name)
	if err := r.client.Create(ctx, probe, client.DryRunAll); err != nil {
		return r.rejected(o, "replace", err, "")
	}
	uid, rv := existing.UID, existing.ResourceVersion
	pre := client.Preconditions{UID: &uid, ResourceVersion: &rv}
	if err := r.client.Delete(ctx, existing, pre); err != nil && !apierrors.IsNotFound(err) {
		return false, fmt.Errorf("deleting Secret to replace it: %s", describeRefusal(err))
	}
	err := r.client.Create(ctx, want)
	if err == nil {
		return o.wrote("replace"), nil
	}
	old := existing.DeepCopy()
	old.ResourceVersion, old.UID, old.CreationTimestamp, old.ManagedFields = "", "", metav1.Time{}, nil
	old.DeletionTimestamp, old.DeletionGracePeriodSeconds, old.Generation = nil, nil, 0
	if rerr := r.client.Create(ctx, old); rerr != nil {
		return r.rejected(o, "replace", err, "; putting the previous Secret back failed too: "+describeRefusal(rerr))
	}
	return r.rejected(o, "replace", err, "; the previous Secret was put back")
}

// checkName is the generateName of a replacement's dry-run: the name, cut
// so that the generated suffix fits.
func checkName(name string) string {
	const suffix = "-"
	limit := validation.DNS1123SubdomainMaxLength - 5 - len(suffix) // generateName adds 5 characters
	return strings.TrimRight(name[:min(len(name), limit)], "-.") + suffix
}

// rejected records that the API server refused a write of the Secret. An
// invalid Secret is terminal (the SealedSecret must change); anything else
// (forbidden, quota, a webhook) is retried with backoff. The existing
// Secret, if any, is as it was.
func (r *Reconciler) rejected(o *outcome, op string, err error, extra string) (bool, error) {
	msg := fmt.Sprintf("the API server refused to %s Secret %s: %s%s", op, o.ss.Name, describeRefusal(err), extra)
	o.reason, o.message, o.keyIDs = v1alpha1.ReasonSecretRejected, msg, nil
	if apierrors.IsInvalid(err) {
		return true, reconcile.TerminalError(fmt.Errorf("%s", msg))
	}
	return false, fmt.Errorf("%s", msg)
}

// describeRefusal says why the API server refused a write without quoting
// what a third party may have put in the message (an admission webhook or
// policy could echo a value): the status reason, the fields it names, and
// the server's own message only for RBAC and quota refusals.
func describeRefusal(err error) string {
	status, ok := err.(apierrors.APIStatus)
	if !ok {
		return "the request failed"
	}
	s := status.Status()
	parts := []string{string(s.Reason)}
	if s.Reason == "" {
		parts[0] = fmt.Sprintf("status %d", s.Code)
	}
	if s.Details != nil {
		for i, c := range s.Details.Causes {
			if i == 3 {
				parts = append(parts, fmt.Sprintf("and %d more", len(s.Details.Causes)-3))
				break
			}
			parts = append(parts, fmt.Sprintf("%s %s", c.Field, c.Type))
		}
	}
	if apierrors.IsForbidden(err) && (strings.Contains(s.Message, " cannot ") || strings.Contains(s.Message, "exceeded quota")) {
		parts = append(parts, s.Message)
	}
	return strings.Join(parts, ": ")
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

func joinComma(ids []string) string { return strings.Join(ids, ",") }
