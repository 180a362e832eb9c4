package main

import (
	"fmt"
	"io"
	"os"

	"github.com/spf13/pflag"

	"github.com/sealkit/sealkit/pkg/repoconfig"
)

// configOptions make the sealing commands follow .sealkit.yaml: without
// --keys or --recipient, the rule that matches the file being written
// chooses whom to seal to, and its scope and recovery recipients apply.
type configOptions struct {
	verbose bool
	// pathOverride is the path rules are matched against, whatever is
	// read or written (sops' --filename-override).
	pathOverride string
	// input is the file read (-f), used to find the configuration when the
	// output goes to stdout.
	input string
}

func (o *configOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "say on stderr which .sealkit.yaml rule applied and whom values are sealed to, and why")
	fs.StringVar(&o.pathOverride, "path-override", "", "choose the .sealkit.yaml rule for `PATH`, as if writing it (e.g. when writing to stdout)")
}

// configTarget is the path .sealkit.yaml is looked up for, and which flag
// gave it: --path-override, the file written (-w or --merge-into), else
// the input file; "" when there is none of them (stdin to stdout), and the
// working directory applies.
func (o *sealingOptions) configTarget() (path, from string) {
	for _, c := range []struct{ path, from string }{
		{o.config.pathOverride, "--path-override"},
		{o.output.file, "-w"},
		{o.mergeInto, "--merge-into"},
		{o.config.input, "-f"},
	} {
		if c.path != "" && c.path != "-" {
			return c.path, c.from
		}
	}
	return "", ""
}

// rule finds the .sealkit.yaml rule that applies, if any: the one for the
// target path, or with no path, the one for the working directory (a rule
// such as clusters/prod/** applies in clusters/prod).
func (o *configOptions) rule(s *sealingOptions, errOut io.Writer) (*repoconfig.Applied, error) {
	target, from := s.configTarget()
	var a *repoconfig.Applied
	var err error
	what := target + " (" + from + ")"
	if target == "" {
		dir, werr := os.Getwd()
		if werr != nil {
			return nil, fmt.Errorf("finding %s: %w", repoconfig.FileName, werr)
		}
		what = "the working directory " + dir
		a, err = repoconfig.ForDir(dir)
	} else {
		a, err = repoconfig.ForFile(target)
	}
	if err != nil {
		return nil, withHint(fmt.Errorf("%s: %w", repoconfig.FileName, err),
			"fix the file, or see docs/gitops.md for its format")
	}
	if a == nil {
		o.logf(errOut, "seal: no %s rule applies to %s", repoconfig.FileName, what)
		return nil, nil
	}
	if o.verbose || a.Nested() {
		fmt.Fprintf(errOut, "seal: %s applies to %s\n", a, what)
	}
	return a, nil
}

// report says whom values are sealed to, each with its origin, and the
// scope: with -v, and always when a nested .sealkit.yaml (one below the
// repository's root, which replaces the root one there) chose them.
func (o *configOptions) report(errOut io.Writer, rule *repoconfig.Applied, sealTo []recipientSource, plan recipientPlan) {
	if !o.verbose && (rule == nil || !rule.Nested()) {
		return
	}
	if rule != nil && rule.Nested() {
		fmt.Fprintf(errOut, "seal: note: %s is nested below the repository root %s and decides whom values below it are sealed to\n",
			rule.Config.File, rule.Config.Root)
	}
	for _, r := range sealTo {
		fmt.Fprintf(errOut, "seal: sealing to %s\n", r)
	}
	fmt.Fprintf(errOut, "seal: scope %s (%s)\n", plan.scope, plan.scopeOrigin)
}

func (o *configOptions) logf(w io.Writer, format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(w, format+"\n", args...)
	}
}
