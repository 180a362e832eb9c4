package audit

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

func TestNewCanary(t *testing.T) {
	a, b := NewCanary(), NewCanary()
	if len(a) != 24 || !strings.HasPrefix(a, "CANARY-") || a == b {
		t.Fatalf("canaries %q and %q: want two different 24-byte CANARY- strings", a, b)
	}
	// 24 bytes encode to 32 base64 characters without padding, so the
	// canary's base64 is a prefix of the base64 of every value it starts.
	v := Values(a, "x")["password"]
	if enc := base64.StdEncoding.EncodeToString([]byte(a)); !strings.HasPrefix(base64.StdEncoding.EncodeToString(v), enc) {
		t.Fatalf("base64 of %q does not start with %q", v, enc)
	}
}

func TestLeaks(t *testing.T) {
	c := NewCanary()
	b64 := base64.StdEncoding.EncodeToString(Values(c, "s")["password"])
	texts := map[string]string{
		"raw":    "level=info value=" + c + "-s-0000",
		"base64": `{"data":{"password":"` + b64 + `"}}`,
		"clean":  "level=info msg=unsealed name=s",
		"other":  "CANARY-" + strings.Repeat("0", 17),
		"empty":  "",
	}
	if got, want := Leaks(c, texts), []string{"base64", "raw"}; !slices.Equal(got, want) {
		t.Fatalf("Leaks = %v, want %v", got, want)
	}
}

func TestPanicked(t *testing.T) {
	for log, want := range map[string]bool{
		"panic: runtime error: index out of range\n":                                   true,
		"start\npanic: boom\n":                                                         true,
		`{"msg":"Observed a panic","controller":"sealedsecret"}`:                       true,
		`{"msg":"Reconciler error","error":"panic: nil map [recovered]"}`:              true,
		`{"msg":"starting workers"}` + "\n" + `{"msg":"Reconciler error","error":"x"}`: false,
	} {
		if got := Panicked(log); got != want {
			t.Errorf("Panicked(%q) = %v, want %v", log, got, want)
		}
	}
}

func TestLedgerCompare(t *testing.T) {
	l := NewLedger()
	l.Expect("ok", Want{Data: map[string][]byte{"k": []byte("v")}, Type: corev1.SecretTypeOpaque})
	l.Expect("lost", Want{Data: map[string][]byte{"k": []byte("v")}, Type: corev1.SecretTypeOpaque})
	l.Expect("data", Want{Data: map[string][]byte{"k": []byte("v")}, Type: corev1.SecretTypeOpaque})
	l.Expect("type", Want{Data: map[string][]byte{"k": []byte("v")}, Type: corev1.SecretTypeTLS})
	l.Expect("extra", Want{Data: map[string][]byte{"k": []byte("v")}, Type: corev1.SecretTypeOpaque})
	l.Expect("forgotten", Want{Data: map[string][]byte{"k": []byte("v")}, Type: corev1.SecretTypeOpaque})
	l.Forget("forgotten")
	sec := func(name, v string, typ corev1.SecretType, extra ...string) corev1.Secret {
		d := map[string][]byte{"k": []byte(v)}
		for _, e := range extra {
			d[e] = []byte(v)
		}
		return corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name}, Data: d, Type: typ}
	}
	secrets := []corev1.Secret{
		sec("ok", "v", corev1.SecretTypeOpaque),
		sec("data", "edited by hand", corev1.SecretTypeOpaque),
		sec("type", "v", corev1.SecretTypeOpaque),
		sec("extra", "v", corev1.SecretTypeOpaque, "more"),
		sec("unrelated", "x", corev1.SecretTypeOpaque),
	}
	lost, wrong := l.Compare(secrets)
	if want := []string{"lost"}; !slices.Equal(lost, want) {
		t.Errorf("lost = %v, want %v (a forgotten Secret is not lost)", lost, want)
	}
	if want := []string{"data (Opaque, want Opaque)", "extra (Opaque, want Opaque)", "type (Opaque, want kubernetes.io/tls)"}; !slices.Equal(wrong, want) {
		t.Errorf("wrong = %v, want %v", wrong, want)
	}
	if l.Len() != 5 {
		t.Errorf("Len = %d, want 5", l.Len())
	}
}

func TestLedgerAccepts(t *testing.T) {
	l := NewLedger()
	first := map[string][]byte{"k": []byte("1")}
	drift := map[string][]byte{"k": []byte("edited")}
	l.Expect("s", Want{Data: first, Type: corev1.SecretTypeOpaque})
	first["k"][0] = '9' // the ledger keeps its own copy of the map
	delete(first, "k")
	l.Expect("s", Want{Data: map[string][]byte{"k": []byte("2")}, Type: corev1.SecretTypeOpaque})
	l.Accept("s", drift)
	for _, d := range []map[string][]byte{{"k": []byte("2")}, drift} {
		if !l.Accepts("s", d) {
			t.Errorf("%s not accepted", d)
		}
	}
	for name, d := range map[string]map[string][]byte{"s": {"k": []byte("3")}, "t": {"k": []byte("2")}} {
		if l.Accepts(name, d) {
			t.Errorf("%s: %s accepted", name, d)
		}
	}
	if lost, wrong := l.Compare([]corev1.Secret{{ObjectMeta: metav1.ObjectMeta{Name: "s"}, Data: drift, Type: corev1.SecretTypeOpaque}}); len(lost) != 0 || len(wrong) != 1 {
		t.Errorf("drift accepted on the way counted as the end state: lost %v, wrong %v", lost, wrong)
	}
}

func TestStatusProblems(t *testing.T) {
	ready := func(name string, gen, condGen, statusGen int64, st metav1.ConditionStatus) v1alpha1.SealedSecret {
		ss := v1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Name: name, Generation: gen}}
		ss.Status.ObservedGeneration = statusGen
		ss.Status.Conditions = []metav1.Condition{{Type: v1alpha1.ConditionReady, Status: st, ObservedGeneration: condGen}}
		return ss
	}
	items := []v1alpha1.SealedSecret{
		ready("ok", 2, 2, 2, metav1.ConditionTrue),
		ready("false", 1, 1, 1, metav1.ConditionFalse),
		ready("old-condition", 2, 1, 2, metav1.ConditionTrue),
		ready("old-status", 2, 2, 1, metav1.ConditionTrue),
		{ObjectMeta: metav1.ObjectMeta{Name: "none", Generation: 1}},
	}
	probs := StatusProblems(items, 5)
	if len(probs) != 4 {
		t.Fatalf("problems %q, want 4 (false, old-condition, old-status, none)", probs)
	}
	for i, name := range []string{"false", "old-condition", "old-status", "none"} {
		if !strings.HasPrefix(probs[i], "SealedSecret "+name+" ") {
			t.Errorf("problem %d = %q, want one about %s", i, probs[i], name)
		}
	}
	if probs := StatusProblems(items[:1], 2); len(probs) != 1 || probs[0] != "1 SealedSecrets, the test made 2" {
		t.Errorf("a missing SealedSecret: problems %q", probs)
	}
}

func TestKeysAgree(t *testing.T) {
	key := func(id string, labelled, state keyring.State) keysecret.Key {
		return keysecret.Key{ID: crypto.KeyID(id), Labelled: labelled, State: state}
	}
	pub := func(states ...string) *keyring.Keyring {
		kr := &keyring.Keyring{}
		for i := 0; i < len(states); i += 2 {
			kr.Keys = append(kr.Keys, keyring.Key{ID: crypto.KeyID(states[i]), State: keyring.State(states[i+1])})
		}
		return kr
	}
	one := keysecret.Set{Keys: []keysecret.Key{key("a", keyring.StateActive, keyring.StateActive), key("b", keyring.StateRetained, keyring.StateRetained)}}
	two := keysecret.Set{Keys: []keysecret.Key{key("a", keyring.StateActive, keyring.StateActive), key("b", keyring.StateActive, keyring.StateRetained)}}
	none := keysecret.Set{Keys: []keysecret.Key{key("a", keyring.StateRetained, keyring.StateRetained)}}
	for _, tc := range []struct {
		name string
		set  keysecret.Set
		kr   *keyring.Keyring
		ok   bool
	}{
		{"agree", one, pub("a", "active", "b", "retained"), true},
		{"two labelled active", two, pub("a", "active", "b", "retained"), false},
		{"none active", none, pub("a", "retained"), false},
		{"another key published active", one, pub("a", "retained", "b", "active"), false},
		{"two published active", one, pub("a", "active", "b", "active"), false},
		{"a key missing from the keyring", one, pub("a", "active"), false},
	} {
		if err := KeysAgree(tc.set, tc.kr); (err == nil) != tc.ok {
			t.Errorf("%s: KeysAgree = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}
