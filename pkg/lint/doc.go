// Package lint checks a repository's manifests offline, the way CI runs
// seal lint: no cluster, no private key.
//
// It finds plaintext Secrets committed by mistake (the leak sealkit exists
// to prevent), malformed SealedSecrets, values that do not decode,
// inconsistencies between a SealedSecret's scope and its metadata, and
// values sealed to keys that the repository's keyrings do not know or mark
// retired or compromised, or that are older than a maximum age. Each
// [Finding] names a [Rule]; none ever contains a secret value.
//
// # Keys
//
// A file's values are checked against the keyrings its .sealkit.yaml rule
// names (see package [github.com/sealkit/sealkit/pkg/repoconfig]) plus
// [Options.Keyrings]. Rule recipients and recovery recipients count as
// known keys. When neither applies to a file, its key checks are skipped.
//
// # Performance
//
// Files are checked in parallel on GOMAXPROCS workers; configuration and
// keyrings are parsed once; a value's key IDs are read from its header
// without decrypting anything. Output order does not depend on scheduling.
package lint
