package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/util/duration"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// keysListOptions is `seal keys list`: the cluster's keys and how many
// SealedSecrets still need each.
type keysListOptions struct {
	Streams
	kube   kubeOptions
	format string
	Now    func() time.Time
}

func newKeysListCmd(s Streams) *cobra.Command {
	o := &keysListOptions{Streams: s, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "list [-o text|json]",
		Short: "List the cluster's keys, their states, ages and use",
		Long: `list shows every key of the public keyring: its ID, state, age, and how
many SealedSecrets in the cluster still need it (the controller opened
them with it, status.keyIDs, or a value is sealed to it). A retained key
that no SealedSecret needs any more can be retired.

Counting reads the SealedSecrets of every namespace the caller may list.`,
		Example: `  seal keys list
  seal keys list -o json`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	cmd.Flags().StringVarP(&o.format, "output", "o", "text", "output `FORMAT`: text or json")
	o.kube.addFlags(cmd.Flags(), false)
	return cmd
}

// Complete has nothing to resolve.
func (o *keysListOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate checks -o.
func (o *keysListOptions) Validate() error {
	if o.format != "text" && o.format != "json" {
		return usageErrorf("-o %q: want text or json", o.format)
	}
	return nil
}

// keyListEntry is one key in `seal keys list -o json`.
type keyListEntry struct {
	ID            string    `json:"id"`
	State         string    `json:"state"`
	Created       time.Time `json:"created"`
	Recipient     string    `json:"recipient"`
	SealedSecrets int       `json:"sealedSecrets"`
}

// Run reads the keyring and the SealedSecrets and prints the table.
func (o *keysListOptions) Run() error {
	ctx, cancel := kubeContext()
	defer cancel()
	kr, _, err := o.kube.fetchKeyring(ctx)
	if err != nil {
		return err
	}
	counts := map[crypto.KeyID]int{}
	err = o.kube.eachSealedSecret(ctx, func(ss *v1alpha1.SealedSecret) {
		for _, k := range kr.Keys {
			if keysecret.NeedsKey(ss, k.ID) {
				counts[k.ID]++
			}
		}
	})
	if err != nil {
		return err
	}
	entries := make([]keyListEntry, len(kr.Keys))
	for i, k := range kr.Keys {
		state := string(k.State)
		if state == "" {
			state = "active"
		}
		entries[i] = keyListEntry{ID: string(k.ID), State: state, Created: k.Created,
			Recipient: k.Recipient.String(), SealedSecrets: counts[k.ID]}
	}
	if o.format == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(entries)
	}
	tw := tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tAGE\tSEALEDSECRETS")
	for _, e := range entries {
		age := "<unknown>"
		if !e.Created.IsZero() {
			age = duration.HumanDuration(o.Now().Sub(e.Created))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", e.ID, e.State, age, e.SealedSecrets)
	}
	return tw.Flush()
}
