package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// keysBackupOptions is `seal keys backup`: the private keys, encrypted to an
// offline recovery recipient.
type keysBackupOptions struct {
	Streams
	kube       kubeOptions
	recipients []string
	output     string
	force      bool

	to []*crypto.Recipient
}

func newKeysBackupCmd(s Streams) *cobra.Command {
	o := &keysBackupOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "backup --recipient RECIPIENT [-w FILE]",
		Short: "Back up the cluster's private keys, encrypted to a recovery key",
		Long: `backup reads seal-controller's key Secrets and writes them as one age file
(ASCII-armored) encrypted to RECIPIENT, e.g. an offline key made by
'seal keys generate'. The keys are never written in plaintext. Restore
with 'seal keys restore FILE -i IDENTITY'; plain 'age -d' opens it too.

-w writes the file with mode 0600 and refuses to replace an existing file
unless --force. It needs the rights to read Secrets in the controller
namespace.`,
		Example: `  seal keys backup --recipient age1pq1… -w prod-keys.age`,
		Args:    cobra.NoArgs,
		RunE:    runE(o),
	}
	cmd.Flags().StringArrayVar(&o.recipients, "recipient", nil, "encrypt to this age `RECIPIENT` (repeatable)")
	cmd.Flags().StringVarP(&o.output, "write", "w", "", "write to `FILE` instead of stdout")
	cmd.Flags().BoolVar(&o.force, "force", false, "replace an existing -w FILE")
	o.kube.addFlags(cmd.Flags(), false)
	return cmd
}

// Complete parses the recipients.
func (o *keysBackupOptions) Complete(*cobra.Command, []string) error {
	for _, s := range o.recipients {
		r, err := crypto.ParseRecipient(s)
		if err != nil {
			return withHint(usageErrorf("--recipient: %v", err),
				"a recipient is a public key: age1pq1… (post-quantum) or age1…")
		}
		o.to = append(o.to, r)
	}
	return checkNotMixed(o.to)
}

// Validate requires a recipient and refuses to overwrite by accident.
func (o *keysBackupOptions) Validate() error {
	if len(o.to) == 0 {
		return withHint(usageErrorf("keys backup needs --recipient"),
			"make an offline recovery key with 'seal keys generate -o recovery.key' and give its public key")
	}
	if o.output != "" && o.output != "-" && !o.force {
		if _, err := os.Stat(o.output); err == nil {
			return withHint(usageErrorf("%s already exists: not overwriting a backup", o.output),
				"choose another file name, or give --force")
		} else if !errors.Is(err, fs.ErrNotExist) {
			return fileError(o.output, err)
		}
	}
	return nil
}

// Run reads the keys, encrypts them in memory, and writes the file.
func (o *keysBackupOptions) Run() error {
	ctx, cancel := kubeContext()
	defer cancel()
	set, err := o.kube.keySet(ctx, o.ErrOut)
	if err != nil {
		return err
	}
	if len(set.Keys) == 0 {
		return fmt.Errorf("no key secrets in namespace %s: nothing to back up", o.kube.controllerNamespace)
	}
	for _, r := range o.to {
		if !r.PostQuantum() {
			fmt.Fprintf(o.ErrOut, "seal: warning: recipient %s is a classic X25519 key: this backup of post-quantum keys is only as strong as it against a quantum adversary\n", r.KeyID())
		}
	}
	data, err := keysecret.EncryptBackup(set.Keys, o.to)
	if err != nil {
		return fmt.Errorf("encrypting the backup: %w", err)
	}
	if o.force || o.output == "" || o.output == "-" {
		err = writeOutput(o.Out, o.output, data, 0o600)
	} else {
		err = writeNewFile(o.output, data) // O_EXCL: never replaces a file
	}
	if err != nil {
		return err // both name the file
	}
	ids := make([]string, len(set.Keys))
	for i, k := range set.Keys {
		ids[i] = string(k.ID) + " (" + string(k.State) + ")"
	}
	fmt.Fprintf(o.ErrOut, "seal: backed up %d keys: %s\n", len(set.Keys), strings.Join(ids, ", "))
	return nil
}
