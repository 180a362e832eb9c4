package bitnami

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// APIVersion and Kind of Bitnami's SealedSecret.
const (
	APIVersion = "bitnami.com/v1alpha1"
	Kind       = "SealedSecret"
)

// Errors for SealedSecrets that cannot be migrated faithfully; they are
// wrapped with the object's name.
var (
	// ErrTemplateData is a spec.template.data of Go templates, which Bitnami
	// renders with the opened values and sealkit does not.
	ErrTemplateData = errors.New("spec.template.data holds Go templates, which sealkit does not render: render them into plain values and seal those")
	// ErrLegacyData is the spec.data form kubeseal wrote before v0.7.
	ErrLegacyData = errors.New("spec.data is the form kubeseal wrote before v0.7, which is not supported: re-seal it with a recent kubeseal first")
)

// SealedSecret is a bitnami.com/v1alpha1 SealedSecret: the parts a
// migration reads.
type SealedSecret struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Spec              Spec `json:"spec"`
	// Status is accepted (objects exported from a cluster have one) and ignored.
	Status json.RawMessage `json:"status,omitempty"`
}

// Spec is a Bitnami SealedSecret's spec.
type Spec struct {
	Template Template `json:"template,omitempty"`
	// EncryptedData maps data keys to kubeseal values (see [OpenValue]).
	EncryptedData map[string]string `json:"encryptedData,omitempty"`
	// Data is the legacy form: the whole Secret sealed as one value.
	Data []byte `json:"data,omitempty"`
}

// Template is what the generated Secret looks like besides its data.
type Template struct {
	Metadata  metav1.ObjectMeta `json:"metadata,omitempty"`
	Type      corev1.SecretType `json:"type,omitempty"`
	Immutable *bool             `json:"immutable,omitempty"`
	// Data holds Go templates rendered with the opened values.
	Data map[string]string `json:"data,omitempty"`
}

// Is tells whether d is a Bitnami SealedSecret.
func Is(d sealed.Document) bool {
	return d.APIVersion == APIVersion && d.Kind == Kind
}

// Decode decodes d, strictly, as a Bitnami SealedSecret.
func Decode(d sealed.Document) (*SealedSecret, error) {
	var ss SealedSecret
	if err := d.Decode(APIVersion, Kind, &ss); err != nil {
		return nil, err
	}
	return &ss, nil
}

// Scope is the SealedSecret's scope, from its annotations.
func (ss *SealedSecret) Scope() Scope { return ScopeOf(ss.Annotations) }

// ObjectName is how messages name ss: namespace/name.
func (ss *SealedSecret) ObjectName() string {
	if ss.Namespace == "" {
		return ss.Name
	}
	return ss.Namespace + "/" + ss.Name
}

// Check reports why ss cannot be opened faithfully, if it cannot, without
// needing a key: so a migration can refuse it and go on with the others.
func (ss *SealedSecret) Check() error {
	if ss.Name == "" {
		return errors.New("bitnami sealedsecret has no name")
	}
	obj := "bitnami sealedsecret " + ss.ObjectName()
	switch {
	case len(ss.Spec.Template.Data) > 0:
		return fmt.Errorf("%s: %w", obj, ErrTemplateData)
	case len(ss.Spec.Data) > 0:
		return fmt.Errorf("%s: %w", obj, ErrLegacyData)
	case len(ss.Spec.EncryptedData) == 0:
		return fmt.Errorf("%s has no spec.encryptedData: nothing to migrate", obj)
	case ss.Namespace == "" && ss.Scope() != ScopeClusterWide:
		return fmt.Errorf("%s has no namespace, which its %s scope binds: set metadata.namespace", obj, ss.Scope())
	}
	return nil
}

// Unseal opens every value of ss with keys and returns the Secret Bitnami's
// controller would make from it (name, namespace, the template's metadata,
// type and immutability, and the data; no owner), with the keys that opened
// its values. A value that does not open gives a [*sealed.ValueError]
// naming its data key; the error never holds a value.
func (ss *SealedSecret) Unseal(keys []*PrivateKey) (*corev1.Secret, []*PrivateKey, error) {
	if err := ss.Check(); err != nil {
		return nil, nil, err
	}
	s := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: *ss.Spec.Template.Metadata.DeepCopy(),
		Type:       ss.Spec.Template.Type,
		Data:       make(map[string][]byte, len(ss.Spec.EncryptedData)),
	}
	s.Name, s.Namespace = ss.Name, ss.Namespace
	if ss.Spec.Template.Immutable != nil {
		s.Immutable = ptr.To(*ss.Spec.Template.Immutable)
	}
	label := ss.Scope().Label(ss.Namespace, ss.Name)
	// kubeseal seals all values of an object to one key, and a wrong key
	// costs a whole RSA decryption: try the key that opened the last value
	// first. A controller that rotated monthly for two years has 24 keys.
	order := slices.Clone(keys)
	var used []*PrivateKey
	for _, key := range slices.Sorted(maps.Keys(ss.Spec.EncryptedData)) {
		value, k, err := OpenValue(ss.Spec.EncryptedData[key], label, order)
		if err != nil {
			clearData(s)
			return nil, nil, fmt.Errorf("bitnami sealedsecret %s: %w", ss.ObjectName(), &sealed.ValueError{Key: key, Err: err})
		}
		s.Data[key] = value
		if !slices.Contains(used, k) {
			used = append(used, k)
		}
		moveToFront(order, k)
	}
	return s, used, nil
}

// moveToFront moves k to the front of keys, keeping the others' order.
func moveToFront(keys []*PrivateKey, k *PrivateKey) {
	if i := slices.Index(keys, k); i > 0 {
		copy(keys[1:i+1], keys[:i])
		keys[0] = k
	}
}

// clearData overwrites the values of s.
func clearData(s *corev1.Secret) {
	for _, v := range s.Data {
		clear(v)
	}
}
