package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/internal/atomicfile"
	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// maxInput bounds what seal reads from one file or stdin: a few maximal
// Secrets, not an unbounded stream.
const maxInput = 8 << 20

// maxSecretSize is Kubernetes' limit on the total size of a Secret's data.
const maxSecretSize = 1 << 20

// readInput reads all of FILE, or stdin for "" and "-", and returns it with
// the name messages use for it. what says what the input must be, for the
// hint when stdin is a terminal: then seal refuses to wait for input nobody
// is typing, unless "-f -" asked for it.
func readInput(st Streams, path, what string) ([]byte, string, error) {
	if path != "" && path != "-" {
		b, err := readFileBounded(path)
		return b, path, err
	}
	if isTerminal(st.In) {
		if path == "" {
			return nil, "stdin", withHint(usageErrorf("no input: stdin is a terminal, and seal reads %s from it", what),
				"give a FILE (or -f FILE), or pipe the input in; -f - reads from the terminal until Ctrl-D")
		}
		fmt.Fprintf(st.ErrOut, "seal: reading %s from the terminal; end with Ctrl-D\n", what)
	}
	b, err := readBounded(st.In, maxInput, "stdin")
	return b, "stdin", err
}

// isTerminal reports whether r is a terminal.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func readFileBounded(path string) ([]byte, error) {
	f, err := os.Open(path) //nolint:gosec // opening the file the user named is the point
	if err != nil {
		return nil, fileError(path, err)
	}
	defer func() { _ = f.Close() }() // read-only: nothing to lose
	return readBounded(f, maxInput, path)
}

// fileError names path once: os errors already carry it with the operation.
func fileError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, pe.Err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

func readBounded(r io.Reader, limit int64, name string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s: input is larger than %d MiB", name, limit>>20)
	}
	return b, nil
}

// readDocuments reads the manifests in FILE or stdin; an input with none is
// an error.
func readDocuments(st Streams, path, what string) ([]sealed.Document, string, error) {
	b, source, err := readInput(st, path, what)
	if err != nil {
		return nil, source, err
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, source, withHint(fmt.Errorf("%s: input is empty", source),
			"pipe manifests in, or give -f FILE")
	}
	docs, err := sealed.ReadManifests(bytes.NewReader(b), source)
	if err != nil {
		return nil, source, withHint(prefixSource(source, err), "input must be Kubernetes manifests in YAML or JSON")
	}
	if len(docs) == 0 {
		return nil, source, withHint(fmt.Errorf("%s: no manifests in input", source),
			"pipe a Secret manifest in, or give -f FILE")
	}
	return docs, source, nil
}

// prefixSource names the source at the start of err's message unless the
// message already starts with it.
func prefixSource(source string, err error) error {
	if strings.HasPrefix(err.Error(), source) {
		return err
	}
	return fmt.Errorf("%s: %w", source, err)
}

// docName is how messages name a document: by its position, from 1.
func docName(d sealed.Document) string {
	return fmt.Sprintf("%s: document %d", d.Source, d.Index)
}

// outputOptions are -o and -w: the format and destination of manifests.
type outputOptions struct {
	format    string
	formatSet bool
	file      string
}

func (o *outputOptions) addFlags(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "output", "o", "yaml", "output `FORMAT`: yaml or json")
	fs.StringVarP(&o.file, "write", "w", "", "write to `FILE` (atomically) instead of stdout; FILE.json is written as JSON unless -o says otherwise")
}

// complete checks -o; without it, -w FILE.json means JSON, as the format
// of a file merged into is taken from its name.
func (o *outputOptions) complete(cmd *cobra.Command) error {
	o.formatSet = cmd.Flags().Changed("output")
	if o.format != "yaml" && o.format != "json" {
		return usageErrorf("-o %q: want yaml or json", o.format)
	}
	if !o.formatSet && strings.EqualFold(filepath.Ext(o.file), ".json") {
		o.format = "json"
	}
	return nil
}

// write renders every object first (on all cores), so that nothing is
// written unless all of it is ready, then writes stdout or the file
// (atomically, with perm).
func (o *outputOptions) write(out io.Writer, objs []runtime.Object, perm os.FileMode) error {
	docs := make([][]byte, 0, len(objs))
	var firstErr error
	parallel.Ordered(len(objs), 0, func(i int) rendered {
		doc, err := sealed.RenderManifest(objs[i], o.format)
		if err != nil {
			err = fmt.Errorf("writing manifests: object %d: %w", i+1, err)
		}
		return rendered{doc, err}
	}, func(_ int, r rendered) bool {
		firstErr = r.err
		docs = append(docs, r.doc)
		return r.err == nil
	})
	if firstErr != nil {
		return firstErr
	}
	return o.writeRendered(out, docs, perm)
}

// writeRendered writes objects sealed.RenderManifest rendered in o.format,
// as write does.
func (o *outputOptions) writeRendered(out io.Writer, docs [][]byte, perm os.FileMode) error {
	var buf bytes.Buffer
	if err := sealed.JoinManifests(&buf, docs, o.format); err != nil {
		return fmt.Errorf("writing manifests: %w", err)
	}
	return writeOutput(out, o.file, buf.Bytes(), perm)
}

type rendered struct {
	doc []byte
	err error
}

// writeOutput writes data to out, or, unless file is "" or "-", to file
// (atomically, with perm).
func writeOutput(out io.Writer, file string, data []byte, perm os.FileMode) error {
	if file == "" || file == "-" {
		_, err := out.Write(data)
		return err
	}
	return atomicfile.WriteFile(file, data, perm)
}

// rewriteManifests replaces the manifest file path with objs, atomically,
// keeping the file's mode.
func rewriteManifests(path string, objs []runtime.Object, format string) error {
	var buf bytes.Buffer
	if err := sealed.WriteManifests(&buf, objs, format); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return atomicfile.WriteFile(path, buf.Bytes(), filePerm(path))
}

// filePerm is the mode of the file at path, so that rewriting it keeps
// it; 0644 for a new file.
func filePerm(path string) os.FileMode {
	if fi, err := os.Stat(path); err == nil {
		return fi.Mode().Perm()
	}
	return 0o644
}

// formatOf is the format a manifest file was written in, so that a file
// rewritten in place stays JSON if it was JSON.
func formatOf(path string, raw []byte) string {
	if t := bytes.TrimSpace(raw); strings.EqualFold(filepath.Ext(path), ".json") || len(t) > 0 && (t[0] == '{' || t[0] == '[') {
		return "json"
	}
	return "yaml"
}
