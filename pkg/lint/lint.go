package lint

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

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
// recursively for *.yaml, *.yml and *.json, skipping .git; a directory
// holding Chart.yaml is a Helm chart, rendered and checked as one) and
// returns its findings sorted by file and position. A path that cannot be
// read is a finding. The error is about configuration or keyrings it could
// not load; findings for everything are returned with it.
func Lint(paths []string, opts Options) (*Result, error) {
	units := collect(paths, opts.Exclude)
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	workers := cmp.Or(opts.Workers, runtime.GOMAXPROCS(0))
	res := newResolver(opts.Keyrings, !opts.NoRepoConfig)
	outs := make([]unitResult, len(units))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, max(len(units), 1)) {
		wg.Go(func() {
			for i := range next {
				outs[i] = lintUnit(units[i], res, &opts)
			}
		})
	}
	for i := range units {
		next <- i
	}
	close(next)
	wg.Wait()

	r := &Result{Findings: []Finding{}, Suppressed: []Finding{}}
	var errs []error
	seen := map[string]bool{} // one broken keyring fails every file under it
	for _, o := range outs {
		r.Findings = append(r.Findings, o.findings...)
		r.Suppressed = append(r.Suppressed, o.suppressed...)
		r.Files += o.files
		r.Documents += o.objects
		r.Charts += o.charts
		if o.skippedKeys {
			r.KeyChecksSkipped++
		}
		if o.err != nil && !seen[o.err.Error()] {
			seen[o.err.Error()] = true
			errs = append(errs, o.err)
		}
	}
	sortFindings(r.Findings)
	sortFindings(r.Suppressed)
	return r, errors.Join(errs...)
}

func sortFindings(fs []Finding) {
	slices.SortStableFunc(fs, func(a, b Finding) int {
		return cmp.Or(strings.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column))
	})
}

// unitResult is what checking one file or chart found.
type unitResult struct {
	findings, suppressed []Finding
	files, objects       int
	charts               int
	skippedKeys          bool
	err                  error
}

func (u *unitResult) add(k *checker) {
	u.findings = append(u.findings, k.findings...)
	u.suppressed = append(u.suppressed, k.suppressed...)
	u.skippedKeys = u.skippedKeys || k.skippedKeys
}

func lintUnit(u unit, res *resolver, opts *Options) unitResult {
	switch {
	case u.err != nil:
		return unreadable(u.path, u.err)
	case u.chart:
		return lintChart(u.path, res, opts)
	}
	return lintFile(u.path, res, opts)
}

// unreadable is the finding for a path that cannot be read.
func unreadable(path string, err error) unitResult {
	msg := err.Error()
	if errors.Is(err, fs.ErrNotExist) {
		msg = "no such file or directory"
	}
	return unitResult{findings: []Finding{{File: path, Rule: UnreadablePath.ID, RuleName: UnreadablePath.Name,
		Severity: UnreadablePath.Severity, Message: fmt.Sprintf("%s: %s: nothing there was checked", path, msg)}}}
}

// newChecker makes the checker for one file under s (nil: nothing applies).
func newChecker(file string, s *settings, opts *Options) *checker {
	k := &checker{file: file, maxKeyAge: opts.MaxKeyAge, now: opts.Now}
	if s != nil {
		k.keys, k.ignores = s.keys, s.ignores
	}
	return k
}

// lintFile reads and checks one file.
func lintFile(path string, res *resolver, opts *Options) unitResult {
	data, tooLarge, err := readFile(path)
	if err != nil {
		return unreadable(path, err)
	}
	// Without its keys a file is still checked for everything else; the
	// error is returned with the findings.
	s, cfgErr := res.forFile(path)
	k := newChecker(path, s, opts)
	k.kustomization = kustomizationFile(path)
	if tooLarge {
		k.report(&doc{c: &chunk{line: 1}}, nil, "", Unparseable,
			"file exceeds %d MiB and was not checked", sealed.MaxManifestSize>>20)
	} else {
		for _, c := range split(data) {
			k.chunk(c)
		}
	}
	u := unitResult{files: 1, objects: k.objects, err: cfgErr}
	u.add(k)
	return u
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
