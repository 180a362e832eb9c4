package lint

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sealkit/sealkit/pkg/repoconfig"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// Options say what [Lint] checks against.
type Options struct {
	// Keyrings are public keyring files every file is checked against, in
	// addition to those its .sealkit.yaml rule names.
	Keyrings []string
	// NoRepoConfig skips .sealkit.yaml.
	NoRepoConfig bool
	// MaxKeyAge, when positive, reports values sealed to keys created
	// longer ago.
	MaxKeyAge time.Duration
	// Now is the time key ages are measured at; time.Now when zero.
	Now time.Time
	// Exclude are globs (see [repoconfig.Match]) of paths not to check,
	// matched against the path relative to the directory given, and
	// against the base name.
	Exclude []string
	// Workers bounds parallelism; GOMAXPROCS when zero.
	Workers int
}

// Lint checks the files in paths (files, and directories searched
// recursively for *.yaml, *.yml and *.json, skipping .git) and returns its
// findings sorted by file and document. The error is about files it could
// not read or configuration it could not load; findings for the other
// files are returned with it.
func Lint(paths []string, opts Options) (*Result, error) {
	files, err := collect(paths, opts.Exclude)
	if err != nil {
		return nil, err
	}
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	workers := cmp.Or(opts.Workers, runtime.GOMAXPROCS(0))
	res := newResolver(opts.Keyrings, !opts.NoRepoConfig)
	type out struct {
		findings []Finding
		objects  int
		err      error
	}
	outs := make([]out, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(files), 1)) {
		wg.Go(func() {
			for i := range next {
				f, n, err := lintFile(files[i], res, &opts)
				outs[i] = out{f, n, err}
			}
		})
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()

	r := &Result{Files: len(files), Findings: []Finding{}}
	var errs []error
	seen := map[string]bool{} // one broken keyring fails every file under it
	for _, o := range outs {
		r.Findings = append(r.Findings, o.findings...)
		r.Documents += o.objects
		if o.err != nil && !seen[o.err.Error()] {
			seen[o.err.Error()] = true
			errs = append(errs, o.err)
		}
	}
	// Files are sorted and each file's findings are in document order
	// already; the stable sort only guards that promise.
	slices.SortStableFunc(r.Findings, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Doc, b.Doc))
	})
	return r, errors.Join(errs...)
}

// lintFile reads and checks one file.
func lintFile(path string, res *resolver, opts *Options) ([]Finding, int, error) {
	data, tooLarge, err := readFile(path)
	if err != nil {
		return nil, 0, err
	}
	// Without its keys a file is still checked for everything else; the
	// error is returned with the findings.
	keys, keyErr := res.keysFor(path)
	k := &checker{file: path, keys: keys, maxKeyAge: opts.MaxKeyAge, now: opts.Now}
	if tooLarge {
		k.report(chunk{line: 1}, nil, 1, "", Unparseable,
			"file exceeds %d MiB and was not checked", sealed.MaxManifestSize>>20)
		return k.findings, 0, nil
	}
	for _, c := range split(data) {
		k.chunk(c)
	}
	return k.findings, k.objects, keyErr
}

// readFile reads path, or reports that it is over the limit. It
// sizes its buffer from the file's size: repositories are mostly large
// sealed values, and growing a buffer by doubling copied them twice.
func readFile(path string) (data []byte, tooLarge bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	var b bytes.Buffer
	if fi, err := f.Stat(); err == nil {
		// ReadFrom wants MinRead bytes free before it sees EOF.
		b.Grow(int(min(fi.Size(), sealed.MaxManifestSize)) + bytes.MinRead)
	}
	if _, err := b.ReadFrom(io.LimitReader(f, sealed.MaxManifestSize+1)); err != nil {
		return nil, false, fmt.Errorf("reading %s: %w", path, err)
	}
	return b.Bytes(), b.Len() > sealed.MaxManifestSize, nil
}

// collect expands paths into the sorted, de-duplicated list of files to
// check. A file named explicitly is checked whatever its extension.
func collect(paths []string, exclude []string) ([]string, error) {
	seen := map[string]bool{}
	var files []string
	add := func(p string) {
		if !seen[p] {
			seen[p] = true
			files = append(files, p)
		}
	}
	for _, root := range paths {
		fi, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !fi.IsDir() {
			add(filepath.Clean(root))
			continue
		}
		err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			rel, _ := filepath.Rel(root, p)
			if d.IsDir() {
				if d.Name() == ".git" || p != root && excluded(rel, exclude) {
					return filepath.SkipDir
				}
				return nil
			}
			if d.Type().IsRegular() && manifestExt(p) && !excluded(rel, exclude) {
				add(p)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(files)
	return files, nil
}

func manifestExt(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json":
		return filepath.Base(p) != repoconfig.FileName
	}
	return false
}

func excluded(rel string, globs []string) bool {
	rel = filepath.ToSlash(rel)
	for _, g := range globs {
		if repoconfig.Match(g, rel) || repoconfig.Match(g, filepath.Base(rel)) {
			return true
		}
	}
	return false
}

// ParseAge parses a key age: a Go duration ("2160h") or a number of days
// ("90d").
func ParseAge(s string) (time.Duration, error) {
	if d, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseUint(d, 10, 32)
		if err != nil {
			return 0, fmt.Errorf("%q: want a number of days like 90d, or a duration like 720h", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q: want a number of days like 90d, or a duration like 720h", s)
	}
	return d, nil
}

// FormatAge writes an age the way ParseAge reads it, in days when whole.
func FormatAge(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}
