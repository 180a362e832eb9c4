package repoconfig

import (
	"fmt"
	"path/filepath"
	"strings"

	"go.yaml.in/yaml/v3"
)

// What seal lint reads from .sealkit.yaml besides the keys:
//
//	rules:
//	- path: charts/web/**
//	  keys: [keys/prod.keys]
//	  values: [charts/web/values-prod.yaml]   # Helm values files the chart is rendered with
//	lint:
//	  ignore:                                 # every entry whose path matches applies
//	  - path: legacy/**
//	    rules: [SK006, old-key]               # rule IDs or names
//	    reason: sealed before the keyrings were committed (OPS-123)
//
// Rule names are checked by seal lint, which owns them.

// LintIgnore silences lint rules for the paths matching Path.
type LintIgnore struct {
	Path   string   `yaml:"path"`
	Rules  []string `yaml:"rules"`
	Reason string   `yaml:"reason"`

	// Line is where the entry starts in the file, for messages.
	Line int `yaml:"-"`
}

// Where names the entry for messages: "FILE:LINE".
func (i LintIgnore) Where(c *Config) string { return fmt.Sprintf("%s:%d", c.File, i.Line) }

var (
	lintFields   = []string{"ignore"}
	ignoreFields = []string{"path", "rules", "reason"}
)

// parseLint reads the top-level lint: section into c.
func parseLint(c *Config, n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s:%d: lint: want a mapping with %s", c.File, n.Line, strings.Join(lintFields, ", "))
	}
	if err := checkFields(c.File, n, lintFields); err != nil {
		return err
	}
	for i := 0; i < len(n.Content); i += 2 {
		val := n.Content[i+1]
		if val.Kind != yaml.SequenceNode {
			return fmt.Errorf("%s:%d: lint: ignore: want a list of entries with %s", c.File, val.Line, strings.Join(ignoreFields, ", "))
		}
		for _, item := range val.Content {
			ig, err := decodeIgnore(c.File, item)
			if err != nil {
				return err
			}
			c.LintIgnores = append(c.LintIgnores, ig)
		}
	}
	return nil
}

func decodeIgnore(file string, n *yaml.Node) (LintIgnore, error) {
	var ig LintIgnore
	if n.Kind != yaml.MappingNode {
		return ig, fmt.Errorf("%s:%d: lint: ignore: want an entry with %s", file, n.Line, strings.Join(ignoreFields, ", "))
	}
	if err := checkFields(file, n, ignoreFields); err != nil {
		return ig, err
	}
	if err := n.Decode(&ig); err != nil {
		return ig, yamlError(file, err)
	}
	ig.Line = n.Line
	switch {
	case !ValidPattern(ig.Path):
		return ig, fmt.Errorf("%s:%d: lint: ignore: path %q is not a valid glob (relative, slash-separated, no . or .. segments)", file, n.Line, ig.Path)
	case len(ig.Rules) == 0:
		return ig, fmt.Errorf("%s:%d: lint: ignore: rules is required (rule IDs or names)", file, n.Line)
	case strings.TrimSpace(ig.Reason) == "":
		return ig, fmt.Errorf("%s:%d: lint: ignore: reason is required: say why the finding does not matter", file, n.Line)
	}
	return ig, nil
}

// LintIgnoresFor returns the lint: ignore: entries whose path matches file
// (absolute, or relative to the working directory).
func (c *Config) LintIgnoresFor(file string) []LintIgnore {
	rel, ok := c.rel(file)
	if !ok {
		return nil
	}
	var out []LintIgnore
	for _, ig := range c.LintIgnores {
		if Match(ig.Path, rel) {
			out = append(out, ig)
		}
	}
	return out
}

// rel returns file's slash-separated path relative to the configuration's
// directory; false when it is outside.
func (c *Config) rel(file string) (string, bool) {
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", false
	}
	rel, err := filepath.Rel(c.Dir(), abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return "", false
	}
	return filepath.ToSlash(rel), true
}
