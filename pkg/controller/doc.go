// Package controller is seal-controller: it turns SealedSecrets into Secrets
// with the cluster's private keys, manages and rotates those keys, and
// publishes the public keyring.
//
// # Wiring
//
// [NewManager] builds a controller-runtime manager whose caches hold only
// what the controller owns; [SetupKeys] adds the key manager and returns the
// [KeyStore]; [SetupReconciler] adds the SealedSecret reconciler that reads
// identities from that store.
//
// # Work that is skipped
//
// Every Secret the reconciler writes carries the annotation
// [AnnotationSourceHash], a digest of the SealedSecret's encrypted data,
// template and the keys that opened it, and [AnnotationDataMAC], a keyed MAC
// of the data it holds. When both still match, a reconcile decrypts nothing
// and writes nothing: a restart with nothing changed costs only cache reads.
// The cache keeps a digest of each encrypted value instead of the value
// itself (see [TransformSealedSecret]), so memory stays small with thousands
// of SealedSecrets; the full object is read from the API server only when it
// must be decrypted.
//
// # Secrets never leave
//
// Logs, events, conditions, metric labels and error strings name objects and
// data keys, never values.
package controller
