package keys

import (
	"errors"
	"net/http"
	"slices"
	"sync"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// Store holds the keys loaded from the key Secrets. It is safe for
// concurrent use; the reconciler reads it on every unseal.
type Store struct {
	mu     sync.RWMutex
	keys   []keysecret.Key // newest first
	loaded bool
	subs   []chan struct{}
}

// newStore returns an empty store; [Setup] creates and fills the one a
// controller uses.
func newStore() *Store { return &Store{} }

// Identities returns the keys that may open values: the active key first,
// then retained keys, then compromised keys, newest first within each
// state. Retired keys are never returned.
func (s *Store) Identities() []*crypto.Identity {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []*crypto.Identity
	for _, st := range []keyring.State{keyring.StateActive, keyring.StateRetained, keyring.StateCompromised} {
		for _, k := range s.keys {
			if k.State == st {
				ids = append(ids, k.Identity)
			}
		}
	}
	return ids
}

// State returns the effective state of key id, or "" when the store does
// not hold it.
func (s *Store) State(id crypto.KeyID) keyring.State {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.keys {
		if k.ID == id {
			return k.State
		}
	}
	return ""
}

// Active returns the active key, or nil until one is loaded.
func (s *Store) Active() *crypto.Identity {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.keys {
		if k.State == keyring.StateActive {
			return k.Identity
		}
	}
	return nil
}

// Recipients returns the recipients to seal to: the active key's.
func (s *Store) Recipients() []*crypto.Recipient {
	if a := s.Active(); a != nil {
		return []*crypto.Recipient{a.Recipient()}
	}
	return nil
}

// Subscribe returns a new channel that receives a value (without blocking the
// store; one pending signal at most) whenever the set of keys or their
// states change.
func (s *Store) Subscribe() <-chan struct{} {
	ch := make(chan struct{}, 1)
	s.mu.Lock()
	s.subs = append(s.subs, ch)
	s.mu.Unlock()
	return ch
}

// snapshot returns a copy of the keys, newest first.
func (s *Store) snapshot() []keysecret.Key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.keys)
}

// set replaces the keys (already resolved, newest first) and signals the
// subscribers if anything they can observe changed.
func (s *Store) set(keys []keysecret.Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := !s.loaded || !slices.EqualFunc(s.keys, keys, func(a, b keysecret.Key) bool {
		return a.ID == b.ID && a.State == b.State && a.Created.Equal(b.Created) && a.Rotate == b.Rotate
	})
	s.keys, s.loaded = keys, true
	if !changed {
		return
	}
	for _, ch := range s.subs {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// readyCheck is a healthz.Checker: not ready until an active key is loaded,
// so a controller that cannot get or create its key is visibly unready.
func (s *Store) readyCheck(*http.Request) error {
	if s.Active() == nil {
		return errors.New("no active key loaded")
	}
	return nil
}
