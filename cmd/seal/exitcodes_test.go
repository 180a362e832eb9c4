package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestExitCodes runs commands in-process and checks the documented exit
// codes and the one-line error format.
func TestExitCodes(t *testing.T) {
	for _, tc := range []struct {
		args  []string
		stdin string
		code  int
	}{
		{[]string{"version"}, "", ExitOK},
		{[]string{"--nope"}, "", ExitUsage},
		{[]string{"frobnicate"}, "", ExitUsage},
		{[]string{"keys", "generate"}, "", ExitUsage},
		{[]string{"--scope", "wide", "--recipient", "x"}, "", ExitUsage},
		{[]string{"--recipient", "age1pq1bad"}, "", ExitUsage},
		{[]string{"-f", "does-not-exist.yaml", "--keys", "does-not-exist.keys"}, "", ExitError},
		{[]string{"unseal", "-i", "does-not-exist.key"}, "", ExitError},
		{[]string{"completion"}, "", ExitUsage},
	} {
		var out, errOut bytes.Buffer
		code := Main(tc.args, Streams{In: strings.NewReader(tc.stdin), Out: &out, ErrOut: &errOut})
		if code != tc.code {
			t.Errorf("seal %s: exit code %d, want %d (stderr %q)", strings.Join(tc.args, " "), code, tc.code, errOut.String())
		}
		if code == ExitOK {
			continue
		}
		lines := strings.Split(strings.TrimSuffix(errOut.String(), "\n"), "\n")
		if !strings.HasPrefix(lines[0], "seal: error: ") || len(lines) > 2 ||
			len(lines) == 2 && !strings.HasPrefix(lines[1], "seal: hint: ") {
			t.Errorf("seal %s: stderr %q, want one error line and an optional hint", strings.Join(tc.args, " "), errOut.String())
		}
	}
}
