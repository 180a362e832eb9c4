package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// keysRestoreOptions is `seal keys restore FILE -i IDENTITY`: a backup's
// keys back into a cluster.
type keysRestoreOptions struct {
	Streams
	kube          kubeOptions
	identityFiles []string
	activate      bool
	file          string
	Now           func() time.Time
}

func newKeysRestoreCmd(s Streams) *cobra.Command {
	o := &keysRestoreOptions{Streams: s, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "restore FILE -i IDENTITY_FILE [--activate]",
		Short: "Restore keys from a backup into the cluster",
		Long: `restore decrypts a backup made by 'seal keys backup' with IDENTITY_FILE and
creates the key Secrets in the controller namespace. Keys already there
(same key ID) are skipped. The controller picks them up without a restart.

A backup is trusted for key material only, since anyone holding the
recovery recipient's public key could have made one: every restored key
comes back retained (it opens old values, nothing is sealed to it), a
compromised or retired key keeps that state, and its creation time is the
time of the restore, so the backup cannot choose when keys rotate. Give
--activate to make the key that was active in the backup the active key
again (disaster recovery of a lost cluster): the controller then retains
its own active key.`,
		Example: `  seal keys restore prod-keys.age -i recovery.key
  seal keys restore prod-keys.age -i recovery.key --activate`,
		Args: exactArgs(1, "one backup FILE"),
		RunE: runE(o),
	}
	cmd.Flags().StringArrayVarP(&o.identityFiles, "identity", "i", nil, "age identity `FILE` that opens the backup (repeatable)")
	cmd.Flags().BoolVar(&o.activate, "activate", false, "make the backup's active key the cluster's active key")
	o.kube.addFlags(cmd.Flags(), false)
	return cmd
}

// Complete takes the file.
func (o *keysRestoreOptions) Complete(_ *cobra.Command, args []string) error {
	o.file = args[0]
	return nil
}

// Validate requires an identity.
func (o *keysRestoreOptions) Validate() error {
	if len(o.identityFiles) == 0 {
		return withHint(usageErrorf("keys restore needs -i IDENTITY_FILE"),
			"the identity is the recovery key the backup was encrypted to")
	}
	return nil
}

// Run decrypts the backup and creates the missing key Secrets.
func (o *keysRestoreOptions) Run() error {
	entries, err := o.read()
	if err != nil {
		return err
	}
	ctx, cancel := kubeContext()
	defer cancel()
	existing, err := o.kube.keySet(ctx, o.ErrOut)
	if err != nil {
		return err
	}
	have := map[crypto.KeyID]bool{}
	for _, k := range existing.Keys {
		have[k.ID] = true
	}
	c, err := o.kube.connect()
	if err != nil {
		return err
	}
	restored, activated := 0, false
	now := o.Now()
	for _, e := range entries {
		s, err := keysecret.Restore(o.kube.controllerNamespace, e, o.activate, now)
		if err != nil {
			return fmt.Errorf("%s: %w", o.file, err)
		}
		id := crypto.KeyID(s.Annotations[keysecret.AnnotationKeyID])
		state := s.Labels[keysecret.LabelState]
		if have[id] {
			fmt.Fprintf(o.Out, "skipped %s: already in the cluster\n", id)
			continue
		}
		if err := c.Create(ctx, s); err != nil {
			if apierrors.IsAlreadyExists(err) {
				s.Name += "-restored"
				err = c.Create(ctx, s)
			}
			if err != nil {
				return kubeError(fmt.Errorf("creating key secret %s/%s (key %s): %w", s.Namespace, s.Name, id, err))
			}
		}
		have[id] = true
		restored++
		activated = activated || state == string(keyring.StateActive)
		fmt.Fprintf(o.Out, "restored %s (%s) as secret %s/%s\n", id, state, s.Namespace, s.Name)
	}
	fmt.Fprintf(o.Out, "restored %d of %d keys\n", restored, len(entries))
	if o.activate && !activated {
		fmt.Fprintf(o.ErrOut, "seal: warning: --activate: no key of the backup was active, or it was already in the cluster; the active key is unchanged\n")
	}
	return nil
}

// read decrypts and parses the backup file.
func (o *keysRestoreOptions) read() ([]keysecret.BackupEntry, error) {
	ids, err := readIdentityFiles(o.Streams, o.identityFiles)
	if err != nil {
		return nil, err
	}
	data, err := readFileBounded(o.file)
	if err != nil {
		return nil, err
	}
	entries, err := keysecret.DecryptBackup(data, ids)
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: %w", o.file, err),
			"give the identity of the recipient the backup was made for")
	}
	return entries, nil
}
