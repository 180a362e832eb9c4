package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// defaultNamespace is where a Secret that names no namespace goes when -n is
// not given either: kubectl's default.
const defaultNamespace = "default"

// sealingOptions are the flags shared by every command that seals: whom to
// seal to, the scope, the namespace, and where the result goes.
type sealingOptions struct {
	recipients     recipientOptions
	output         outputOptions
	scopeName      string
	namespace      string
	allowEmptyData bool
	mergeInto      string
	config         configOptions
	kube           kubeOptions

	// Resolved by complete.
	scope    crypto.Scope
	scopeSet bool
	sealTo   []*crypto.Recipient
}

func (o *sealingOptions) addFlags(fs *pflag.FlagSet) {
	o.recipients.addFlags(fs)
	o.output.addFlags(fs)
	fs.StringVar(&o.scopeName, "scope", string(crypto.ScopeStrict), "`SCOPE`: where values may be used: strict, namespace or cluster")
	fs.StringVarP(&o.namespace, "namespace", "n", "", "`NAMESPACE` of the Secret (default: the manifest's, else \"default\")")
	fs.BoolVar(&o.allowEmptyData, "allow-empty-data", false, "seal a Secret that has no data")
	fs.StringVar(&o.mergeInto, "merge-into", "", "add or replace the sealed keys in this existing SealedSecret `FILE`, in place")
	o.config.addFlags(fs)
	o.kube.addFlags(fs, false)
}

func (o *sealingOptions) complete(cmd *cobra.Command) error {
	scope, err := crypto.ParseScope(o.scopeName)
	if err != nil {
		return usageErrorf("--scope: %v", err)
	}
	o.scope, o.scopeSet = scope, cmd.Flags().Changed("scope")
	if err := o.output.complete(cmd); err != nil {
		return err
	}
	if o.mergeInto != "" && o.output.file != "" {
		return usageErrorf("--merge-into writes its FILE in place: -w cannot be given too")
	}
	o.sealTo, err = o.resolveRecipients(cmd)
	return err
}

// sourced is a Secret and where it came from, for messages.
type sourced struct {
	source string // file name, "stdin", or "" for a Secret built from flags
	doc    string // the document, for messages about a Secret without a name
	secret *corev1.Secret
}

// object names the Secret in messages: "FILE: secret NAMESPACE/NAME".
func (s sourced) object() string {
	name := "secret " + s.secret.Name
	if s.secret.Namespace != "" {
		name = "secret " + s.secret.Namespace + "/" + s.secret.Name
	}
	if s.source == "" {
		return name
	}
	return s.source + ": " + name
}

// prepare checks a Secret and fills in its namespace before it is sealed.
func (o *sealingOptions) prepare(s sourced) error {
	sec := s.secret
	if sec.Name == "" {
		return fmt.Errorf("%s: Secret has no metadata.name", s.doc)
	}
	switch {
	case sec.Namespace == "" && o.namespace == "":
		sec.Namespace = defaultNamespace
	case sec.Namespace == "":
		sec.Namespace = o.namespace
	case o.namespace != "" && o.namespace != sec.Namespace:
		return withHint(fmt.Errorf("%s is in namespace %q, but -n says %q",
			s.object(), sec.Namespace, o.namespace),
			"drop -n, or change the manifest's metadata.namespace")
	}
	size := 0
	for _, v := range sec.Data {
		size += len(v)
	}
	for _, v := range sec.StringData {
		size += len(v)
	}
	if size > maxSecretSize {
		return fmt.Errorf("%s has %d bytes of data, over Kubernetes' 1 MiB Secret limit", s.object(), size)
	}
	if len(sec.Data)+len(sec.StringData) == 0 && !o.allowEmptyData {
		return withHint(fmt.Errorf("%s has no data", s.object()),
			"give --allow-empty-data to seal it anyway")
	}
	return nil
}

// seal prepares and seals every Secret in memory; the first error stops it
// before anything is written.
func (o *sealingOptions) seal(secrets []sourced) ([]*v1alpha1.SealedSecret, error) {
	out := make([]*v1alpha1.SealedSecret, 0, len(secrets))
	for _, s := range secrets {
		if err := o.prepare(s); err != nil {
			return nil, err
		}
		ss, err := sealed.Seal(s.secret, sealed.SealOptions{
			Scope:          o.scope,
			Recipients:     o.sealTo,
			AllowEmptyData: o.allowEmptyData,
		})
		if err != nil {
			// pkg/sealed names the secret and key itself.
			return nil, prefixSource(s.source, err)
		}
		out = append(out, ss)
	}
	return out, nil
}

// sealAndWrite seals every Secret, then writes them all, or merges the one
// Secret into --merge-into.
func (o *sealingOptions) sealAndWrite(st Streams, secrets []sourced) error {
	if o.mergeInto != "" {
		return o.merge(secrets)
	}
	sealedObjs, err := o.seal(secrets)
	if err != nil {
		return err
	}
	objs := make([]runtime.Object, len(sealedObjs))
	for i, ss := range sealedObjs {
		objs[i] = ss
	}
	return o.output.write(st.Out, objs, 0o644)
}
