package crypto

import (
	"bytes"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"

	"golang.org/x/crypto/chacha20poly1305"
)

// This file opens the payload of an age file (https://age-encryption.org/v1,
// "Payload") without age's streaming reader, which allocates two 64 KiB
// buffers per file: for one small value that was most of Open's memory
// traffic. The format is age's, unchanged, and the tests check this code
// against age.Decrypt on valid and invalid files alike.
//
// The payload is a 16-byte nonce followed by the plaintext split into 64 KiB
// chunks, each sealed with ChaCha20-Poly1305 under a key derived from the
// file key. Chunk nonces are an 11-byte big-endian chunk counter and one flag
// byte, 1 on the last chunk only: that flag is what makes truncation at a
// chunk boundary detectable.

const (
	payloadNonceSize = 16
	chunkSize        = 64 << 10
	sealedChunkSize  = chunkSize + chacha20poly1305.Overhead
)

// splitHeader returns the length of the age header at the start of file: up
// to and including the line that starts with "--- " (the header MAC). No
// earlier line can start with "---": stanza lines start with "-> " and body
// lines are base64. The header itself is parsed and authenticated by age;
// this only finds where the payload begins.
func splitHeader(file []byte) (int, bool) {
	i := bytes.Index(file, []byte("\n--- "))
	if i < 0 {
		return 0, false
	}
	j := bytes.IndexByte(file[i+1:], '\n')
	if j < 0 {
		return 0, false
	}
	return i + 1 + j + 1, true
}

// decryptPayload authenticates and decrypts payload with fileKey, in place:
// the plaintext it returns overwrites the start of payload. Any failure is
// ErrCorrupt; which check failed is of no use to anyone but an attacker.
func decryptPayload(fileKey, payload []byte) ([]byte, error) {
	if len(payload) < payloadNonceSize {
		return nil, ErrCorrupt
	}
	// The per-file nonce salts the derivation, so a file key reused across
	// files (which age never does, but a buggy sealer might) still gives a
	// fresh payload key.
	key, err := hkdf.Key(sha256.New, fileKey, payload[:payloadNonceSize], "payload", chacha20poly1305.KeySize)
	if err != nil {
		return nil, ErrCorrupt
	}
	aead, err := chacha20poly1305.New(key)
	if err != nil {
		return nil, ErrCorrupt
	}
	sealed := payload[payloadNonceSize:]
	// An empty payload has no last chunk: the file was cut after the nonce.
	if len(sealed) == 0 {
		return nil, ErrCorrupt
	}
	chunks := (len(sealed) + sealedChunkSize - 1) / sealedChunkSize
	// Only the first chunk may be empty (the whole plaintext is empty): an
	// empty chunk after a full one is a second encoding of the same
	// plaintext, which age refuses, and so do we.
	if last := len(sealed) - (chunks-1)*sealedChunkSize; chunks > 1 && last <= chacha20poly1305.Overhead {
		return nil, ErrCorrupt
	}
	var nonce [chacha20poly1305.NonceSize]byte
	n := 0 // plaintext bytes so far, compacted at the start of payload
	for i := range chunks {
		in := sealed[i*sealedChunkSize : min((i+1)*sealedChunkSize, len(sealed))]
		binary.BigEndian.PutUint64(nonce[3:11], uint64(i))
		// The last chunk is the one the length says is last: a chunk
		// flagged last anywhere else, or a final chunk not flagged last
		// (the file was truncated at a chunk boundary), fails to open.
		if i == chunks-1 {
			nonce[11] = 1
		}
		out, err := aead.Open(in[:0], nonce[:], in, nil)
		if err != nil {
			return nil, ErrCorrupt
		}
		// Move the chunk down over the previous tags; copy allows overlap.
		n += copy(payload[n:], out)
	}
	return payload[:n:n], nil
}
