// Package migrate turns what other tools keep in Git into sealkit
// SealedSecrets: Bitnami Sealed Secrets ([FromBitnami]) and SOPS-encrypted
// Secrets ([FromSOPS]); it rewrites the files they are in ([File]) and
// hands the running Secrets over ([HandOver]). `seal migrate` is its
// command line; docs/migrate.md is the walk-through.
//
// Both conversions open the old form in memory and seal every value again
// with [sealed.Seal], so the result is exactly what `seal` would have made
// from the original Secret: each value in a frame binding scope, namespace,
// name and data key. Plaintext is cleared after use and never logged or
// written.
//
// # From Bitnami
//
// Scopes map one to one: strict to strict, namespace-wide to namespace,
// cluster-wide to cluster. Bitnami's annotations are dropped: its scope
// annotations become spec.scope, and any other has no sealkit meaning and
// is reported in [Result.Notes]. Values opened with a key labelled
// compromised are reported too. A SealedSecret whose template holds Go
// templates is refused: sealkit does not render templates.
//
// [Reshape] gives the sealkit form with the Bitnami values still in it:
// online, that is what seal migrate sends to the cluster, whose controller
// opens and seals the values with [SealBitnamiValues]; offline,
// [FromBitnami] does both steps with keys the caller holds.
//
// # In place
//
// [File.Rewrite] edits each migrated object in its file with
// internal/manifest, keeping every other byte, and reads the result back
// before returning it.
//
// # The cut-over
//
// [HandOver] moves a running Secret from the Bitnami SealedSecret that
// controls it to seal-controller without it ever disappearing: consent by
// the caller as the Secret's writer, then an orphan deletion that the
// garbage collector completes.
package migrate
