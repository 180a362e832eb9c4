package bitnami

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/internal/kubeseal"
)

// pemKeys turns a generated key into what ParsePrivateKeys reads.
func pemKeys(t testing.TB, key *rsa.PrivateKey) []*PrivateKey {
	t.Helper()
	keys, err := ParsePrivateKeys(bytes.NewReader(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})), "generated")
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// kubesealInput is the sample repository and two Secrets that show how
// kubeseal reads scope annotations.
var kubesealInput = kubeseal.SampleSecrets("shop") + `---
apiVersion: v1
kind: Secret
metadata:
  name: both
  namespace: shop
  annotations:
    sealedsecrets.bitnami.com/namespace-wide: "true"
    sealedsecrets.bitnami.com/cluster-wide: "true"
stringData:
  k: both-value
---
apiVersion: v1
kind: Secret
metadata:
  name: capitalised
  namespace: shop
  annotations:
    sealedsecrets.bitnami.com/cluster-wide: "True"
stringData:
  k: capitalised-value
`

// TestKubeseal seals Secrets with the real kubeseal, offline with --cert, in
// every scope, with a template, several documents and comments, and opens
// what it wrote.
func TestKubeseal(t *testing.T) {
	// Bitnami's keys are 4096 bits; this one is fixed because generating one
	// takes too long, its certificate is made here.
	keys := testKeys(t, "key-4096.pem")
	out := kubeseal.Seal(t, kubeseal.Cert(t, keys[0].key), []byte(kubesealInput))
	sss := readSealedSecrets(t, out, "kubeseal output")
	want := []struct {
		name  string
		scope Scope
		data  map[string]string
	}{
		{"db", ScopeStrict, map[string]string{"username": "admin", "password": "hunter2: with # and 'quotes'"}},
		{"api", ScopeNamespaceWide, map[string]string{"token": "\x00\x01\x02\x03\x04\x05\xff", "empty": ""}},
		{"registry", ScopeClusterWide, map[string]string{".dockerconfigjson": `{"auths":{"r.example":{"auth":"dTpw"}}}`}},
		// kubeseal reads cluster-wide first, and only "true" counts.
		{"both", ScopeClusterWide, map[string]string{"k": "both-value"}},
		{"capitalised", ScopeStrict, map[string]string{"k": "capitalised-value"}},
	}
	if len(sss) != len(want) {
		t.Fatalf("kubeseal wrote %d sealedsecrets, want %d:\n%s", len(sss), len(want), out)
	}
	for i, w := range want {
		ss := sss[i]
		if ss.Name != w.name || ss.Scope() != w.scope {
			t.Errorf("document %d: %s in scope %s, want %s in %s", i+1, ss.ObjectName(), ss.Scope(), w.name, w.scope)
			continue
		}
		s, _, err := ss.Unseal(keys)
		if err != nil {
			t.Errorf("%s: %v", w.name, err)
			continue
		}
		if fmt.Sprint(stringData(s.Data)) != fmt.Sprint(w.data) {
			t.Errorf("%s: opened %q, want %q", w.name, stringData(s.Data), w.data)
		}
	}
	s, _, err := sss[0].Unseal(keys)
	if err != nil {
		t.Fatal(err)
	}
	if s.Type != "kubernetes.io/basic-auth" || s.Immutable == nil || !*s.Immutable || s.Labels["tier"] != "db" || s.Annotations["owner"] != "team-a" {
		t.Errorf("template: type %s, immutable %v, labels %v, annotations %v", s.Type, s.Immutable, s.Labels, s.Annotations)
	}
}

func stringData(data map[string][]byte) map[string]string {
	m := make(map[string]string, len(data))
	for k, v := range data {
		m[k] = string(v)
	}
	return m
}

// TestKubesealRaw opens values from `kubeseal --raw` in every scope, the way
// users seal single values into existing SealedSecrets, and checks each is
// bound to exactly what its scope says.
func TestKubesealRaw(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := pemKeys(t, key)
	value := filepath.Join(t.TempDir(), "value")
	if err := os.WriteFile(value, []byte("raw-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		scope   Scope
		opens   [][2]string // namespace, name
		refuses [][2]string
	}{
		{ScopeStrict, [][2]string{{"shop", "db"}}, [][2]string{{"shop", "other"}, {"other", "db"}}},
		{ScopeNamespaceWide, [][2]string{{"shop", "db"}, {"shop", "other"}}, [][2]string{{"other", "db"}}},
		{ScopeClusterWide, [][2]string{{"shop", "db"}, {"other", "x"}}, nil},
	} {
		enc := strings.TrimSpace(string(kubeseal.Run(t, nil, "--cert", cert, "--raw", "--scope", string(tc.scope),
			"--namespace", "shop", "--name", "db", "--from-file", value)))
		for _, at := range tc.opens {
			got, _, err := OpenValue(enc, tc.scope.Label(at[0], at[1]), keys)
			if err != nil || string(got) != "raw-secret\n" {
				t.Errorf("%s value at %s/%s: %q, %v", tc.scope, at[0], at[1], got, err)
			}
		}
		for _, at := range tc.refuses {
			var noKey *NoKeyError
			if _, _, err := OpenValue(enc, tc.scope.Label(at[0], at[1]), keys); !errors.As(err, &noKey) {
				t.Errorf("%s value at %s/%s: got %v, want a NoKeyError", tc.scope, at[0], at[1], err)
			}
		}
	}
}

// TestKubesealJSON reads kubeseal's default output, JSON, of several Secrets.
func TestKubesealJSON(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	out := kubeseal.Run(t, []byte(kubesealInput), "--cert", cert, "-o", "json")
	if !bytes.HasPrefix(bytes.TrimSpace(out), []byte("{")) {
		t.Fatalf("kubeseal -o json wrote:\n%s", out)
	}
	sss := readSealedSecrets(t, out, "sealed.json")
	if len(sss) != 5 {
		t.Fatalf("read %d sealedsecrets, want 5", len(sss))
	}
	for _, ss := range sss {
		if _, _, err := ss.Unseal(pemKeys(t, key)); err != nil {
			t.Errorf("%s: %v", ss.ObjectName(), err)
		}
	}
}
