package lint

import (
	"cmp"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sealkit/sealkit/pkg/repoconfig"
)

// unit is what one worker checks: a file, or a Helm chart (a directory
// holding Chart.yaml, rendered as a whole).
type unit struct {
	path  string
	chart bool
	// err is set when path cannot be read: an SK013 finding.
	err error
}

// chartFile marks a directory as a Helm chart.
const chartFile = "Chart.yaml"

// collect expands paths into the sorted, de-duplicated units to check. A
// file named explicitly is checked whatever its extension; one inside a
// chart stands for its chart, as a pre-commit hook naming a changed
// template or values file expects.
func collect(paths []string, exclude []string) []unit {
	seen := map[unit]bool{}
	var units []unit
	add := func(u unit) {
		if k := (unit{path: u.path, chart: u.chart}); !seen[k] {
			seen[k] = true
			units = append(units, u)
		}
	}
	for _, root := range paths {
		root = filepath.Clean(root)
		fi, err := os.Stat(root)
		switch {
		case err != nil:
			add(unit{path: root, err: err})
			continue
		case chartOf(root) != "":
			add(unit{path: chartOf(root), chart: true})
			continue
		case !fi.IsDir():
			add(unit{path: root})
			continue
		}
		walk(root, exclude, add)
	}
	slices.SortFunc(units, func(a, b unit) int { return cmp.Compare(a.path, b.path) })
	return units
}

// walk adds the units under the directory root.
func walk(root string, exclude []string, add func(unit)) {
	charts := map[string]bool{}
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			add(unit{path: p, err: err})
			if d != nil && d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			switch {
			case d.Name() == ".git" || p != root && excluded(rel, exclude):
				return filepath.SkipDir
			case charts[filepath.Dir(p)] && (d.Name() == "templates" || d.Name() == "charts"):
				return filepath.SkipDir // rendered with its chart
			case isFile(filepath.Join(p, chartFile)):
				charts[p] = true
				add(unit{path: p, chart: true})
			}
			return nil
		}
		if d.Type().IsRegular() && manifestExt(p) && !excluded(rel, exclude) {
			add(unit{path: p})
		}
		return nil
	})
}

// chartOf returns the chart p is inside of (its templates, values files,
// Chart.yaml; not its crds/, which are plain manifests), or "": relative
// to the working directory when p is.
func chartOf(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return ""
	}
	for dir := abs; ; {
		parent := filepath.Dir(dir)
		if parent == dir || isDir(filepath.Join(dir, ".git")) {
			return ""
		}
		if isFile(filepath.Join(parent, chartFile)) {
			if rel, _ := filepath.Rel(parent, abs); strings.HasPrefix(filepath.ToSlash(rel)+"/", "crds/") {
				return ""
			}
			if filepath.IsAbs(p) {
				return parent
			}
			wd, _ := os.Getwd()
			if rel, err := filepath.Rel(wd, parent); err == nil {
				return rel
			}
			return parent
		}
		dir = parent
	}
}

func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func manifestExt(p string) bool {
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json":
		return filepath.Base(p) != repoconfig.FileName
	}
	return filepath.Base(p) == "Kustomization"
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
