package repoconfig

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/sealkit/sealkit/pkg/crypto"
)

var (
	topFields  = []string{"defaults", "rules", "lint"}
	ruleFields = []string{"path", "keys", "recipients", "scope", "recovery", "context", "values"}
)

// Parse parses a configuration read from file (used in messages and to
// resolve relative paths; make it absolute). Every error names file and
// line.
func Parse(data []byte, file string) (*Config, error) {
	c := &Config{File: file}
	at := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", file, line, fmt.Sprintf(format, args...))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, yamlError(file, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: file is empty: want rules", file)
	}
	top := doc.Content[0]
	if top.Kind != yaml.MappingNode {
		return nil, at(top.Line, "want a mapping with rules and defaults")
	}
	if err := checkFields(file, top, topFields); err != nil {
		return nil, err
	}
	for i := 0; i < len(top.Content); i += 2 {
		key, val := top.Content[i], top.Content[i+1]
		switch key.Value {
		case "defaults":
			d, err := decodeRule(file, val)
			if err != nil {
				return nil, err
			}
			if d.Path != "" {
				return nil, at(d.Line, "defaults: path is not allowed here, only in rules")
			}
			c.Defaults = d
		case "rules":
			if val.Kind != yaml.SequenceNode {
				return nil, at(val.Line, "rules: want a list of rules")
			}
			for n, item := range val.Content {
				r, err := decodeRule(file, item)
				if err != nil {
					return nil, err
				}
				if r.Path == "" {
					return nil, at(r.Line, "rule %d: path is required", n+1)
				}
				if !ValidPattern(r.Path) {
					return nil, at(r.Line, "rule %d: path %q is not a valid glob (relative, slash-separated, no . or .. segments)", n+1, r.Path)
				}
				c.Rules = append(c.Rules, *r)
			}
		case "lint":
			if err := parseLint(c, val); err != nil {
				return nil, err
			}
		}
	}
	if len(c.Rules) == 0 && c.Defaults == nil && len(c.LintIgnores) == 0 {
		return nil, at(top.Line, "no rules and no defaults")
	}
	return c, nil
}

// decodeRule decodes one rule, refusing unknown fields, and checks its
// values.
func decodeRule(file string, n *yaml.Node) (*Rule, error) {
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("%s:%d: want a rule: a mapping with %s", file, n.Line, strings.Join(ruleFields, ", "))
	}
	if err := checkFields(file, n, ruleFields); err != nil {
		return nil, err
	}
	r := &Rule{}
	if err := n.Decode(r); err != nil {
		return nil, yamlError(file, err)
	}
	r.Line = n.Line
	if r.Scope != "" {
		if _, err := crypto.ParseScope(r.Scope); err != nil {
			return nil, fmt.Errorf("%s:%d: scope: %w", file, r.Line, err)
		}
	}
	for _, field := range []struct {
		name string
		list []string
	}{{"recipients", r.Recipients}, {"recovery", r.Recovery}} {
		for i, s := range field.list {
			if _, err := crypto.ParseRecipient(s); err != nil {
				// Not quoted: the text may be a secret pasted by mistake.
				return nil, fmt.Errorf("%s:%d: %s: item %d is not an age recipient (age1pq1… or age1…)", file, r.Line, field.name, i+1)
			}
		}
	}
	for field, paths := range r.paths() {
		for _, p := range paths {
			switch {
			case strings.TrimSpace(p) == "":
				return nil, fmt.Errorf("%s:%d: %s: empty file name", file, r.Line, field)
			case filepath.IsAbs(p) || strings.HasPrefix(p, "/") || filepath.VolumeName(p) != "":
				return nil, fmt.Errorf("%s:%d: %s: %q is an absolute path: name files relative to %s, inside the repository", file, r.Line, field, p, FileName)
			}
		}
	}
	return r, nil
}

// checkFields refuses a mapping key that is not one of allowed, or appears
// twice, naming its line.
func checkFields(file string, n *yaml.Node, allowed []string) error {
	seen := map[string]bool{}
	for i := 0; i < len(n.Content); i += 2 {
		k := n.Content[i]
		if !slices.Contains(allowed, k.Value) {
			return fmt.Errorf("%s:%d: unknown field %q (want %s)", file, k.Line, k.Value, strings.Join(allowed, ", "))
		}
		if seen[k.Value] {
			return fmt.Errorf("%s:%d: field %q given twice", file, k.Line, k.Value)
		}
		seen[k.Value] = true
	}
	return nil
}

var yamlLine = regexp.MustCompile(`^(?:yaml: )?line (\d+): `)

// yamlError turns the yaml package's "yaml: line N: msg" messages into
// "file:N: msg".
func yamlError(file string, err error) error {
	msgs := []string{err.Error()}
	var te *yaml.TypeError
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for i, m := range msgs {
		m = withholdQuoted(m)
		if sm := yamlLine.FindStringSubmatch(m); sm != nil {
			n, _ := strconv.Atoi(sm[1])
			msgs[i] = fmt.Sprintf("%s:%d: %s", file, n, m[len(sm[0]):])
		} else {
			msgs[i] = fmt.Sprintf("%s: %s", file, strings.TrimPrefix(m, "yaml: "))
		}
	}
	return errors.New(strings.Join(msgs, "; "))
}

var backquoted = regexp.MustCompile("`[^`]*`")

// withholdQuoted removes what a YAML parser message quotes from the file
// (`...`): the file may not be what it claims to be.
func withholdQuoted(msg string) string {
	return backquoted.ReplaceAllString(msg, "(value withheld)")
}
