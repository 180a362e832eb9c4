package keysecret_test

import (
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/utils/ptr"

	"github.com/sealkit/sealkit/internal/keyfixtures"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// TestSharedFixtures: ParseAll reaches the verdicts of testdata/keysecrets,
// which the controller's key store and `seal keys` are tested against too.
func TestSharedFixtures(t *testing.T) {
	verdicts := keyfixtures.Verdicts(t)
	for _, file := range keyfixtures.Files(verdicts) {
		t.Run(file, func(t *testing.T) {
			want := verdicts[file]
			set := keysecret.ParseAll(keyfixtures.Secrets(t, file, "ns"))
			got := make([]keyfixtures.Key, len(set.Keys))
			for i, k := range set.Keys {
				got[i] = keyfixtures.Key{ID: k.ID, State: k.State}
			}
			if keyfixtures.Describe(got) != keyfixtures.Describe(want.Keys) {
				t.Errorf("keys %s, want %s", keyfixtures.Describe(got), keyfixtures.Describe(want.Keys))
			}
			if len(set.Invalid) != want.Invalid {
				t.Errorf("%d invalid (%v), want %d", len(set.Invalid), set.Invalid, want.Invalid)
			}
			for _, err := range set.Invalid {
				if strings.Contains(err.Error(), "SECRET-KEY") {
					t.Errorf("error quotes key material: %v", err)
				}
			}
			if a := set.Active(); a == nil || a.ID != want.Active() {
				t.Errorf("active %v, want %s", a, want.Active())
			}
		})
	}
}

func identity(t *testing.T) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestNewParses(t *testing.T) {
	id := identity(t)
	created := time.Date(2026, 2, 3, 4, 5, 6, 7, time.UTC)
	s := keysecret.New("ns", id, created, keyring.StateActive)
	if !ptr.Deref(s.Immutable, false) || s.Name != keysecret.NamePrefix+string(id.KeyID()) {
		t.Errorf("New: immutable %v, name %s", s.Immutable, s.Name)
	}
	k, err := keysecret.Parse(s)
	if err != nil || k.ID != id.KeyID() || k.State != keyring.StateActive || !k.Created.Equal(created) {
		t.Fatalf("Parse(New(...)) = %+v, %v", k, err)
	}

	imported := s.DeepCopy()
	delete(imported.Labels, keysecret.LabelState)
	delete(imported.Annotations, keysecret.AnnotationCreated)
	imported.CreationTimestamp = metav1.NewTime(created.Truncate(time.Second))
	if k, err := keysecret.Parse(imported); err != nil || k.State != keyring.StateRetained || !k.Created.Equal(created.Truncate(time.Second)) {
		t.Errorf("imported key without state: %+v, %v; want retained, created from metadata", k, err)
	}
}

func TestStatePatchCarriesResourceVersion(t *testing.T) {
	k := keysecret.Key{ResourceVersion: "42"}
	if got := string(k.StatePatch(keyring.StateRetired)); got != `{"metadata":{"resourceVersion":"42","labels":{"sealkit.dev/key-state":"retired"}}}` {
		t.Errorf("StatePatch = %s", got)
	}
}

func TestFind(t *testing.T) {
	set := keysecret.Set{Keys: []keysecret.Key{{ID: "52011f555e885a36"}, {ID: "52019999e885a36a"}, {ID: "cf7e568231315068"}}}
	if k, err := set.Find("cf7e"); err != nil || k.ID != "cf7e568231315068" {
		t.Errorf("Find(prefix) = %v, %v", k.ID, err)
	}
	if _, err := set.Find("5201"); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Errorf("ambiguous prefix: %v", err)
	}
	if _, err := set.Find("cf7"); err == nil {
		t.Error("a three-character prefix matched")
	}
	if _, err := set.Find("0000"); err == nil || !strings.Contains(err.Error(), "cf7e568231315068") {
		t.Errorf("unknown key: %v, want the known keys named", err)
	}
}
