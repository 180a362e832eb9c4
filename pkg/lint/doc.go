// Package lint checks a repository's manifests offline, the way CI runs
// seal lint: no cluster, no private key.
//
// It finds plaintext Secrets committed by mistake (the leak sealkit exists
// to prevent), malformed SealedSecrets, values that do not decode,
// inconsistencies between a SealedSecret's scope and its metadata, and
// values sealed to keys that the repository's keyrings do not know or mark
// retired or compromised, or that are older than a maximum age. Each
// [Finding] names a [Rule], has its rule's [Severity] and the line and
// column of the offending key; none ever contains a secret value.
//
// # What is checked
//
// Only Kubernetes objects (apiVersion and kind) are checked: other YAML and
// JSON (CI workflows, editor settings, JSON with comments) is skipped.
// Values that are empty, SOPS ciphertext or references resolved at deploy
// time (values.go) are not plaintext. A directory holding Chart.yaml is a
// Helm chart: its templates are read for literal values and the chart is
// rendered with the Helm SDK (chart.go, template.go).
//
// # Keys
//
// A file's values are checked against the keyrings its .sealkit.yaml rule
// names (see package [github.com/sealkit/sealkit/pkg/repoconfig]) plus
// [Options.Keyrings]. Rule recipients and recovery recipients count as
// known keys. When neither applies to a file, its key checks are skipped
// and [Result.KeyChecksSkipped] counts it.
//
// # Suppressions
//
// A "# seal-lint-ignore RULE REASON" comment, a sealkit.dev/lint-ignore
// annotation or a .sealkit.yaml lint: ignore: entry moves findings to
// [Result.Suppressed] (suppress.go).
//
// # Performance
//
// Files and charts are checked in parallel on GOMAXPROCS workers;
// configuration and keyrings are parsed once; a value's key IDs are read
// from its header without decrypting anything; positions are computed only
// for documents with a finding. Output order does not depend on scheduling.
package lint
