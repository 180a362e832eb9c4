package keysecret

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// Set is every key Secret of a namespace, parsed and resolved.
type Set struct {
	// Keys are the valid keys, newest first (by parsed creation time, then
	// by Secret name), each once, with their effective states.
	Keys []Key
	// Invalid are the Secrets that could not be read, one error each
	// naming the Secret. They are left out, never fatal: one bad import
	// must stop neither unsealing nor `seal keys rotate --compromised`.
	Invalid []error
	// Duplicates name the Secrets holding a key another Secret holds too;
	// the key counts once, in the least usable of their states.
	Duplicates []string
	// Demoted are keys labelled active that are effectively retained,
	// because a newer key is active too (a restore, or a rotation caught
	// halfway). The key manager relabels them.
	Demoted []crypto.KeyID
}

// ParseAll parses the key Secrets among secrets (those [IsKey] accepts;
// [ListOptions] lists only those) and resolves their states: should several
// keys be labelled active, the newest is active and the others are
// retained.
func ParseAll(secrets []corev1.Secret) Set {
	var set Set
	byID := map[crypto.KeyID]int{}
	for i := range secrets {
		if !IsKey(&secrets[i]) {
			continue
		}
		k, err := Parse(&secrets[i])
		if err != nil {
			set.Invalid = append(set.Invalid, err)
			continue
		}
		if j, dup := byID[k.ID]; dup {
			set.Duplicates = append(set.Duplicates, fmt.Sprintf("key %s is in secrets %s and %s", k.ID, set.Keys[j].Name, k.Name))
			if stateRank(k.Labelled) > stateRank(set.Keys[j].Labelled) {
				set.Keys[j] = k
			}
			continue
		}
		byID[k.ID] = len(set.Keys)
		set.Keys = append(set.Keys, k)
	}
	slices.SortFunc(set.Keys, func(a, b Key) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return cmp.Compare(b.Name, a.Name)
	})
	active := false
	for i := range set.Keys {
		k := &set.Keys[i]
		k.State = k.Labelled
		if k.Labelled != keyring.StateActive {
			continue
		}
		if active {
			k.State = keyring.StateRetained
			set.Demoted = append(set.Demoted, k.ID)
		}
		active = true
	}
	return set
}

// stateRank orders states from most to least usable.
func stateRank(s keyring.State) int {
	return slices.Index([]keyring.State{keyring.StateActive, keyring.StateRetained, keyring.StateCompromised, keyring.StateRetired}, s)
}

// Active returns the active key, or nil.
func (s Set) Active() *Key {
	for i := range s.Keys {
		if s.Keys[i].State == keyring.StateActive {
			return &s.Keys[i]
		}
	}
	return nil
}

// Find returns the key whose ID is id or starts with id (at least four
// characters, and unique).
func (s Set) Find(id string) (Key, error) {
	var found []Key
	for _, k := range s.Keys {
		if string(k.ID) == id {
			return k, nil
		}
		if len(id) >= 4 && strings.HasPrefix(string(k.ID), id) {
			found = append(found, k)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		ids := make([]string, len(s.Keys))
		for i, k := range s.Keys {
			ids[i] = string(k.ID)
		}
		known := "none"
		if len(ids) > 0 {
			known = strings.Join(ids, ", ")
		}
		return Key{}, fmt.Errorf("no key %s among the cluster's keys (they are: %s)", id, known)
	}
	return Key{}, fmt.Errorf("key ID %s is ambiguous: give more of it", id)
}
