package main

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	apierrors "k8s.io/apimachinery/pkg/api/errors"

	"github.com/sealkit/sealkit/internal/parallel"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// verifyOptions is `seal verify PATH…`: can this cluster open these
// SealedSecrets, where they would be applied?
type verifyOptions struct {
	Streams
	kube        kubeOptions
	concurrency int
	paths       []string
}

func newVerifyCmd(s Streams) *cobra.Command {
	o := &verifyOptions{Streams: s}
	cmd := &cobra.Command{
		Use:   "verify PATH...",
		Short: "Check with the cluster that SealedSecrets open where they would be applied",
		Long: `verify sends every SealedSecret found in the files and directories
(recursively: *.yaml, *.yml, *.json) to the API server as a server-side
dry-run create (a dry-run update when one of that name exists).
seal-controller's validating webhook opens every value there, checking its
frame, and denies the request naming the data key that fails. Nothing is
stored and no plaintext leaves the cluster.

It prints one line per object: "ok NAMESPACE/NAME"; "FAIL NAMESPACE/NAME:
data key "KEY": REASON" when the cluster refuses it; "UNCHECKED
NAMESPACE/NAME: REASON" when the check did not run (the request was
forbidden, or seal-controller did not answer: its webhooks fail open, so
the API server lets an unanswered dry-run through unchecked).

Exit status: 0 all ok; 1 any FAIL; 2 the check did not run for some object
(UNCHECKED) or at all (no kubeconfig, cluster unreachable). RBAC applies:
the caller needs the right to create SealedSecrets in the namespace.`,
		Example: `  seal verify k8s/prod/
  seal verify --context prod db.sealed.yaml`,
		Args: cobra.MinimumNArgs(1),
		RunE: runE(o),
	}
	o.kube.addFlags(cmd.Flags(), true)
	addConcurrencyFlag(cmd.Flags(), &o.concurrency, "verify")
	return cmd
}

// Complete takes the paths.
func (o *verifyOptions) Complete(_ *cobra.Command, args []string) error {
	o.paths = args
	return nil
}

// Validate checks --concurrency.
func (o *verifyOptions) Validate() error { return validateConcurrency(o.concurrency) }

// Run dry-runs every SealedSecret and reports each: "ok", "FAIL" when the
// cluster refuses it (a value does not open there, or the API server
// rejects the object), "UNCHECKED" when the check did not run (the request
// was forbidden, the controller did not answer). Exit 1 for any FAIL, else
// 2 for any UNCHECKED or a cluster that cannot be reached, so that CI can
// tell findings from a check that did not run.
func (o *verifyOptions) Run() error {
	files, err := loadManifestFiles(o.paths)
	if err != nil {
		return err
	}
	total := countSealed(files)
	if total == 0 {
		return noSealedSecrets(o.paths)
	}
	if _, err := o.kube.connect(); err != nil {
		return notRun(err)
	}
	ctx, cancel := kubeContext()
	defer cancel()
	o.kube.listVersions(ctx, namespacesOf(files, o.kube.defaultNS))
	var objs []*v1alpha1.SealedSecret
	for _, f := range files {
		for _, d := range f.sealed {
			objs = append(objs, d.obj)
		}
	}
	failed, unchecked := 0, 0
	var stop error
	parallel.Ordered(len(objs), o.concurrency, func(i int) error {
		_, err := o.kube.dryRun(ctx, objs[i], false)
		return err
	}, func(i int, err error) bool {
		name := objectRef(objs[i], o.kube.defaultNS)
		switch {
		case err == nil:
			fmt.Fprintf(o.Out, "ok %s\n", name)
		case refusedByCluster(err):
			failed++
			fmt.Fprintf(o.Out, "FAIL %s: %s\n", name, oneLine(err.Error()))
		case unreachable(err):
			stop = notRun(fmt.Errorf("verifying %s: %w", name, err))
			return false
		default:
			unchecked++
			fmt.Fprintf(o.Out, "UNCHECKED %s: %s\n", name, oneLine(err.Error()))
		}
		return true
	})
	if stop != nil {
		return stop
	}
	switch {
	case failed > 0:
		return fmt.Errorf("%d of %d SealedSecrets failed verification", failed, total)
	case unchecked > 0:
		return notRun(fmt.Errorf("%d of %d SealedSecrets could not be checked", unchecked, total))
	}
	return nil
}

// refusedByCluster reports whether the cluster checked the object and
// refused it: seal-controller's webhook denied it (a value does not open
// there) or the API server found it invalid.
func refusedByCluster(err error) bool {
	var denied *deniedError
	return errors.As(err, &denied) || apierrors.IsInvalid(err) || apierrors.IsBadRequest(err)
}

// notRun marks err as "the check did not run": exit 2, keeping its hint.
func notRun(err error) error {
	var ce *cliError
	if errors.As(err, &ce) {
		return &cliError{code: ExitUsage, err: err, hint: ce.hint}
	}
	return &cliError{code: ExitUsage, err: err}
}

func objectRef(ss *v1alpha1.SealedSecret, defaultNS string) string {
	ns := ss.Namespace
	if ns == "" {
		ns = defaultNS
	}
	return ns + "/" + ss.Name
}

// noSealedSecrets is the error of verify and reseal when paths hold none.
func noSealedSecrets(paths []string) error {
	return withHint(fmt.Errorf("no SealedSecrets found in %s", strings.Join(paths, ", ")),
		"give the files or directories that hold SealedSecret manifests")
}

func countSealed(files []*manifestFile) int {
	n := 0
	for _, f := range files {
		n += len(f.sealed)
	}
	return n
}

// manifestFile is a file of manifests with its SealedSecrets decoded.
type manifestFile struct {
	path   string
	data   []byte
	docs   []sealed.Document
	sealed []sealedDoc
}

// sealedDoc is one SealedSecret of a manifestFile; index is its place in
// docs.
type sealedDoc struct {
	index int
	obj   *v1alpha1.SealedSecret
}

// loadManifestFiles reads the files named and the manifest files under the
// directories named, parsing them on all cores; the first error, in the
// order the files are found, stops it. Files under a directory that hold no
// SealedSecret are left out without being parsed; named files must parse.
func loadManifestFiles(paths []string) ([]*manifestFile, error) {
	var found []foundFile
	err := walkManifests(paths, func(path string, named bool) error {
		found = append(found, foundFile{path, named})
		return nil
	})
	if err != nil {
		return nil, err
	}
	var out []*manifestFile
	var firstErr error
	parallel.Ordered(len(found), 0, func(i int) loaded {
		f, err := loadManifestFile(found[i].path, found[i].named)
		return loaded{f, err}
	}, func(_ int, l loaded) bool {
		if l.err != nil {
			firstErr = l.err
			return false
		}
		if l.f != nil {
			out = append(out, l.f)
		}
		return true
	})
	return out, firstErr
}

// foundFile is a file to load: named on the command line, or found in a
// directory.
type foundFile struct {
	path  string
	named bool
}

type loaded struct {
	f   *manifestFile
	err error
}

// walkManifests calls visit for each file named (named true) and each
// manifest file (*.yaml, *.yml, *.json) under the directories named,
// skipping hidden directories such as .git.
func walkManifests(paths []string, visit func(path string, named bool) error) error {
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return fileError(p, err)
		}
		if !fi.IsDir() {
			if err := visit(p, true); err != nil {
				return err
			}
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return fileError(path, err)
			}
			if d.IsDir() {
				if path != p && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir // .git and the like
				}
				return nil
			}
			switch strings.ToLower(filepath.Ext(path)) {
			case ".yaml", ".yml", ".json":
				return visit(path, false)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// loadManifestFile reads and decodes one file. A file found in a directory
// that does not mention SealedSecret is skipped (nil), so that unrelated
// YAML (CI configuration, Helm values) is never parsed as manifests.
func loadManifestFile(path string, named bool) (*manifestFile, error) {
	data, err := readFileBounded(path)
	if err != nil {
		return nil, err
	}
	if !named && !bytes.Contains(data, []byte("SealedSecret")) {
		return nil, nil
	}
	f := &manifestFile{path: path, data: data}
	if f.docs, err = sealed.ReadManifests(bytes.NewReader(data), path); err != nil {
		return nil, prefixSource(path, err)
	}
	for i, d := range f.docs {
		if d.Kind != "SealedSecret" || bitnami.Is(d) {
			continue // a Bitnami SealedSecret is seal migrate's
		}
		ss, err := sealedSecretOf(d)
		if err != nil {
			return nil, err
		}
		f.sealed = append(f.sealed, sealedDoc{index: i, obj: ss})
	}
	return f, nil
}

// sealedSecretOf decodes a SealedSecret document, which must have a name.
func sealedSecretOf(d sealed.Document) (*v1alpha1.SealedSecret, error) {
	ss, err := d.SealedSecret()
	if err != nil {
		return nil, prefixSource(d.Source, err)
	}
	if ss.Name == "" {
		return nil, fmt.Errorf("%s: SealedSecret has no metadata.name", docName(d))
	}
	return ss, nil
}
