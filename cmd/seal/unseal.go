package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// unsealOptions is `seal unseal`: SealedSecrets back into Secrets with an
// identity file, for disaster recovery without a cluster.
type unsealOptions struct {
	Streams
	identityFiles []string
	filename      string
	output        outputOptions

	identities []*crypto.Identity
}

func newUnsealCmd(s Streams) *cobra.Command {
	o := &unsealOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "unseal -i IDENTITY_FILE [FILE|-f FILE] [-o yaml|json] [-w FILE]",
		Short: "Turn SealedSecrets back into Secrets with a private key (disaster recovery)",
		Long: `unseal opens every value of the SealedSecrets read from stdin or -f FILE
with the identities in IDENTITY_FILE and writes the Secrets. Each value is
checked against where it is: a value copied to another namespace, name or
data key is refused, as the controller would refuse it.

The output holds plaintext: -w writes it with mode 0600.`,
		Example: `  seal unseal -i recovery.key db.sealed.yaml
  seal unseal -i recovery.key -f db.sealed.yaml -w db.secret.yaml`,
		Args: fileArg,
		RunE: runE(o),
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&o.identityFiles, "identity", "i", nil, "age identity `FILE` to open values with (repeatable)")
	fs.StringVarP(&o.filename, "filename", "f", "", "read SealedSecrets from `FILE` (- for stdin, the default)")
	o.output.addFlags(fs)
	return cmd
}

// Complete takes the file argument and checks the flags' values.
func (o *unsealOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) == 1 {
		if o.filename != "" {
			return usageErrorf("give the input once: as an argument or with -f, not both")
		}
		o.filename = args[0]
	}
	return o.output.complete(cmd)
}

// Validate requires an identity.
func (o *unsealOptions) Validate() error {
	if len(o.identityFiles) == 0 {
		return withHint(usageErrorf("unseal needs -i IDENTITY_FILE"),
			"an identity file is what 'seal keys generate' writes, or a key backup")
	}
	return nil
}

// Run opens every SealedSecret in memory, then writes all the Secrets.
func (o *unsealOptions) Run() error {
	var err error
	if o.identities, err = readIdentityFiles(o.Streams, o.identityFiles); err != nil {
		return err
	}
	docs, _, err := readDocuments(o.Streams, o.filename, "SealedSecret manifests")
	if err != nil {
		return err
	}
	objs := make([]runtime.Object, 0, len(docs))
	for _, d := range docs {
		s, err := o.unseal(d)
		if err != nil {
			return err
		}
		objs = append(objs, s)
	}
	return o.output.write(o.Out, objs, 0o600)
}

func (o *unsealOptions) unseal(d sealed.Document) (*corev1.Secret, error) {
	if d.Kind != "SealedSecret" {
		return nil, fmt.Errorf("%s is %s, not a SealedSecret", docName(d), describeKind(d))
	}
	ss, err := sealedSecretOf(d)
	if err != nil {
		return nil, err
	}
	obj := fmt.Sprintf("%s: sealedsecret %s/%s", d.Source, ss.Namespace, ss.Name)
	s, _, err := sealed.Unseal(ss, o.identities)
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: %w", obj, err), unsealHint(err))
	}
	if s.Kind == "" {
		s.APIVersion, s.Kind = "v1", "Secret"
	}
	return s, nil
}

// unsealHint explains the three ways a value fails to open.
func unsealHint(err error) string {
	var noKey *crypto.NoKeyMatchError
	var frame *crypto.FrameMismatchError
	switch {
	case errors.As(err, &noKey):
		return "the identity file holds none of the keys the value was sealed to"
	case errors.As(err, &frame):
		return "a value opens only where it was sealed (its scope binds namespace, name and data key); re-seal it for the new place"
	case errors.Is(err, crypto.ErrCorrupt):
		return "the value was damaged or edited after sealing; seal it again from the original Secret"
	}
	return ""
}
