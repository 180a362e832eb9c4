package lint

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/sealkit/sealkit/pkg/repoconfig"
)

// Suppressions say that a finding does not matter, and why: a reason is
// required everywhere, so a silenced check is explained where it is
// silenced. Suppressed findings are still counted and reported (JSON,
// SARIF), they just do not fail the run.
//
//   - a comment anywhere in a YAML document applies to every object in it:
//     # seal-lint-ignore SK001[,RULE...] REASON
//   - the annotation sealkit.dev/lint-ignore: "SK001[,RULE...] REASON"
//     applies to its object (JSON manifests have no comments);
//   - .sealkit.yaml lint: ignore: entries apply to the paths they match.
//
// Rules are named by ID or name (SK001 or plaintext-secret).

// IgnoreAnnotation is the annotation that suppresses findings on its object.
const IgnoreAnnotation = "sealkit.dev/lint-ignore"

const ignoreMarker = "seal-lint-ignore"

// ignore is one suppression.
type ignore struct {
	rules []string // rule IDs
	Suppression
}

func (i *ignore) covers(r Rule) bool { return slices.Contains(i.rules, r.ID) }

// parseIgnore parses "RULE[,RULE...] REASON".
func parseIgnore(spec string) (rules []string, reason string, err error) {
	spec = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(spec), ":"))
	list, reason, _ := strings.Cut(spec, " ")
	if list == "" {
		return nil, "", errors.New("names no rule: want RULE[,RULE...] REASON")
	}
	rules, err = ruleIDs(strings.Split(list, ","))
	if err != nil {
		return nil, "", err
	}
	if reason = strings.TrimSpace(reason); reason == "" {
		return nil, "", fmt.Errorf("gives no reason: want %s REASON", list)
	}
	return rules, reason, nil
}

// ruleIDs turns rule IDs or names into IDs.
func ruleIDs(names []string) ([]string, error) {
	var ids []string
	for _, n := range names {
		r, ok := LookupRule(strings.TrimSpace(n))
		if !ok {
			return nil, fmt.Errorf("names unknown rule %q", n)
		}
		ids = append(ids, r.ID)
	}
	return ids, nil
}

var ignoreComment = regexp.MustCompile(`(?m)(?:^|[ \t])#[ \t]*` + ignoreMarker + `\b(.*)$`)

// badIgnore is a suppression that does not parse, for an SK014 finding.
type badIgnore struct {
	path []any // where it is, for an annotation
	line int   // where it is, for a comment (1-based in the document's source)
	col  int
	err  error
}

// commentIgnores finds the seal-lint-ignore comments of a YAML document.
func commentIgnores(c *chunk, file string) ([]ignore, []badIgnore) {
	if c.isJSON || !bytes.Contains(c.src, []byte(ignoreMarker)) {
		return nil, nil
	}
	var igs []ignore
	var bad []badIgnore
	for _, m := range ignoreComment.FindAllSubmatchIndex(c.src, -1) {
		hash := bytes.IndexByte(c.src[m[0]:m[1]], '#') + m[0]
		line, col := lineCol(c.src, 0, hash)
		line += c.srcLine - 1
		rules, reason, err := parseIgnore(string(bytes.TrimRight(c.src[m[2]:m[3]], "\r")))
		if err != nil {
			bad = append(bad, badIgnore{line: line, col: col, err: err})
			continue
		}
		igs = append(igs, ignore{rules, Suppression{Kind: "inSource", Reason: reason,
			Where: fmt.Sprintf("%s:%d", file, line)}})
	}
	return igs, bad
}

// annotationIgnore reads the object's sealkit.dev/lint-ignore annotation.
func annotationIgnore(o *object, file string) (*ignore, *badIgnore) {
	spec, ok := o.annotation(IgnoreAnnotation)
	if !ok {
		return nil, nil
	}
	rules, reason, err := parseIgnore(spec)
	if err != nil {
		return nil, &badIgnore{path: []any{"metadata", "annotations", IgnoreAnnotation}, err: err}
	}
	return &ignore{rules, Suppression{Kind: "inSource", Reason: reason,
		Where: fmt.Sprintf("%s: annotation %s", file, IgnoreAnnotation)}}, nil
}

// configIgnores turns .sealkit.yaml entries into suppressions, checking
// their rule names.
func configIgnores(c *repoconfig.Config, entries []repoconfig.LintIgnore) ([]ignore, error) {
	var out []ignore
	for _, e := range entries {
		rules, err := ruleIDs(e.Rules)
		if err != nil {
			return nil, fmt.Errorf("%s: lint: ignore: %w", e.Where(c), err)
		}
		out = append(out, ignore{rules, Suppression{Kind: "external", Reason: e.Reason, Where: e.Where(c)}})
	}
	return out, nil
}
