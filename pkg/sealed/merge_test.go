package sealed

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

func sealedFixture(name, namespace, scope string, data map[string]string) *v1alpha1.SealedSecret {
	return &v1alpha1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Spec:       v1alpha1.SealedSecretSpec{Scope: scope, EncryptedData: data},
	}
}

func TestMerge(t *testing.T) {
	dst := sealedFixture("db", "shop", "", map[string]string{"a": "old-a", "b": "old-b"})
	dst.Spec.Template.Type = corev1.SecretTypeOpaque
	dst.Spec.Template.Metadata.Labels = map[string]string{"keep": "1", "over": "dst"}
	src := sealedFixture("db", "shop", "strict", map[string]string{"b": "new-b", "c": "new-c"})
	src.Spec.Template.Type = corev1.SecretTypeTLS
	src.Spec.Template.Metadata.Labels = map[string]string{"over": "src"}
	src.Spec.Template.Metadata.Annotations = map[string]string{"note": "x"}
	if err := Merge(dst, src); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"a": "old-a", "b": "new-b", "c": "new-c"}
	if !maps.Equal(dst.Spec.EncryptedData, want) {
		t.Errorf("encryptedData = %v, want %v", dst.Spec.EncryptedData, want)
	}
	if !maps.Equal(dst.Spec.Template.Metadata.Labels, map[string]string{"keep": "1", "over": "src"}) ||
		dst.Spec.Template.Metadata.Annotations["note"] != "x" {
		t.Errorf("template metadata = %+v", dst.Spec.Template.Metadata)
	}
	if dst.Spec.Template.Type != corev1.SecretTypeOpaque {
		t.Errorf("type = %q, want dst's kept", dst.Spec.Template.Type)
	}

	empty := sealedFixture("db", "shop", "strict", nil)
	if err := Merge(empty, src); err != nil || len(empty.Spec.EncryptedData) != 2 || empty.Spec.Template.Type != corev1.SecretTypeTLS {
		t.Errorf("merge into empty: err %v, %+v", err, empty.Spec)
	}
}

func TestMergeErrors(t *testing.T) {
	dst := sealedFixture("db", "shop", "strict", map[string]string{"a": "x"})
	tests := []struct {
		name string
		src  *v1alpha1.SealedSecret
		want string
	}{
		{"other name", sealedFixture("web", "shop", "strict", nil), "shop/web into shop/db"},
		{"other namespace", sealedFixture("db", "dev", "strict", nil), "dev/db into shop/db"},
		{"other scope", sealedFixture("db", "shop", "cluster", nil), "scope cluster into scope strict"},
		{"nil", nil, "nothing to merge"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := dst.DeepCopy()
			err := Merge(c, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
			if !maps.Equal(c.Spec.EncryptedData, dst.Spec.EncryptedData) {
				t.Error("dst changed on error")
			}
		})
	}
}

func TestReseal(t *testing.T) {
	oldID, newID := newIdentity(t), newIdentity(t)
	ss, err := Seal(testSecret(), SealOptions{Recipients: []*crypto.Recipient{oldID.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	to := []*crypto.Recipient{newID.Recipient()}

	stranger := newIdentity(t)
	before := maps.Clone(ss.Spec.EncryptedData)
	if _, err := Reseal(ss, []*crypto.Identity{stranger}, to); err == nil {
		t.Fatal("reseal with a key that opens nothing: no error")
	} else if ve := (*ValueError)(nil); !errors.As(err, &ve) {
		t.Errorf("error %v is not a *ValueError", err)
	}
	if !maps.Equal(before, ss.Spec.EncryptedData) {
		t.Error("failed reseal changed the object")
	}

	changed, err := Reseal(ss, []*crypto.Identity{oldID}, to)
	if err != nil || !changed {
		t.Fatalf("reseal: changed %v, err %v", changed, err)
	}
	for k, v := range ss.Spec.EncryptedData {
		ids, err := crypto.KeyIDs(v)
		if err != nil || !slices.Equal(ids, []crypto.KeyID{newID.KeyID()}) {
			t.Errorf("%s sealed to %v (%v)", k, ids, err)
		}
	}
	out, opened, err := Unseal(ss, []*crypto.Identity{newID})
	if err != nil || string(out.Data["password"]) != canary || !slices.Equal(opened, []crypto.KeyID{newID.KeyID()}) {
		t.Fatalf("unseal after reseal: %v, opened %v", err, opened)
	}
	again, err := Reseal(ss, nil, to)
	if err != nil || again {
		t.Errorf("second reseal: changed %v, err %v; want no change and no key needed", again, err)
	}
}

// TestResealIgnoresForgedHints: a value still sealed to an old (say,
// compromised) key whose hints were edited to name the new key is
// re-sealed all the same: the header decides, not the hints.
func TestResealIgnoresForgedHints(t *testing.T) {
	oldID, newID, recovery := newIdentity(t), newIdentity(t), newIdentity(t)
	ss, err := Seal(testSecret(), SealOptions{Recipients: []*crypto.Recipient{oldID.Recipient(), recovery.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	forge := func(enc string, ids ...*crypto.Identity) string {
		hints := make([]string, len(ids))
		for i, id := range ids {
			hints[i] = string(id.KeyID())
		}
		return "sealkit:v1:" + strings.Join(hints, ",") + ":" + enc[strings.LastIndexByte(enc, ':')+1:]
	}
	for k, v := range ss.Spec.EncryptedData {
		ss.Spec.EncryptedData[k] = forge(v, newID, recovery)
	}
	to := []*crypto.Recipient{newID.Recipient(), recovery.Recipient()}
	changed, err := Reseal(ss, []*crypto.Identity{newID, oldID}, to)
	if err != nil || !changed {
		t.Fatalf("reseal of values whose hints lie: changed %v, err %v", changed, err)
	}
	for k, v := range ss.Spec.EncryptedData {
		n, opens, err := crypto.SealedTo(v, []*crypto.Identity{newID, oldID, recovery})
		if err != nil || n != 2 || !slices.Equal(opens, []crypto.KeyID{newID.KeyID(), recovery.KeyID()}) {
			t.Errorf("%s: %d stanzas opened by %v (%v), want the new key and the recovery key", k, n, opens, err)
		}
	}
	// Now current: nothing changes the second time.
	if again, err := Reseal(ss, []*crypto.Identity{newID, oldID}, to); err != nil || again {
		t.Errorf("second reseal: changed %v, err %v", again, err)
	}
	// One stanza short (sealed to the new key only, hints claiming both):
	// re-sealed to add the recovery key.
	one, err := Seal(testSecret(), SealOptions{Recipients: []*crypto.Recipient{newID.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range one.Spec.EncryptedData {
		one.Spec.EncryptedData[k] = forge(v, newID, recovery)
	}
	if changed, err := Reseal(one, []*crypto.Identity{newID}, to); err != nil || !changed {
		t.Errorf("a value missing a recipient: changed %v, err %v", changed, err)
	}
	// Sealed to the new key and the old one, hints claiming the new key
	// and the recovery key, which the re-sealer does not hold: the stanza
	// counted for the recovery key is the old key's, and that is found.
	swapped, err := Seal(testSecret(), SealOptions{Recipients: []*crypto.Recipient{newID.Recipient(), oldID.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range swapped.Spec.EncryptedData {
		swapped.Spec.EncryptedData[k] = forge(v, newID, recovery)
	}
	if changed, err := Reseal(swapped, []*crypto.Identity{oldID, newID}, to); err != nil || !changed {
		t.Errorf("a value sealed to an old key in place of a wanted one: changed %v, err %v", changed, err)
	}
	// Current, and the re-sealer holds every wanted key besides an old
	// one: left alone.
	if changed, err := Reseal(swapped, []*crypto.Identity{oldID, newID, recovery}, to); err != nil || changed {
		t.Errorf("current value, every key held: changed %v, err %v", changed, err)
	}
}

// TestResealVerified: every value is opened and its frame checked, even
// one already sealed to the wanted keys; all failures are reported, in
// order, and nothing changes; otherwise only the values not yet sealed to
// the wanted keys are re-sealed.
func TestResealVerified(t *testing.T) {
	oldID, newID := newIdentity(t), newIdentity(t)
	to := []*crypto.Recipient{newID.Recipient()}
	ids := []*crypto.Identity{oldID, newID}
	s := testSecret()
	s.Type, s.Data = corev1.SecretTypeOpaque, nil
	s.StringData = map[string]string{"a": "1", "b": "2", "c": "3"}
	stale, err := Seal(s, SealOptions{Recipients: []*crypto.Recipient{oldID.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	current, err := Seal(s, SealOptions{Recipients: to})
	if err != nil {
		t.Fatal(err)
	}
	ss := stale.DeepCopy()
	ss.Spec.EncryptedData["b"] = current.Spec.EncryptedData["b"]
	changed, failed, err := ResealVerified(ss, ids, to)
	if err != nil || len(failed) > 0 || !changed {
		t.Fatalf("changed %v, failed %v, err %v", changed, failed, err)
	}
	if ss.Spec.EncryptedData["b"] != current.Spec.EncryptedData["b"] {
		t.Error("a value already sealed to the new key was re-sealed")
	}
	for _, k := range []string{"a", "c"} {
		if ss.Spec.EncryptedData[k] == stale.Spec.EncryptedData[k] {
			t.Errorf("%s was not re-sealed", k)
		}
	}
	if out, opened, err := Unseal(ss, []*crypto.Identity{newID}); err != nil || string(out.Data["c"]) != "3" || !slices.Equal(opened, []crypto.KeyID{newID.KeyID()}) {
		t.Fatalf("unseal after: %v, opened %v", err, opened)
	}

	// A value copied from another object, already sealed to the new key,
	// and a value no key opens: both refused, nothing changes.
	other := s.DeepCopy()
	other.Name = "other"
	elsewhere, err := Seal(other, SealOptions{Recipients: to})
	if err != nil {
		t.Fatal(err)
	}
	bad := stale.DeepCopy()
	bad.Spec.EncryptedData["a"] = elsewhere.Spec.EncryptedData["a"]
	stranger, err := Seal(s, SealOptions{Recipients: []*crypto.Recipient{newIdentity(t).Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	bad.Spec.EncryptedData["c"] = stranger.Spec.EncryptedData["c"]
	before := maps.Clone(bad.Spec.EncryptedData)
	changed, failed, err = ResealVerified(bad, ids, to)
	if err != nil || changed || len(failed) != 2 || failed[0].Key != "a" || failed[1].Key != "c" {
		t.Fatalf("changed %v, failed %v, err %v; want a and c refused", changed, failed, err)
	}
	var mismatch *crypto.FrameMismatchError
	if !errors.As(failed[0], &mismatch) || mismatch.Field != "name" {
		t.Errorf("a: %v, want a name mismatch", failed[0])
	}
	if !maps.Equal(before, bad.Spec.EncryptedData) {
		t.Error("a refused re-seal changed the object")
	}
}
