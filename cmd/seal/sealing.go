package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	corev1 "k8s.io/api/core/v1"

	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// defaultNamespace is where a Secret that names no namespace goes when
// neither -n nor the kubeconfig context gives one: kubectl's default.
const defaultNamespace = "default"

// sealingOptions are the flags shared by every command that seals: whom to
// seal to, the scope, the namespace, and where the result goes.
type sealingOptions struct {
	recipients recipientFlags
	output     outputOptions
	scopeName  string
	namespace  string
	mergeInto  string
	config     configOptions
	kube       kubeOptions

	// Resolved by complete, from the flags alone.
	scope    crypto.Scope
	scopeSet bool
	// typeSet says the Secret's type came from --type (seal create).
	typeSet bool

	// Resolved in Run by resolve.
	sealTo []recipientSource
	// fallbackNS is the namespace of Secrets that name none, with -n not
	// given; "" until one needs it.
	fallbackNS string
}

func (o *sealingOptions) addFlags(fs *pflag.FlagSet) {
	o.recipients.addFlags(fs)
	o.output.addFlags(fs)
	fs.StringVar(&o.scopeName, "scope", string(crypto.ScopeStrict), "`SCOPE`: where values may be used: strict, namespace or cluster")
	fs.StringVarP(&o.namespace, "namespace", "n", "", "`NAMESPACE` of the Secret (default: the manifest's, else the kubeconfig context's, else \"default\")")
	fs.StringVar(&o.mergeInto, "merge-into", "", "add or replace the sealed keys in this existing SealedSecret `FILE`, in place")
	fs.Bool("allow-empty-data", false, "removed: a SealedSecret needs at least one value")
	_ = fs.MarkHidden("allow-empty-data")
	o.config.addFlags(fs)
	o.kube.addFlags(fs, false)
}

// complete checks the flags' values and combinations; it reads nothing and
// reaches no cluster.
func (o *sealingOptions) complete(cmd *cobra.Command) error {
	if cmd.Flags().Changed("allow-empty-data") {
		return withHint(usageErrorf("--allow-empty-data was removed: the cluster refuses a SealedSecret without values"),
			"give the Secret at least one key")
	}
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
	return o.recipients.parse()
}

// resolve decides whom to seal to and with which scope: the .sealkit.yaml
// rule, the keyring files and, when nothing else gives keys, the cluster's
// public keyring. Run calls it; it is where sealing reads and fetches.
func (o *sealingOptions) resolve(errOut io.Writer) error {
	rule, err := o.config.rule(o, errOut)
	if err != nil {
		return err
	}
	plan, err := planRecipients(&o.recipients, rule, o.scope, o.scopeSet)
	if err != nil {
		return err
	}
	for _, n := range plan.notes {
		o.config.logf(errOut, "seal: %s", n)
	}
	if plan.context != "" {
		o.kube.useContext(plan.context)
	}
	keyrings, err := readKeyrings(plan.keyrings)
	if err != nil {
		return err
	}
	if plan.fetch {
		k, err := o.kube.fetchForSealing(errOut)
		if err != nil {
			return err
		}
		keyrings = append(keyrings, k)
	}
	if o.sealTo, err = resolveRecipients(plan, keyrings); err != nil {
		return err
	}
	o.scope = plan.scope
	o.config.report(errOut, rule, o.sealTo, plan)
	return nil
}

// readKeyrings reads the keyring files of a plan.
func readKeyrings(refs []keyringRef) ([]loadedKeyring, error) {
	out := make([]loadedKeyring, 0, len(refs))
	for _, ref := range refs {
		kr, err := readKeyring(ref.path)
		if err != nil {
			return nil, err
		}
		out = append(out, loadedKeyring{ref, kr})
	}
	return out, nil
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

// defaultNamespaces gives the Secrets that name no namespace (and with -n
// not given) the namespace of the kubeconfig's context, else "default", and
// says so on stderr: sealed for the wrong namespace, a value does not open.
func (o *sealingOptions) defaultNamespaces(secrets []sourced, errOut io.Writer) {
	if o.namespace != "" {
		return
	}
	var unnamed []string
	for _, s := range secrets {
		if s.secret.Namespace == "" {
			unnamed = append(unnamed, "secret "+s.secret.Name)
		}
	}
	if len(unnamed) == 0 {
		return
	}
	ns, context := o.kube.contextNamespace()
	why := fmt.Sprintf("the namespace of kube context %q", context)
	switch {
	case ns == "" && context == "":
		ns, why = defaultNamespace, "no -n, and no kubeconfig context"
	case ns == "":
		ns, why = defaultNamespace, fmt.Sprintf("no -n, and kube context %q sets no namespace", context)
	}
	o.fallbackNS = ns
	fmt.Fprintf(errOut, "seal: %s names no namespace: sealing for namespace %q (%s)\n", joinSome(unnamed, 3), ns, why)
}

// prepare checks a Secret and fills in its namespace before it is sealed.
func (o *sealingOptions) prepare(s sourced) error {
	sec := s.secret
	if sec.Name == "" {
		return fmt.Errorf("%s: Secret has no metadata.name", s.doc)
	}
	switch {
	case sec.Namespace == "" && o.namespace == "":
		sec.Namespace = o.fallbackNS
		if sec.Namespace == "" {
			sec.Namespace = defaultNamespace
		}
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
	if len(sec.Data)+len(sec.StringData) == 0 {
		return withHint(fmt.Errorf("%s has no data", s.object()),
			"a SealedSecret needs at least one value (the cluster refuses one without)")
	}
	return nil
}

// seal prepares and seals every Secret in memory, on all cores; the first
// error in input order stops it before anything is written, as a loop
// would.
func (o *sealingOptions) seal(secrets []sourced) ([]*v1alpha1.SealedSecret, error) {
	results, err := o.sealAll(secrets, false)
	if err != nil {
		return nil, err
	}
	out := make([]*v1alpha1.SealedSecret, len(results))
	for i, r := range results {
		out[i] = r.ss
	}
	return out, nil
}

// sealAll is seal, also rendering each SealedSecret as -o says when render
// is set: sealing and rendering one Secret is one step, so both cores stay
// busy to the end.
func (o *sealingOptions) sealAll(secrets []sourced, render bool) ([]sealResult, error) {
	out := make([]sealResult, 0, len(secrets))
	var firstErr error
	parallel.Ordered(len(secrets), 0, func(i int) sealResult {
		r := o.sealOne(secrets[i])
		if r.err == nil && render {
			if r.doc, r.err = sealed.RenderManifest(r.ss, o.output.format); r.err != nil {
				r.err = fmt.Errorf("writing manifests: object %d: %w", i+1, r.err)
			}
		}
		return r
	}, func(_ int, r sealResult) bool {
		if r.err != nil {
			firstErr = r.err
			return false
		}
		out = append(out, r)
		return true
	})
	if firstErr != nil {
		return nil, firstErr
	}
	return out, nil
}

type sealResult struct {
	ss  *v1alpha1.SealedSecret
	doc []byte // rendered, when asked
	err error
}

// sealOne prepares and seals one Secret. It may run concurrently with
// others: it changes only s.
func (o *sealingOptions) sealOne(s sourced) sealResult {
	if err := o.prepare(s); err != nil {
		return sealResult{err: err}
	}
	ss, err := sealed.Seal(s.secret, sealed.SealOptions{
		Scope:      o.scope,
		Recipients: recipientsOf(o.sealTo),
	})
	if err != nil {
		// pkg/sealed names the secret and key itself.
		return sealResult{err: prefixSource(s.source, err)}
	}
	return sealResult{ss: ss}
}

// sealAndWrite resolves the recipients, seals every Secret, then writes
// them all, or merges the one Secret into --merge-into.
func (o *sealingOptions) sealAndWrite(st Streams, secrets []sourced) error {
	if err := o.resolve(st.ErrOut); err != nil {
		return err
	}
	if o.mergeInto != "" {
		return o.merge(secrets, st.ErrOut)
	}
	o.defaultNamespaces(secrets, st.ErrOut)
	results, err := o.sealAll(secrets, true)
	if err != nil {
		return err
	}
	docs := make([][]byte, len(results))
	for i, r := range results {
		docs[i] = r.doc
		warnSize(st.ErrOut, r.ss)
	}
	return o.output.writeRendered(st.Out, docs, 0o644)
}

// warnSize says when an object is too large for a client-side kubectl
// apply, which copies it into an annotation.
func warnSize(w io.Writer, ss *v1alpha1.SealedSecret) {
	if n := sealed.StoredSize(ss); n > sealed.LastAppliedLimit {
		fmt.Fprintf(w, "seal: warning: sealedsecret %s/%s is %d KiB: 'kubectl apply' would copy it into an annotation limited to %d KiB; apply it with 'kubectl apply --server-side' or 'kubectl create'\n",
			ss.Namespace, ss.Name, n>>10, sealed.LastAppliedLimit>>10)
	}
}
