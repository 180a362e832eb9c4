package lint

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/repoconfig"
)

// keySet is what lint knows about the keys a file's values may be sealed
// to: the keys of its keyrings with their states, and the recipients
// .sealkit.yaml names directly (rule recipients, recovery keys).
type keySet struct {
	keyrings []string // for messages, as given
	keys     map[crypto.KeyID]keyring.Key
	extra    map[crypto.KeyID]bool
}

// known reports whether id belongs to the set at all.
func (k *keySet) known(id crypto.KeyID) bool {
	_, ok := k.keys[id]
	return ok || k.extra[id]
}

// stateRank orders states from harmless to worst: when two keyrings
// disagree about a key, the worse state is kept.
var stateRank = map[keyring.State]int{
	keyring.StateActive: 0, keyring.StateRetained: 1, keyring.StateRetired: 2, keyring.StateCompromised: 3,
}

func (k *keySet) add(kr *keyring.Keyring) {
	for _, key := range kr.Keys {
		old, ok := k.keys[key.ID]
		if !ok {
			k.keys[key.ID] = key
			continue
		}
		if stateRank[key.State] > stateRank[old.State] {
			old.State = key.State
		}
		if old.Created.IsZero() || !key.Created.IsZero() && key.Created.Before(old.Created) {
			old.Created = key.Created
		}
		k.keys[key.ID] = old
	}
}

// resolver finds, for each file, the keys it is checked against, caching
// configuration lookups and parsed keyrings: a repository of thousands of
// manifests has a handful of each. Everything it caches is built on first
// use under mu, and then only read.
type resolver struct {
	keyrings  []string // --keys, applying everywhere
	useConfig bool

	mu      sync.Mutex
	dirs    map[string]*repoconfig.Config // directory -> configuration, nil for none
	configs map[string]*repoconfig.Config // by file: directories share one
	parsed  map[string]*keyring.Keyring
	// sets are by rule: Config.Lookup returns one *Applied per rule, and
	// the --keys part is the same for every file.
	sets map[*repoconfig.Applied]*keySet
	// ignores are the lint: ignore: entries checked, by Where.
	ignores map[string]ignore
}

// settings is what applies to one file: the keys its values are checked
// against, the Helm values files (for a chart) and the suppressions
// .sealkit.yaml gives.
type settings struct {
	keys    *keySet
	values  []string
	ignores []ignore
}

// forFile returns the settings for file.
func (r *resolver) forFile(file string) (*settings, error) {
	var cfg *repoconfig.Config
	if r.useConfig {
		var err error
		if cfg, err = r.config(filepath.Dir(file)); err != nil {
			return nil, err
		}
	}
	var a *repoconfig.Applied
	if cfg != nil {
		a = cfg.Lookup(file)
	}
	keys, err := r.keysFor(a)
	if err != nil {
		return nil, err
	}
	s := &settings{keys: keys}
	if a != nil {
		s.values = a.Values
	}
	if cfg == nil {
		return s, nil
	}
	entries := cfg.LintIgnoresFor(file)
	if len(entries) == 0 {
		return s, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range entries {
		ig, ok := r.ignores[e.Where(cfg)]
		if !ok {
			igs, err := configIgnores(cfg, []repoconfig.LintIgnore{e})
			if err != nil {
				return nil, err
			}
			ig = igs[0]
			r.ignores[e.Where(cfg)] = ig
		}
		s.ignores = append(s.ignores, ig)
	}
	return s, nil
}

func newResolver(keyrings []string, useConfig bool) *resolver {
	return &resolver{keyrings: keyrings, useConfig: useConfig,
		dirs: map[string]*repoconfig.Config{}, configs: map[string]*repoconfig.Config{},
		parsed: map[string]*keyring.Keyring{}, sets: map[*repoconfig.Applied]*keySet{}, ignores: map[string]ignore{}}
}

// keysFor returns the keys the values of files under rule a (nil: none)
// are checked against; nil when nothing says which keys are expected, and
// key checks are skipped.
func (r *resolver) keysFor(a *repoconfig.Applied) (*keySet, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.sets[a]; ok {
		return s, nil
	}
	s, err := r.keySet(a)
	if err != nil {
		return nil, err
	}
	r.sets[a] = s
	return s, nil
}

// keySet builds the keys for rule a (nil: none) and --keys; r.mu is held.
func (r *resolver) keySet(a *repoconfig.Applied) (*keySet, error) {
	var files []string
	var extra []*crypto.Recipient
	if a != nil {
		files = append(files, a.Keys...)
		extra = append(append(extra, a.Recipients...), a.Recovery...)
	}
	files = append(files, r.keyrings...)
	if len(files) == 0 && len(extra) == 0 {
		return nil, nil
	}
	s := &keySet{keys: map[crypto.KeyID]keyring.Key{}, extra: map[crypto.KeyID]bool{}}
	for _, f := range files {
		kr, err := r.keyring(f)
		if err != nil {
			return nil, err
		}
		s.add(kr)
		s.keyrings = append(s.keyrings, display(f))
	}
	for _, e := range extra {
		s.extra[e.KeyID()] = true
	}
	return s, nil
}

// config returns the configuration that applies in dir, or nil.
func (r *resolver) config(dir string) (*repoconfig.Config, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c, ok := r.dirs[dir]; ok {
		return c, nil
	}
	p, err := repoconfig.Find(dir)
	if err != nil {
		return nil, err
	}
	c, ok := r.configs[p]
	if !ok && p != "" {
		if c, err = repoconfig.Load(p); err != nil {
			return nil, err
		}
		r.configs[p] = c
	}
	r.dirs[dir] = c
	return c, nil
}

// keyring parses a keyring file once; r.mu is held.
func (r *resolver) keyring(path string) (*keyring.Keyring, error) {
	if kr, ok := r.parsed[path]; ok {
		return kr, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	kr, err := keyring.Parse(f)
	if err != nil {
		return nil, fmt.Errorf("keyring %s: %w", path, err)
	}
	r.parsed[path] = kr
	return kr, nil
}

// display shortens an absolute path to one relative to the working
// directory when it is below it, for messages.
func display(p string) string {
	wd, err := os.Getwd()
	if err != nil || !filepath.IsAbs(p) {
		return p
	}
	if rel, err := filepath.Rel(wd, p); err == nil && !strings.HasPrefix(rel, "..") {
		return rel
	}
	return p
}
