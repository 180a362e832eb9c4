// Package webhooks holds seal-controller's admission webhooks, served on
// every replica: the validating webhook behind `seal verify` (and real
// writes in namespaces that ask for it) and the mutating webhook that
// re-seals a dry-run to the active key (`seal reseal`) or migrates a
// Bitnami SealedSecret (`seal migrate`). The API server calls them only
// for the requests their matchConditions select.
package webhooks
