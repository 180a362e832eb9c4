package secretcache

import (
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
)

func TestTransformSummarizes(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: "db", Namespace: "shop", UID: "u1", ResourceVersion: "7",
			Labels:      map[string]string{"sealkit.dev/managed-by": "seal-controller", "app": "shop"},
			Annotations: map[string]string{AnnotationKeyIDs: "abc", "huge": big, AnnotationSourceHash: big, annotationDataDigest: "forged"},
			OwnerReferences: []metav1.OwnerReference{
				{Kind: "Other", Name: "x", UID: "o1"},
				{Kind: "SealedSecret", Name: "db", UID: "ss1", Controller: ptr.To(true)},
			},
			ManagedFields: []metav1.ManagedFieldsEntry{{Manager: "m"}},
		},
		Type:      corev1.SecretTypeOpaque,
		Immutable: ptr.To(true),
		Data:      map[string][]byte{"password": []byte(big)},
	}
	want := s.DeepCopy()
	tr := Transform("sealkit-system")
	obj, err := tr(s)
	if err != nil {
		t.Fatal(err)
	}
	got := obj.(*corev1.Secret)
	if got.Data != nil || got.Labels != nil || got.ManagedFields != nil || len(got.OwnerReferences) != 1 || got.OwnerReferences[0].UID != "ss1" {
		t.Errorf("summary keeps too much: %+v", got.ObjectMeta)
	}
	if got.Annotations[AnnotationKeyIDs] != "abc" || got.Annotations[AnnotationSourceHash] != "" || got.Annotations["huge"] != "" {
		t.Errorf("kept annotations: %v", got.Annotations)
	}
	data, meta, ok := Digests(got)
	if !ok || data != DataDigest(want.Data) || meta != MetadataDigest(want.Labels, want.Annotations) {
		t.Error("digests do not match the Secret's own (a forged digest annotation must be overwritten)")
	}
	if n := len(got.String()); n > 2048 {
		t.Errorf("a summary of a 2 MiB Secret is %d bytes", n)
	}

	own := want.DeepCopy()
	own.Namespace = "sealkit-system"
	obj, _ = tr(own)
	if o := obj.(*corev1.Secret); len(o.Data["password"]) != len(big) || o.ManagedFields != nil {
		t.Error("the controller namespace's Secrets must be kept whole (but for managed fields)")
	}
}

func TestMetadataDigestIgnores(t *testing.T) {
	a := MetadataDigest(map[string]string{"l": "1"}, map[string]string{"a": "1", AnnotationDataMAC: "x"})
	b := MetadataDigest(map[string]string{"l": "1"}, map[string]string{"a": "1", AnnotationDataMAC: "y"})
	c := MetadataDigest(map[string]string{"l": "1", "a": "1"}, nil)
	if a != b || a == c {
		t.Errorf("ignored keys must not count, and labels are not annotations: %s %s %s", a, b, c)
	}
}

// TestTransformIdempotent: an informer may transform an object twice; a
// summary stays as it is, and a Secret dressed up as one does not pass.
func TestTransformIdempotent(t *testing.T) {
	tr := Transform("sealkit-system")
	s := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: "shop", UID: "u", ResourceVersion: "1"},
		Data:       map[string][]byte{"k": []byte("v")},
	}
	once, _ := tr(s.DeepCopy())
	twice, _ := tr(once.(*corev1.Secret).DeepCopy())
	d1, m1, ok1 := Digests(once.(*corev1.Secret))
	d2, m2, ok2 := Digests(twice.(*corev1.Secret))
	if !ok1 || !ok2 || d1 != d2 || m1 != m2 || d1 != DataDigest(s.Data) {
		t.Fatalf("transformed twice: %v %v, digests %s/%s vs %s/%s", ok1, ok2, d1, m1, d2, m2)
	}

	// Someone copies a summary's annotations onto an edited Secret: it is
	// summarized afresh, so the digest is of what it really holds.
	forged := s.DeepCopy()
	forged.Data = nil
	forged.Annotations = once.(*corev1.Secret).Annotations
	forged.ResourceVersion = "2"
	if _, _, ok := Digests(forged); ok {
		t.Error("a look-alike passed for a summary")
	}
	out, _ := tr(forged)
	if d, _, _ := Digests(out.(*corev1.Secret)); d != DataDigest(nil) {
		t.Error("a look-alike's digest was trusted")
	}
}
