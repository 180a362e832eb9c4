package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// maxBackup bounds a backup file: thousands of keys.
const maxBackup = 16 << 20

// keysRestoreOptions is `seal keys restore FILE -i IDENTITY`: a backup's
// keys back into a cluster.
type keysRestoreOptions struct {
	Streams
	kube          kubeOptions
	identityFiles []string
	file          string
}

func newKeysRestoreCmd(s Streams) *cobra.Command {
	o := &keysRestoreOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "restore FILE -i IDENTITY_FILE",
		Short: "Restore keys from a backup into the cluster",
		Long: `restore decrypts a backup made by 'seal keys backup' with IDENTITY_FILE and
creates the key Secrets in the controller namespace. Keys already there
(same key ID) are skipped; restored keys keep the state they had. The
controller picks them up without a restart; if the backup's active key
and the cluster's own are both active, the controller keeps the newest
active and retains the other.`,
		Example: `  seal keys restore prod-keys.age -i recovery.key`,
		Args:    exactArgs(1, "one backup FILE"),
		RunE:    runE(o),
	}
	cmd.Flags().StringArrayVarP(&o.identityFiles, "identity", "i", nil, "age identity `FILE` that opens the backup (repeatable)")
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
	existing, err := o.kube.keySecrets(ctx)
	if err != nil {
		return err
	}
	have := map[crypto.KeyID]bool{}
	for _, k := range existing {
		have[k.id] = true
	}
	c, err := o.kube.connect()
	if err != nil {
		return err
	}
	restored := 0
	for _, e := range entries {
		id, err := crypto.ParseIdentity(e.Identity)
		if err != nil {
			return fmt.Errorf("%s: key %s: %w", o.file, e.KeyID, err)
		}
		if have[id.KeyID()] {
			fmt.Fprintf(o.Out, "skipped %s (%s): already in the cluster\n", id.KeyID(), e.State)
			continue
		}
		s := restoredSecret(o.kube.controllerNamespace, e, id)
		if err := c.Create(ctx, s); err != nil {
			if apierrors.IsAlreadyExists(err) {
				s.Name = keyring.KeySecretPrefix + string(id.KeyID()) + "-restored"
				err = c.Create(ctx, s)
			}
			if err != nil {
				return kubeError(fmt.Errorf("creating key secret %s/%s (key %s): %w", s.Namespace, s.Name, id.KeyID(), err))
			}
		}
		have[id.KeyID()] = true
		restored++
		fmt.Fprintf(o.Out, "restored %s (%s) as secret %s/%s\n", id.KeyID(), e.State, s.Namespace, s.Name)
	}
	fmt.Fprintf(o.Out, "restored %d of %d keys\n", restored, len(entries))
	return nil
}

func restoredSecret(ns string, e keyBackup, id *crypto.Identity) *corev1.Secret {
	name := e.Name
	if name == "" {
		name = keyring.KeySecretPrefix + string(id.KeyID())
	}
	state := e.State
	if state == "" {
		state = string(keyring.StateRetained)
	}
	ann := map[string]string{keyring.AnnotationKeyID: string(id.KeyID())}
	if e.Created != "" {
		ann[keyring.AnnotationCreated] = e.Created
	}
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{
			Name: name, Namespace: ns,
			Labels:      map[string]string{keyring.LabelKey: "true", keyring.LabelKeyState: state},
			Annotations: ann,
		},
		Type: corev1.SecretTypeOpaque,
		Data: map[string][]byte{keyring.KeyDataIdentity: []byte(id.String())},
	}
}

// read decrypts and parses the backup file.
func (o *keysRestoreOptions) read() ([]keyBackup, error) {
	ids, err := readIdentityFiles(o.Streams, o.identityFiles)
	if err != nil {
		return nil, err
	}
	data, err := readFileBounded(o.file)
	if err != nil {
		return nil, err
	}
	dr, err := crypto.DecryptFile(data, ids)
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: decrypting: %w", o.file, err),
			"give the identity of the recipient the backup was made for")
	}
	plain, err := readBounded(dr, maxBackup, o.file)
	if err != nil {
		return nil, err
	}
	var entries []keyBackup
	if err := yaml.UnmarshalStrict(plain, &entries); err != nil {
		return nil, fmt.Errorf("%s: not a sealkit key backup: %s", o.file, strings.SplitN(err.Error(), "\n", 2)[0])
	}
	if len(entries) == 0 {
		return nil, fmt.Errorf("%s: backup holds no keys", o.file)
	}
	return entries, nil
}
