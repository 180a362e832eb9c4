// Package repoconfig reads .sealkit.yaml, the file at the root of a GitOps
// repository that maps paths in it to the keys their SealedSecrets are
// sealed to, so that seal and seal lint need no flags there.
//
// # Format
//
//	defaults:                   # optional: fields a matching rule leaves empty
//	  recovery: [age1pq1…]
//	rules:                      # first match wins
//	- path: clusters/prod/**    # slash-separated glob, relative to this file
//	  keys: [keys/prod.keys]    # public keyring files, relative to this file,
//	                            # inside the repository
//	  recipients: [age1pq1…]    # more recipients to seal to
//	  scope: strict             # strict, namespace or cluster
//	  recovery: [age1pq1…]      # recovery recipients added to every sealing
//	  context: prod             # kube context for online commands
//	  values: [values-prod.yaml] # Helm values files seal lint renders charts with
//	lint:                       # seal lint settings; see LintIgnore
//	  ignore: [{path: legacy/**, rules: [SK006], reason: …}]
//
// Parsing is strict: an unknown field is an error naming the file and line.
// Errors never quote the file's content. See [Match] for the glob syntax
// and docs/gitops.md for the full reference.
//
// # Trust
//
// Whoever can commit to a repository writes its .sealkit.yaml. [Load]
// refuses keyring and values paths that leave the repository (absolute, through "..",
// or through a symbolic link) or that are not regular files, and a
// configuration file that is a symbolic link out of the repository. The
// [Applied] rule says which file and line gave each setting, so that
// callers can name the origin of every recipient they seal to.
package repoconfig

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"

	"github.com/sealkit/sealkit/pkg/crypto"
)

// FileName is the name of the configuration file.
const FileName = ".sealkit.yaml"

// MaxSize bounds the configuration file: far more than any real one.
const MaxSize = 1 << 20

// Rule maps the paths that match Path to the keys and settings used for
// the SealedSecrets there.
type Rule struct {
	Path       string   `yaml:"path"`
	Keys       []string `yaml:"keys"`
	Recipients []string `yaml:"recipients"`
	Scope      string   `yaml:"scope"`
	Recovery   []string `yaml:"recovery"`
	Context    string   `yaml:"context"`
	// Values are Helm values files (relative to this file) that seal lint
	// renders the charts under Path with, after the charts' own defaults.
	Values []string `yaml:"values"`

	// Line is where the rule starts in the file, for messages.
	Line int `yaml:"-"`
}

// Config is a parsed .sealkit.yaml.
type Config struct {
	// File is the absolute path of the configuration file; keyring paths
	// and globs are relative to its directory.
	File     string
	Defaults *Rule
	Rules    []Rule
	// Root is the repository the file belongs to (see [RepoRoot]): what
	// it names must stay inside. [Load] sets it; [Parse] leaves it empty.
	Root string
	// LintIgnores are the lint: ignore: entries, in file order.
	LintIgnores []LintIgnore

	// applied caches resolved rules by index: linting a large repository
	// looks up every file, and parsing post-quantum recipients each time
	// dominated its run time. Callers must not modify what Lookup returns.
	applied sync.Map // int -> *Applied
}

// Dir is the directory the configuration's paths are relative to.
func (c *Config) Dir() string { return filepath.Dir(c.File) }

// Load reads and parses the configuration file at path.
func Load(path string) (*Config, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	root := RepoRoot(filepath.Dir(abs))
	if err := checkInside(root, abs); err != nil {
		return nil, fmt.Errorf("%s: %w", abs, err)
	}
	f, err := os.Open(abs)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", path, err)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s: exceeds %d bytes", path, MaxSize)
	}
	c, err := Parse(data, abs)
	if err != nil {
		return nil, err
	}
	c.Root = root
	if err := c.checkPaths(); err != nil {
		return nil, err
	}
	return c, nil
}

// Find returns the configuration file that applies in dir: the first
// .sealkit.yaml found in dir or its parents. The search stops at the
// filesystem root, or after a directory holding .git (a repository's root)
// has been checked. It returns "" when there is none.
func Find(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		p := filepath.Join(dir, FileName)
		fi, err := os.Stat(p)
		switch {
		case err == nil && !fi.IsDir():
			return p, nil
		case err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, syscall.ENOTDIR):
			return "", err
		}
		if _, err := os.Lstat(filepath.Join(dir, ".git")); err == nil {
			return "", nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", nil
		}
		dir = parent
	}
}

// ForFile finds the configuration that applies to file (which need not
// exist yet: it may be about to be written) by walking up from file's
// directory, and returns the rule that applies to it. It returns nil and no
// error when there is no configuration file or no rule matches.
func ForFile(file string) (*Applied, error) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil, err
	}
	p, err := Find(filepath.Dir(abs))
	if err != nil || p == "" {
		return nil, err
	}
	c, err := Load(p)
	if err != nil {
		return nil, err
	}
	return c.Lookup(abs), nil
}

// ForDir is [ForFile] for a directory: the rule that applies to dir itself
// (a rule "clusters/prod/**" applies to the directory clusters/prod), used
// when there is no file to go by, such as stdin to stdout.
func ForDir(dir string) (*Applied, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	p, err := Find(abs)
	if err != nil || p == "" {
		return nil, err
	}
	c, err := Load(p)
	if err != nil {
		return nil, err
	}
	return c.Lookup(abs), nil
}

// Applied is the outcome of looking a path up in a configuration: a rule
// (with the defaults filled in) and its values resolved.
type Applied struct {
	Config *Config
	// Rule is the index of the matching rule, or -1 when only the defaults
	// apply.
	Rule int
	// Line is where the rule (or defaults) starts in the file.
	Line    int
	Pattern string
	// Keys are the keyring files, absolute.
	Keys       []string
	Recipients []*crypto.Recipient
	Recovery   []*crypto.Recipient
	// Scope is empty when neither the rule nor the defaults set one.
	Scope   crypto.Scope
	Context string
	// Values are the Helm values files, absolute.
	Values []string

	// fromDefaults names the fields the defaults filled in.
	fromDefaults map[string]bool
	defaultsLine int
}

// Origin says where field ("keys", "recipients", "recovery", "scope" or
// "context") came from: the rule, or the defaults that filled it in, as
// "FILE:LINE: rule N (path P)" or "FILE:LINE: defaults".
func (a *Applied) Origin(field string) string {
	if a.Rule >= 0 && a.fromDefaults[field] {
		return fmt.Sprintf("%s:%d: defaults", a.Config.File, a.defaultsLine)
	}
	return a.String()
}

// String says which rule applied, for seal -v.
func (a *Applied) String() string {
	if a.Rule < 0 {
		return fmt.Sprintf("%s:%d: defaults", a.Config.File, a.Line)
	}
	return fmt.Sprintf("%s:%d: rule %d (path %s)", a.Config.File, a.Line, a.Rule+1, a.Pattern)
}

// Lookup returns what applies to file (absolute, or relative to the
// working directory): the first rule whose glob matches its path relative
// to the configuration's directory, completed by the defaults; the defaults
// alone when no rule matches; nil when there are no defaults either, or
// file is outside the configuration's directory.
func (c *Config) Lookup(file string) *Applied {
	abs, err := filepath.Abs(file)
	if err != nil {
		return nil
	}
	rel, err := filepath.Rel(c.Dir(), abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil
	}
	rel = filepath.ToSlash(rel)
	if rel == "." {
		rel = "" // the configuration's own directory: only ** matches it
	}
	for i := range c.Rules {
		if Match(c.Rules[i].Path, rel) {
			return c.apply(i, &c.Rules[i])
		}
	}
	if c.Defaults != nil {
		return c.apply(-1, &Rule{Line: c.Defaults.Line})
	}
	return nil
}

// apply fills in r's empty fields from the defaults and resolves them.
// Parse has already checked every value, so nothing here fails.
func (c *Config) apply(i int, r *Rule) *Applied {
	if a, ok := c.applied.Load(i); ok {
		return a.(*Applied)
	}
	a, _ := c.applied.LoadOrStore(i, c.resolveRule(i, r))
	return a.(*Applied)
}

func (c *Config) resolveRule(i int, r *Rule) *Applied {
	merged := *r
	from := map[string]bool{}
	if d := c.Defaults; d != nil {
		from["keys"] = len(merged.Keys) == 0 && len(d.Keys) > 0
		from["recipients"] = len(merged.Recipients) == 0 && len(d.Recipients) > 0
		from["recovery"] = len(merged.Recovery) == 0 && len(d.Recovery) > 0
		from["scope"] = merged.Scope == "" && d.Scope != ""
		from["context"] = merged.Context == "" && d.Context != ""
		merged.Keys = or(merged.Keys, d.Keys)
		merged.Recipients = or(merged.Recipients, d.Recipients)
		merged.Recovery = or(merged.Recovery, d.Recovery)
		merged.Scope = or(merged.Scope, d.Scope)
		merged.Context = or(merged.Context, d.Context)
		merged.Values = or(merged.Values, d.Values)
	}
	a := &Applied{Config: c, Rule: i, Line: r.Line, Pattern: r.Path,
		Scope: crypto.Scope(merged.Scope), Context: merged.Context, fromDefaults: from}
	if c.Defaults != nil {
		a.defaultsLine = c.Defaults.Line
	}
	for _, k := range merged.Keys {
		a.Keys = append(a.Keys, c.resolve(k))
	}
	for _, v := range merged.Values {
		a.Values = append(a.Values, c.resolve(v))
	}
	a.Recipients = mustRecipients(merged.Recipients)
	a.Recovery = mustRecipients(merged.Recovery)
	return a
}

// resolve makes a path of the file, relative to it, absolute. Parse has
// refused absolute ones.
func (c *Config) resolve(p string) string {
	return filepath.Join(c.Dir(), filepath.FromSlash(p))
}

func or[T interface{ ~string | ~[]string }](v, def T) T {
	if len(v) == 0 {
		return def
	}
	return v
}

func mustRecipients(ss []string) []*crypto.Recipient {
	var out []*crypto.Recipient
	for _, s := range ss {
		if r, err := crypto.ParseRecipient(s); err == nil {
			out = append(out, r)
		}
	}
	return out
}
