// Package reconciler turns a SealedSecret into its Secret with the keys of
// the key store, heals drift of the Secrets it owns, and records what it did
// in the SealedSecret's status, metrics and events.
//
// # Work that is skipped
//
// Every Secret the reconciler writes carries the annotation
// [AnnotationSourceHash], a digest of the SealedSecret's encrypted data,
// template and the keys that opened it, and [AnnotationDataMAC], a keyed MAC
// of the data it holds. When both still match, a reconcile decrypts nothing
// and writes nothing: a restart with nothing changed costs only cache reads.
// The cache keeps SealedSecrets' metadata only, so memory stays small with
// thousands of SealedSecrets; a reconcile reads the one it looks at in full
// (at start, in pages).
package reconciler
