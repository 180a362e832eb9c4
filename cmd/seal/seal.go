package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// sealOptions is the root command: Secret manifests in, SealedSecrets out.
type sealOptions struct {
	Streams
	sealingOptions
	raw rawOptions

	filename string
}

func newSealCmd(s Streams) *cobra.Command {
	o := &sealOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "seal [FILE|-f FILE] [--keys FILE | --recipient age1pq1…]... [-o yaml|json] [-w FILE]",
		Short: "Seal Kubernetes Secrets into SealedSecrets that are safe to commit",
		Long: `seal reads Secret manifests (YAML or JSON, several documents or a List)
from FILE, or stdin, and writes SealedSecrets: every value is encrypted to
the given keys and bound to where it may be used (--scope).

Only the cluster holding the private keys can open the result.`,
		Example: `  seal --keys prod.keys secret.yaml -w sealed.yaml
  kubectl create secret generic db --from-literal=password=s3cret --dry-run=client -o yaml | seal --keys prod.keys
  printf s3cret | seal --raw --keys prod.keys -n shop --name db --key password`,
		Args: fileArg,
		RunE: runE(o),
	}
	fs := cmd.Flags()
	fs.StringVarP(&o.filename, "filename", "f", "", "read Secret manifests from `FILE` (- for stdin, the default)")
	o.addFlags(fs)
	o.raw.addFlags(fs)
	return cmd
}

// Complete takes the file argument and checks the flags' values.
func (o *sealOptions) Complete(cmd *cobra.Command, args []string) error {
	if len(args) == 1 {
		if o.filename != "" {
			return usageErrorf("give the input once: as an argument or with -f, not both")
		}
		o.filename = args[0]
	}
	o.raw.complete(cmd)
	o.config.input = o.filename
	return o.complete(cmd)
}

// Validate checks that the flags make sense together.
func (o *sealOptions) Validate() error {
	if o.raw.enabled {
		return o.raw.validate(&o.sealingOptions, o.filename)
	}
	return o.raw.refuseWithoutRaw()
}

// Run seals every Secret of the input in memory, then writes them all.
func (o *sealOptions) Run() error {
	if o.raw.enabled {
		if err := o.resolve(o.ErrOut); err != nil {
			return err
		}
		return o.raw.run(o.Streams, &o.sealingOptions)
	}
	docs, _, err := readDocuments(o.Streams, o.filename, "Secret manifests")
	if err != nil {
		return err
	}
	secrets := make([]sourced, 0, len(docs))
	for _, d := range docs {
		s, err := secretOf(d)
		if err != nil {
			return err
		}
		secrets = append(secrets, s)
	}
	return o.sealAndWrite(o.Streams, secrets)
}

// secretOf decodes a document that must be a core/v1 Secret.
func secretOf(d sealed.Document) (sourced, error) {
	where := docName(d)
	if d.Kind != "Secret" || (d.APIVersion != "v1" && d.APIVersion != "") {
		return sourced{}, withHint(fmt.Errorf("%s is %s, not a v1 Secret", where, describeKind(d)),
			"seal takes Secret manifests; to merge into a SealedSecret use --merge-into")
	}
	s, err := d.Secret()
	if err != nil {
		return sourced{}, prefixSource(d.Source, err)
	}
	return sourced{source: d.Source, doc: where, secret: s}, nil
}

func describeKind(d sealed.Document) string {
	if d.Kind == "" {
		return "a document without a kind"
	}
	return fmt.Sprintf("a %s (%s)", d.Kind, d.APIVersion)
}
