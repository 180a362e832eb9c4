package keys

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/bitnami"
)

// bitnamiKeysTTL is how long keys read from the Bitnami controller's
// namespace are reused: a migration sends one request per object, and
// Bitnami adds a key every 30 days.
const bitnamiKeysTTL = 30 * time.Second

// LegacyKeys returns the Bitnami private keys that open Bitnami values in
// an online migration: those imported into the controller namespace (seal
// keys import-bitnami), then, with Options.BitnamiNamespace, the Bitnami
// controller's own key Secrets there. They are decrypt-only: the store
// never seals to them and never publishes them.
func (s *Store) LegacyKeys(ctx context.Context) ([]*bitnami.PrivateKey, error) {
	s.mu.RLock()
	keys := slices.Clone(s.legacy)
	s.mu.RUnlock()
	if s.bitnami == nil {
		return keys, nil
	}
	more, err := s.bitnami.keys(ctx)
	if err != nil {
		return nil, err
	}
	return append(keys, more...), nil
}

// setLegacy replaces the imported legacy keys.
func (s *Store) setLegacy(keys []*bitnami.PrivateKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.legacy = keys
}

// bitnamiKeys reads the key Secrets of the Bitnami controller's namespace
// through the API server, not a cache: nothing of that namespace is
// watched, and it is read only when a migration asks.
type bitnamiKeys struct {
	reader    client.Reader
	namespace string
	log       logr.Logger

	mu   sync.Mutex
	read time.Time
	last []*bitnami.PrivateKey
}

func (b *bitnamiKeys) keys(ctx context.Context) ([]*bitnami.PrivateKey, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.last != nil && time.Since(b.read) < bitnamiKeysTTL {
		return b.last, nil
	}
	var list corev1.SecretList
	if err := b.reader.List(ctx, &list, client.InNamespace(b.namespace), client.HasLabels{bitnami.LabelSealingKey}); err != nil {
		return nil, fmt.Errorf("listing bitnami key secrets in %s: %w", b.namespace, err)
	}
	var keys []*bitnami.PrivateKey
	for i := range list.Items {
		k, err := bitnami.KeyFromSecret(&list.Items[i])
		for _, v := range list.Items[i].Data {
			clear(v)
		}
		if err != nil {
			b.log.Error(err, "ignoring bitnami key secret")
			continue
		}
		keys = append(keys, k)
	}
	b.last, b.read = keys, time.Now()
	return keys, nil
}
