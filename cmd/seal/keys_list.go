package main

import (
	"context"
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

// keyListEntry is one key in `seal keys list -o json`. Imported Bitnami
// keys have state "legacy" and kind "bitnami", their ID is their
// fingerprint, and they have no recipient: nothing is sealed to them.
type keyListEntry struct {
	ID            string    `json:"id"`
	State         string    `json:"state"`
	Created       time.Time `json:"created"`
	Recipient     string    `json:"recipient,omitempty"`
	SealedSecrets int       `json:"sealedSecrets"`
	Kind          string    `json:"kind,omitempty"`
	BitnamiState  string    `json:"bitnamiState,omitempty"`
	ImportedFrom  string    `json:"importedFrom,omitempty"`
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
	legacy, err := o.legacyEntries(ctx)
	if err != nil {
		return err
	}
	if o.format == "json" {
		enc := json.NewEncoder(o.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(append(entries, legacy...))
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
	if err := tw.Flush(); err != nil || len(legacy) == 0 {
		return err
	}
	fmt.Fprintln(o.Out, "\nLegacy Bitnami keys (decrypt-only, for seal migrate; never sealed to):")
	tw = tabwriter.NewWriter(o.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FINGERPRINT\tBITNAMI STATE\tAGE\tIMPORTED FROM")
	for _, e := range legacy {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.ID, e.BitnamiState, duration.HumanDuration(o.Now().Sub(e.Created)), e.ImportedFrom)
	}
	return tw.Flush()
}

// legacyEntries are the imported Bitnami keys, when the caller may list
// them.
func (o *keysListOptions) legacyEntries(ctx context.Context) ([]keyListEntry, error) {
	secrets, err := o.kube.legacyKeys(ctx)
	if err != nil {
		return nil, err
	}
	entries := make([]keyListEntry, 0, len(secrets))
	for i := range secrets {
		s := &secrets[i]
		k, err := keysecret.ParseLegacy(s)
		if err != nil {
			fmt.Fprintf(o.ErrOut, "seal: warning: ignoring %s\n", oneLine(err.Error()))
			continue
		}
		created, _ := time.Parse(time.RFC3339, s.Annotations[keysecret.AnnotationCreated])
		entries = append(entries, keyListEntry{ID: k.Fingerprint(), State: "legacy", Kind: "bitnami", Created: created,
			BitnamiState: string(k.State), ImportedFrom: s.Annotations[keysecret.AnnotationImportedFrom]})
	}
	return entries, nil
}
