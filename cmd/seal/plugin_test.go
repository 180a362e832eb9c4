package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestKubectlPluginName: installed as kubectl-seal, help names the command
// the way kubectl users type it.
func TestKubectlPluginName(t *testing.T) {
	defer func(old string) { displayName = old }(displayName)
	displayName = "kubectl seal"
	var out bytes.Buffer
	if code := Main([]string{"keys", "--help"}, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &out}); code != ExitOK {
		t.Fatalf("exit %d:\n%s", code, out.String())
	}
	if !strings.Contains(out.String(), "kubectl seal keys") {
		t.Fatalf("help does not name the plugin:\n%s", out.String())
	}
}
