// Package crypto seals single Secret values so that only a cluster's
// controller can open them, and only where they were meant to be used.
//
// It is built on [filippo.io/age]. Keys are age identities: by default the
// hybrid post-quantum kind (ML-KEM-768 + X25519, recipients "age1pq1…"), with
// classic X25519 keys accepted where a user brings one.
//
// # Frames
//
// Every value is sealed on its own, inside a [Frame] that names the scope,
// namespace, name and data key it belongs to. [Open] checks the frame against
// where the value is being opened, so a ciphertext copied to another
// namespace, object or data key is refused rather than silently accepted.
//
// # Encoded values
//
// [Seal] returns a self-describing string:
//
//	sealkit:v1:<key IDs, comma separated>:<standard base64 of an age file>
//
// The key IDs are a hint for choosing the identity to try first and for
// offline lint; they are not trusted for security. Stripping everything up to
// the last colon and base64-decoding leaves a standard binary age file, which
// the plain age command decrypts into the frame (see docs/format.md).
//
// # Errors
//
// Opening fails in exactly one of four ways: [*NoKeyMatchError] when no
// identity fits, [ErrCorrupt] when the value is malformed, truncated or
// tampered with (one opaque error), [ErrTooLarge] when the input exceeds the
// bounds every Secret value must fit, and [*FrameMismatchError] when the
// value opened but belongs somewhere else. None of them ever contains
// plaintext.
package crypto
