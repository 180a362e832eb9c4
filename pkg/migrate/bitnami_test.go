package migrate

import (
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// secretsYAML is the sample repository in namespace shop.
var secretsYAML = kubeseal.SampleSecrets("shop")

// TestFromBitnamiKubeseal migrates what the real kubeseal sealed, offline
// with a backed-up key, and checks that sealkit unseals the result to exactly
// the original values with the original template, in every scope.
func TestFromBitnamiKubeseal(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := parseKeys(t, keySecretList(key, bitnami.KeyActive))
	docs := readDocs(t, kubeseal.Seal(t, cert, []byte(secretsYAML)), "sealed.yaml")
	ids, recipients := identities(t, 2) // two clusters: one manifest for both
	var migrated []*v1alpha1.SealedSecret
	for _, d := range docs {
		bss, err := bitnami.Decode(d)
		if err != nil {
			t.Fatal(err)
		}
		res, err := FromBitnami(bss, keys, recipients)
		if err != nil {
			t.Fatalf("%s: %v", bss.ObjectName(), err)
		}
		if len(res.Notes) > 0 {
			t.Errorf("%s: unexpected notes %q", bss.ObjectName(), res.Notes)
		}
		migrated = append(migrated, res.SealedSecret)
	}
	migrated = roundTrip(t, migrated)
	want := originals(t, secretsYAML)
	scopes := map[string]string{"db": "strict", "api": "namespace", "registry": "cluster"}
	for _, ss := range migrated {
		orig := want[ss.Name]
		if ss.Namespace != "shop" || ss.Spec.Scope != scopes[ss.Name] {
			t.Errorf("%s: namespace %q, scope %q; want shop, %s", ss.Name, ss.Namespace, ss.Spec.Scope, scopes[ss.Name])
		}
		if len(ss.Annotations) > 0 || len(ss.Spec.Template.Metadata.Annotations) > 0 && ss.Name != "db" {
			t.Errorf("%s: bitnami annotations left: %v, %v", ss.Name, ss.Annotations, ss.Spec.Template.Metadata.Annotations)
		}
		for i, id := range ids {
			got, _, err := sealed.Unseal(ss, []*crypto.Identity{id})
			if err != nil {
				t.Fatalf("%s, cluster %d: %v", ss.Name, i, err)
			}
			if !sameData(got.Data, orig.Data) {
				t.Errorf("%s, cluster %d: unsealed data differs from the original", ss.Name, i)
			}
			if got.Type != orig.Type || !maps.Equal(got.Labels, orig.Labels) || ptrBool(got.Immutable) != ptrBool(orig.Immutable) {
				t.Errorf("%s: template type %s labels %v immutable %v; want %s %v %v", ss.Name, got.Type, got.Labels, ptrBool(got.Immutable), orig.Type, orig.Labels, ptrBool(orig.Immutable))
			}
		}
	}
	db := migrated[0]
	if db.Spec.Template.Metadata.Annotations["owner"] != "team-a" {
		t.Errorf("db: template annotations %v", db.Spec.Template.Metadata.Annotations)
	}
}

func ptrBool(b *bool) bool { return b != nil && *b }

// TestFromBitnamiMovedRefused: after migration a value copied to another
// namespace, name or data key is refused, as far as its scope binds it; the
// data key is now bound even where Bitnami bound nothing.
func TestFromBitnamiMovedRefused(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := parseKeys(t, keySecretList(key, bitnami.KeyActive))
	ids, recipients := identities(t, 1)
	migrated := map[string]*v1alpha1.SealedSecret{}
	for _, d := range readDocs(t, kubeseal.Seal(t, cert, []byte(secretsYAML)), "sealed.yaml") {
		bss, err := bitnami.Decode(d)
		if err != nil {
			t.Fatal(err)
		}
		res, err := FromBitnami(bss, keys, recipients)
		if err != nil {
			t.Fatal(err)
		}
		migrated[bss.Name] = res.SealedSecret
	}
	for _, tc := range []struct {
		name  string
		from  string
		move  func(ss *v1alpha1.SealedSecret)
		field string // of the FrameMismatchError; "" when it still opens
	}{
		{"strict to another namespace", "db", func(ss *v1alpha1.SealedSecret) { ss.Namespace = "other" }, "namespace"},
		{"strict to another name", "db", func(ss *v1alpha1.SealedSecret) { ss.Name = "db2" }, "name"},
		{"strict to another data key", "db", swapKeys("username", "password"), "key"},
		{"namespace-wide to another namespace", "api", func(ss *v1alpha1.SealedSecret) { ss.Namespace = "other" }, "namespace"},
		{"namespace-wide renamed", "api", func(ss *v1alpha1.SealedSecret) { ss.Name = "api2" }, ""},
		{"namespace-wide to another data key", "api", swapKeys("token", "empty"), "key"},
		{"cluster-wide anywhere", "registry", func(ss *v1alpha1.SealedSecret) { ss.Namespace, ss.Name = "other", "x" }, ""},
		{"cluster-wide to another data key", "registry", renameKey(".dockerconfigjson", "config.json"), "key"},
		{"scope widened", "db", func(ss *v1alpha1.SealedSecret) { ss.Spec.Scope = "cluster" }, "scope"},
	} {
		ss := migrated[tc.from].DeepCopy()
		tc.move(ss)
		_, _, err := sealed.Unseal(ss, ids)
		var mismatch *crypto.FrameMismatchError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &mismatch) || mismatch.Field != tc.field):
			t.Errorf("%s: got %v, want a %s mismatch", tc.name, err, tc.field)
		}
	}
}

func swapKeys(a, b string) func(*v1alpha1.SealedSecret) {
	return func(ss *v1alpha1.SealedSecret) {
		d := ss.Spec.EncryptedData
		d[a], d[b] = d[b], d[a]
	}
}

func renameKey(from, to string) func(*v1alpha1.SealedSecret) {
	return func(ss *v1alpha1.SealedSecret) {
		ss.Spec.EncryptedData[to] = ss.Spec.EncryptedData[from]
		delete(ss.Spec.EncryptedData, from)
	}
}

// TestFromBitnamiRefusesAndNotes: a Go template is refused by name, a
// compromised key and Bitnami's other annotations get notes, the object's
// own metadata is kept.
func TestFromBitnamiRefusesAndNotes(t *testing.T) {
	key, _ := kubeseal.KeyPair(t, 2048)
	oldKey, oldCert := kubeseal.KeyPair(t, 2048)
	keys := parseKeys(t, keySecretList(key, bitnami.KeyActive), keySecretList(oldKey, bitnami.KeyCompromised))
	_, recipients := identities(t, 1)

	sealedOld := readDocs(t, kubeseal.Seal(t, oldCert, []byte(secretsYAML)), "old.yaml")
	bss, err := bitnami.Decode(sealedOld[0])
	if err != nil {
		t.Fatal(err)
	}
	bss.Annotations = map[string]string{
		"argocd.argoproj.io/sync-wave":                        "-1",
		"sealedsecrets.bitnami.com/skip-set-owner-references": "true",
	}
	bss.Labels = map[string]string{"team": "a"}
	res, err := FromBitnami(bss, keys, recipients)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(res.Notes, "\n")
	for _, want := range []string{
		"metadata annotation sealedsecrets.bitnami.com/skip-set-owner-references has no meaning to sealkit: dropped",
		"opened with secret kube-system/sealed-secrets-keycomp, labelled compromised",
	} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes %q lack %q", res.Notes, want)
		}
	}
	got := res.SealedSecret
	if got.Annotations["argocd.argoproj.io/sync-wave"] != "-1" || len(got.Annotations) != 1 || got.Labels["team"] != "a" {
		t.Errorf("object metadata: labels %v, annotations %v", got.Labels, got.Annotations)
	}

	bss, err = bitnami.Decode(sealedOld[0])
	if err != nil {
		t.Fatal(err)
	}
	bss.Spec.Template.Data = map[string]string{"dsn": "postgres://{{ index . \"username\" }}@db"}
	_, err = FromBitnami(bss, keys, recipients)
	if !errors.Is(err, bitnami.ErrTemplateData) || !strings.Contains(err.Error(), "bitnami sealedsecret shop/db: ") {
		t.Errorf("go templates: got %v", err)
	}
}

// TestFromBitnamiMovedBeforeMigration documents a limit: Bitnami binds no
// data key, so values swapped between keys of one object before migration
// open, and are migrated where they sit. Migration binds them from then on.
func TestFromBitnamiMovedBeforeMigration(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := parseKeys(t, keySecretList(key, bitnami.KeyActive))
	ids, recipients := identities(t, 1)
	bss, err := bitnami.Decode(readDocs(t, kubeseal.Seal(t, cert, []byte(secretsYAML)), "sealed.yaml")[0])
	if err != nil {
		t.Fatal(err)
	}
	d := bss.Spec.EncryptedData
	d["username"], d["password"] = d["password"], d["username"]
	res, err := FromBitnami(bss, keys, recipients)
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := sealed.Unseal(res.SealedSecret, ids)
	if err != nil || string(s.Data["username"]) != originals(t, secretsYAML)["db"].StringData["password"] {
		t.Fatalf("got %v", err)
	}
	swapKeys("username", "password")(res.SealedSecret)
	var mismatch *crypto.FrameMismatchError
	if _, _, err := sealed.Unseal(res.SealedSecret, ids); !errors.As(err, &mismatch) || mismatch.Field != "key" {
		t.Errorf("swapped after migration: %v", err)
	}
}

// TestFromBitnamiErrorsHoldNoValue: when one value of an object opens and
// another does not, the error names the object and key, never the value
// that opened, and nothing is returned.
func TestFromBitnamiErrorsHoldNoValue(t *testing.T) {
	const canary = "CANARY-bitnami-5d1e"
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := parseKeys(t, keySecretList(key, bitnami.KeyActive))
	_, recipients := identities(t, 1)
	in := "apiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\nstringData: {a: " + canary + ", b: " + canary + "}\n"
	bss, err := bitnami.Decode(readDocs(t, kubeseal.Seal(t, cert, []byte(in)), "sealed.yaml")[0])
	if err != nil {
		t.Fatal(err)
	}
	b := []byte(bss.Spec.EncryptedData["b"])
	b[len(b)-5] ^= 1 // inside the GCM tag
	bss.Spec.EncryptedData["b"] = string(b)
	res, err := FromBitnami(bss, keys, recipients)
	if res != nil || err == nil || !strings.Contains(err.Error(), `bitnami sealedsecret shop/db: key "b": bitnami sealed value is malformed`) {
		t.Fatalf("got %v, %v", res, err)
	}
	if strings.Contains(err.Error(), canary) {
		t.Fatalf("error holds the value: %v", err)
	}
}
