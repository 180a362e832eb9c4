// Package bitnami tests sealkit's migration against Bitnami's real controller
// running on a real API server: the keys it makes, as users export them, and
// the Secrets it makes, which sealkit's reading of Bitnami SealedSecrets must
// reproduce exactly.
package bitnami

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/migrate"
	"github.com/sealkit/sealkit/pkg/sealed"
)

func TestMain(m *testing.M) {
	crds, err := testenv.CRDDir()
	if err != nil {
		panic(err)
	}
	testenv.Main(m, testenv.Options{CRDDirs: []string{crds, filepath.Join(kubeseal.Dir(), "crd")}})
}

// TestBitnamiController lets Bitnami's controller make its key and unseal
// what kubeseal sealed with it, then checks that sealkit reads the key as
// users back it up, opens every object to exactly the Secret Bitnami's
// controller made (data, labels, annotations, type, immutability), and
// migrates it to a SealedSecret that unseals to the same data.
func TestBitnamiController(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	startController(t, env)

	label := client.HasLabels{bitnami.LabelSealingKey}
	var keySecrets corev1.SecretList
	testenv.Eventually(t, "bitnami's controller to make its key", func() bool {
		return env.Client.List(ctx, &keySecrets, client.InNamespace(controllerNamespace), label) == nil && len(keySecrets.Items) == 1
	})
	backup := kubectl(t, env, nil, "get", "secret", "-n", controllerNamespace, "-l", bitnami.LabelSealingKey, "-o", "yaml")
	keys, err := bitnami.ParsePrivateKeys(bytes.NewReader(backup), "backup.yaml")
	if err != nil {
		t.Fatalf("the backup of bitnami's key: %v", err)
	}
	if len(keys) != 1 || keys[0].State != bitnami.KeyActive || keys[0].Source != "secret kube-system/"+keySecrets.Items[0].Name {
		t.Fatalf("read %d keys from the backup: %+v", len(keys), keys)
	}
	cert := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(cert, keySecrets.Items[0].Data[corev1.TLSCertKey], 0o600); err != nil {
		t.Fatal(err)
	}

	ns := env.Namespace(t)
	manifest := kubeseal.Seal(t, cert, []byte(kubeseal.SampleSecrets(ns)))
	kubectl(t, env, manifest, "apply", "-f", "-")

	ids, recipients := identity(t)
	docs, err := sealed.ReadManifests(bytes.NewReader(manifest), "sealed.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range docs {
		bss, err := bitnami.Decode(d)
		if err != nil {
			t.Fatal(err)
		}
		var made corev1.Secret
		testenv.Eventually(t, "bitnami's controller to make secret "+bss.Name, func() bool {
			return env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: bss.Name}, &made) == nil
		})
		ours, _, err := bss.Unseal(keys)
		if err != nil {
			t.Fatalf("%s: %v", bss.Name, err)
		}
		if ours.Type == "" {
			ours.Type = corev1.SecretTypeOpaque // as the API server defaults it
		}
		if !maps.EqualFunc(ours.Data, made.Data, bytes.Equal) || ours.Type != made.Type || !maps.Equal(ours.Labels, made.Labels) ||
			!maps.Equal(ours.Annotations, made.Annotations) || boolOf(ours.Immutable) != boolOf(made.Immutable) {
			t.Errorf("%s: sealkit reads type %s labels %v annotations %v immutable %v; bitnami made type %s labels %v annotations %v immutable %v (data equal: %v)",
				bss.Name, ours.Type, ours.Labels, ours.Annotations, boolOf(ours.Immutable),
				made.Type, made.Labels, made.Annotations, boolOf(made.Immutable), maps.EqualFunc(ours.Data, made.Data, bytes.Equal))
		}
		res, err := migrate.FromBitnami(bss, keys, recipients)
		if err != nil {
			t.Fatalf("%s: %v", bss.Name, err)
		}
		unsealed, _, err := sealed.Unseal(res.SealedSecret, ids)
		if err != nil || !maps.EqualFunc(unsealed.Data, made.Data, bytes.Equal) {
			t.Errorf("%s: the migrated SealedSecret unseals to other data (%v)", bss.Name, err)
		}
	}
}

func boolOf(b *bool) bool { return b != nil && *b }

func identity(t *testing.T) ([]*crypto.Identity, []*crypto.Recipient) {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return []*crypto.Identity{id}, []*crypto.Recipient{id.Recipient()}
}
