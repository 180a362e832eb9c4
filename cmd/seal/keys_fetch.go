package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// keysFetchOptions is `seal keys fetch`: the cluster's public keyring, as a
// file to commit and seal to offline.
type keysFetchOptions struct {
	Streams
	kube   kubeOptions
	output string
}

func newKeysFetchCmd(s Streams) *cobra.Command {
	o := &keysFetchOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "fetch [-w FILE]",
		Short: "Fetch the cluster's public keyring (a file to commit)",
		Long: `fetch reads the public keyring seal-controller publishes in the ConfigMap
sealkit-keyring of its namespace, through the Kubernetes API (any
authenticated user may read it; no service proxy, so it works on private
clusters), checks that it parses, and writes it to stdout or, atomically,
to -w FILE. Seal to it offline with --keys FILE.`,
		Example: `  seal keys fetch -w prod.keys
  seal keys fetch --context staging > staging.keys`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	cmd.Flags().StringVarP(&o.output, "write", "w", "", "write the keyring to `FILE` (atomically) instead of stdout")
	o.kube.addFlags(cmd.Flags(), false)
	return cmd
}

// Complete has nothing to resolve.
func (o *keysFetchOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate has nothing to check.
func (o *keysFetchOptions) Validate() error { return nil }

// Run fetches and writes the keyring.
func (o *keysFetchOptions) Run() error {
	ctx, cancel := kubeContext()
	defer cancel()
	kr, data, err := o.kube.fetchKeyring(ctx)
	if err != nil {
		return err
	}
	if err := writeOutput(o.Out, o.output, data, 0o644); err != nil {
		return err
	}
	// Say which cluster the keys are from: a keyring of the wrong cluster
	// seals values nobody can open.
	if o.output != "" && o.output != "-" {
		fmt.Fprintf(o.ErrOut, "seal: wrote %d keys of %s to %s (active: %s)\n", len(kr.Keys), o.kube.describe(), o.output, activeKeyID(kr))
	} else {
		fmt.Fprintf(o.ErrOut, "seal: the keys of %s\n", o.kube.describe())
	}
	return nil
}
