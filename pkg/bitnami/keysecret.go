package bitnami

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// parseKeySecrets reads Bitnami key Secrets from a manifest.
func parseKeySecrets(data []byte, source string) ([]*PrivateKey, error) {
	docs, err := sealed.ReadManifests(bytes.NewReader(data), source)
	if err != nil {
		return nil, err
	}
	keys := make([]*PrivateKey, 0, len(docs))
	for _, d := range docs {
		s, err := d.Secret()
		if err != nil {
			return nil, err
		}
		k, err := keyFromSecret(s)
		for _, v := range s.Data {
			clear(v)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", source, d.Index, err)
		}
		keys = append(keys, k)
	}
	return keys, nil
}

// KeyFromSecret returns the key a Bitnami key Secret holds, as the Bitnami
// controller made it. The label is required so that unrelated Secrets
// (service account tokens, TLS certificates) are never taken for keys.
// Errors name the Secret, never its data.
func KeyFromSecret(s *corev1.Secret) (*PrivateKey, error) {
	return keyFromSecret(s)
}

// keyFromSecret is [KeyFromSecret].
func keyFromSecret(s *corev1.Secret) (*PrivateKey, error) {
	obj := s.Namespace + "/" + s.Name
	state, ok := s.Labels[LabelSealingKey]
	if !ok {
		return nil, fmt.Errorf("secret %s is not a bitnami sealing key: it has no %s label (export the keys with -l %s)", obj, LabelSealingKey, LabelSealingKey)
	}
	switch KeyState(state) {
	case KeyActive, KeyCompromised:
	default:
		return nil, fmt.Errorf("secret %s: label %s is %q, want active or compromised", obj, LabelSealingKey, state)
	}
	pemKey, ok := s.Data[corev1.TLSPrivateKeyKey]
	if !ok {
		return nil, fmt.Errorf("secret %s has no %s", obj, corev1.TLSPrivateKeyKey)
	}
	k, err := ParseKeyPEM(pemKey, "secret "+obj, KeyState(state))
	if err != nil {
		return nil, fmt.Errorf("secret %s: %s: %w", obj, corev1.TLSPrivateKeyKey, err)
	}
	return k, nil
}

// ParseKeyPEM reads one PEM private key (PKCS#1 or PKCS#8 RSA), named
// source in messages, in state. Errors never quote key material.
func ParseKeyPEM(pemKey []byte, source string, state KeyState) (*PrivateKey, error) {
	block, rest := pem.Decode(pemKey)
	if block == nil || len(bytes.TrimSpace(rest)) > 0 {
		return nil, errors.New("not one PEM block")
	}
	key, err := parsePrivateKeyDER(block.Type, block.Bytes)
	clear(block.Bytes)
	if err != nil {
		return nil, err
	}
	return &PrivateKey{Source: source, State: state, key: key}, nil
}
