package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/pkg/keyring"
)

// keysKeyringOptions is `seal keys keyring`: a public keyring file made
// offline, from recipients, identity files and other keyrings.
type keysKeyringOptions struct {
	Streams
	recipients    recipientFlags
	identityFiles []string
	output        string
}

func newKeysKeyringCmd(s Streams) *cobra.Command {
	o := &keysKeyringOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "keyring [--recipient R]... [-i IDENTITY_FILE]... [--keys FILE]... [-w FILE]",
		Short: "Write a public keyring file from recipients, offline",
		Long: `keyring writes a public keyring file, in the format 'seal keys fetch'
writes, without a cluster: every --recipient and the public key of every
identity in -i IDENTITY_FILE as active keys, and the keys of every --keys
FILE with the states they have there. Seal to it with --keys FILE; name
it in .sealkit.yaml so that 'seal lint' knows the keys.`,
		Example: `  seal keys keyring -i recovery.key --recipient age1pq1… -w keys/offline.keys
  seal keys keyring --keys keys/prod.keys --keys keys/staging.keys > keys/all.keys`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	o.recipients.addFlags(cmd.Flags())
	cmd.Flags().StringArrayVarP(&o.identityFiles, "identity", "i", nil, "add the public key of this identity `FILE` (repeatable)")
	cmd.Flags().StringVarP(&o.output, "write", "w", "", "write the keyring to `FILE` (atomically) instead of stdout")
	return cmd
}

// Complete parses --recipient.
func (o *keysKeyringOptions) Complete(*cobra.Command, []string) error {
	return o.recipients.parse()
}

// Validate requires at least one source of keys.
func (o *keysKeyringOptions) Validate() error {
	if !o.recipients.given() && len(o.identityFiles) == 0 {
		return usageErrorf("keys keyring needs --recipient, -i or --keys")
	}
	return nil
}

// Run reads the keys and writes the keyring.
func (o *keysKeyringOptions) Run() error {
	kr := &keyring.Keyring{}
	add := func(k keyring.Key) {
		for _, have := range kr.Keys {
			if have.ID == k.ID {
				return
			}
		}
		kr.Keys = append(kr.Keys, k)
	}
	for _, path := range o.recipients.keyFiles {
		other, err := readKeyring(path)
		if err != nil {
			return err
		}
		for _, k := range other.Keys {
			add(k)
		}
	}
	for _, r := range o.recipients.parsed {
		add(keyring.Key{ID: r.KeyID(), Recipient: r, State: keyring.StateActive})
	}
	ids, err := readIdentityFiles(o.Streams, o.identityFiles)
	if err != nil {
		return err
	}
	for _, id := range ids {
		add(keyring.Key{ID: id.KeyID(), Recipient: id.Recipient(), State: keyring.StateActive})
	}
	if err := writeOutput(o.Out, o.output, kr.Format(), 0o644); err != nil {
		return err
	}
	if o.output != "" && o.output != "-" {
		fmt.Fprintf(o.ErrOut, "seal: wrote %d keys to %s\n", len(kr.Keys), o.output)
	}
	return nil
}
