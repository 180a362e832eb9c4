package keys

import (
	"strings"
	"testing"
	"time"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

func testKey(t *testing.T, st keyring.State, created time.Time, name string) keysecret.Key {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return keysecret.Key{ID: id.KeyID(), Identity: id, Created: created, Labelled: st, State: st, Name: name}
}

func TestKeyStoreIdentitiesOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	retired := testKey(t, keyring.StateRetired, t0.Add(4*time.Hour), "r")
	comp := testKey(t, keyring.StateCompromised, t0.Add(3*time.Hour), "c")
	active := testKey(t, keyring.StateActive, t0.Add(2*time.Hour), "a")
	retained := testKey(t, keyring.StateRetained, t0.Add(time.Hour), "o")
	s := newStore()
	if s.Active() != nil || s.Recipients() != nil || s.readyCheck(nil) == nil {
		t.Fatal("an empty store has no active key and is not ready")
	}
	s.set([]keysecret.Key{retired, comp, active, retained}) // newest first, as ParseAll orders them
	got := ids(s.Identities())
	// Compromised keys come last: a value opens with one only if no other
	// key opens it, which is what "sealed only to a compromised key" means.
	want := []crypto.KeyID{active.ID, retained.ID, comp.ID}
	if strings.Join(toStrings(got), " ") != strings.Join(toStrings(want), " ") {
		t.Errorf("Identities() = %v, want %v", got, want)
	}
	if s.State(comp.ID) != keyring.StateCompromised || s.State("0000000000000000") != "" {
		t.Errorf("State: %q for the compromised key, %q for an unknown one", s.State(comp.ID), s.State("0000000000000000"))
	}
	if s.State(retired.ID) != keyring.StateRetired {
		t.Errorf("State of the retired key = %q", s.State(retired.ID))
	}
	if rs := s.Recipients(); len(rs) != 1 || rs[0].KeyID() != active.ID {
		t.Errorf("Recipients() = %v", rs)
	}
}

func toStrings(ids []crypto.KeyID) []string {
	var s []string
	for _, id := range ids {
		s = append(s, string(id))
	}
	return s
}

func TestKeyStoreSubscribe(t *testing.T) {
	s := newStore()
	a, b := s.Subscribe(), s.Subscribe()
	k := testKey(t, keyring.StateActive, time.Now(), "a")
	s.set([]keysecret.Key{k})
	s.set([]keysecret.Key{k}) // no change: no second signal, and set never blocks
	for _, ch := range []<-chan struct{}{a, b} {
		select {
		case <-ch:
		default:
			t.Fatal("subscriber not signalled")
		}
		select {
		case <-ch:
			t.Fatal("signalled without a change")
		default:
		}
	}
	k.State = keyring.StateRetired
	s.set([]keysecret.Key{k})
	select {
	case <-a:
	default:
		t.Fatal("state change not signalled")
	}
}
