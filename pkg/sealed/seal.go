package sealed

import (
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// MaxSecretSize is the most data a Secret may hold, as Kubernetes counts it
// (the sum of its values' lengths).
const MaxSecretSize = 1 << 20

// lastApplied is the annotation kubectl apply writes: a full copy of the
// applied object, which for a Secret means its plaintext.
const lastApplied = corev1.LastAppliedConfigAnnotation

// SealOptions says how [Seal] seals.
type SealOptions struct {
	// Scope is bound into every value; strict when empty.
	Scope crypto.Scope
	// Recipients are the keys to seal to: all post-quantum or all classic.
	Recipients []*crypto.Recipient
}

// Seal returns a SealedSecret holding the data and stringData of s (a key in
// both takes its stringData value, as Kubernetes does) sealed to
// opts.Recipients, and s's labels, annotations, type and immutability as its
// template. Server-managed metadata, owner references, finalizers and the
// kubectl last-applied-configuration annotation are dropped. What the API
// server would refuse, in s or in the result, is refused (see [Check]).
func Seal(s *corev1.Secret, opts SealOptions) (*v1alpha1.SealedSecret, error) {
	if s == nil {
		return nil, errors.New("no secret to seal")
	}
	obj := objectName(s.Namespace, s.Name)
	if s.Kind != "" && s.Kind != "Secret" {
		return nil, fmt.Errorf("%s is a %s, not a Secret", obj, s.Kind)
	}
	if s.Name == "" {
		return nil, errors.New("secret has no name: set metadata.name")
	}
	scope := opts.Scope
	if scope == "" {
		scope = crypto.ScopeStrict
	}
	if _, err := crypto.ParseScope(string(scope)); err != nil {
		return nil, fmt.Errorf("secret %s: %w", obj, err)
	}
	if scope != crypto.ScopeCluster && s.Namespace == "" {
		return nil, fmt.Errorf("secret %s has no namespace, which scope %s binds: set metadata.namespace or use scope cluster", obj, scope)
	}
	if err := checkMeta("secret "+obj, s.Name, s.Namespace); err != nil {
		return nil, err
	}
	data, err := secretData(s, obj)
	if err != nil {
		return nil, err
	}
	ss := &v1alpha1.SealedSecret{
		TypeMeta:   metav1.TypeMeta{APIVersion: v1alpha1.GroupVersion.String(), Kind: "SealedSecret"},
		ObjectMeta: metav1.ObjectMeta{Name: s.Name, Namespace: s.Namespace},
		Spec: v1alpha1.SealedSecretSpec{
			Scope:         string(scope),
			EncryptedData: make(map[string]string, len(data)),
			Template:      templateOf(s),
		},
	}
	for _, key := range slices.Sorted(maps.Keys(data)) {
		enc, err := crypto.Seal(opts.Recipients, FrameFor(ss, key), data[key])
		if err != nil {
			return nil, fmt.Errorf("secret %s: key %q: %w", obj, key, err)
		}
		ss.Spec.EncryptedData[key] = enc
	}
	if err := Check(ss); err != nil {
		return nil, err
	}
	return ss, nil
}

// secretData merges data and stringData and checks them against the limits
// Kubernetes would enforce, so that a sealed Secret can always be created.
func secretData(s *corev1.Secret, obj string) (map[string][]byte, error) {
	data := make(map[string][]byte, len(s.Data)+len(s.StringData))
	for k, v := range s.Data {
		data[k] = v
	}
	for k, v := range s.StringData {
		data[k] = []byte(v)
	}
	if len(data) == 0 {
		// The CRD requires a value, and a SealedSecret has nothing else.
		return nil, fmt.Errorf("secret %s has no data: nothing to seal", obj)
	}
	keys := slices.Sorted(maps.Keys(data))
	if err := checkKeys("secret "+obj, keys); err != nil {
		return nil, err
	}
	if err := checkData("secret "+obj, s.Type, data); err != nil {
		return nil, err
	}
	total := 0
	for _, key := range keys {
		if len(data[key]) > crypto.MaxValueSize {
			return nil, fmt.Errorf("secret %s: key %q: value of %d bytes exceeds the %d-byte Secret limit", obj, key, len(data[key]), MaxSecretSize)
		}
		total += len(data[key])
	}
	if total > MaxSecretSize {
		return nil, fmt.Errorf("secret %s: data of %d bytes exceeds the %d-byte Secret limit", obj, total, MaxSecretSize)
	}
	return data, nil
}

// templateOf keeps what a Secret's owner chose; everything the server manages
// (uid, resourceVersion, timestamps, managedFields, owner references,
// finalizers, ...) is simply not copied.
func templateOf(s *corev1.Secret) v1alpha1.SecretTemplate {
	t := v1alpha1.SecretTemplate{Type: s.Type}
	if len(s.Labels) > 0 {
		t.Metadata.Labels = maps.Clone(s.Labels)
	}
	if len(s.Annotations) > 0 {
		a := maps.Clone(s.Annotations)
		delete(a, lastApplied)
		if len(a) > 0 {
			t.Metadata.Annotations = a
		}
	}
	if s.Immutable != nil {
		t.Immutable = ptr.To(*s.Immutable)
	}
	return t
}

// objectName is how errors name an object: namespace/name, or just the
// name when it has no namespace.
func objectName(namespace, name string) string {
	switch {
	case name == "":
		return "(unnamed)"
	case namespace == "":
		return name
	}
	return namespace + "/" + name
}
