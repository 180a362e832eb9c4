package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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
		{[]string{"lint", repos + "clean"}, ExitOK, "", "seal: lint: no findings (8 files, 11 documents checked)"},
		{[]string{"lint", repos + "plaintext"}, ExitError, "plaintext/apps.yaml:2: [SK001 plaintext-secret] secret shop/db holds plaintext key \"password\"", "seal: error: 4 findings in 4 files"},
		{[]string{"lint", "--format", "github", repos + "plaintext/apps.yaml"}, ExitError, "::error file=../../testdata/repos/plaintext/apps.yaml,line=16,title=SK001 plaintext-secret::secret shop/db", ""},
		{[]string{"lint", repos + "unknown-key", repos + "retired-key", repos + "compromised-key"}, ExitError, "[SK006 unknown-key]", "3 findings in 3 files"},
		{[]string{"lint", "--no-config", repos + "unknown-key"}, ExitOK, "", "no findings"},
		{[]string{"lint", "--no-config", "--keys", repos + "clean/keys/dev.keys", repos + "clean/clusters/prod/db.yaml"}, ExitError, "in none of the keyrings", ""},
		{[]string{"lint", "--max-key-age", "1d", repos + "old-key"}, ExitError, "[SK009 old-key]", ""},
		{[]string{"lint"}, ExitUsage, "", "seal lint takes one or more PATHs"},
		{[]string{"lint", "--format", "xml", "."}, ExitUsage, "", "--format \"xml\""},
		{[]string{"lint", "--max-key-age", "soon", "."}, ExitUsage, "", "--max-key-age"},
		{[]string{"lint", repos + "missing"}, ExitUsage, "", "no such file or directory"},
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
		Findings  []struct{ File, Rule, RuleName, Severity, Message string }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if code != ExitError || rep.Version != 1 || rep.Files != 6 || len(rep.Findings) != 6 || rep.Findings[0].Rule != "SK003" {
		t.Errorf("exit %d, report %+v", code, rep)
	}
}
