package bitnami

import (
	"bytes"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// LabelSealingKey marks the Secrets holding the Bitnami controller's keys;
// its value is the key's state.
const LabelSealingKey = "sealedsecrets.bitnami.com/sealed-secrets-key"

// KeyState is the value of [LabelSealingKey].
type KeyState string

const (
	// KeyActive keys are the ones Bitnami seals to.
	KeyActive KeyState = "active"
	// KeyCompromised keys still open what was sealed to them; values they
	// open should be rotated, not just migrated.
	KeyCompromised KeyState = "compromised"
)

const (
	// maxKeyBits bounds the RSA keys accepted: Bitnami makes 4096-bit keys,
	// and a huge modulus would make every decryption attempt slow.
	maxKeyBits = 16384
	// maxKeyDERSize bounds a private key before it is parsed: a PKCS#8
	// 16384-bit RSA key is about 9.4 KiB.
	maxKeyDERSize = 12 << 10
	// maxKeyFileSize bounds a key file: a List of many key Secrets.
	maxKeyFileSize = sealed.MaxManifestSize
)

// PrivateKey is one of the Bitnami controller's RSA private keys.
type PrivateKey struct {
	// Source names where the key came from, for messages: the Secret's
	// namespace/name, or the file and the PEM block's number.
	Source string
	// State is the key Secret's label value; empty for a PEM key.
	State KeyState
	key   *rsa.PrivateKey
}

// Fingerprint is a short, stable name of the key: the first 8 bytes of the
// SHA-256 of its public key in PKIX form, in hex. It is public information.
func (k *PrivateKey) Fingerprint() string {
	der, err := x509.MarshalPKIXPublicKey(&k.key.PublicKey)
	if err != nil {
		return "unknown"
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:8])
}

// ParsePrivateKeys reads Bitnami private keys from r, named source in
// errors. It accepts what users back up: the key Secrets as YAML or JSON (one
// Secret, several documents, or a List, as `kubectl get secret -l
// sealedsecrets.bitnami.com/sealed-secrets-key -o yaml` writes), or PEM
// private keys (PKCS#1 or PKCS#8; certificates in the same file are
// skipped). The same key given twice is kept once. Errors never quote key
// material.
func ParsePrivateKeys(r io.Reader, source string) ([]*PrivateKey, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxKeyFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	defer clear(data)
	if len(data) > maxKeyFileSize {
		return nil, fmt.Errorf("%s: key file exceeds %d MiB", source, maxKeyFileSize>>20)
	}
	var keys []*PrivateKey
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----BEGIN ")) {
		keys, err = parsePEMKeys(data, source)
	} else {
		keys, err = parseKeySecrets(data, source)
	}
	if err != nil {
		return nil, err
	}
	return dedupe(keys), nil
}

// parsePEMKeys reads every private key block of a PEM file.
func parsePEMKeys(data []byte, source string) ([]*PrivateKey, error) {
	var keys []*PrivateKey
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		at := fmt.Sprintf("%s: PEM block %d", source, n)
		switch block.Type {
		case "CERTIFICATE", "PUBLIC KEY", "RSA PUBLIC KEY":
			continue
		case "ENCRYPTED PRIVATE KEY":
			return nil, fmt.Errorf("%s is an encrypted private key: decrypt it first (openssl pkey -in FILE -out PLAIN.pem)", at)
		}
		k, err := parsePrivateKeyDER(block.Type, block.Bytes)
		clear(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", at, err)
		}
		keys = append(keys, &PrivateKey{Source: at, key: k})
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%s: no private key found (want RSA PRIVATE KEY or PRIVATE KEY PEM blocks)", source)
	}
	return keys, nil
}

// parsePrivateKeyDER parses a PKCS#1 or PKCS#8 RSA private key and checks it
// is one Bitnami could have made.
func parsePrivateKeyDER(blockType string, der []byte) (*rsa.PrivateKey, error) {
	if len(der) > maxKeyDERSize {
		return nil, fmt.Errorf("private key of %d bytes is larger than a %d-bit RSA key", len(der), maxKeyBits)
	}
	var key *rsa.PrivateKey
	switch blockType {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(der)
		if err != nil {
			return nil, errors.New("invalid PKCS#1 RSA private key")
		}
		key = k
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, errors.New("invalid PKCS#8 private key")
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("a %T private key, not RSA: Bitnami keys are RSA", k)
		}
		key = rk
	default:
		return nil, fmt.Errorf("a %q PEM block, not a private key", blockType)
	}
	if bits := key.N.BitLen(); bits > maxKeyBits {
		return nil, fmt.Errorf("RSA key of %d bits exceeds %d bits", bits, maxKeyBits)
	}
	return key, nil
}

// dedupe keeps the first of keys with the same modulus.
func dedupe(keys []*PrivateKey) []*PrivateKey {
	out := keys[:0]
	for _, k := range keys {
		seen := false
		for _, o := range out {
			if o.key.N.Cmp(k.key.N) == 0 {
				seen = true
				break
			}
		}
		if !seen {
			out = append(out, k)
		}
	}
	return out
}
