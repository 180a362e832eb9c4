package repoconfig

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// TestLoadRefusesPathsOutsideTheRepository: a contributor's .sealkit.yaml
// cannot make seal read files outside the repository, or anything but
// regular files in it.
func TestLoadRefusesPathsOutsideTheRepository(t *testing.T) {
	outside := t.TempDir()
	write(t, filepath.Join(outside, "token"), "ghp_CANARYTOKEN0123456789\n")
	repo := t.TempDir()
	if err := os.Mkdir(filepath.Join(repo, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(repo, "keys", "prod.keys"), "")
	if err := os.Symlink(filepath.Join(outside, "token"), filepath.Join(repo, "keys", "link.keys")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(repo, "missing"), filepath.Join(repo, "keys", "dangling.keys")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("prod.keys", filepath.Join(repo, "keys", "inside.keys")); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(repo, "keys", "fifo.keys"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, keys, err string // err "" means loaded
	}{
		{"", "keys/prod.keys", ""},
		{"", "keys/inside.keys", ""},
		{"", "keys/not-yet.keys", ""}, // reading it will say it is missing
		{"clusters/prod", "../../keys/prod.keys", ""},
		{"", filepath.Join(outside, "token"), "is an absolute path"},
		{"", "../" + filepath.Base(outside) + "/token", "is outside the repository"},
		{"clusters/prod", "../../../token", "is outside the repository"},
		{"", "keys/link.keys", "leads outside the repository"},
		{"", "keys/dangling.keys", "symbolic link to nothing"},
		{"", "keys", "not a regular file"},
		{"", "keys/fifo.keys", "not a regular file"},
	}
	for _, field := range []string{"keys", "values"} {
		for _, tt := range tests {
			t.Run(field+" "+tt.keys, func(t *testing.T) {
				file := filepath.Join(repo, tt.dir, FileName)
				write(t, file, "rules:\n- path: '**'\n  "+field+": ['"+tt.keys+"']\n")
				defer os.Remove(file)
				_, err := Load(file)
				switch {
				case tt.err == "" && err != nil:
					t.Fatalf("refused: %v", err)
				case tt.err != "" && (err == nil || !strings.Contains(err.Error(), tt.err)):
					t.Fatalf("got %v, want an error containing %q", err, tt.err)
				case err != nil && strings.Contains(err.Error(), "CANARY"):
					t.Fatalf("error quotes the file: %v", err)
				case err != nil && !strings.Contains(err.Error(), file+":2: "+field+": "):
					t.Fatalf("error does not name the file and line: %v", err)
				}
			})
		}
	}
}

// TestLoadRefusesASymlinkedConfiguration: .sealkit.yaml itself may not
// lead out of the repository.
func TestLoadRefusesASymlinkedConfiguration(t *testing.T) {
	outside := t.TempDir()
	write(t, filepath.Join(outside, "token"), "rules: CANARY\n")
	repo := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "token"), filepath.Join(repo, FileName)); err != nil {
		t.Fatal(err)
	}
	_, err := Load(filepath.Join(repo, FileName))
	if err == nil || !strings.Contains(err.Error(), "leads outside the repository") || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("got %v", err)
	}
}

// TestRepoRoot: without .git the configuration's directory is the
// repository, so a rule there cannot reach above it.
func TestRepoRoot(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a", "b", FileName), "rules:\n- path: '**'\n  keys: [../x.keys]\n")
	if got := RepoRoot(filepath.Join(dir, "a", "b")); got != filepath.Join(dir, "a", "b") {
		t.Fatalf("root %s", got)
	}
	if _, err := Load(filepath.Join(dir, "a", "b", FileName)); err == nil || !strings.Contains(err.Error(), "outside the repository") {
		t.Fatalf("got %v", err)
	}
	if err := os.Mkdir(filepath.Join(dir, ".git"), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := Load(filepath.Join(dir, "a", "b", FileName))
	if err != nil || c.Root != dir {
		t.Fatalf("with .git: %v, root %s", err, c.Root)
	}
	if a := c.Lookup(filepath.Join(dir, "a", "b", "x.yaml")); a == nil || !a.Nested() {
		t.Fatalf("nested: %+v", a)
	}
}

// TestParseNeverQuotes: a recipient that does not parse (a secret pasted
// by mistake) and parser messages that quote the file are not repeated.
func TestParseNeverQuotes(t *testing.T) {
	for _, in := range []string{
		"rules:\n- path: a\n  recipients: [AGE-SECRET-KEY-PQ-1CANARY]\n",
		"rules:\n- path: a\n  recovery: [age1pq1CANARY]\n",
		"rules:\n- path: a\n  scope: [CANARY]\n",
	} {
		_, err := Parse([]byte(in), "/r/.sealkit.yaml")
		if err == nil || strings.Contains(err.Error(), "CANARY") || !strings.HasPrefix(err.Error(), "/r/.sealkit.yaml:") {
			t.Errorf("%q: %v", in, err)
		}
	}
}

// TestOrigin: each field names the rule or the defaults that gave it.
func TestOrigin(t *testing.T) {
	rec := recipient(t)
	c, err := Parse([]byte("defaults:\n  recovery: ["+rec+"]\nrules:\n- path: a/**\n  keys: [k.keys]\n"), "/r/.sealkit.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := c.Lookup("/r/a/x.yaml")
	if got := a.Origin("keys"); got != "/r/.sealkit.yaml:4: rule 1 (path a/**)" {
		t.Errorf("keys from %s", got)
	}
	if got := a.Origin("recovery"); got != "/r/.sealkit.yaml:2: defaults" {
		t.Errorf("recovery from %s", got)
	}
	if got := c.Lookup("/r/b.yaml").Origin("recovery"); got != "/r/.sealkit.yaml:2: defaults" {
		t.Errorf("defaults alone: %s", got)
	}
}
