// Package migrate turns what other tools keep in Git into sealkit
// SealedSecrets: Bitnami Sealed Secrets ([FromBitnami]) and SOPS-encrypted
// Secrets ([FromSOPS]).
//
// Both open the old form in memory and seal every value again with
// [sealed.Seal], so the result is exactly what `seal` would have made from
// the original Secret: each value in a frame binding scope, namespace, name
// and data key. Plaintext is cleared after use and never logged or written.
//
// # From Bitnami
//
// Scopes map one to one: strict to strict, namespace-wide to namespace,
// cluster-wide to cluster. Bitnami's annotations are dropped: its scope
// annotations become spec.scope, and any other has no sealkit meaning and
// is reported in [Result.Notes]. Values opened with a key labelled
// compromised are reported too. A SealedSecret whose template holds Go
// templates is refused: sealkit does not render templates.
package migrate
