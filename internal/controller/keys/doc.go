// Package keys is seal-controller's key machinery: on every replica it
// loads the key Secrets of the controller namespace into a [Store] that the
// reconciler and the webhooks open values with; on the leader it generates
// the first key, rotates keys (on schedule, on request, when the active key
// is compromised) and publishes the public keyring ConfigMap. What a key
// Secret is (its labels, states and ordering) is pkg/keysecret's.
package keys
