package sealed

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// canary is a plaintext that must never appear in an error.
const canary = "CANARY-s3cr3t-VALUE"

func newIdentity(t *testing.T) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func testSecret() *corev1.Secret {
	immutable := true
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: "db", Namespace: "shop",
			UID: "1234", ResourceVersion: "7", Generation: 2,
			CreationTimestamp: metav1.Now(),
			Labels:            map[string]string{"app": "shop"},
			Annotations: map[string]string{
				"team":                             "payments",
				corev1.LastAppliedConfigAnnotation: `{"stringData":{"password":"` + canary + `"}}`,
			},
			OwnerReferences: []metav1.OwnerReference{{Name: "owner"}},
			Finalizers:      []string{"example.com/keep"},
			ManagedFields:   []metav1.ManagedFieldsEntry{{Manager: "kubectl"}},
		},
		Type:       corev1.SecretTypeBasicAuth,
		Immutable:  &immutable,
		Data:       map[string][]byte{"username": []byte("old"), "password": []byte(canary)},
		StringData: map[string]string{"username": "admin"},
	}
}

func TestSealUnsealRoundTrip(t *testing.T) {
	id := newIdentity(t)
	in := testSecret()
	ss, err := Seal(in, SealOptions{Recipients: []*crypto.Recipient{id.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	if ss.APIVersion != "sealkit.dev/v1alpha1" || ss.Kind != "SealedSecret" {
		t.Errorf("type meta = %s %s", ss.APIVersion, ss.Kind)
	}
	if ss.Spec.Scope != "strict" {
		t.Errorf("scope = %q, want strict", ss.Spec.Scope)
	}
	wantMeta := metav1.ObjectMeta{Name: "db", Namespace: "shop"}
	if ss.ObjectMeta.String() != wantMeta.String() {
		t.Errorf("metadata = %v, want only name and namespace", ss.ObjectMeta)
	}
	tm := ss.Spec.Template
	if _, ok := tm.Metadata.Annotations[corev1.LastAppliedConfigAnnotation]; ok {
		t.Error("last-applied-configuration annotation kept")
	}
	if tm.Metadata.Annotations["team"] != "payments" || tm.Metadata.Labels["app"] != "shop" {
		t.Errorf("template metadata = %+v", tm.Metadata)
	}
	if tm.Type != corev1.SecretTypeBasicAuth || tm.Immutable == nil || !*tm.Immutable {
		t.Errorf("template type/immutable = %q %v", tm.Type, tm.Immutable)
	}
	for k, v := range ss.Spec.EncryptedData {
		if strings.Contains(v, canary) || !strings.HasPrefix(v, "sealkit:v1:") {
			t.Errorf("encryptedData[%s] = %.30s…", k, v)
		}
	}

	out, keys, err := Unseal(ss, []*crypto.Identity{id})
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0] != id.KeyID() {
		t.Errorf("opened by %v, want [%s]", keys, id.KeyID())
	}
	if got := string(out.Data["username"]); got != "admin" {
		t.Errorf("username = %q: stringData must win over data", got)
	}
	if got := string(out.Data["password"]); got != canary {
		t.Errorf("password did not round-trip")
	}
	if len(out.Data) != 2 || out.StringData != nil {
		t.Errorf("data keys = %d, stringData = %v", len(out.Data), out.StringData)
	}
	if out.Name != "db" || out.Namespace != "shop" || out.Type != corev1.SecretTypeBasicAuth ||
		out.Labels["app"] != "shop" || out.Annotations["team"] != "payments" || !*out.Immutable {
		t.Errorf("unsealed secret metadata = %+v type %q", out.ObjectMeta, out.Type)
	}
	if out.UID != "" || out.OwnerReferences != nil || out.Finalizers != nil || out.ResourceVersion != "" {
		t.Errorf("server-managed metadata survived: %+v", out.ObjectMeta)
	}
}

func TestSealScopes(t *testing.T) {
	id := newIdentity(t)
	for _, scope := range []crypto.Scope{crypto.ScopeStrict, crypto.ScopeNamespace, crypto.ScopeCluster} {
		s := testSecret()
		ss, err := Seal(s, SealOptions{Scope: scope, Recipients: []*crypto.Recipient{id.Recipient()}})
		if err != nil {
			t.Fatalf("%s: %v", scope, err)
		}
		if ss.Spec.Scope != string(scope) {
			t.Errorf("%s: spec.scope = %q", scope, ss.Spec.Scope)
		}
		renamed := ss.DeepCopy()
		renamed.Name = "other"
		_, _, err = Unseal(renamed, []*crypto.Identity{id})
		if wantOK := scope != crypto.ScopeStrict; (err == nil) != wantOK {
			t.Errorf("%s: unseal renamed: err = %v, want ok = %v", scope, err, wantOK)
		}
		moved := ss.DeepCopy()
		moved.Namespace = "other"
		_, _, err = Unseal(moved, []*crypto.Identity{id})
		if wantOK := scope == crypto.ScopeCluster; (err == nil) != wantOK {
			t.Errorf("%s: unseal in other namespace: err = %v, want ok = %v", scope, err, wantOK)
		}
	}
}

func TestSealErrors(t *testing.T) {
	id := newIdentity(t)
	pq := []*crypto.Recipient{id.Recipient()}
	classic, err := crypto.ParseRecipient("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		secret func(*corev1.Secret)
		opts   SealOptions
		want   []string // substrings of the error
	}{
		{"no name", func(s *corev1.Secret) { s.Name = "" }, SealOptions{Recipients: pq}, []string{"no name"}},
		{"no namespace in strict scope", func(s *corev1.Secret) { s.Namespace = "" }, SealOptions{Recipients: pq}, []string{"secret db", "no namespace", "strict"}},
		{"no data", func(s *corev1.Secret) { s.Data, s.StringData = nil, nil }, SealOptions{Recipients: pq}, []string{"shop/db", "no data"}},
		{"not a secret", func(s *corev1.Secret) { s.Kind = "ConfigMap" }, SealOptions{Recipients: pq}, []string{"shop/db", "ConfigMap"}},
		{"bad key", func(s *corev1.Secret) { s.Data["bad/key"] = []byte(canary) }, SealOptions{Recipients: pq}, []string{"shop/db", `"bad/key"`, "not a valid data key"}},
		{"value too large", func(s *corev1.Secret) { s.Data["big"] = []byte(canary + strings.Repeat("x", 1<<20)) }, SealOptions{Recipients: pq}, []string{"shop/db", `"big"`, "exceeds"}},
		{"total too large", func(s *corev1.Secret) {
			s.Data["a"] = []byte(canary + strings.Repeat("x", 600<<10))
			s.Data["b"] = []byte(canary + strings.Repeat("x", 600<<10))
		}, SealOptions{Recipients: pq}, []string{"shop/db", "exceeds the 1048576-byte"}},
		{"bad scope", nil, SealOptions{Scope: "galaxy", Recipients: pq}, []string{"shop/db", "galaxy"}},
		{"no recipients", nil, SealOptions{}, []string{"shop/db", `key "password"`, "no recipients"}},
		{"mixed recipients", nil, SealOptions{Recipients: append([]*crypto.Recipient{classic}, pq...)}, []string{"shop/db", `key "password"`, "mixed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSecret()
			if tt.secret != nil {
				tt.secret(s)
			}
			_, err := Seal(s, tt.opts)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error leaks the value: %q", err)
			}
		})
	}
	if _, err := Seal(nil, SealOptions{Recipients: pq}); err == nil {
		t.Error("Seal(nil): no error")
	}
}

// TestSealRefusesWhatTheAPIServerRefuses: what the CRD, the Secret API or
// etcd would refuse is refused before anything is sealed or written, naming
// the object and never a value.
func TestSealRefusesWhatTheAPIServerRefuses(t *testing.T) {
	pq := []*crypto.Recipient{newIdentity(t).Recipient()}
	many := func(n, size int) map[string][]byte {
		m := map[string][]byte{}
		for i := range n {
			m[fmt.Sprintf("k%04d", i)] = []byte(strings.Repeat("x", size))
		}
		return m
	}
	tests := []struct {
		name   string
		secret func(*corev1.Secret)
		want   string
	}{
		{"name not a DNS subdomain", func(s *corev1.Secret) { s.Name = "DB_Main" }, `secret shop/DB_Main: name "DB_Main" is not valid`},
		{"name too long", func(s *corev1.Secret) { s.Name = strings.Repeat("a", 254) }, "is not valid: must be no more than 253"},
		{"namespace not a DNS label", func(s *corev1.Secret) { s.Namespace = "shop.prod" }, `namespace "shop.prod" is not valid`},
		{"no data", func(s *corev1.Secret) { s.Data, s.StringData = nil, nil }, "has no data"},
		{"too many keys", func(s *corev1.Secret) { s.Data, s.StringData = many(1025, 1), nil }, "has 1025 data keys: a SealedSecret holds at most 1024"},
		{"key too long", func(s *corev1.Secret) { s.Data[strings.Repeat("k", 254)] = []byte(canary) }, "is not a valid data key"},
		{"tls without a key", func(s *corev1.Secret) {
			s.Type = corev1.SecretTypeTLS
			s.Data = map[string][]byte{"tls.crt": []byte(canary)}
			s.StringData = nil
		}, `a Secret of type kubernetes.io/tls needs key "tls.key"`},
		{"dockerconfigjson not JSON", func(s *corev1.Secret) {
			s.Type = corev1.SecretTypeDockerConfigJson
			s.Data = map[string][]byte{".dockerconfigjson": []byte("{" + canary)}
		}, `key ".dockerconfigjson" of a Secret of type kubernetes.io/dockerconfigjson must be JSON`},
		{"basic-auth without user or password", func(s *corev1.Secret) {
			s.Type = corev1.SecretTypeBasicAuth
			s.Data = map[string][]byte{"x": nil}
			s.StringData = nil
		}, `needs key "username" or "password"`},
		{"service account token without its annotation", func(s *corev1.Secret) { s.Type = corev1.SecretTypeServiceAccountToken }, "needs the annotation kubernetes.io/service-account.name"},
		{"bad label", func(s *corev1.Secret) { s.Labels = map[string]string{"app": "a b"} }, "template.metadata.labels: Invalid value"},
		{"bad annotation key", func(s *corev1.Secret) { s.Annotations = map[string]string{"a/b/c": "x"} }, "template.metadata.annotations"},
		{"larger than etcd stores", func(s *corev1.Secret) { s.Type, s.Data, s.StringData = "", many(700, 1400), nil }, "over the 1536 KiB etcd stores"},
		{"1024 small values to a post-quantum key", func(s *corev1.Secret) { s.Type, s.Data, s.StringData = "", many(1024, 1), nil }, "over the 1536 KiB etcd stores"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSecret()
			tt.secret(s)
			_, err := Seal(s, SealOptions{Recipients: pq})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error leaks the value: %q", err)
			}
		})
	}
	// At the limits, and the types' keys given: accepted. (A post-quantum
	// stanza takes about 1.5 KB per value: 1024 values need a classic key.)
	classic, err := crypto.ParseRecipient("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
	if err != nil {
		t.Fatal(err)
	}
	s := testSecret()
	s.Data, s.StringData = many(1024, 1), nil
	s.Type = corev1.SecretTypeBasicAuth
	s.Data["username"] = []byte("u")
	delete(s.Data, "k0000")
	if _, err := Seal(s, SealOptions{Recipients: []*crypto.Recipient{classic}}); err != nil {
		t.Fatalf("1024 keys: %v", err)
	}
}

func TestUnsealErrors(t *testing.T) {
	id, other := newIdentity(t), newIdentity(t)
	ss, err := Seal(testSecret(), SealOptions{Recipients: []*crypto.Recipient{id.Recipient()}})
	if err != nil {
		t.Fatal(err)
	}
	var mismatch *crypto.FrameMismatchError
	var noKey *crypto.NoKeyMatchError
	tests := []struct {
		name   string
		edit   func(*v1alpha1.SealedSecret)
		ids    []*crypto.Identity
		key    string
		target any
		is     error
	}{
		{"wrong key", nil, []*crypto.Identity{other}, "password", &noKey, nil},
		{"moved to another data key", func(ss *v1alpha1.SealedSecret) {
			ss.Spec.EncryptedData["password"] = ss.Spec.EncryptedData["username"]
		}, []*crypto.Identity{id}, "password", &mismatch, nil},
		{"scope changed in spec", func(ss *v1alpha1.SealedSecret) { ss.Spec.Scope = "cluster" }, []*crypto.Identity{id}, "password", &mismatch, nil},
		{"tampered", func(ss *v1alpha1.SealedSecret) {
			v := []byte(ss.Spec.EncryptedData["username"])
			v[len(v)-10] ^= 1
			ss.Spec.EncryptedData["username"] = string(v)
		}, []*crypto.Identity{id}, "username", nil, crypto.ErrCorrupt},
		{"truncated", func(ss *v1alpha1.SealedSecret) {
			v := ss.Spec.EncryptedData["password"]
			ss.Spec.EncryptedData["password"] = v[:len(v)-20]
		}, []*crypto.Identity{id}, "password", nil, crypto.ErrCorrupt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ss.DeepCopy()
			if tt.edit != nil {
				tt.edit(c)
			}
			_, _, err := Unseal(c, tt.ids)
			var ve *ValueError
			if !errors.As(err, &ve) {
				t.Fatalf("error %v is not a *ValueError", err)
			}
			if ve.Key != tt.key || !strings.Contains(err.Error(), `"`+tt.key+`"`) {
				t.Errorf("error %q names key %q, want %q", err, ve.Key, tt.key)
			}
			if tt.target != nil && !errors.As(err, tt.target) {
				t.Errorf("error %v is not a %T", err, tt.target)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("error %v is not %v", err, tt.is)
			}
			if strings.Contains(err.Error(), canary) {
				t.Errorf("error leaks the value: %q", err)
			}
		})
	}
	bad := ss.DeepCopy()
	bad.Spec.Scope = "galaxy"
	if _, _, err := Unseal(bad, []*crypto.Identity{id}); err == nil || !strings.Contains(err.Error(), "shop/db") {
		t.Errorf("unknown scope: err = %v", err)
	}
}

func TestFrameFor(t *testing.T) {
	ss := &v1alpha1.SealedSecret{ObjectMeta: metav1.ObjectMeta{Name: "n", Namespace: "ns"}}
	want := crypto.Frame{Scope: crypto.ScopeStrict, Namespace: "ns", Name: "n", Key: "k"}
	if got := FrameFor(ss, "k"); got != want {
		t.Errorf("FrameFor = %+v, want %+v (unset scope is strict)", got, want)
	}
	ss.Spec.Scope = "cluster"
	if got := FrameFor(ss, "k"); got.Scope != crypto.ScopeCluster {
		t.Errorf("FrameFor scope = %q", got.Scope)
	}
}
