package crypto

import (
	"errors"
	"strings"
	"testing"
)

func TestFrameMismatch(t *testing.T) {
	k := testKeys()
	enc := mustSeal(t, strictFrame, "v", k.pq)
	for _, tc := range []struct {
		field string
		where Frame
	}{
		{"scope", Frame{Scope: ScopeNamespace, Namespace: "shop", Name: "db", Key: "password"}},
		{"namespace", Frame{Scope: ScopeStrict, Namespace: "other", Name: "db", Key: "password"}},
		{"name", Frame{Scope: ScopeStrict, Namespace: "shop", Name: "db2", Key: "password"}},
		{"key", Frame{Scope: ScopeStrict, Namespace: "shop", Name: "db", Key: "username"}},
	} {
		v, _, err := Open(enc, tc.where, []*Identity{k.pq})
		var fm *FrameMismatchError
		if v != nil || !errors.As(err, &fm) {
			t.Fatalf("%s: got %q, %v; want FrameMismatchError", tc.field, v, err)
		}
		if fm.Field != tc.field {
			t.Errorf("%s: Field = %q", tc.field, fm.Field)
		}
		if !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: error %q does not name the field", tc.field, err)
		}
	}
}

// TestScopes checks what each scope lets change. The data key is bound in
// every scope: a value moved to another key of the same Secret is refused.
func TestScopes(t *testing.T) {
	k := testKeys()
	type move struct {
		namespace, name, key string
		ok                   bool
	}
	for scope, moves := range map[Scope][]move{
		ScopeStrict: {
			{"shop", "db", "password", true},
			{"shop", "db2", "password", false},
			{"other", "db", "password", false},
			{"shop", "db", "username", false},
		},
		ScopeNamespace: {
			{"shop", "db", "password", true},
			{"shop", "renamed", "password", true},
			{"other", "db", "password", false},
			{"shop", "db", "username", false},
		},
		ScopeCluster: {
			{"shop", "db", "password", true},
			{"other", "renamed", "password", true},
			{"", "", "password", true},
			{"other", "db", "username", false},
		},
	} {
		enc := mustSeal(t, Frame{Scope: scope, Namespace: "shop", Name: "db", Key: "password"}, "v", k.pq)
		for _, m := range moves {
			where := Frame{Scope: scope, Namespace: m.namespace, Name: m.name, Key: m.key}
			v, _, err := Open(enc, where, []*Identity{k.pq})
			if m.ok != (err == nil) || m.ok != (v != nil) {
				t.Errorf("%s sealed in shop/db/password, opened at %+v: %q, %v", scope, where, v, err)
			}
		}
	}
}

func TestParseScope(t *testing.T) {
	for _, s := range []string{"strict", "namespace", "cluster"} {
		if got, err := ParseScope(s); err != nil || string(got) != s {
			t.Errorf("ParseScope(%q) = %q, %v", s, got, err)
		}
	}
	for _, s := range []string{"", "Strict", "global"} {
		if _, err := ParseScope(s); err == nil {
			t.Errorf("ParseScope(%q) succeeded", s)
		}
	}
}

func TestFrameText(t *testing.T) {
	for _, tc := range []struct {
		f    Frame
		want string
	}{
		{strictFrame, "sealkit-frame/v1\nscope: strict\nnamespace: shop\nname: db\nkey: password\n\nv"},
		{Frame{ScopeNamespace, "shop", "db", "password"}, "sealkit-frame/v1\nscope: namespace\nnamespace: shop\nname: \nkey: password\n\nv"},
		{Frame{ScopeCluster, "shop", "db", "password"}, "sealkit-frame/v1\nscope: cluster\nnamespace: \nname: \nkey: password\n\nv"},
	} {
		got, err := tc.f.marshal([]byte("v"))
		if err != nil || string(got) != tc.want {
			t.Errorf("marshal(%+v) = %q, %v; want %q", tc.f, got, err, tc.want)
		}
		f, v, err := parseFrame(got)
		if err != nil || f != tc.f.bound() || string(v) != "v" {
			t.Errorf("parseFrame(%q) = %+v, %q, %v", got, f, v, err)
		}
	}
}

func TestParseFrameRejects(t *testing.T) {
	for _, p := range []string{
		"",
		"sealkit-frame/v1\nscope: strict\nnamespace: a\nname: b\nkey: c",
		"sealkit-frame/v2\nscope: strict\nnamespace: a\nname: b\nkey: c\n\nv",
		"sealkit-frame/v1\nscope: bogus\nnamespace: a\nname: b\nkey: c\n\nv",
		"sealkit-frame/v1\nscope: strict\nname: b\nnamespace: a\nkey: c\n\nv",
		"sealkit-frame/v1\nscope: strict\nnamespace: a\nname: b\nkey: c\nextra: d\n\nv",
		"sealkit-frame/v1\nscope: strict\nnamespace:a\nname: b\nkey: c\n\nv",
	} {
		if _, _, err := parseFrame([]byte(p)); !errors.Is(err, ErrCorrupt) {
			t.Errorf("parseFrame(%q): got %v, want ErrCorrupt", p, err)
		}
	}
}
