// Package controller is seal-controller: it turns SealedSecrets into Secrets
// with the cluster's private keys, manages and rotates those keys, and
// publishes the public keyring.
//
// # Layout
//
// This package builds the controller-runtime manager ([NewManager]), whose
// caches hold only what the controller owns. Each subsystem is a package of
// its own that registers itself with that manager:
//
//   - [github.com/sealkit/sealkit/internal/controller/keys]: loads the key
//     Secrets on every replica and, on the leader, generates, rotates and
//     publishes the keys;
//   - [github.com/sealkit/sealkit/internal/controller/reconciler]: turns each
//     SealedSecret into its Secret, on the leader;
//   - [github.com/sealkit/sealkit/internal/controller/webhooks]: the admission
//     webhooks behind `seal verify` and `seal reseal`, on every replica;
//   - [github.com/sealkit/sealkit/internal/webhookcert]: the webhook serving
//     certificates the controller issues itself (no cert-manager).
//
// cmd/controller turns flags into their options and wires them together.
//
// # Secrets never leave
//
// Logs, events, conditions, metric labels and error strings name objects and
// data keys, never values.
package controller
