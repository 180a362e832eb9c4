package audit

import (
	"bytes"
	"context"
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// Adopted is the bystander a SealedSecret of the same name is meant to
// take over, with its owner's consent: the test seals it once
// [CreateBystanders] made it.
const Adopted = "adopted"

// CreateBystanders creates the Secrets of others a controller must leave
// alone: one in another namespace, a plain one in the tenant namespace, a
// look-alike carrying our managed-by label, and one its owner lets us adopt
// (sealkit.dev/managed), each holding the canary. It returns their keys.
func CreateBystanders(ctx context.Context, c client.Client, ns, other, canary string) ([]types.NamespacedName, error) {
	byst := []*corev1.Secret{
		{ObjectMeta: metav1.ObjectMeta{Namespace: other, Name: "elsewhere"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "plain"}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "lookalike",
			Labels: map[string]string{v1alpha1.LabelManagedBy: v1alpha1.ManagedByController}}},
		{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: Adopted,
			Annotations: map[string]string{v1alpha1.AnnotationManaged: "true"}}},
	}
	var keys []types.NamespacedName
	for _, s := range byst {
		s.Data = map[string][]byte{"owner": []byte("someone else"), "blob": []byte(canary)}
		if err := c.Create(ctx, s); err != nil {
			return nil, fmt.Errorf("creating bystander Secret %s/%s: %w", s.Namespace, s.Name, err)
		}
		keys = append(keys, client.ObjectKeyFromObject(s))
	}
	return keys, nil
}

// Bystander is a Secret as recorded before the fault.
type Bystander struct {
	Key  types.NamespacedName
	RV   string
	Data map[string][]byte
}

// Record reads the Secrets keys as they are now.
func Record(ctx context.Context, c client.Client, keys ...types.NamespacedName) ([]Bystander, error) {
	var bs []Bystander
	for _, k := range keys {
		var s corev1.Secret
		if err := c.Get(ctx, k, &s); err != nil {
			return nil, fmt.Errorf("recording bystander Secret %s: %w", k, err)
		}
		bs = append(bs, Of(&s))
	}
	return bs, nil
}

// Of is s as a bystander, as it is now.
func Of(s *corev1.Secret) Bystander {
	return Bystander{Key: client.ObjectKeyFromObject(s), RV: s.ResourceVersion, Data: maps.Clone(s.Data)}
}

// Changed names every bystander that is gone or not exactly as recorded,
// by resourceVersion and data, one line each.
func Changed(ctx context.Context, c client.Client, bs []Bystander) []string {
	var changed []string
	for _, b := range bs {
		var s corev1.Secret
		err := c.Get(ctx, b.Key, &s)
		if err != nil || s.ResourceVersion != b.RV || !maps.EqualFunc(s.Data, b.Data, bytes.Equal) {
			changed = append(changed, fmt.Sprintf("bystander Secret %s changed (resourceVersion %s, was %s; %v)", b.Key, s.ResourceVersion, b.RV, err))
		}
	}
	return changed
}
