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
// The cache keeps SealedSecrets' metadata only (see [TransformSealedSecret]),
// so memory stays small with thousands of SealedSecrets; a reconcile reads the
// one it looks at in full from the API server's watch cache.
//
// # Secrets never leave
//
// Logs, events, conditions, metric labels and error strings name objects and
// data keys, never values.
package controller
