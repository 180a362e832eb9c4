// Package bitnami reads what Bitnami Sealed Secrets leaves behind, so that
// it can be migrated to sealkit: its SealedSecrets (bitnami.com/v1alpha1)
// and its controller's private keys. It opens values; it never seals them.
//
// It is written from the format's description (docs/migrate.md), not from
// Bitnami's code, and tested against the output of the real kubeseal.
//
// # Values
//
// A kubeseal value is an RSA-OAEP (SHA-256) encryption of a fresh 32-byte
// session key, followed by the value under AES-256-GCM with that key
// ([OpenValue]). The OAEP label binds it to where it may be used, which the
// SealedSecret's annotations choose ([Scope]): "namespace/name" (strict),
// "namespace" (namespace-wide) or nothing (cluster-wide). Unlike sealkit's
// frames, nothing binds a value to its data key.
//
// # Keys
//
// The Bitnami controller keeps its keys in kubernetes.io/tls Secrets
// labelled [LabelSealingKey]; [ParsePrivateKeys] reads them as users back
// them up, or as PEM private keys.
//
// # Errors
//
// A value fails to open in one of three ways: [*NoKeyError] when no key fits
// (or the value was sealed for another place), [ErrCorrupt] when it is
// malformed or tampered with, and [ErrTooLarge]. SealedSecrets that cannot
// be migrated faithfully are refused with [ErrTemplateData] or
// [ErrLegacyData]. No error ever holds a value or key material.
package bitnami
