package bitnami

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
)

const (
	// sessionKeySize is the AES-256 key kubeseal draws for every value.
	sessionKeySize = 32
	// maxValueSize is the most a value may hold: a Secret's 1 MiB limit.
	maxValueSize = 1 << 20
	// maxEncodedSize bounds an encoded value before it is decoded: the
	// length prefix, the RSA ciphertext of the largest key accepted, a
	// maximal value and the GCM tag, in base64.
	maxEncodedSize = (2+maxKeyBits/8+maxValueSize+16+2)/3*4 + 4
)

// ErrCorrupt is the one error for a value that is malformed, truncated or
// tampered with. Like sealkit's own, it says nothing more.
var ErrCorrupt = errors.New("bitnami sealed value is malformed or has been tampered with")

// ErrTooLarge is returned for an encoded value too long to hold a Secret value.
var ErrTooLarge = fmt.Errorf("bitnami sealed value exceeds the %d-byte Secret limit", maxValueSize)

// NoKeyError reports that none of the private keys opens a value. RSA-OAEP
// cannot tell a wrong key from a wrong label, so a value sealed for another
// namespace, name or scope gives this error too.
type NoKeyError struct {
	Tried int // how many keys were of the value's size and tried
	Given int // how many keys were given
}

func (e *NoKeyError) Error() string {
	if e.Given == 0 {
		return "no bitnami private key given to open this value"
	}
	return fmt.Sprintf("none of the %d bitnami private keys opens this value (%d of its size tried): it was sealed with another key, or for another namespace, name or scope", e.Given, e.Tried)
}

// OpenValue decrypts one kubeseal value with the first key that fits, bound
// to label (see [Scope.Label]), and returns the plaintext and that key.
//
// The format, as kubeseal writes it (base64 of):
//
//	uint16 big-endian  length L of the RSA ciphertext
//	L bytes            RSA-OAEP(SHA-256, label) of a fresh 32-byte session key
//	rest               AES-256-GCM(session key, zero nonce) of the value, tag last
//
// A zero nonce is safe here only because every value has a session key of
// its own, used for exactly one encryption.
func OpenValue(encoded string, label []byte, keys []*PrivateKey) ([]byte, *PrivateKey, error) {
	if len(encoded) > maxEncodedSize {
		return nil, nil, ErrTooLarge
	}
	// A value is one line; the decoder would skip line breaks, we refuse them
	// so that a value has exactly one encoding.
	if strings.ContainsAny(encoded, "\r\n") {
		return nil, nil, ErrCorrupt
	}
	raw, err := base64.StdEncoding.Strict().DecodeString(encoded)
	if err != nil || len(raw) < 2 {
		return nil, nil, ErrCorrupt
	}
	n := int(binary.BigEndian.Uint16(raw))
	if len(raw)-2 < n+16 {
		return nil, nil, ErrCorrupt
	}
	wrapped, sealed := raw[2:2+n], raw[2+n:]
	tried := 0
	for _, k := range keys {
		// An RSA ciphertext is exactly as long as the modulus; a key of
		// another size cannot be the one.
		if k.key.Size() != n {
			continue
		}
		tried++
		sessionKey, err := rsa.DecryptOAEP(sha256.New(), nil, k.key, wrapped, label)
		if err != nil {
			continue // wrong key or wrong label: indistinguishable, try the next
		}
		value, err := openSession(sessionKey, sealed)
		clear(sessionKey)
		if err != nil {
			return nil, nil, err
		}
		return value, k, nil
	}
	return nil, nil, &NoKeyError{Tried: tried, Given: len(keys)}
}

// openSession decrypts the GCM part with a session key OAEP authenticated.
// A failure here is tampering, not a wrong key: OAEP already checked the
// key and label.
func openSession(sessionKey, sealed []byte) ([]byte, error) {
	if len(sessionKey) != sessionKeySize {
		return nil, ErrCorrupt
	}
	if len(sealed)-16 > maxValueSize {
		return nil, ErrTooLarge
	}
	block, err := aes.NewCipher(sessionKey)
	if err != nil {
		return nil, ErrCorrupt
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, ErrCorrupt
	}
	value, err := aead.Open(nil, make([]byte, aead.NonceSize()), sealed, nil)
	if err != nil {
		return nil, ErrCorrupt
	}
	return value, nil
}
