package bitnami

import (
	"errors"
	"os"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// TestVectors opens values the real kubeseal v0.36.6 sealed, kept in
// testdata with the test key that opens them, so that the format stays
// pinned even when kubeseal is upgraded.
func TestVectors(t *testing.T) {
	manifest, err := os.ReadFile("testdata/kubeseal-v0.36.6.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sss := readSealedSecrets(t, manifest, "kubeseal-v0.36.6.yaml")
	want := []struct {
		name  string
		scope Scope
		data  map[string]string
	}{
		{"db", ScopeStrict, map[string]string{"username": "admin", "password": "hunter2 with spaces\n"}},
		{"api", ScopeNamespaceWide, map[string]string{"token": "t0k3n"}},
		{"shared", ScopeClusterWide, map[string]string{"binary": "\x00\x01\x02\x03\xff"}},
	}
	if len(sss) != len(want) {
		t.Fatalf("read %d sealedsecrets, want %d", len(sss), len(want))
	}
	for _, keyFile := range []string{"key-pkcs1.pem", "key-pkcs8.pem", "keys-list.yaml"} {
		keys := testKeys(t, keyFile)
		for i, w := range want {
			ss := sss[i]
			if ss.Name != w.name || ss.Namespace != "shop" || ss.Scope() != w.scope {
				t.Fatalf("%s: object %d is %s in scope %s, want shop/%s in %s", keyFile, i, ss.ObjectName(), ss.Scope(), w.name, w.scope)
			}
			s, used, err := ss.Unseal(keys)
			if err != nil {
				t.Fatalf("%s: %s: %v", keyFile, w.name, err)
			}
			if len(s.Data) != len(w.data) {
				t.Errorf("%s: %s: %d values, want %d", keyFile, w.name, len(s.Data), len(w.data))
			}
			for k, v := range w.data {
				if string(s.Data[k]) != v {
					t.Errorf("%s: %s: key %s = %q, want %q", keyFile, w.name, k, s.Data[k], v)
				}
			}
			if len(used) != 1 || (keyFile == "keys-list.yaml" && used[0].State != KeyActive) {
				t.Errorf("%s: %s: opened with %d keys, want the one active key", keyFile, w.name, len(used))
			}
		}
	}
	db, _, err := sss[0].Unseal(testKeys(t, "key-pkcs1.pem"))
	if err != nil {
		t.Fatal(err)
	}
	if db.Type != corev1.SecretTypeBasicAuth || db.Immutable == nil || !*db.Immutable ||
		db.Labels["app"] != "shop" || db.Annotations["owner"] != "team-a" {
		t.Errorf("template not carried over: type %s, immutable %v, labels %v, annotations %v", db.Type, db.Immutable, db.Labels, db.Annotations)
	}
}

// TestVectorsMoved shows what Bitnami's labels bind: a strict value moved to
// another name, or a namespace-wide one to another namespace, no longer
// opens; a cluster-wide value opens anywhere.
func TestVectorsMoved(t *testing.T) {
	manifest, err := os.ReadFile("testdata/kubeseal-v0.36.6.yaml")
	if err != nil {
		t.Fatal(err)
	}
	keys := testKeys(t, "keys-list.yaml")
	sss := readSealedSecrets(t, manifest, "kubeseal-v0.36.6.yaml")
	db, api, shared := sss[0], sss[1], sss[2]

	db.Name = "db2"
	api.Namespace = "other"
	for _, ss := range []*SealedSecret{db, api} {
		_, _, err := ss.Unseal(keys)
		var noKey *NoKeyError
		if !errors.As(err, &noKey) || noKey.Tried != 2 {
			t.Errorf("%s moved: got %v, want a NoKeyError after trying both keys", ss.ObjectName(), err)
		}
	}
	shared.Namespace, shared.Name = "elsewhere", "renamed"
	if _, _, err := shared.Unseal(keys); err != nil {
		t.Errorf("cluster-wide value moved: %v", err)
	}
}
