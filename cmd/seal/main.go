// Command seal seals Kubernetes Secrets into SealedSecrets that are safe to
// commit to Git, and manages the keys that do it. See docs/cli.md.
package main

import "os"

func main() {
	os.Exit(Main(os.Args[1:], Streams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr}))
}
