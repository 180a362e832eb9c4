package repoconfig

import "testing"

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, name string
		want          bool
	}{
		{"a.yaml", "a.yaml", true},
		{"*.yaml", "a.yaml", true},
		{"*.yaml", "dir/a.yaml", false},
		{"**/*.yaml", "a.yaml", true},
		{"**/*.yaml", "x/y/a.yaml", true},
		{"clusters/prod/**", "clusters/prod/a.yaml", true},
		{"clusters/prod/**", "clusters/prod/shop/a.yaml", true},
		{"clusters/prod/**", "clusters/production/a.yaml", false},
		{"clusters/*/shop/*.yaml", "clusters/eu/shop/db.yaml", true},
		{"clusters/*/shop/*.yaml", "clusters/eu/x/shop/db.yaml", false},
		{"clusters/**/shop/**/*.yaml", "clusters/eu/x/shop/db.yaml", true},
		{"clusters/**/**/db.yaml", "clusters/db.yaml", true},
		{"a/[", "a/[", false},
	} {
		if got := Match(tc.pattern, tc.name); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.name, got, tc.want)
		}
	}
}

func TestValidPattern(t *testing.T) {
	for p, want := range map[string]bool{
		"a/**/b.yaml": true, "*.yaml": true, "": false, "/abs": false,
		"a/../b": false, "./a": false, "a//b": false, "a/[": false,
	} {
		if got := ValidPattern(p); got != want {
			t.Errorf("ValidPattern(%q) = %v, want %v", p, got, want)
		}
	}
}

func FuzzMatch(f *testing.F) {
	f.Add("clusters/**/*.yaml", "clusters/a/b.yaml")
	f.Fuzz(func(_ *testing.T, pattern, name string) {
		if len(pattern) > 64 || len(name) > 64 {
			return
		}
		Match(pattern, name) // must not panic or hang
	})
}
