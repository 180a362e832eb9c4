// Package keyfixtures reads the shared fixtures of key Secrets in
// testdata/keysecrets and the verdicts every reader of key Secrets must
// reach on them: pkg/keysecret, seal-controller's key store and the
// `seal keys` commands are each tested against the same files.
package keyfixtures

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// Key is one key of a verdict.
type Key struct {
	ID    crypto.KeyID
	State keyring.State
}

// Verdict is what a reader must conclude from one fixture.
type Verdict struct {
	// Keys are the valid keys, newest first, with their effective states.
	Keys []Key
	// Invalid is how many Secrets are reported as unreadable.
	Invalid int
}

// Active is the verdict's active key ID.
func (v Verdict) Active() crypto.KeyID {
	for _, k := range v.Keys {
		if k.State == keyring.StateActive {
			return k.ID
		}
	}
	return ""
}

func dir(t testing.TB) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "testdata", "keysecrets")
}

// Verdicts returns every fixture's verdict, by fixture file name.
func Verdicts(t testing.TB) map[string]Verdict {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir(t), "verdicts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]struct {
		Keys    []string `json:"keys"`
		Invalid int      `json:"invalid"`
	}
	if err := yaml.UnmarshalStrict(b, &raw); err != nil {
		t.Fatalf("verdicts.yaml: %v", err)
	}
	out := map[string]Verdict{}
	for file, r := range raw {
		v := Verdict{Invalid: r.Invalid}
		for _, k := range r.Keys {
			id, st, ok := strings.Cut(k, " ")
			if !ok {
				t.Fatalf("verdicts.yaml: %s: %q is not \"ID STATE\"", file, k)
			}
			v.Keys = append(v.Keys, Key{ID: crypto.KeyID(id), State: keyring.State(st)})
		}
		out[file] = v
	}
	if len(out) == 0 {
		t.Fatal("verdicts.yaml lists no fixtures")
	}
	return out
}

// Secrets returns the Secrets of fixture file, in namespace ns.
func Secrets(t testing.TB, file, ns string) []corev1.Secret {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir(t), file))
	if err != nil {
		t.Fatal(err)
	}
	var list corev1.SecretList
	if err := yaml.UnmarshalStrict(b, &list); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	for i := range list.Items {
		s := &list.Items[i]
		s.Namespace = ns
		// stringData is the fixtures' way of writing data; parsers see data.
		s.Data = map[string][]byte{}
		for k, v := range s.StringData {
			s.Data[k] = []byte(v)
		}
	}
	return list.Items
}

// Create creates the Secrets of fixture file in namespace ns of env.
func Create(t testing.TB, env *testenv.Env, file, ns string) {
	t.Helper()
	for _, s := range Secrets(t, file, ns) {
		if err := env.Client.Create(context.Background(), &s); err != nil {
			t.Fatalf("%s: creating %s: %v", file, s.Name, err)
		}
	}
}

// Files returns the fixture file names, sorted.
func Files(v map[string]Verdict) []string {
	names := make([]string, 0, len(v))
	for n := range v {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Describe formats keys as a verdict lists them, for messages.
func Describe(keys []Key) string {
	s := make([]string, len(keys))
	for i, k := range keys {
		s[i] = fmt.Sprintf("%s %s", k.ID, k.State)
	}
	return "[" + strings.Join(s, ", ") + "]"
}
