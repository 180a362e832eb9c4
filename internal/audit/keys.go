package audit

import (
	"context"
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// PublishedKeyring is the keyring the controller of namespace ns
// publishes.
func PublishedKeyring(ctx context.Context, c client.Client, ns string) (*keyring.Keyring, error) {
	var cm corev1.ConfigMap
	if err := c.Get(ctx, client.ObjectKey{Namespace: ns, Name: keyring.KeyringConfigMap}, &cm); err != nil {
		return nil, err
	}
	kr, err := keyring.Parse(strings.NewReader(cm.Data[keyring.KeyringDataKey]))
	if err != nil {
		return nil, fmt.Errorf("parsing the keyring %s/%s: %w", ns, keyring.KeyringConfigMap, err)
	}
	return kr, nil
}

// Keys are the key Secrets of namespace ns.
func Keys(ctx context.Context, c client.Client, ns string) (keysecret.Set, error) {
	var list corev1.SecretList
	if err := c.List(ctx, &list, keysecret.ListOptions(ns)...); err != nil {
		return keysecret.Set{}, err
	}
	return keysecret.ParseAll(list.Items), nil
}

// CheckKeys checks that exactly one key of namespace ns is active and that
// the published keyring says so, listing the same number of keys.
func CheckKeys(ctx context.Context, c client.Client, ns string) error {
	set, err := Keys(ctx, c, ns)
	if err != nil {
		return err
	}
	kr, err := PublishedKeyring(ctx, c, ns)
	if err != nil {
		return err
	}
	return KeysAgree(set, kr)
}

// KeysAgree checks that exactly one key Secret is labelled active and that
// the keyring lists it, and it alone, as active, among as many keys as
// there are Secrets.
func KeysAgree(set keysecret.Set, kr *keyring.Keyring) error {
	var active []crypto.KeyID
	for _, k := range set.Keys {
		if k.Labelled == keyring.StateActive {
			active = append(active, k.ID)
		}
	}
	if len(active) != 1 || set.Active() == nil {
		return fmt.Errorf("active key Secrets %v, want exactly one", active)
	}
	var pub []crypto.KeyID
	for _, k := range kr.Keys {
		if k.State == keyring.StateActive {
			pub = append(pub, k.ID)
		}
	}
	if len(pub) != 1 || pub[0] != active[0] || pub[0] != set.Active().ID || len(kr.Keys) != len(set.Keys) {
		return fmt.Errorf("published keyring: active %v of %d keys; the Secrets: active %v of %d", pub, len(kr.Keys), active, len(set.Keys))
	}
	return nil
}
