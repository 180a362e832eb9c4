package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// keysGenerateOptions is `seal keys generate`: a new post-quantum identity
// file, e.g. an offline recovery key.
type keysGenerateOptions struct {
	Streams
	output string

	// Now stamps the "# created:" comment.
	Now func() time.Time
}

func newKeysGenerateCmd(s Streams) *cobra.Command {
	o := &keysGenerateOptions{Streams: s, Now: time.Now}
	cmd := &cobra.Command{
		Use:   "generate -w FILE",
		Short: "Generate a new post-quantum identity file",
		Long: `generate writes a new age hybrid post-quantum identity (ML-KEM-768 +
X25519) to FILE with mode 0600, refusing to overwrite an existing file, and
prints its public key (recipient) and key ID. Seal to the key with
--recipient; open with 'seal unseal -i FILE'.

The identity is printed only with -w -. -o FILE works too, as in
age-keygen.`,
		Example: `  seal keys generate -w recovery.key
  seal keys generate -w - | age -p -o recovery.key.age   # keep it only encrypted`,
		Args: cobra.NoArgs,
		RunE: runE(o),
	}
	cmd.Flags().StringVarP(&o.output, "write", "w", "", "write the identity to `FILE` (- for stdout)")
	cmd.Flags().StringVarP(&o.output, "output", "o", "", "the same as -w, as in age-keygen")
	_ = cmd.Flags().MarkHidden("output")
	return cmd
}

// Complete has nothing to resolve.
func (o *keysGenerateOptions) Complete(*cobra.Command, []string) error { return nil }

// Validate requires -w: an identity is never printed by accident.
func (o *keysGenerateOptions) Validate() error {
	if o.output == "" {
		return withHint(usageErrorf("keys generate needs -w FILE"),
			"give -w - to print the identity on stdout")
	}
	return nil
}

// Run generates the key and writes it.
func (o *keysGenerateOptions) Run() error {
	id, err := crypto.GenerateIdentity()
	if err != nil {
		return err
	}
	content := fmt.Sprintf("# created: %s\n# public key: %s\n# key id: %s\n%s\n",
		o.Now().UTC().Format(time.RFC3339), id.Recipient(), id.KeyID(), id)
	if o.output == "-" {
		_, err := fmt.Fprint(o.Out, content)
		return err
	}
	if err := writeNewFile(o.output, []byte(content)); err != nil {
		return err
	}
	return printPublic(o.Out, id.Recipient())
}

// printPublic prints a public key as generate and public do.
func printPublic(w io.Writer, r *crypto.Recipient) error {
	_, err := fmt.Fprintf(w, "public key: %s\nkey id: %s\n", r, r.KeyID())
	return err
}

// writeNewFile creates path with mode 0600, failing if it exists (O_EXCL:
// no window in which another file could be replaced), and removes it again
// if it cannot be written in full.
func writeNewFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600) //nolint:gosec // the file the user named
	if errors.Is(err, fs.ErrExist) {
		return withHint(fmt.Errorf("%s already exists: not overwriting a key", path),
			"choose another file name, or move the old key away first")
	}
	if err != nil {
		return fileError(path, err)
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path) // best effort: the write error is what matters
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}
