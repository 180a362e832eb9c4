// Command seal seals Kubernetes Secrets into SealedSecrets that are safe to
// commit to Git, and manages the keys that do it. See docs/cli.md.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
)

func main() {
	// Installed as kubectl-seal, kubectl runs it as "kubectl seal": say so in
	// help and usage lines.
	if name := filepath.Base(os.Args[0]); strings.HasPrefix(name, "kubectl-") {
		displayName = "kubectl " + strings.TrimPrefix(name, "kubectl-")
	}
	stop := profileCPU(os.Getenv("SEAL_CPUPROFILE"))
	code := Main(os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr})
	stop()
	os.Exit(code)
}

// profileCPU writes a CPU profile of the whole run to path, when set (the
// benchmarks of test/bench set SEAL_CPUPROFILE); the function returned
// finishes it.
func profileCPU(path string) func() {
	if path == "" {
		return func() {}
	}
	f, err := os.Create(path) //nolint:gosec // a path the developer gave
	if err == nil {
		err = pprof.StartCPUProfile(f)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "seal: warning: SEAL_CPUPROFILE: %v\n", err)
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		_ = f.Close()
	}
}
