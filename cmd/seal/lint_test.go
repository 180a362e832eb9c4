package main

import (
	"bytes"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestLintRepos runs seal lint in-process on the sample repositories:
// exit codes, and each output format.
func TestLintRepos(t *testing.T) {
	const repos = "../../testdata/repos/"
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"lint", repos + "clean"}, ExitOK, "clean/clusters/prod/sops-db.yaml:10:1: info: secret shop/db-legacy is encrypted with SOPS",
			"seal: lint: 2 info, 2 suppressed in 2 files (28 files, 22 documents, 1 chart checked); none at or above --fail-on error"},
		{[]string{"lint", "--fail-on", "info", repos + "clean"}, ExitError, "(SK010 sops-encrypted)", "seal: error: 2 info, 2 suppressed in 2 files"},
		{[]string{"lint", repos + "plaintext"}, ExitError, "plaintext/apps.yaml:16:3: error: secret shop/db holds plaintext key \"password\"", "seal: error: 9 errors, 1 info in 6 files"},
		{[]string{"lint", "--format", "github", repos + "plaintext/apps.yaml"}, ExitError, "::error file=../../testdata/repos/plaintext/apps.yaml,line=16,col=3,title=SK001 plaintext-secret::secret shop/db", ""},
		{[]string{"lint", repos + "unknown-key", repos + "retired-key", repos + "compromised-key"}, ExitError, "(SK006 unknown-key)", "3 errors in 3 files"},
		{[]string{"lint", "--no-config", repos + "unknown-key"}, ExitOK, "", "seal: note: key checks (SK006-SK009) skipped for 1 file with sealed values"},
		{[]string{"lint", "--no-config", "--keys", repos + "clean/keys/dev.keys", repos + "clean/clusters/prod/db.yaml"}, ExitError, "in none of the keyrings", ""},
		{[]string{"lint", "--max-key-age", "1d", repos + "old-key"}, ExitOK, "(SK009 old-key)", "1 warning in 1 file"},
		{[]string{"lint", "--max-key-age", "1d", "--fail-on", "warning", repos + "old-key"}, ExitError, "(SK009 old-key)", "seal: error: 1 warning in 1 file"},
		{[]string{"lint", "--fail-on", "warning", repos + "chart"}, ExitError, "chart/charts/needs-deps/Chart.yaml:1:1: warning:", "2 errors, 1 warning in 2 files (6 files, 2 documents, 2 charts checked)"},
		{[]string{"lint"}, ExitUsage, "", "seal lint takes one or more PATHs"},
		{[]string{"lint", "--format", "xml", "."}, ExitUsage, "", "--format \"xml\""},
		{[]string{"lint", "--fail-on", "never", "."}, ExitUsage, "", "--fail-on \"never\": want error, warning or info"},
		{[]string{"lint", "--max-key-age", "soon", "."}, ExitUsage, "", "--max-key-age"},
		{[]string{"lint", repos + "missing", repos + "old-key"}, ExitError, "missing: error: ../../testdata/repos/missing: no such file or directory: nothing there was checked (SK013 unreadable-path)", "1 error in 1 file (1 file, 1 document checked)"},
	} {
		var out, errOut bytes.Buffer
		code := Main(tc.args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
		if code != tc.code || !strings.Contains(out.String(), tc.stdout) || !strings.Contains(errOut.String(), tc.stderr) {
			t.Errorf("seal %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(tc.args, " "), code, tc.code, out.String(), errOut.String())
		}
		if strings.Contains(out.String()+errOut.String(), "test-only-canary") {
			t.Errorf("seal %s printed a secret value", strings.Join(tc.args, " "))
		}
	}
}

func TestLintJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main([]string{"lint", "--format", "json", "../../testdata/repos/malformed"}, Streams{Out: &out, ErrOut: &errOut})
	var rep struct {
		Version   int
		Files     int
		Documents int
		Counts    struct{ Error, Warning, Info, Suppressed int }
		Notes     []string
		Findings  []struct {
			File, Rule, RuleName, Severity, Message string
			Line, Column                            int
		}
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if code != ExitError || rep.Version != 1 || rep.Files != 6 || len(rep.Findings) != 6 || rep.Findings[0].Rule != "SK003" ||
		rep.Counts.Error != 6 || rep.Notes == nil || len(rep.Notes) != 0 || rep.Findings[0].Line == 0 || rep.Findings[0].Column == 0 {
		t.Errorf("exit %d, report %+v", code, rep)
	}
}

// TestLintJSONMissingPath checks that a path that does not exist is a
// finding in a complete JSON document, with the other paths linted.
func TestLintJSONMissingPath(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main([]string{"lint", "--format", "json", "../../testdata/repos/nope", "../../testdata/repos/scope"}, Streams{Out: &out, ErrOut: &errOut})
	var rep struct {
		Files    int
		Findings []struct{ File, Rule string }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if code != ExitError || rep.Files != 2 || len(rep.Findings) != 3 || rep.Findings[0].Rule != "SK013" || rep.Findings[0].File != "../../testdata/repos/nope" {
		t.Errorf("exit %d, report %+v\n%s", code, rep, errOut.String())
	}
}

// TestPreCommitHooks runs each hook of .pre-commit-hooks.yaml the way
// pre-commit does: its entry with changed files appended, here a changed
// template and values file of a chart and a manifest.
func TestPreCommitHooks(t *testing.T) {
	data, err := os.ReadFile("../../.pre-commit-hooks.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var hooks []struct {
		ID, Entry, Language, Files string
	}
	if err := yaml.Unmarshal(data, &hooks); err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 2 {
		t.Fatalf("hooks = %+v", hooks)
	}
	const repo = "../../testdata/repos/"
	for _, h := range hooks {
		files := regexp.MustCompile(h.Files)
		changed := []string{repo + "clean/charts/web/templates/secret.yaml", repo + "clean/charts/web/values-prod.yaml",
			repo + "clean/clusters/prod/db.yaml", repo + "plaintext/charts/leaky/templates/secret.yaml"}
		for _, f := range changed {
			if !files.MatchString(f) {
				t.Errorf("%s: files %q does not match %s", h.ID, h.Files, f)
			}
		}
		args := strings.Fields(h.Entry)
		if args[0] != "seal" {
			t.Fatalf("%s: entry %q does not run seal", h.ID, h.Entry)
		}
		var out, errOut bytes.Buffer
		code := Main(append(args[1:], changed[:3]...), Streams{Out: &out, ErrOut: &errOut})
		if code != ExitOK || !strings.Contains(errOut.String(), "(5 files, 4 documents, 1 chart checked)") {
			t.Errorf("%s on clean files: exit %d\n%s%s", h.ID, code, out.String(), errOut.String())
		}
		out.Reset()
		errOut.Reset()
		if code := Main(append(args[1:], changed...), Streams{Out: &out, ErrOut: &errOut}); code != ExitError ||
			!strings.Contains(out.String(), "leaky/templates/secret.yaml:7:3: error:") {
			t.Errorf("%s on a leaking template: exit %d\n%s%s", h.ID, code, out.String(), errOut.String())
		}
	}
}
