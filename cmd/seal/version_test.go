package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestVersionFlag: seal --version prints what seal version prints, the line
// seal-controller --version matches for the same build.
func TestVersionFlag(t *testing.T) {
	run := func(args ...string) string {
		var out, errOut bytes.Buffer
		if code := Main(args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}); code != ExitOK {
			t.Fatalf("seal %v: exit %d: %s", args, code, errOut.String())
		}
		return out.String()
	}
	flag, cmd := run("--version"), run("version")
	if flag != cmd || !strings.HasPrefix(flag, "seal ") {
		t.Errorf("seal --version printed %q, seal version %q", flag, cmd)
	}
}
