package keys

import (
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

func testKey(t *testing.T, st keyring.State, created time.Time, name string) key {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return key{id: id.KeyID(), identity: id, created: created, labelled: st, state: st, secret: name}
}

func TestResolveStatesNewestActiveWins(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	old := testKey(t, keyring.StateActive, t0, "a")
	mid := testKey(t, keyring.StateRetained, t0.Add(time.Hour), "b")
	newest := testKey(t, keyring.StateActive, t0.Add(2*time.Hour), "c")
	keys := resolveStates(logr.Discard(), []key{old, mid, newest})
	want := []struct {
		id    crypto.KeyID
		state keyring.State
	}{{newest.id, keyring.StateActive}, {mid.id, keyring.StateRetained}, {old.id, keyring.StateRetained}}
	for i, w := range want {
		if keys[i].id != w.id || keys[i].state != w.state {
			t.Errorf("key %d: %s %s, want %s %s", i, keys[i].id, keys[i].state, w.id, w.state)
		}
	}
	if keys[2].labelled != keyring.StateActive {
		t.Error("the label as found must be kept, so the manager relabels it")
	}
}

func TestKeyStoreIdentitiesOrder(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	retired := testKey(t, keyring.StateRetired, t0.Add(4*time.Hour), "r")
	comp := testKey(t, keyring.StateCompromised, t0.Add(3*time.Hour), "c")
	active := testKey(t, keyring.StateActive, t0.Add(2*time.Hour), "a")
	retained := testKey(t, keyring.StateRetained, t0.Add(time.Hour), "o")
	s := NewStore()
	if s.Active() != nil || s.Recipients() != nil || s.readyCheck(nil) == nil {
		t.Fatal("an empty store has no active key and is not ready")
	}
	s.set(resolveStates(logr.Discard(), []key{retained, active, comp, retired}))
	got := ids(s.Identities())
	want := []crypto.KeyID{active.id, comp.id, retained.id}
	if strings.Join(toStrings(got), " ") != strings.Join(toStrings(want), " ") {
		t.Errorf("Identities() = %v, want %v", got, want)
	}
	if r := s.Retired(); len(r) != 1 || r[0] != retired.id {
		t.Errorf("Retired() = %v", r)
	}
	if rs := s.Recipients(); len(rs) != 1 || rs[0].KeyID() != active.id {
		t.Errorf("Recipients() = %v", rs)
	}
}

func toStrings(ids []crypto.KeyID) []string {
	var s []string
	for _, id := range ids {
		s = append(s, string(id))
	}
	return s
}

func TestKeyStoreSubscribe(t *testing.T) {
	s := NewStore()
	a, b := s.Subscribe(), s.Subscribe()
	k := testKey(t, keyring.StateActive, time.Now(), "a")
	s.set([]key{k})
	s.set([]key{k}) // no change: no second signal, and set never blocks
	for _, ch := range []<-chan struct{}{a, b} {
		select {
		case <-ch:
		default:
			t.Fatal("subscriber not signalled")
		}
		select {
		case <-ch:
			t.Fatal("signalled without a change")
		default:
		}
	}
	k.state = keyring.StateRetired
	s.set([]key{k})
	select {
	case <-a:
	default:
		t.Fatal("state change not signalled")
	}
}

func TestParseKeySecret(t *testing.T) {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	good := newKeySecret("ns", id, created)
	k, err := parseKeySecret(good)
	if err != nil || k.id != id.KeyID() || k.state != keyring.StateActive || !k.created.Equal(created) {
		t.Fatalf("parseKeySecret = %+v, %v", k, err)
	}

	imported := good.DeepCopy()
	delete(imported.Labels, keyring.LabelKeyState)
	delete(imported.Annotations, keyring.AnnotationCreated)
	imported.CreationTimestamp = metav1.NewTime(created)
	if k, err := parseKeySecret(imported); err != nil || k.state != keyring.StateRetained || !k.created.Equal(created) {
		t.Errorf("imported key without state: %+v, %v; want retained, created from metadata", k, err)
	}

	secretText := "AGE-SECRET-KEY-PQ-1NOTAVALIDKEYBUTSECRETLOOKING"
	for name, mutate := range map[string]func(*corev1.Secret){
		"no identity":   func(s *corev1.Secret) { delete(s.Data, keyring.KeyDataIdentity) },
		"bad identity":  func(s *corev1.Secret) { s.Data[keyring.KeyDataIdentity] = []byte(secretText) },
		"unknown state": func(s *corev1.Secret) { s.Labels[keyring.LabelKeyState] = "dormant" },
		"bad created":   func(s *corev1.Secret) { s.Annotations[keyring.AnnotationCreated] = "yesterday" },
	} {
		s := good.DeepCopy()
		mutate(s)
		_, err := parseKeySecret(s)
		if err == nil {
			t.Errorf("%s: no error", name)
			continue
		}
		if strings.Contains(err.Error(), "SECRET-KEY") {
			t.Errorf("%s: error leaks key material: %v", name, err)
		}
	}
}

func TestParseKeySecretsSkipsInvalidAndDuplicates(t *testing.T) {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	a := newKeySecret("ns", id, now)
	dup := a.DeepCopy()
	dup.Name = "copy"
	dup.Labels[keyring.LabelKeyState] = string(keyring.StateRetired)
	bad := a.DeepCopy()
	bad.Name = "bad"
	bad.Data = nil
	keys := parseKeySecrets(logr.Discard(), []corev1.Secret{*a, *dup, *bad})
	if len(keys) != 1 || keys[0].state != keyring.StateRetired {
		t.Errorf("got %+v, want the key once, retired (the more restrictive state)", keys)
	}
}
