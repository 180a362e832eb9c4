package repoconfig

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestLintSettings(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, FileName), `defaults:
  values: [base-values.yaml]
rules:
- path: charts/web/**
  keys: [prod.keys]
  values: [charts/web/values-prod.yaml]
- path: other/**
  keys: [prod.keys]
lint:
  ignore:
  - path: legacy/**
    rules: [SK006, old-key]
    reason: sealed before the keyrings were committed
  - path: '**/fixtures/*.yaml'
    rules: [SK001]
    reason: test fixtures
`)
	c, err := Load(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Lookup(filepath.Join(dir, "charts/web/Chart.yaml"))
	// (values files stay inside the repository, as keyrings do: trust_test.go)
	if a == nil || len(a.Values) != 1 || a.Values[0] != filepath.Join(dir, "charts/web/values-prod.yaml") {
		t.Errorf("values = %+v", a)
	}
	if a := c.Lookup(filepath.Join(dir, "other/x.yaml")); len(a.Values) != 1 || a.Values[0] != filepath.Join(dir, "base-values.yaml") {
		t.Errorf("values from defaults = %v", a.Values)
	}
	igs := c.LintIgnoresFor(filepath.Join(dir, "legacy/a/db.yaml"))
	if len(igs) != 1 || igs[0].Line != 11 || igs[0].Reason != "sealed before the keyrings were committed" || len(igs[0].Rules) != 2 {
		t.Errorf("ignores for legacy = %+v", igs)
	}
	if igs := c.LintIgnoresFor(filepath.Join(dir, "apps/fixtures/db.yaml")); len(igs) != 1 || igs[0].Line != 14 {
		t.Errorf("ignores for fixtures = %+v", igs)
	}
	if igs := c.LintIgnoresFor(filepath.Join(dir, "apps/db.yaml")); len(igs) != 0 {
		t.Errorf("ignores for apps = %+v", igs)
	}
	if igs := c.LintIgnoresFor(filepath.Join(filepath.Dir(dir), "legacy/db.yaml")); len(igs) != 0 {
		t.Errorf("ignores outside the repository = %+v", igs)
	}
}

func TestLintSettingsErrors(t *testing.T) {
	for config, want := range map[string]string{
		"lint:\n  ignore:\n  - path: a/**\n    rules: [SK001]\n":              ":3: lint: ignore: reason is required",
		"lint:\n  ignore:\n  - path: a/**\n    reason: x\n":                   ":3: lint: ignore: rules is required",
		"lint:\n  ignore:\n  - path: /a\n    rules: [SK001]\n    reason: x\n": `:3: lint: ignore: path "/a" is not a valid glob`,
		"lint:\n  ignore:\n  - path: a\n    rule: [SK001]\n    reason: x\n":   `:4: unknown field "rule" (want path, rules, reason)`,
		"lint:\n  ignores: []\n": `:2: unknown field "ignores" (want ignore)`,
		"lint: [x]\n":            ":1: lint: want a mapping with ignore",
		"rules:\n- path: a/**\n  keys: [k]\n  values: ['']\n": ":2: values: empty file name",
	} {
		_, err := Parse([]byte(config), "/repo/.sealkit.yaml")
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want %q", config, err, want)
		}
	}
	// A file with only lint settings is valid.
	if _, err := Parse([]byte("lint:\n  ignore:\n  - path: a/**\n    rules: [SK001]\n    reason: x\n"), "/repo/.sealkit.yaml"); err != nil {
		t.Error(err)
	}
}
