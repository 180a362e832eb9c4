package migrate

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// BitnamiGVK is the group, version and kind of Bitnami's SealedSecret.
var BitnamiGVK = schema.GroupVersionKind{Group: "bitnami.com", Version: "v1alpha1", Kind: bitnami.Kind}

// Outcome is what [HandOver] did.
type Outcome string

const (
	// HandedOver means the Secret was marked for adoption and the Bitnami
	// SealedSecret deleted, leaving the Secret in place.
	HandedOver Outcome = "handed over"
	// NoSecret means there was no Secret to hand over; the Bitnami
	// SealedSecret was deleted, and seal-controller will create the Secret.
	NoSecret Outcome = "no secret"
	// NoBitnami means there is no Bitnami SealedSecret of that name:
	// nothing to do.
	NoBitnami Outcome = "no bitnami sealedsecret"
)

// HandOverOptions tune [HandOver].
type HandOverOptions struct {
	// Wait bounds how long HandOver waits for the garbage collector to
	// finish an orphan deletion; zero means a minute.
	Wait time.Duration
	// Poll is how often it looks; zero means 200ms.
	Poll time.Duration
}

// HandOver hands the Secret namespace/name over from the Bitnami
// SealedSecret of the same name to seal-controller, with c acting as the
// caller (whose RBAC applies: get and delete Bitnami SealedSecrets, get and
// patch Secrets), without the Secret ever disappearing:
//
//  1. The Secret must be controlled by that very Bitnami SealedSecret (its
//     controller reference names the object's UID); any other Secret is
//     never touched. The caller, as a writer of the Secret, marks it with
//     the consent annotation [v1alpha1.AnnotationManaged].
//  2. The Bitnami SealedSecret is deleted with orphan propagation: the
//     garbage collector removes the owner reference from the Secret
//     instead of deleting it, then removes the SealedSecret.
//  3. Once it is gone, the Secret is checked: same UID, marked, and no
//     reference to the deleted owner left (a dangling one would make the
//     garbage collector delete it; HandOver removes it as the collector
//     would have).
//
// seal-controller then adopts the Secret for the sealkit SealedSecret of
// the same name, whenever that is applied. Each write carries the
// resourceVersion it was decided on, so a concurrent change is never
// overwritten: the step is decided again.
func HandOver(ctx context.Context, c client.Client, namespace, name string, opts HandOverOptions) (Outcome, error) {
	if opts.Wait == 0 {
		opts.Wait = time.Minute
	}
	if opts.Poll == 0 {
		opts.Poll = 200 * time.Millisecond
	}
	obj := fmt.Sprintf("%s/%s", namespace, name)
	b := &unstructured.Unstructured{}
	b.SetGroupVersionKind(BitnamiGVK)
	key := client.ObjectKey{Namespace: namespace, Name: name}
	if err := c.Get(ctx, key, b); err != nil {
		if apierrors.IsNotFound(err) || meta.IsNoMatchError(err) {
			return NoBitnami, nil
		}
		return "", fmt.Errorf("reading bitnami sealedsecret %s: %w", obj, err)
	}
	s, err := markSecret(ctx, c, key, b.GetUID(), false)
	if err != nil {
		return "", err
	}
	uid := b.GetUID()
	if err := c.Delete(ctx, b, client.PropagationPolicy(metav1.DeletePropagationOrphan), client.Preconditions{UID: &uid}); err != nil && !apierrors.IsNotFound(err) {
		return "", fmt.Errorf("deleting bitnami sealedsecret %s (orphaning its Secret): %w", obj, err)
	}
	if err := waitGone(ctx, c, b, opts); err != nil {
		return "", err
	}
	if s == nil {
		return NoSecret, nil
	}
	after, err := markSecret(ctx, c, key, uid, true)
	if err != nil {
		return "", err
	}
	if after == nil || after.UID != s.UID {
		return "", fmt.Errorf("secret %s was deleted or replaced during the cut-over", obj)
	}
	return HandedOver, nil
}

// markSecret gives the Secret at key the consent annotation, and returns it
// (nil when there is none). Before the Bitnami SealedSecret is deleted
// (gone false), the Secret must be controlled by it (UID owner) or already
// be seal-controller's or consent; after (gone true), any reference to
// owner left is removed, and it must be controlled by nothing else.
func markSecret(ctx context.Context, c client.Client, key client.ObjectKey, owner types.UID, gone bool) (*corev1.Secret, error) {
	obj := key.String()
	for attempt := 0; ; attempt++ {
		s := &corev1.Secret{}
		if err := c.Get(ctx, key, s); err != nil {
			if apierrors.IsNotFound(err) {
				return nil, nil
			}
			return nil, fmt.Errorf("reading secret %s: %w", obj, err)
		}
		if err := belongs(s, owner, gone); err != nil {
			return nil, fmt.Errorf("secret %s: %w", obj, err)
		}
		if ref := metav1.GetControllerOf(s); ref != nil && isSealkit(ref) {
			return s, nil // adopted already
		}
		want := s.DeepCopy()
		want.OwnerReferences = slices.DeleteFunc(want.OwnerReferences, func(r metav1.OwnerReference) bool { return gone && r.UID == owner })
		if want.Annotations == nil {
			want.Annotations = map[string]string{}
		}
		want.Annotations[v1alpha1.AnnotationManaged] = "true"
		if len(want.OwnerReferences) == 0 {
			want.OwnerReferences = nil
		}
		if want.Annotations[v1alpha1.AnnotationManaged] == s.Annotations[v1alpha1.AnnotationManaged] && len(want.OwnerReferences) == len(s.OwnerReferences) {
			return s, nil
		}
		err := c.Patch(ctx, want, client.MergeFromWithOptions(s, client.MergeFromWithOptimisticLock{}))
		switch {
		case err == nil:
			return want, nil
		case apierrors.IsConflict(err) && attempt < 5:
			continue // changed meanwhile: decide again
		}
		return nil, fmt.Errorf("marking secret %s for adoption by seal-controller: %w", obj, err)
	}
}

// belongs checks that s may be handed over from the Bitnami SealedSecret
// whose UID is owner.
func belongs(s *corev1.Secret, owner types.UID, gone bool) error {
	ref := metav1.GetControllerOf(s)
	switch {
	case ref != nil && ref.UID == owner:
		return nil
	case ref != nil && isSealkit(ref):
		return nil // already adopted
	case ref != nil:
		return fmt.Errorf("controlled by %s %s (%s), not by the Bitnami SealedSecret: left alone", ref.Kind, ref.Name, ref.APIVersion)
	case gone, s.Annotations[v1alpha1.AnnotationManaged] == "true":
		// After the orphan deletion the collector has removed the
		// reference; before it, an earlier cut-over marked it.
		return nil
	}
	return errors.New("not controlled by the Bitnami SealedSecret of the same name (Bitnami may have patched it without owning it): left alone; annotate it " +
		v1alpha1.AnnotationManaged + "=true yourself if seal-controller should take it")
}

func isSealkit(ref *metav1.OwnerReference) bool {
	gv, err := schema.ParseGroupVersion(ref.APIVersion)
	return err == nil && gv.Group == v1alpha1.GroupVersion.Group
}

// waitGone waits until b is deleted: the garbage collector first orphans
// its dependents, then removes the orphan finalizer.
func waitGone(ctx context.Context, c client.Client, b *unstructured.Unstructured, opts HandOverOptions) error {
	deadline := time.Now().Add(opts.Wait)
	for {
		cur := &unstructured.Unstructured{}
		cur.SetGroupVersionKind(BitnamiGVK)
		err := c.Get(ctx, client.ObjectKeyFromObject(b), cur)
		switch {
		case apierrors.IsNotFound(err), err == nil && cur.GetUID() != b.GetUID():
			return nil
		case err != nil:
			return fmt.Errorf("waiting for bitnami sealedsecret %s/%s to go: %w", b.GetNamespace(), b.GetName(), err)
		case time.Now().After(deadline):
			return fmt.Errorf("bitnami sealedsecret %s/%s is still there after %s: the garbage collector (kube-controller-manager) has not finished orphaning its Secret", b.GetNamespace(), b.GetName(), opts.Wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(opts.Poll):
		}
	}
}
