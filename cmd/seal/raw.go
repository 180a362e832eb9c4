package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// rawOptions are the flags of `seal --raw`: seal one value, print only the
// encoded value (for templating tools that build manifests themselves).
type rawOptions struct {
	enabled  bool
	name     string
	key      string
	fromFile string

	set []string // the raw-only flags given, to refuse them without --raw
}

func (o *rawOptions) addFlags(fs *pflag.FlagSet) {
	fs.BoolVar(&o.enabled, "raw", false, "seal one value from stdin (or --from-file) and print only the encoded value")
	fs.StringVar(&o.name, "name", "", "with --raw: `NAME` of the Secret the value belongs to")
	fs.StringVar(&o.key, "key", "", "with --raw: data `KEY` the value is stored under")
	fs.StringVar(&o.fromFile, "from-file", "", "with --raw: read the value from `FILE` instead of stdin")
}

func (o *rawOptions) complete(cmd *cobra.Command) {
	for _, f := range []string{"name", "key", "from-file"} {
		if cmd.Flags().Changed(f) {
			o.set = append(o.set, "--"+f)
		}
	}
}

func (o *rawOptions) refuseWithoutRaw() error {
	if len(o.set) > 0 {
		return withHint(usageErrorf("%s needs --raw", o.set[0]),
			"to build a Secret from files, use 'seal create NAME --from-file …'")
	}
	return nil
}

// validate checks that the frame the scope binds is complete: the data key
// always, the namespace unless cluster-wide, the name for strict.
func (o *rawOptions) validate(s *sealingOptions, filename string) error {
	switch {
	case s.mergeInto != "":
		return usageErrorf("--raw prints one value: --merge-into cannot be given too")
	case filename != "" && filename != "-":
		return withHint(usageErrorf("--raw reads the value from stdin or --from-file, not -f"),
			"give the value's file with --from-file FILE")
	case s.output.file != "":
		return usageErrorf("--raw prints the value on stdout: -w cannot be given too")
	case o.key == "":
		return usageErrorf("--raw needs --key: the data key is bound in every scope")
	case s.scope != crypto.ScopeCluster && s.namespace == "":
		return usageErrorf("--raw with --scope %s needs -n/--namespace", s.scope)
	case s.scope == crypto.ScopeStrict && o.name == "":
		return withHint(usageErrorf("--raw with --scope strict needs --name"),
			"or seal for any name in the namespace with --scope namespace")
	}
	return nil
}

func (o *rawOptions) run(st Streams, s *sealingOptions) error {
	value, source, err := o.readValue(st)
	if err != nil {
		return err
	}
	f := crypto.Frame{Scope: s.scope, Namespace: s.namespace, Name: o.name, Key: o.key}
	enc, err := crypto.Seal(recipientsOf(s.sealTo), f, value)
	if errors.Is(err, crypto.ErrTooLarge) {
		return fmt.Errorf("%s: value is over Kubernetes' 1 MiB Secret limit", source)
	}
	if err != nil {
		return fmt.Errorf("sealing key %s: %w", o.key, err)
	}
	_, err = fmt.Fprintln(st.Out, enc)
	return err
}

// readValue reads the value exactly, trailing newline included, as kubectl
// --from-file does; use printf, not echo, to pipe a value without one. On a
// terminal it asks for the value, without echo (and without the newline
// that ends the line).
func (o *rawOptions) readValue(st Streams) ([]byte, string, error) {
	if o.fromFile == "" || o.fromFile == "-" {
		if isTerminal(st.In) {
			fmt.Fprintf(st.ErrOut, "seal: value for key %s (not echoed; Enter ends it): ", o.key)
			b, err := term.ReadPassword(int(st.In.(*os.File).Fd()))
			fmt.Fprintln(st.ErrOut)
			if err != nil {
				return nil, "the terminal", fmt.Errorf("reading the value: %w", err)
			}
			return b, "the terminal", nil
		}
		b, err := readBounded(st.In, crypto.MaxValueSize, "stdin")
		return b, "stdin", err
	}
	b, err := readFileBounded(o.fromFile)
	if err == nil && len(b) > crypto.MaxValueSize {
		err = fmt.Errorf("%s: value is over Kubernetes' 1 MiB Secret limit", o.fromFile)
	}
	return b, o.fromFile, err
}
