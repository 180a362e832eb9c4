package bitnami

import (
	"bytes"
	"encoding/pem"
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

// keyFromSecret returns the key a Bitnami key Secret holds. The label is
// required so that a file of unrelated Secrets (service account tokens, TLS
// certificates) is never taken for keys.
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
	block, rest := pem.Decode(pemKey)
	if block == nil || len(bytes.TrimSpace(rest)) > 0 {
		return nil, fmt.Errorf("secret %s: %s is not one PEM block", obj, corev1.TLSPrivateKeyKey)
	}
	key, err := parsePrivateKeyDER(block.Type, block.Bytes)
	clear(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("secret %s: %s: %w", obj, corev1.TLSPrivateKeyKey, err)
	}
	return &PrivateKey{Source: "secret " + obj, State: KeyState(state), key: key}, nil
}
