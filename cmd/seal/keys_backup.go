package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"
	"github.com/spf13/cobra"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/pkg/keyring"
)

// keyBackup is one key in a backup: what it takes to recreate its Secret.
// A backup file is the age encryption of a YAML list of these.
type keyBackup struct {
	Name     string `json:"name"`
	KeyID    string `json:"keyID"`
	State    string `json:"state"`
	Created  string `json:"created,omitempty"`
	Identity string `json:"identity"`
}

// keysBackupOptions is `seal keys backup`: the private keys, encrypted to an
// offline recovery recipient.
type keysBackupOptions struct {
	Streams
	kube       kubeOptions
	recipients []string
	output     string
	force      bool

	to []age.Recipient
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
	for _, r := range o.recipients {
		rs, err := age.ParseRecipients(strings.NewReader(r))
		if err != nil || len(rs) != 1 {
			return withHint(usageErrorf("--recipient %q is not an age recipient", r),
				"a recipient is a public key: age1pq1… (post-quantum) or age1…")
		}
		o.to = append(o.to, rs[0])
	}
	return nil
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
	keys, err := o.kube.keySecrets(ctx)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return fmt.Errorf("no key secrets in namespace %s: nothing to back up", o.kube.controllerNamespace)
	}
	entries := make([]keyBackup, len(keys))
	for i, k := range keys {
		entries[i] = keyBackup{Name: k.secret.Name, KeyID: string(k.id), State: string(k.state),
			Created: k.secret.Annotations[keyring.AnnotationCreated], Identity: k.identity.String()}
	}
	plain, err := yaml.Marshal(entries)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := encryptArmored(&buf, plain, o.to); err != nil {
		return fmt.Errorf("encrypting the backup: %w", err)
	}
	if o.force || o.output == "" || o.output == "-" {
		err = writeOutput(o.Out, o.output, buf.Bytes(), 0o600)
	} else {
		err = writeNewFile(o.output, buf.Bytes()) // O_EXCL: never replaces a file
	}
	if err != nil {
		return err // both name the file
	}
	ids := make([]string, len(keys))
	for i, k := range keys {
		ids[i] = string(k.id) + " (" + string(k.state) + ")"
	}
	fmt.Fprintf(o.ErrOut, "seal: backed up %d keys: %s\n", len(keys), strings.Join(ids, ", "))
	return nil
}

func encryptArmored(w io.Writer, plain []byte, to []age.Recipient) error {
	aw := armor.NewWriter(w)
	ew, err := age.Encrypt(aw, to...)
	if err != nil {
		return err
	}
	if _, err := ew.Write(plain); err != nil {
		return err
	}
	if err := ew.Close(); err != nil {
		return err
	}
	return aw.Close()
}
