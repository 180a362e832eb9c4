package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/pkg/lint"
)

// lintOptions is `seal lint PATH…`: the offline CI check.
type lintOptions struct {
	Streams

	format    string
	keyrings  []string
	maxAge    string
	exclude   []string
	noConfig  bool
	workers   int
	paths     []string
	maxKeyAge time.Duration
	// Now is the clock key ages are measured against.
	Now func() time.Time
}

func newLintCmd(s Streams) *cobra.Command {
	o := &lintOptions{Streams: s, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "lint PATH... [--format text|json|github] [--keys FILE]... [--max-key-age 90d]",
		Short: "Check a repository's manifests offline: plaintext Secrets, malformed SealedSecrets, unknown or retired keys",
		Long: `lint checks files, and directories recursively (*.yaml, *.yml, *.json;
.git is skipped), without a cluster or a private key. It reports committed
plaintext Secrets, malformed SealedSecrets, values that do not decode,
scopes that do not fit an object's metadata, and values sealed to keys that
are missing from the repository's keyrings (those .sealkit.yaml names for
the file, and --keys) or that they mark retired or compromised.

Exit status: 0 when there are no findings, 1 when there are, 2 on a usage
or I/O error. Rules, output formats and the JSON schema: docs/gitops.md.`,
		Example: `  seal lint .
  seal lint --format github --max-key-age 90d clusters/
  seal lint --keys prod.keys --format json secrets.yaml`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageErrorf("%s takes one or more PATHs", cmd.CommandPath())
			}
			return nil
		},
		RunE: runE(o),
	}
	fs := cmd.Flags()
	fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, json or github (workflow annotations)")
	fs.StringArrayVar(&o.keyrings, "keys", nil, "check values against this public keyring `FILE` too (repeatable)")
	fs.StringVar(&o.maxAge, "max-key-age", "", "report values sealed to keys created longer ago than `AGE` (e.g. 90d or 2160h)")
	fs.StringArrayVar(&o.exclude, "exclude", nil, "skip paths matching `GLOB` (relative to the PATH given, or a base name; ** allowed; repeatable)")
	fs.BoolVar(&o.noConfig, "no-config", false, "ignore .sealkit.yaml: check keys against --keys only")
	fs.IntVar(&o.workers, "jobs", 0, "check `N` files at once (default GOMAXPROCS)")
	return cmd
}

// Complete takes the paths and parses the key age.
func (o *lintOptions) Complete(_ *cobra.Command, args []string) error {
	o.paths = args
	if o.maxAge != "" {
		d, err := lint.ParseAge(o.maxAge)
		if err != nil {
			return usageErrorf("--max-key-age %v", err)
		}
		o.maxKeyAge = d
	}
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
// status: lint's contract is 0 clean, 1 findings, 2 usage or I/O error, so
// I/O errors here carry [ExitUsage]'s code rather than [ExitError]'s.
func (o *lintOptions) Run() error {
	res, err := lint.Lint(o.paths, lint.Options{
		Keyrings:     o.keyrings,
		NoRepoConfig: o.noConfig,
		MaxKeyAge:    o.maxKeyAge,
		Now:          o.Now(),
		Exclude:      o.exclude,
		Workers:      o.workers,
	})
	if res == nil {
		return &cliError{code: ExitUsage, err: fmt.Errorf("lint: %w", err),
			hint: "give files or directories that exist and can be read"}
	}
	if werr := lint.Write(o.Out, res, o.format); werr != nil {
		return &cliError{code: ExitUsage, err: werr}
	}
	if err != nil {
		return &cliError{code: ExitUsage, err: fmt.Errorf("lint: %w", err),
			hint: "fix the .sealkit.yaml or keyring named above; the other checks ran"}
	}
	if n := len(res.Findings); n > 0 {
		return &cliError{code: ExitError, err: errors.New(summary(res))}
	}
	fmt.Fprintf(o.ErrOut, "seal: lint: %s\n", summary(res))
	return nil
}

func summary(r *lint.Result) string {
	files := map[string]bool{}
	for _, f := range r.Findings {
		files[f.File] = true
	}
	checked := fmt.Sprintf("%d %s, %d %s checked", r.Files, pluralize(r.Files, "file"),
		r.Documents, pluralize(r.Documents, "document"))
	if len(r.Findings) == 0 {
		return "no findings (" + checked + ")"
	}
	return fmt.Sprintf("%d %s in %d %s (%s)", len(r.Findings), pluralize(len(r.Findings), "finding"),
		len(files), pluralize(len(files), "file"), checked)
}

func pluralize(n int, s string) string {
	if n == 1 {
		return s
	}
	return s + "s"
}
