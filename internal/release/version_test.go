package release

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestVersionScript runs hack/version.sh in a scratch git repository through
// the states a checkout goes through.
func TestVersionScript(t *testing.T) {
	repo := t.TempDir()
	script, err := os.ReadFile(filepath.Join(repoRoot(t), "hack", "version.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(repo, "hack"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "hack", "version.sh"), script, 0o755); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-12-01T03:40:24Z", "GIT_COMMITTER_DATE=2026-12-01T03:40:24Z",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	version := func() string {
		t.Helper()
		out, err := exec.Command(filepath.Join(repo, "hack", "version.sh")).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	if got := version(); got != "v0.0.0-unknown" {
		t.Errorf("no commit: %s", got)
	}
	git("init", "-q")
	git("add", "-A")
	git("commit", "-qm", "one")
	pseudo := regexp.MustCompile(`^v0\.0\.0-20261201034024-[0-9a-f]{12}$`)
	if got := version(); !pseudo.MatchString(got) {
		t.Errorf("untagged: %s", got)
	}
	git("tag", "v1.2.3")
	if got := version(); got != "v1.2.3" {
		t.Errorf("tagged: %s", got)
	}
	if err := os.WriteFile(filepath.Join(repo, "hack", "version.sh"), append(script, '\n'), 0o755); err != nil {
		t.Fatal(err)
	}
	if got := version(); got != "v1.2.3+dirty" {
		t.Errorf("tagged, changed: %s", got)
	}
	git("commit", "-qam", "two")
	if got := version(); !regexp.MustCompile(`^v1\.2\.4-0\.20261201034024-[0-9a-f]{12}$`).MatchString(got) {
		t.Errorf("after the tag: %s", got)
	}
	git("tag", "v2.0.0-rc.1")
	git("tag", "not-a-version")
	if got := version(); got != "v2.0.0-rc.1" {
		t.Errorf("pre-release tag: %s", got)
	}
	git("commit", "-q", "--allow-empty", "-m", "three")
	if got := version(); !regexp.MustCompile(`^v2\.0\.0-rc\.1\.0\.20261201034024-[0-9a-f]{12}$`).MatchString(got) {
		t.Errorf("after a pre-release tag: %s", got)
	}

	m, err := MetaFromRepo(repo, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !m.Created.Equal(time.Date(2026, 12, 1, 3, 40, 24, 0, time.UTC)) || len(m.Revision) != 40 || m.Version != version() {
		t.Errorf("MetaFromRepo: %+v", m)
	}
	env := map[string]string{"VERSION": "v9.9.9", "SOURCE_DATE_EPOCH": "0"}
	m, err = MetaFromRepo(repo, func(k string) string { return env[k] })
	if err != nil || m.Version != "v9.9.9" || m.Created.Unix() != 0 {
		t.Errorf("MetaFromRepo with VERSION and SOURCE_DATE_EPOCH: %+v %v", m, err)
	}
}
