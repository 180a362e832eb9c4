// Command seal seals Kubernetes Secrets into SealedSecrets that are safe to
// commit to Git, and manages the keys that do it. See docs/cli.md.
package main

import (
	"os"
	"path/filepath"
	"strings"
)

func main() {
	// Installed as kubectl-seal, kubectl runs it as "kubectl seal": say so in
	// help and usage lines.
	if name := filepath.Base(os.Args[0]); strings.HasPrefix(name, "kubectl-") {
		displayName = "kubectl " + strings.TrimPrefix(name, "kubectl-")
	}
	os.Exit(Main(os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
