package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.yaml")
	for _, tt := range []struct {
		data string
		perm os.FileMode
	}{
		{"first\n", 0o644},
		{"second, replacing\n", 0o600},
	} {
		if err := WriteFile(path, []byte(tt.data), tt.perm); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != tt.data {
			t.Errorf("content = %q, %v; want %q", got, err, tt.data)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != tt.perm {
			t.Errorf("mode = %v, %v; want %v", fi.Mode().Perm(), err, tt.perm)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %d entries (%v), want only the file: no temporary left", len(entries), err)
	}
}

func TestWriteFileRelative(t *testing.T) {
	t.Chdir(t.TempDir())
	if err := WriteFile("rel.txt", []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile("rel.txt"); err != nil || string(got) != "x" {
		t.Errorf("content = %q, %v", got, err)
	}
}

func TestWriteFileErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "no-such-dir", "f")
	if err := WriteFile(missing, []byte("x"), 0o600); err == nil {
		t.Error("missing directory: no error")
	}
	// Renaming over a directory fails: the target must be untouched and the
	// temporary file removed.
	target := filepath.Join(dir, "isdir")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(target, []byte("x"), 0o600); err == nil {
		t.Error("writing over a directory: no error")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 || !entries[0].IsDir() {
		t.Errorf("directory holds %v, want only isdir", entries)
	}
}
