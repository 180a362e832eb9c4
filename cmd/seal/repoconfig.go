package main

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/repoconfig"
)

// configOptions make the sealing commands follow .sealkit.yaml: without
// --keys or --recipient, the rule that matches the file being written
// chooses whom to seal to, and its scope and recovery recipients apply.
type configOptions struct {
	verbose bool
	// input is the file read (-f), used to find the configuration when the
	// output goes to stdout.
	input string
}

func (o *configOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "say on stderr which .sealkit.yaml rule applied and whom values are sealed to")
}

// configTarget is the path .sealkit.yaml is looked up for: the file
// written (-w or --merge-into), else the input file; "" when there is
// neither, e.g. stdin to stdout.
func (o *sealingOptions) configTarget() string {
	for _, p := range []string{o.output.file, o.mergeInto, o.config.input} {
		if p != "" && p != "-" {
			return p
		}
	}
	return ""
}

// resolveRecipients returns whom to seal to: --keys and --recipient when
// given, else the keys of the .sealkit.yaml rule for the target path; the
// rule's recovery recipients are added either way, and its scope applies
// unless --scope was given.
func (o *sealingOptions) resolveRecipients(cmd *cobra.Command) ([]*crypto.Recipient, error) {
	errOut := cmd.ErrOrStderr()
	target := o.configTarget()
	if target == "" {
		o.logf(errOut, "seal: no file is written or read: .sealkit.yaml is not consulted")
		return o.resolveOnline()
	}
	a, err := repoconfig.ForFile(target)
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: %w", repoconfig.FileName, err),
			"fix the file, or see docs/gitops.md for its format")
	}
	if a == nil {
		o.logf(errOut, "seal: no %s rule applies to %s", repoconfig.FileName, target)
		return o.resolveOnline()
	}
	o.logf(errOut, "seal: %s applies to %s", a, target)
	r := o.recipients
	if len(r.keyFiles)+len(r.recipients) == 0 {
		if len(a.Keys)+len(a.Recipients) == 0 {
			if a.Context == "" {
				return nil, withHint(usageErrorf("%s gives no keys or recipients for %s", a, target),
					"add keys or recipients to the rule, or give --keys FILE")
			}
			o.logf(errOut, "seal: fetching the keys of kube context %s", a.Context)
			r.fetch = o.kube.fetchRecipients(a.Context)
		}
		r.keyFiles, r.parsed = a.Keys, a.Recipients
	} else {
		o.logf(errOut, "seal: --keys/--recipient given: the rule's keys and recipients are not used")
	}
	r.parsed = slices.Concat(r.parsed, a.Recovery)
	if !o.scopeSet && a.Scope != "" {
		o.scope = a.Scope
	}
	rs, err := r.resolve()
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(rs))
	for i, rc := range rs {
		ids[i] = string(rc.KeyID())
	}
	o.logf(errOut, "seal: sealing to %s, scope %s", strings.Join(ids, ", "), o.scope)
	return rs, nil
}

// resolveOnline resolves --keys and --recipient; with neither, the keys
// are fetched from the cluster.
func (o *sealingOptions) resolveOnline() ([]*crypto.Recipient, error) {
	if len(o.recipients.keyFiles)+len(o.recipients.recipients) == 0 {
		o.recipients.fetch = o.kube.fetchRecipients("")
	}
	return o.recipients.resolve()
}

func (o *sealingOptions) logf(w io.Writer, format string, args ...any) {
	if o.config.verbose {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
