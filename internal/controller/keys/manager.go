package keys

import (
	"context"
	"fmt"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/utils/clock"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/syncloop"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// keyResync bounds how long the key manager sleeps (in real time): it
// re-checks the keys and the published ConfigMap at least this often, which
// repairs a deleted or edited ConfigMap and survives a stepped clock.
const keyResync = time.Minute

// Rotation reasons, the values of the reason label of sealkit_key_rotations_total.
const (
	reasonInitial     = "initial"
	reasonNoActive    = "no-active"
	reasonCompromised = "compromised"
	reasonRequested   = "requested"
	reasonPeriod      = "period"
)

// keyManager runs on the leader only: two replicas never generate or rotate
// keys at the same time, so there is one active key.
type keyManager struct {
	client    client.Client
	reader    client.Reader // uncached: a new leader must not act on a stale view
	namespace string
	period    time.Duration
	clock     clock.PassiveClock
	store     *Store
	log       logr.Logger
}

// NeedLeaderElection makes the manager leader-only.
func (m *keyManager) NeedLeaderElection() bool { return true }

// Start manages the keys until ctx ends: after every key change, when the
// active key is due for rotation, and every keyResync. Errors (a missing
// permission, say) are logged and counted and retried with backoff; they
// never stop the manager, and the readiness check shows a missing key.
func (m *keyManager) Start(ctx context.Context) error {
	return syncloop.Loop{Sync: m.sync, Clock: m.clock, Resync: keyResync, Wake: m.store.Subscribe(),
		Failed: func(err error, retryIn time.Duration) {
			m.log.Error(err, "managing keys", "namespace", m.namespace, "retryIn", retryIn)
			keyManagerErrors.Inc()
		}}.Run(ctx)
}

// sync brings the keys to a correct state and publishes the keyring; it
// returns how long until the active key is due for rotation, or, having
// generated a key, until the next resync.
func (m *keyManager) sync(ctx context.Context) (time.Duration, error) {
	keys, err := m.list(ctx)
	if err != nil {
		return 0, err
	}
	generated, err := m.fix(ctx, keys)
	if err != nil {
		return 0, err
	}
	if generated {
		// keys is stale now. The loader loads the new key and signals the
		// change, and the sync that follows publishes it: no second list.
		return keyResync, nil
	}
	// Relabelling a demoted active key changes no effective state, so keys
	// is still what the keyring shows.
	if err := m.publish(ctx, keys); err != nil {
		return 0, err
	}
	for _, k := range keys {
		if k.State == keyring.StateActive {
			return max(k.Created.Add(m.period).Sub(m.clock.Now()), 0), nil
		}
	}
	return keyResync, nil
}

func (m *keyManager) list(ctx context.Context) ([]keysecret.Key, error) {
	// The loader reports invalid Secrets; the manager acts on valid ones.
	set, err := listKeys(ctx, m.reader, m.namespace)
	return set.Keys, err
}

// fix relabels demoted active keys, then makes sure there is an active key
// that is not due for rotation. It reports whether it generated a key.
func (m *keyManager) fix(ctx context.Context, keys []keysecret.Key) (bool, error) {
	var active *keysecret.Key
	for i, k := range keys {
		switch {
		case k.State == keyring.StateActive:
			active = &keys[i]
		case k.Labelled == keyring.StateActive:
			m.log.Info("several active keys; the newest is active, the others are relabelled retained", "demoted", k.ID)
			if err := m.relabel(ctx, k, keyring.StateRetained); err != nil {
				return false, err
			}
		}
	}
	switch {
	case active == nil:
		return true, m.generate(ctx, noActiveReason(keys))
	case active.Rotate != "":
		return true, m.rotate(ctx, *active, reasonRequested)
	case !m.clock.Now().Before(active.Created.Add(m.period)):
		return true, m.rotate(ctx, *active, reasonPeriod)
	}
	return false, nil
}

func noActiveReason(keys []keysecret.Key) string {
	if len(keys) == 0 {
		return reasonInitial
	}
	for _, k := range keys {
		if k.State == keyring.StateCompromised {
			return reasonCompromised
		}
	}
	return reasonNoActive
}

// rotate makes a new active key, then retains the old one. Should the second
// step fail, two keys are labelled active for a while; keysecret.ParseAll
// keeps the newer one active and the next sync relabels the older.
func (m *keyManager) rotate(ctx context.Context, old keysecret.Key, reason string) error {
	if err := m.generate(ctx, reason); err != nil {
		return err
	}
	return m.relabel(ctx, old, keyring.StateRetained)
}

func (m *keyManager) generate(ctx context.Context, reason string) error {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		return err
	}
	s := keysecret.New(m.namespace, id, m.clock.Now(), keyring.StateActive)
	if err := m.client.Create(ctx, s); err != nil {
		return fmt.Errorf("creating key secret %s/%s: %w", s.Namespace, s.Name, err)
	}
	keyRotations.WithLabelValues(reason).Inc()
	m.log.Info("new active key", "keyID", id.KeyID(), "secret", s.Name, "reason", reason)
	return nil
}

// relabel sets a key's state label. The patch carries the resourceVersion the
// decision was based on (see keysecret.Key.StatePatch): a concurrent edit
// makes it fail, and the next sync decides again.
func (m *keyManager) relabel(ctx context.Context, k keysecret.Key, to keyring.State) error {
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: k.Name, Namespace: m.namespace}}
	if err := m.client.Patch(ctx, s, client.RawPatch(types.MergePatchType, k.StatePatch(to))); err != nil {
		return fmt.Errorf("marking key %s (secret %s/%s) %s: %w", k.ID, m.namespace, k.Name, to, err)
	}
	m.log.Info("key state changed", "keyID", k.ID, "secret", k.Name, "from", k.Labelled, "to", to)
	return nil
}
