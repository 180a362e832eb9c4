package controller

import (
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// AnnotationLastApplied is kubectl's copy of the applied object; on a
// SealedSecret it holds every ciphertext a second time.
const AnnotationLastApplied = "kubectl.kubernetes.io/last-applied-configuration"

// TransformSealedSecret is the cache transform of SealedSecrets, which the
// reconciler caches as metadata only: it drops managed fields and kubectl's
// last-applied copy, which would otherwise carry every ciphertext (2-3 KiB
// each with a post-quantum key) into the cache after all.
func TransformSealedSecret(obj any) (any, error) {
	if m, ok := obj.(metav1.Object); ok {
		if a := m.GetAnnotations(); a[AnnotationLastApplied] != "" {
			delete(a, AnnotationLastApplied)
		}
	}
	return stripManagedFields(obj)
}

// stripManagedFields drops managed fields, which nothing here reads.
func stripManagedFields(obj any) (any, error) {
	if o, ok := obj.(metav1.Object); ok {
		o.SetManagedFields(nil)
	}
	return obj, nil
}
