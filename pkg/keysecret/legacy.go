package keysecret

import (
	"fmt"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/bitnami"
)

// Legacy keys are Bitnami Sealed Secrets' private keys imported into the
// controller namespace (seal keys import-bitnami) so that seal-controller
// can migrate Bitnami SealedSecrets online. They are decrypt-only: they
// open Bitnami values during a migration and nothing else. They carry no
// [LabelKey], so nothing that reads sealkit keys ([ParseAll], the key
// store, the public keyring) ever sees them: they are never sealed to and
// never published.
//
//	metadata:
//	  name: sealkit-legacy-bitnami-<fingerprint>
//	  labels: {sealkit.dev/legacy-key: bitnami}
//	  annotations: {sealkit.dev/bitnami-key-state: active|compromised,
//	                sealkit.dev/imported-from: <where it came from>, sealkit.dev/created: <RFC 3339>}
//	immutable: true
//	data: {tls.key: <PKCS#1 PEM>}
const (
	// LabelLegacy, set to LegacyBitnami, marks a legacy key Secret.
	LabelLegacy   = "sealkit.dev/legacy-key"
	LegacyBitnami = "bitnami"
	// LegacyNamePrefix prefixes the names of legacy key Secrets; the
	// key's fingerprint follows.
	LegacyNamePrefix = "sealkit-legacy-bitnami-"
	// AnnotationLegacyState is the state the key had in Bitnami's
	// controller (active or compromised): values it opens are reported.
	AnnotationLegacyState = "sealkit.dev/bitnami-key-state"
	// AnnotationImportedFrom names the Secret or file the key came from.
	AnnotationImportedFrom = "sealkit.dev/imported-from"
)

// NewLegacy returns the Secret that keeps Bitnami key k in namespace:
// named after its fingerprint, immutable.
func NewLegacy(namespace string, k *bitnami.PrivateKey, now time.Time) *corev1.Secret {
	state := k.State
	if state == "" {
		state = bitnami.KeyActive // a PEM key: Bitnami's state is not known
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name:      LegacyNamePrefix + k.Fingerprint(),
			Namespace: namespace,
			Labels:    map[string]string{LabelLegacy: LegacyBitnami},
			Annotations: map[string]string{
				AnnotationLegacyState:  string(state),
				AnnotationImportedFrom: k.Source,
				AnnotationCreated:      now.UTC().Format(time.RFC3339),
			},
		},
		Type:      corev1.SecretTypeOpaque,
		Immutable: ptr.To(true),
		Data:      map[string][]byte{corev1.TLSPrivateKeyKey: k.MarshalPEM()},
	}
}

// IsLegacy reports whether obj, a Secret of the controller namespace, is a
// legacy key Secret.
func IsLegacy(obj metav1.Object) bool { return obj.GetLabels()[LabelLegacy] == LegacyBitnami }

// LegacyListOptions select the legacy key Secrets of namespace.
func LegacyListOptions(namespace string) []client.ListOption {
	return []client.ListOption{client.InNamespace(namespace), client.MatchingLabels{LabelLegacy: LegacyBitnami}}
}

// ParseLegacy reads a legacy key Secret. Errors name the Secret, never its
// data.
func ParseLegacy(s *corev1.Secret) (*bitnami.PrivateKey, error) {
	where := "legacy key secret " + s.Namespace + "/" + s.Name
	if !IsLegacy(s) {
		return nil, fmt.Errorf("%s: label %s is not %q", where, LabelLegacy, LegacyBitnami)
	}
	state := bitnami.KeyState(s.Annotations[AnnotationLegacyState])
	switch state {
	case bitnami.KeyActive, bitnami.KeyCompromised:
	default:
		return nil, fmt.Errorf("%s: annotation %s must be active or compromised", where, AnnotationLegacyState)
	}
	pemKey, ok := s.Data[corev1.TLSPrivateKeyKey]
	if !ok {
		return nil, fmt.Errorf("%s: no %q data key", where, corev1.TLSPrivateKeyKey)
	}
	k, err := bitnami.ParseKeyPEM(pemKey, "imported key "+s.Name, state)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	return k, nil
}

// ParseLegacyAll parses the legacy key Secrets among secrets; one that
// cannot be read is reported and left out, never fatal.
func ParseLegacyAll(secrets []corev1.Secret) ([]*bitnami.PrivateKey, []error) {
	var keys []*bitnami.PrivateKey
	var invalid []error
	for i := range secrets {
		if !IsLegacy(&secrets[i]) {
			continue
		}
		k, err := ParseLegacy(&secrets[i])
		if err != nil {
			invalid = append(invalid, err)
			continue
		}
		keys = append(keys, k)
	}
	return keys, invalid
}
