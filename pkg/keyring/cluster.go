package keyring

// Where a cluster publishes its keys: seal-controller keeps each private key
// in a Secret of its namespace (see pkg/keysecret) and publishes the public
// keyring in a ConfigMap there, which `seal keys fetch` reads through the
// Kubernetes API.
const (
	// DefaultNamespace is seal-controller's namespace unless told otherwise.
	DefaultNamespace = "sealkit-system"

	// KeyringConfigMap is the ConfigMap holding the public keyring (in this
	// package's format) under KeyringDataKey. manifests/ lets every
	// authenticated user get it, and nothing else, so `seal keys fetch`
	// works through the Kubernetes API on private clusters.
	KeyringConfigMap = "sealkit-keyring"
	KeyringDataKey   = "keyring"
)
