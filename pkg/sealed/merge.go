package sealed

import (
	"errors"
	"fmt"
	"maps"

	"k8s.io/utils/ptr"

	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// Merge adds the values of src to dst, replacing those under the same data
// keys. Both must be the same object in the same scope, since every value
// is bound to its name, namespace and scope. src's template labels and
// annotations are added to dst's (src wins); dst's type and immutability
// are kept unless dst has none.
func Merge(dst, src *v1alpha1.SealedSecret) error {
	if dst == nil || src == nil {
		return errors.New("nothing to merge")
	}
	if dst.Name != src.Name || dst.Namespace != src.Namespace {
		return fmt.Errorf("cannot merge sealedsecret %s into %s: values are bound to their object",
			objectName(src.Namespace, src.Name), objectName(dst.Namespace, dst.Name))
	}
	if scopeOf(dst) != scopeOf(src) {
		return fmt.Errorf("cannot merge sealedsecret %s: scope %s into scope %s",
			objectName(dst.Namespace, dst.Name), scopeOf(src), scopeOf(dst))
	}
	if dst.Spec.EncryptedData == nil {
		dst.Spec.EncryptedData = make(map[string]string, len(src.Spec.EncryptedData))
	}
	maps.Copy(dst.Spec.EncryptedData, src.Spec.EncryptedData)

	dt, st := &dst.Spec.Template, &src.Spec.Template
	dt.Metadata.Labels = mergeStrings(dt.Metadata.Labels, st.Metadata.Labels)
	dt.Metadata.Annotations = mergeStrings(dt.Metadata.Annotations, st.Metadata.Annotations)
	if dt.Type == "" {
		dt.Type = st.Type
	}
	if dt.Immutable == nil && st.Immutable != nil {
		dt.Immutable = ptr.To(*st.Immutable)
	}
	return nil
}

func mergeStrings(dst, src map[string]string) map[string]string {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]string, len(src))
	}
	maps.Copy(dst, src)
	return dst
}
