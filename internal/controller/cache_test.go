package controller_test

import (
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// The cache holds SealedSecrets as metadata only; kubectl's last-applied
// copy must not bring the ciphertexts back in.
func TestTransformDropsLastApplied(t *testing.T) {
	m := &metav1.PartialObjectMetadata{}
	m.SetGroupVersionKind(v1alpha1.GroupVersion.WithKind("SealedSecret"))
	m.Name, m.Namespace = "db", "ns"
	m.Annotations = map[string]string{controller.AnnotationLastApplied: "{big}", "keep": "me"}
	m.ManagedFields = []metav1.ManagedFieldsEntry{{Manager: "kubectl"}}
	obj, err := controller.TransformSealedSecret(m)
	if err != nil {
		t.Fatal(err)
	}
	cached := obj.(*metav1.PartialObjectMetadata)
	if _, ok := cached.Annotations[controller.AnnotationLastApplied]; ok {
		t.Error("last-applied annotation kept in cache")
	}
	if cached.Annotations["keep"] != "me" {
		t.Error("other annotations dropped")
	}
	if cached.ManagedFields != nil {
		t.Error("managed fields kept in cache")
	}
}
