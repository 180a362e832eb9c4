package keys

import (
	"bytes"
	"context"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// publicKeyring is the keyring file of keys: every key with its ID, creation
// time and effective state, retired keys included (so offline lint can name
// values sealed to them). It holds recipients only, never identities.
func publicKeyring(keys []keysecret.Key) *keyring.Keyring {
	kr := &keyring.Keyring{}
	for _, k := range keys {
		kr.Keys = append(kr.Keys, keyring.Key{
			ID:        k.ID,
			Recipient: k.Identity.Recipient(),
			Created:   k.Created.UTC(),
			State:     k.State,
		})
	}
	return kr
}

// publish writes the keyring ConfigMap when its content differs from keys.
func (m *keyManager) publish(ctx context.Context, keys []keysecret.Key) error {
	if len(keys) == 0 {
		return nil // the keyring format has no empty form; nothing to fetch yet
	}
	data := publicKeyring(keys).Format()
	var cm corev1.ConfigMap
	err := m.reader.Get(ctx, client.ObjectKey{Namespace: m.namespace, Name: keyring.KeyringConfigMap}, &cm)
	switch {
	case apierrors.IsNotFound(err):
		cm = corev1.ConfigMap{
			ObjectMeta: metav1.ObjectMeta{Name: keyring.KeyringConfigMap, Namespace: m.namespace},
			Data:       map[string]string{keyring.KeyringDataKey: string(data)},
		}
		if err := m.client.Create(ctx, &cm); err != nil {
			return fmt.Errorf("creating keyring configmap %s/%s: %w", m.namespace, keyring.KeyringConfigMap, err)
		}
	case err != nil:
		return fmt.Errorf("reading keyring configmap %s/%s: %w", m.namespace, keyring.KeyringConfigMap, err)
	case bytes.Equal([]byte(cm.Data[keyring.KeyringDataKey]), data):
		return nil
	default:
		if cm.Data == nil {
			cm.Data = map[string]string{}
		}
		cm.Data[keyring.KeyringDataKey] = string(data)
		if err := m.client.Update(ctx, &cm); err != nil {
			return fmt.Errorf("updating keyring configmap %s/%s: %w", m.namespace, keyring.KeyringConfigMap, err)
		}
	}
	m.log.Info("published keyring", "configMap", keyring.KeyringConfigMap, "keys", len(keys))
	return nil
}
