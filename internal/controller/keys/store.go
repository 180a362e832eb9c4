package keys

import (
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// key is one loaded key Secret.
type key struct {
	id       crypto.KeyID
	identity *crypto.Identity
	created  time.Time
	// state is the effective state: the label, unless a newer active key
	// demoted this one to retained (see resolveStates).
	state keyring.State
	// labelled is the state label as found on the Secret.
	labelled keyring.State
	secret   string // name of the Secret
	rotate   string // value of keyring.AnnotationRotate
	// resourceVersion of the Secret, so relabelling never overwrites a
	// concurrent change.
	resourceVersion string
}

// Store holds the keys loaded from the key Secrets. It is safe for
// concurrent use; the reconciler reads it on every unseal.
type Store struct {
	mu     sync.RWMutex
	keys   []key // newest first
	loaded bool
	subs   []chan struct{}
}

// NewStore returns an empty store; [Setup] creates and fills the one a
// controller uses.
func NewStore() *Store { return &Store{} }

// Identities returns the keys that may open values: the active key first,
// then retained and compromised keys, newest first. Retired keys are never
// returned.
func (s *Store) Identities() []*crypto.Identity {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []*crypto.Identity
	for _, k := range s.keys {
		if k.state == keyring.StateActive {
			ids = append(ids, k.identity)
		}
	}
	for _, k := range s.keys {
		if k.state == keyring.StateRetained || k.state == keyring.StateCompromised {
			ids = append(ids, k.identity)
		}
	}
	return ids
}

// Active returns the active key, or nil until one is loaded.
func (s *Store) Active() *crypto.Identity {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, k := range s.keys {
		if k.state == keyring.StateActive {
			return k.identity
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

// Retired returns the IDs of retired keys, newest first.
func (s *Store) Retired() []crypto.KeyID {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var ids []crypto.KeyID
	for _, k := range s.keys {
		if k.state == keyring.StateRetired {
			ids = append(ids, k.id)
		}
	}
	return ids
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
func (s *Store) snapshot() []key {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Clone(s.keys)
}

// set replaces the keys (already resolved, newest first) and signals the
// subscribers if anything they can observe changed.
func (s *Store) set(keys []key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	changed := !s.loaded || !slices.EqualFunc(s.keys, keys, func(a, b key) bool {
		return a.id == b.id && a.state == b.state && a.created.Equal(b.created) && a.rotate == b.rotate
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
