package v1alpha1

import (
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// Annotations and labels on SealedSecrets and the Secrets made from them.
const (
	// AnnotationManaged, set to "true" on an existing Secret by its owner,
	// consents to a SealedSecret of the same name adopting it (the
	// convention Bitnami Sealed Secrets users know). A Secret controlled by
	// another controller is never adopted, annotation or not.
	AnnotationManaged = "sealkit.dev/managed"
	// AnnotationOverwrite on a SealedSecret is no longer honoured: the
	// author of a SealedSecret cannot consent for the owner of a Secret.
	// The controller says so in the status of a SealedSecret carrying it.
	AnnotationOverwrite = "sealkit.dev/overwrite"
	// LabelManagedBy marks Secrets the controller owns; its value is
	// [ManagedByController].
	LabelManagedBy = "sealkit.dev/managed-by"
	// ManagedByController is the value of [LabelManagedBy].
	ManagedByController = "seal-controller"
	// AnnotationReseal, set to "true" on a server-side dry-run, asks the
	// controller's mutating webhook to re-seal the values to the newest key.
	AnnotationReseal = "sealkit.dev/reseal"
	// AnnotationMigrate, set to [MigrateFromBitnami] on a server-side
	// dry-run of a SealedSecret whose values are still Bitnami Sealed
	// Secrets values, asks the controller's mutating webhook to open them
	// with Bitnami's keys where the object is and seal them to the newest
	// key (seal migrate).
	AnnotationMigrate = "sealkit.dev/migrate"
	// MigrateFromBitnami is the value of [AnnotationMigrate].
	MigrateFromBitnami = "bitnami"
	// AnnotationResealed is what the mutating webhook puts in place of
	// AnnotationReseal on the dry-run it answered: the validating webhook
	// is not called for it (manifests/webhook), since every value was
	// just opened, checked and re-sealed by the controller itself.
	AnnotationResealed = "sealkit.dev/resealed"
)

// WarningVerified is the admission warning seal-controller's validating
// webhook returns on a server-side dry-run whose values all open where they
// are applied. The webhooks fail open, so an API server that admits a
// dry-run without it got no answer from seal-controller: `seal verify`
// reports that instead of success.
const WarningVerified = "sealkit: every value opens here (checked by seal-controller)"

// ConditionKeyCompromised is a warning condition, True while some value of
// an unchanged SealedSecret opens only with a key marked compromised: its
// Secret keeps working, but whoever holds the leaked key can read the value
// from Git. Re-seal it.
const ConditionKeyCompromised = "KeyCompromised"

// ConditionReady is the condition type saying whether the Secret is in
// place and current; its reason is one of the Reason constants.
const ConditionReady = "Ready"

// Reasons of the [ConditionReady] condition.
const (
	ReasonUnsealed       = "Unsealed"
	ReasonDecryptFailed  = "DecryptFailed"
	ReasonScopeMismatch  = "ScopeMismatch"
	ReasonSecretConflict = "SecretConflict"
	ReasonNoKey          = "NoKey"
	ReasonInvalidSpec    = "InvalidSpec"
	// ReasonNamespaceNotAllowed: SealedSecrets in the controller's own
	// namespace are not unsealed unless the operator allows it.
	ReasonNamespaceNotAllowed = "NamespaceNotAllowed"
	// ReasonReservedMetadata: the template sets labels or annotations in
	// the reserved sealkit.dev/ prefix, or the Secret would be one the
	// controller keeps for itself.
	ReasonReservedMetadata = "ReservedMetadata"
	// ReasonSecretTypeNotAllowed: the template asks for a Secret type that
	// mints credentials (service-account or bootstrap tokens) and the
	// operator has not allowed it.
	ReasonSecretTypeNotAllowed = "SecretTypeNotAllowed"
	// ReasonSecretRejected: the API server refused to write the Secret
	// (validation, quota, admission); an existing Secret is left as it was.
	ReasonSecretRejected = "SecretRejected"
	// ReasonCompromisedKey: a value opens only with a key marked
	// compromised, and the SealedSecret is new or changed since it was
	// last unsealed. Re-seal it to the active key.
	ReasonCompromisedKey = "CompromisedKey"
)

// Scope values of [SealedSecretSpec.Scope]; they match pkg/crypto's scopes.
const (
	ScopeStrict    = "strict"
	ScopeNamespace = "namespace"
	ScopeCluster   = "cluster"
)

// SealedSecretSpec is the sealed content and the shape of the Secret to
// make from it.
type SealedSecretSpec struct {
	// Scope says how far from where it was sealed a value may be used. It is
	// informational: the scope sealed inside every value is authoritative,
	// and the two must agree.
	// +kubebuilder:validation:Enum=strict;namespace;cluster
	// +kubebuilder:default=strict
	// +optional
	Scope string `json:"scope,omitempty"`

	// EncryptedData maps each data key of the Secret to its sealed value.
	// Data keys are what a Secret allows: alphanumerics, '-', '_' and '.'.
	// +required
	// +kubebuilder:validation:MinProperties=1
	// +kubebuilder:validation:MaxProperties=1024
	// +kubebuilder:validation:XValidation:rule="self.all(k, size(k) <= 253 && k.matches('^[-._a-zA-Z0-9]+$'))",message="a data key must be at most 253 characters of alphanumerics, '-', '_' or '.'"
	EncryptedData map[string]string `json:"encryptedData"`

	// Template is what the Secret looks like besides its data.
	// +optional
	Template SecretTemplate `json:"template,omitempty"`
}

// SecretTemplate is the metadata, type and mutability of the generated Secret.
type SecretTemplate struct {
	// Metadata holds the labels and annotations of the generated Secret.
	// +optional
	Metadata TemplateMetadata `json:"metadata,omitempty"`

	// Type is the Secret's type, Opaque when empty.
	// +optional
	Type corev1.SecretType `json:"type,omitempty"`

	// Immutable makes the generated Secret immutable.
	// +optional
	Immutable *bool `json:"immutable,omitempty"`
}

// TemplateMetadata is the part of a Secret's metadata a SealedSecret carries.
type TemplateMetadata struct {
	// +optional
	Labels map[string]string `json:"labels,omitempty"`
	// +optional
	Annotations map[string]string `json:"annotations,omitempty"`
}

// SealedSecretStatus is what the controller last did with a SealedSecret.
type SealedSecretStatus struct {
	// ObservedGeneration is the generation the status describes.
	// +optional
	ObservedGeneration int64 `json:"observedGeneration,omitempty"`

	// Conditions hold the Ready condition.
	// +listType=map
	// +listMapKey=type
	// +optional
	Conditions []metav1.Condition `json:"conditions,omitempty"`

	// KeyIDs are the keys that opened the values, so that values still
	// sealed to an old key can be found and re-sealed.
	// +optional
	KeyIDs []string `json:"keyIDs,omitempty"`
}

// SealedSecret is a Secret whose values are sealed to a cluster's keys; the
// controller in that cluster turns it into the Secret.
//
// +kubebuilder:object:root=true
// +kubebuilder:subresource:status
// +kubebuilder:resource:path=sealedsecrets,singular=sealedsecret,shortName=sealed,scope=Namespaced
// +kubebuilder:printcolumn:name="Ready",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].status`
// +kubebuilder:printcolumn:name="Reason",type=string,JSONPath=`.status.conditions[?(@.type=="Ready")].reason`
// +kubebuilder:printcolumn:name="Age",type=date,JSONPath=`.metadata.creationTimestamp`
type SealedSecret struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ObjectMeta `json:"metadata,omitempty"`

	// +required
	Spec SealedSecretSpec `json:"spec"`
	// +optional
	Status SealedSecretStatus `json:"status,omitempty"`
}

// SealedSecretList is a list of SealedSecrets.
//
// +kubebuilder:object:root=true
type SealedSecretList struct {
	metav1.TypeMeta `json:",inline"`
	// +optional
	metav1.ListMeta `json:"metadata,omitempty"`
	Items           []SealedSecret `json:"items"`
}
