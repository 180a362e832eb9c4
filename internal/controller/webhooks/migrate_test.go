package webhooks

import (
	"bytes"
	"context"
	"sync"
	"testing"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/migrate"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// legacyKeys is a LegacyKeySource a test can empty.
type legacyKeys struct {
	mu   sync.Mutex
	keys []*bitnami.PrivateKey
}

func (l *legacyKeys) LegacyKeys(context.Context) ([]*bitnami.PrivateKey, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.keys, nil
}

// bitnamiObject is what the real kubeseal seals of a Secret holding
// whCanary in ns/name, in scope, reshaped for sealkit as seal migrate sends
// it, with the migrate marker.
func bitnamiObject(t *testing.T, cert, ns, name, scope string) *v1alpha1.SealedSecret {
	t.Helper()
	in := "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: " + ns + "}\nstringData: {password: " + whCanary + ", user: " + whCanary + "}\n"
	docs, err := sealed.ReadManifests(bytes.NewReader(kubeseal.Seal(t, cert, []byte(in), "--scope", scope)), "sealed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := bitnami.Decode(docs[0])
	if err != nil {
		t.Fatal(err)
	}
	ss, _, err := migrate.Reshape(b)
	if err != nil {
		t.Fatal(err)
	}
	ss.Annotations = map[string]string{v1alpha1.AnnotationMigrate: v1alpha1.MigrateFromBitnami}
	return ss
}

// TestMigrateWebhook: a dry-run marked sealkit.dev/migrate comes back with
// the Bitnami values sealed to the active and recovery keys, for where the
// object is: a Bitnami value moved to another namespace or scope is
// refused, the marker is refused on a real write, and without Bitnami keys
// the request is denied with the fix named. No value reaches a log or a
// response (checked by the fixture).
func TestMigrateWebhook(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	bk, err := bitnami.KeyFromSecret(kubeseal.KeySecret(t, key, "sealed-secrets-key1", "kube-system", "active"))
	if err != nil {
		t.Fatal(err)
	}
	legacy := &legacyKeys{keys: []*bitnami.PrivateKey{bk}}
	f := startWebhooks(t, testenv.Options{}, Options{Legacy: legacy})
	ctx := context.Background()
	c := f.env.Client
	ns, other := f.env.Namespace(t), f.env.Namespace(t)

	for _, scope := range []string{"strict", "namespace-wide", "cluster-wide"} {
		t.Run("migrates "+scope, func(t *testing.T) {
			sent := bitnamiObject(t, cert, ns, "db-"+scope, scope)
			got := sent.DeepCopy()
			if err := f.try(c.Create(ctx, got, client.DryRunAll)); err != nil {
				t.Fatal(err)
			}
			if _, ok := got.Annotations[v1alpha1.AnnotationMigrate]; ok {
				t.Error("marker not removed")
			}
			f.checkResealed(t, sent, got)
			if err := c.Get(ctx, client.ObjectKeyFromObject(sent), &v1alpha1.SealedSecret{}); !apierrors.IsNotFound(err) {
				t.Errorf("the dry-run persisted the object: %v", err)
			}
		})
	}

	t.Run("a strict value copied to another namespace is refused", func(t *testing.T) {
		ss := bitnamiObject(t, cert, other, "db", "strict")
		ss.Namespace = ns
		wantDenied(t, f.try(c.Create(ctx, ss, client.DryRunAll)), "none of the 1 bitnami private keys opens this value")
	})

	t.Run("a namespace-wide value copied to another namespace is refused", func(t *testing.T) {
		ss := bitnamiObject(t, cert, other, "db", "namespace-wide")
		ss.Namespace = ns
		wantDenied(t, f.try(c.Create(ctx, ss, client.DryRunAll)), "none of the 1 bitnami private keys opens this value")
	})

	t.Run("a strict value claimed cluster-wide is refused", func(t *testing.T) {
		ss := bitnamiObject(t, cert, ns, "widened", "strict")
		ss.Spec.Scope = v1alpha1.ScopeCluster
		wantDenied(t, f.try(c.Create(ctx, ss, client.DryRunAll)), "none of the 1 bitnami private keys opens this value")
	})

	t.Run("the marker on a real create is denied", func(t *testing.T) {
		ss := bitnamiObject(t, cert, ns, "real", "strict")
		wantDenied(t, f.try(c.Create(ctx, ss)), v1alpha1.AnnotationMigrate, "dry-run")
	})

	t.Run("an unknown source is denied", func(t *testing.T) {
		ss := bitnamiObject(t, cert, ns, "other-tool", "strict")
		ss.Annotations[v1alpha1.AnnotationMigrate] = "vault"
		wantDenied(t, f.try(c.Create(ctx, ss, client.DryRunAll)), `the only migration source is "bitnami"`)
	})

	t.Run("without Bitnami keys the fix is named", func(t *testing.T) {
		legacy.mu.Lock()
		legacy.keys = nil
		legacy.mu.Unlock()
		ss := bitnamiObject(t, cert, ns, "nokeys", "strict")
		wantDenied(t, f.try(c.Create(ctx, ss, client.DryRunAll)), "seal keys import-bitnami", "--bitnami-namespace")
	})
}
