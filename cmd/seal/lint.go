package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/internal/version"
	"github.com/sealkit/sealkit/pkg/lint"
)

// lintOptions is `seal lint PATH…`: the offline CI check.
type lintOptions struct {
	Streams

	format    string
	keyrings  []string
	maxAge    string
	failOn    string
	exclude   []string
	noConfig  bool
	workers   int
	paths     []string
	maxKeyAge time.Duration
	threshold lint.Severity
	// Now is the clock key ages are measured against.
	Now func() time.Time
}

func newLintCmd(s Streams) *cobra.Command {
	o := &lintOptions{Streams: s, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "lint PATH... [--format text|json|github|sarif] [--fail-on error|warning|info] [--keys FILE]... [--max-key-age 90d]",
		Short: "Check a repository's manifests offline: plaintext Secrets, malformed SealedSecrets, unknown or retired keys",
		Long: `lint checks files, and directories recursively (*.yaml, *.yml, *.json;
.git is skipped), without a cluster or a private key. A directory holding
Chart.yaml is a Helm chart: its templates are checked for literal values and
the chart is rendered (defaults plus the values files .sealkit.yaml names).
Only Kubernetes objects (apiVersion and kind) are checked; other YAML and
JSON is skipped.

It reports committed plaintext Secrets (references such as op://, <path:…>,
${VAR} and ref+… are not plaintext; SOPS-encrypted Secrets are information),
malformed SealedSecrets, values that do not decode, scopes that do not fit
an object's metadata, and values sealed to keys that are missing from the
repository's keyrings (those .sealkit.yaml names for the file, and --keys)
or that they mark retired or compromised.

Each finding has a severity. Exit status: 0 when no finding is at or above
--fail-on (default error), 1 when one is, 2 on a usage error or an invalid
.sealkit.yaml or keyring. Rules, suppressions and formats: docs/gitops.md.`,
		Example: `  seal lint .
  seal lint --format github --max-key-age 90d clusters/
  seal lint --format sarif . > seal-lint.sarif
  seal lint --fail-on warning --keys prod.keys secrets.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%s takes one or more PATHs", cmd.CommandPath())
			}
			return nil
		},
		RunE: runE(o),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json, github (workflow annotations) or sarif (code scanning)")
	fs.StringVar(&o.failOn, "fail-on", "error", "exit 1 when a finding is at least this `SEVERITY`: error, warning or info")
	fs.StringArrayVar(&o.keyrings, "keys", nil, "check values against this public keyring `FILE` too (repeatable)")
	fs.StringVar(&o.maxAge, "max-key-age", "", "report values sealed to keys created longer ago than `AGE` (e.g. 90d or 2160h)")
	fs.StringArrayVar(&o.exclude, "exclude", nil, "skip paths matching `GLOB` (relative to the PATH given, or a base name; ** allowed; repeatable)")
	fs.BoolVar(&o.noConfig, "no-config", false, "ignore .sealkit.yaml: check keys against --keys only, no values files, no ignores")
	fs.IntVar(&o.workers, "jobs", 0, "check `N` files at once (default GOMAXPROCS)")
	_ = cmd.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(lint.Formats, cobra.ShellCompDirectiveNoFileComp))
	_ = cmd.RegisterFlagCompletionFunc("fail-on", cobra.FixedCompletions([]string{"error", "warning", "info"}, cobra.ShellCompDirectiveNoFileComp))
	return cmd
}

// Complete takes the paths and parses the key age and the threshold.
func (o *lintOptions) Complete(_ *cobra.Command, args []string) error {
	o.paths = args
	if o.maxAge != "" {
		d, err := lint.ParseAge(o.maxAge)
		if err != nil {
			return usageErrorf("--max-key-age %v", err)
		}
		o.maxKeyAge = d
	}
	s, err := lint.ParseSeverity(o.failOn)
	if err != nil {
		return usageErrorf("--fail-on %v", err)
	}
	o.threshold = s
	return nil
}

// Validate checks the format.
func (o *lintOptions) Validate() error {
	if !slices.Contains(lint.Formats, o.format) {
		return usageErrorf("--format %q: want %s", o.format, strings.Join(lint.Formats, ", "))
	}
	if o.workers < 0 {
		return usageErrorf("--jobs %d: want a positive number", o.workers)
	}
	return nil
}

// Run lints, writes the findings and turns the outcome into the exit
// status: lint's contract is 0 clean, 1 findings at or above --fail-on, 2
// usage or configuration error, so configuration errors here carry
// [ExitUsage]'s code rather than [ExitError]'s.
func (o *lintOptions) Run() error {
	res, err := lint.Lint(o.paths, lint.Options{
		Keyrings:     o.keyrings,
		NoRepoConfig: o.noConfig,
		MaxKeyAge:    o.maxKeyAge,
		Now:          o.Now(),
		Exclude:      o.exclude,
		Workers:      o.workers,
	})
	if werr := lint.Write(o.Out, res, lint.WriteOptions{Format: o.format, Version: version.String(), Err: err}); werr != nil {
		return &cliError{code: ExitUsage, err: werr}
	}
	if n := res.KeyChecksNote(); n != "" {
		fmt.Fprintf(o.ErrOut, "seal: note: %s\n", n)
	}
	if err != nil {
		return &cliError{code: ExitUsage, err: fmt.Errorf("lint: %w", err),
			hint: "fix the .sealkit.yaml or keyring named above; the other checks ran"}
	}
	if res.Fails(o.threshold) {
		return &cliError{code: ExitError, err: errors.New(summary(res, o.threshold))}
	}
	fmt.Fprintf(o.ErrOut, "seal: lint: %s\n", summary(res, o.threshold))
	return nil
}

// summary says what lint counted: "2 errors, 1 warning, 3 info (1
// suppressed) in 4 files (120 files, 311 documents, 2 charts checked)".
func summary(r *lint.Result, threshold lint.Severity) string {
	files := map[string]bool{}
	for _, f := range r.Findings {
		files[f.File] = true
	}
	checked := fmt.Sprintf("%d %s, %d %s", r.Files, pluralize(r.Files, "file"), r.Documents, pluralize(r.Documents, "document"))
	if r.Charts > 0 {
		checked += fmt.Sprintf(", %d %s", r.Charts, pluralize(r.Charts, "chart"))
	}
	checked += " checked"
	var sup string
	if n := len(r.Suppressed); n > 0 {
		sup = fmt.Sprintf(", %d suppressed", n)
	}
	if len(r.Findings) == 0 {
		return "no findings" + sup + " (" + checked + ")"
	}
	var counts []string
	for _, s := range lint.Severities {
		if n := r.Count(s); n > 0 {
			name := string(s)
			if s != lint.SeverityInfo {
				name = pluralize(n, name)
			}
			counts = append(counts, fmt.Sprintf("%d %s", n, name))
		}
	}
	verdict := ""
	if !r.Fails(threshold) {
		verdict = fmt.Sprintf("; none at or above --fail-on %s", threshold)
	}
	return fmt.Sprintf("%s%s in %d %s (%s)%s", strings.Join(counts, ", "), sup,
		len(files), pluralize(len(files), "file"), checked, verdict)
}

func pluralize(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
