package keyring

// Where a cluster keeps its keys: seal-controller stores each private key in
// a labelled Secret of its namespace and publishes the public keyring in a
// ConfigMap there; `seal keys` reads and relabels them through the
// Kubernetes API. Operators edit the state label and the rotate annotation
// of key Secrets, nothing else.
const (
	// DefaultNamespace is seal-controller's namespace unless told otherwise.
	DefaultNamespace = "sealkit-system"

	// LabelKey, set to "true", marks a Secret as a sealkit key.
	LabelKey = "sealkit.dev/key"
	// LabelKeyState is the key's state: one of the State constants. A key
	// Secret without it (e.g. an imported key) counts as retained.
	LabelKeyState = "sealkit.dev/key-state"
	// AnnotationKeyID is the key ID, informational: the ID is always
	// recomputed from the identity.
	AnnotationKeyID = "sealkit.dev/key-id"
	// AnnotationCreated is the key's creation time in RFC 3339; it drives
	// rotation. Missing, the Secret's creationTimestamp is used.
	AnnotationCreated = "sealkit.dev/created"
	// AnnotationRotate, set to any non-empty value on the active key Secret,
	// requests a rotation now. The annotation stays on the key, which is
	// retained after the rotation, so the request is handled exactly once.
	AnnotationRotate = "sealkit.dev/rotate"
	// KeyDataIdentity is the data key holding the age identity string.
	KeyDataIdentity = "identity"
	// KeySecretPrefix prefixes the names of the key Secrets the controller
	// creates; the key ID follows. Imported keys may have any name.
	KeySecretPrefix = "sealkit-key-"

	// KeyringConfigMap is the ConfigMap holding the public keyring (in this
	// package's format) under KeyringDataKey. manifests/ lets every
	// authenticated user get it, and nothing else, so `seal keys fetch`
	// works through the Kubernetes API on private clusters.
	KeyringConfigMap = "sealkit-keyring"
	KeyringDataKey   = "keyring"
)
