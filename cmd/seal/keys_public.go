package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// keysPublicOptions is `seal keys public -i FILE`: the public keys of
// identity files, as `age-keygen -y` prints them.
type keysPublicOptions struct {
	Streams
	identityFiles []string
	format        string
}

func newKeysPublicCmd(s Streams) *cobra.Command {
	o := &keysPublicOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "public -i IDENTITY_FILE... [-o text|recipient]",
		Short: "Print the public key and key ID of identity files",
		Long: `public prints the public key (recipient) and key ID of every identity in
the identity files, as 'seal keys generate' prints them; -o recipient
prints only the recipients, one per line, as 'age-keygen -y' does. A
passphrase-encrypted identity file asks for its passphrase.`,
		Example: `  seal keys public -i recovery.key
  seal --recipient "$(seal keys public -i recovery.key -o recipient)" -f secret.yaml`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	cmd.Flags().StringArrayVarP(&o.identityFiles, "identity", "i", nil, "age identity `FILE` (repeatable)")
	cmd.Flags().StringVarP(&o.format, "output", "o", "text", "output `FORMAT`: text or recipient")
	return cmd
}

// Complete has nothing to resolve.
func (o *keysPublicOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate requires an identity and a known format.
func (o *keysPublicOptions) Validate() error {
	if len(o.identityFiles) == 0 {
		return usageErrorf("keys public needs -i IDENTITY_FILE")
	}
	if o.format != "text" && o.format != "recipient" {
		return usageErrorf("-o %q: want text or recipient", o.format)
	}
	return nil
}

// Run reads the identities and prints their public keys.
func (o *keysPublicOptions) Run() error {
	ids, err := readIdentityFiles(o.Streams, o.identityFiles)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if o.format == "recipient" {
			_, err = fmt.Fprintln(o.Out, id.Recipient())
		} else {
			err = printPublic(o.Out, id.Recipient())
		}
		if err != nil {
			return err
		}
	}
	return nil
}
