package keys

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/interceptor"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// TestPublishWritesOnlyChanges checks that the keyring ConfigMap, re-checked
// every minute, is written only when its content changes, and that a deleted
// one is recreated.
func TestPublishWritesOnlyChanges(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	ctx := context.Background()
	// The API server turns an update to equal data into a no-op, so count
	// the writes rather than watch the resourceVersion.
	writes := 0
	count := func() { writes++ }
	ww, err := client.NewWithWatch(env.Config, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	c := interceptor.NewClient(ww, interceptor.Funcs{
		Create: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.CreateOption) error {
			count()
			return c.Create(ctx, o, opts...)
		},
		Update: func(ctx context.Context, c client.WithWatch, o client.Object, opts ...client.UpdateOption) error {
			count()
			return c.Update(ctx, o, opts...)
		},
	})
	m := &keyManager{client: c, reader: c, namespace: ns, log: logr.Discard()}
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	keys := []keysecret.Key{{ID: id.KeyID(), Identity: id, Created: time.Now(), State: keyring.StateActive}}
	get := func() corev1.ConfigMap {
		t.Helper()
		var cm corev1.ConfigMap
		if err := env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: keyring.KeyringConfigMap}, &cm); err != nil {
			t.Fatal(err)
		}
		return cm
	}

	if err := m.publish(ctx, keys); err != nil {
		t.Fatal(err)
	}
	first := get()
	if strings.Contains(first.Data[keyring.KeyringDataKey], "SECRET-KEY") {
		t.Fatal("keyring ConfigMap contains a private key")
	}
	if err := m.publish(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if writes != 1 {
		t.Errorf("%d writes for one keyring published twice, want 1", writes)
	}

	keys[0].State = keyring.StateCompromised
	if err := m.publish(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if got := get(); writes != 2 || got.Data[keyring.KeyringDataKey] != string(publicKeyring(keys).Format()) {
		t.Errorf("changed keyring not written: %q", got.Data[keyring.KeyringDataKey])
	}

	cm := get()
	if err := env.Client.Delete(ctx, &cm); err != nil {
		t.Fatal(err)
	}
	if err := m.publish(ctx, keys); err != nil {
		t.Fatal(err)
	}
	if got := get(); got.Data[keyring.KeyringDataKey] != string(publicKeyring(keys).Format()) {
		t.Errorf("deleted keyring recreated as %q", got.Data[keyring.KeyringDataKey])
	}
}
