package repoconfig

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/pkg/crypto"
)

func recipient(t *testing.T) string {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestLookup(t *testing.T) {
	rec, rec2 := recipient(t), recipient(t)
	dir := t.TempDir()
	write(t, filepath.Join(dir, FileName), `# repo config
defaults:
  recovery: [`+rec+`]
  scope: namespace
rules:
- path: clusters/prod/**
  keys: [keys/prod.keys]
  scope: strict
  context: prod
- path: clusters/*/shared/*.yaml
  recipients: [`+rec2+`]
  recovery: []
`)
	c, err := Load(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	a := c.Lookup(filepath.Join(dir, "clusters/prod/shop/db.yaml"))
	if a == nil || a.Rule != 0 || a.Line != 6 || a.Scope != crypto.ScopeStrict || a.Context != "prod" {
		t.Fatalf("prod lookup = %+v", a)
	}
	if len(a.Keys) != 1 || a.Keys[0] != filepath.Join(dir, "keys/prod.keys") {
		t.Errorf("keys = %v", a.Keys)
	}
	if len(a.Recovery) != 1 || a.Recovery[0].String() != rec {
		t.Errorf("recovery from defaults = %v", a.Recovery)
	}
	if !strings.Contains(a.String(), "rule 1 (path clusters/prod/**)") {
		t.Errorf("String() = %q", a.String())
	}
	a = c.Lookup(filepath.Join(dir, "clusters/eu/shared/x.yaml"))
	if a == nil || a.Rule != 1 || a.Scope != crypto.ScopeNamespace || len(a.Recipients) != 1 || len(a.Recovery) != 1 {
		t.Fatalf("shared lookup = %+v", a)
	}
	a = c.Lookup(filepath.Join(dir, "elsewhere.yaml"))
	if a == nil || a.Rule != -1 || a.Line != 3 {
		t.Fatalf("defaults lookup = %+v", a)
	}
	if c.Lookup(filepath.Join(filepath.Dir(dir), "outside.yaml")) != nil {
		t.Error("a file outside the repository matched")
	}
}

func TestParseErrors(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, want string }{
		"unknown top":     {"rules: []\nrulez: []\n", `cfg:2: unknown field "rulez"`},
		"unknown in rule": {"rules:\n- path: a\n  key: [x]\n", `cfg:3: unknown field "key"`},
		"duplicate field": {"rules:\n- path: a\n  path: b\n", `cfg:3: field "path" given twice`},
		"no path":         {"rules:\n- scope: strict\n", "cfg:2: rule 1: path is required"},
		"bad glob":        {"rules:\n- path: a/[\n", "cfg:2: rule 1: path \"a/[\" is not a valid glob"},
		"dotdot glob":     {"rules:\n- path: ../a\n", "is not a valid glob"},
		"bad scope":       {"rules:\n- path: a\n  scope: global\n", "cfg:2: scope:"},
		"bad recipient":   {"rules:\n- path: a\n  recovery: [nope]\n", "cfg:2: recovery:"},
		"wrong type":      {"rules:\n- path: a\n  keys: prod.keys\n", "cfg:3: cannot unmarshal"},
		"syntax":          {"rules:\n- path: a\n   keys: [\n", "cfg:3:"},
		"empty":           {"", "cfg: file is empty"},
		"nothing":         {"rules: []\n", "no rules and no defaults"},
		"path in default": {"defaults: {path: a}\n", "defaults: path is not allowed"},
		"not a mapping":   {"- a\n", "cfg:1: want a mapping"},
	} {
		_, err := Parse([]byte(tc.yaml), "cfg")
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to contain %q", name, err, tc.want)
		}
	}
}

func TestFind(t *testing.T) {
	root := t.TempDir()
	write(t, filepath.Join(root, FileName), "rules: [{path: '**'}]\n")
	repo := filepath.Join(root, "repo")
	write(t, filepath.Join(repo, "a", "b", "x.yaml"), "")

	// Found from the file's directory, walking up.
	got, err := Find(filepath.Join(repo, "a", "b"))
	if err != nil || got != filepath.Join(root, FileName) {
		t.Fatalf("Find = %q, %v", got, err)
	}
	// A directory that does not exist yet (a file about to be written).
	got, _ = Find(filepath.Join(repo, "new", "dir"))
	if got != filepath.Join(root, FileName) {
		t.Errorf("Find(missing dir) = %q", got)
	}
	// A path through a file is not an error: the search goes on above it.
	got, err = Find(filepath.Join(repo, "a", "b", "x.yaml", "sub"))
	if err != nil || got != filepath.Join(root, FileName) {
		t.Errorf("Find(below a file) = %q, %v", got, err)
	}
	// A .git directory is a boundary: the file above it does not apply.
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := Find(filepath.Join(repo, "a")); err != nil || got != "" {
		t.Errorf("Find across .git = %q, %v", got, err)
	}
	// ... but the repository root itself is checked.
	write(t, filepath.Join(repo, FileName), "rules: [{path: 'a/**'}]\n")
	if got, _ := Find(filepath.Join(repo, "a", "b")); got != filepath.Join(repo, FileName) {
		t.Errorf("Find at repo root = %q", got)
	}
	a, err := ForFile(filepath.Join(repo, "a", "b", "x.yaml"))
	if err != nil || a == nil || a.Rule != 0 {
		t.Errorf("ForFile = %+v, %v", a, err)
	}
	if a, err := ForFile(filepath.Join(repo, "other.yaml")); err != nil || a != nil {
		t.Errorf("ForFile(no match) = %+v, %v", a, err)
	}
}
