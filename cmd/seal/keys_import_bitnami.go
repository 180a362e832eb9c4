package main

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// keysImportBitnamiOptions is `seal keys import-bitnami FILE…`: Bitnami's
// private keys into the controller namespace, decrypt-only, for online
// migrations.
type keysImportBitnamiOptions struct {
	Streams
	kube  kubeOptions
	files []string
	Now   func() time.Time
}

func newKeysImportBitnamiCmd(s Streams) *cobra.Command {
	o := &keysImportBitnamiOptions{Streams: s, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "import-bitnami FILE...",
		Short: "Import Bitnami Sealed Secrets' private keys, decrypt-only, for seal migrate",
		Long: `import-bitnami reads Bitnami Sealed Secrets' private keys, as they are
backed up (the key Secrets: one, several documents, or a List, YAML or
JSON) or as PEM private keys, and stores each in the controller namespace
as a legacy key Secret (sealkit-legacy-bitnami-<fingerprint>). "-" reads
stdin, so the keys can be copied from the cluster without a file:

  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml | seal keys import-bitnami -

seal-controller loads them without a restart. They are decrypt-only: they
open Bitnami values for an online 'seal migrate' and nothing else; they are
never sealed to and never published in the public keyring. 'seal keys
list' shows them. A key already imported is skipped. Delete them
(kubectl delete secret -n sealkit-system -l sealkit.dev/legacy-key) once
every SealedSecret is migrated.

Importing needs the right to create Secrets in the controller namespace.`,
		Example: `  seal keys import-bitnami bitnami-keys.yaml
  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml | seal keys import-bitnami -`,
		Args: cobra.MinimumNArgs(1),
		RunE: runE(o),
	}
	o.kube.addFlags(cmd.Flags(), false)
	return cmd
}

// Complete takes the files.
func (o *keysImportBitnamiOptions) Complete(_ *cobra.Command, args []string) error {
	o.files = args
	return nil
}

// Validate has nothing to check offline.
func (o *keysImportBitnamiOptions) Validate() error { return nil }

// Run reads every file first, then creates the Secrets.
func (o *keysImportBitnamiOptions) Run() error {
	var keys []*bitnami.PrivateKey
	for _, f := range o.files {
		data, source, err := readInput(o.Streams, f, "Bitnami key Secrets")
		if err != nil {
			return err
		}
		k, err := bitnami.ParsePrivateKeys(bytes.NewReader(data), source)
		clear(data)
		if err != nil {
			return withHint(err, "give Bitnami's key Secrets as exported (kubectl get secret -n kube-system -l "+bitnami.LabelSealingKey+" -o yaml) or PEM private keys")
		}
		keys = append(keys, k...)
	}
	c, err := o.kube.connect()
	if err != nil {
		return err
	}
	ctx, cancel := kubeContext()
	defer cancel()
	imported := 0
	for _, k := range keys {
		s := keysecret.NewLegacy(o.kube.controllerNamespace, k, o.Now())
		err := c.Create(ctx, s)
		switch {
		case apierrors.IsAlreadyExists(err):
			fmt.Fprintf(o.Out, "skipped bitnami key %s (%s): already imported as secret %s/%s\n", k.Fingerprint(), k.Source, s.Namespace, s.Name)
			continue
		case err != nil:
			return kubeError(fmt.Errorf("creating legacy key secret %s/%s (bitnami key %s): %w", s.Namespace, s.Name, k.Fingerprint(), err))
		}
		imported++
		fmt.Fprintf(o.Out, "imported bitnami key %s (%s, %s) as secret %s/%s, decrypt-only\n",
			k.Fingerprint(), s.Annotations[keysecret.AnnotationLegacyState], k.Source, s.Namespace, s.Name)
	}
	fmt.Fprintf(o.Out, "imported %d of %d bitnami keys\n", imported, len(keys))
	return nil
}

// legacyKeys lists the imported Bitnami keys of the controller namespace,
// for seal keys list; nil, without an error, when the caller may not list
// Secrets there (only administrators of seal-controller may).
func (o *kubeOptions) legacyKeys(ctx context.Context) ([]corev1.Secret, error) {
	c, err := o.connect()
	if err != nil {
		return nil, err
	}
	var list corev1.SecretList
	err = c.List(ctx, &list, keysecret.LegacyListOptions(o.controllerNamespace)...)
	if apierrors.IsForbidden(err) {
		return nil, nil
	}
	if err != nil {
		return nil, kubeError(fmt.Errorf("listing legacy key secrets in namespace %s: %w", o.controllerNamespace, err))
	}
	return list.Items, nil
}
