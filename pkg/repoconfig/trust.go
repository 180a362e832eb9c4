package repoconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A .sealkit.yaml is written by whoever can commit to the repository, so
// what it names is checked before anything is read: the files it points
// to (keyrings, Helm values files) must be regular files inside the
// repository, so that a contributor
// cannot make seal read (and quote in an error) a token file, a device or
// a FIFO elsewhere on the machine of whoever runs it.

// RepoRoot is the repository the configuration in dir belongs to: the
// nearest directory at or above dir that holds .git (where [Find] stops),
// or dir itself when there is none.
func RepoRoot(dir string) string {
	for d := dir; ; {
		if _, err := os.Lstat(filepath.Join(d, ".git")); err == nil {
			return d
		}
		parent := filepath.Dir(d)
		if parent == d {
			return dir
		}
		d = parent
	}
}

// Nested reports whether the configuration that applied is not at the
// root of its repository: a .sealkit.yaml in a subdirectory, which
// replaces the root one for every file below it.
func (a *Applied) Nested() bool { return a.Config.Dir() != a.Config.Root }

// paths are the files a rule names, by field: keyrings seal reads, Helm
// values files seal lint reads.
func (r *Rule) paths() map[string][]string {
	return map[string][]string{"keys": r.Keys, "values": r.Values}
}

// checkPaths refuses file paths that leave the repository or are not
// regular files.
func (c *Config) checkPaths() error {
	rules := make([]*Rule, 0, len(c.Rules)+1)
	if c.Defaults != nil {
		rules = append(rules, c.Defaults)
	}
	for i := range c.Rules {
		rules = append(rules, &c.Rules[i])
	}
	for _, r := range rules {
		for field, paths := range r.paths() {
			for _, k := range paths {
				p := c.resolve(k)
				if !inside(c.Root, p) {
					return fmt.Errorf("%s:%d: %s: %q is outside the repository %s", c.File, r.Line, field, k, c.Root)
				}
				if err := checkInside(c.Root, p); err != nil {
					return fmt.Errorf("%s:%d: %s: %q %w", c.File, r.Line, field, k, err)
				}
			}
		}
	}
	return nil
}

// checkInside checks that p, following symbolic links, is a regular file
// inside root, or does not exist (reading it will say so).
func checkInside(root, p string) error {
	resolved, err := filepath.EvalSymlinks(p)
	if errors.Is(err, fs.ErrNotExist) {
		if fi, lerr := os.Lstat(p); lerr == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return errors.New("is a symbolic link to nothing")
		}
		return nil
	}
	if err != nil {
		return errors.New("cannot be resolved")
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err != nil {
		realRoot = root
	}
	if !inside(realRoot, resolved) {
		return fmt.Errorf("leads outside the repository %s through a symbolic link", root)
	}
	fi, err := os.Stat(resolved)
	if err != nil || !fi.Mode().IsRegular() {
		return errors.New("is not a regular file")
	}
	return nil
}

// inside reports whether p is root or below it, lexically.
func inside(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && !filepath.IsAbs(rel) && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
