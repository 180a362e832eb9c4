package lint

import (
	"fmt"
	"strings"
)

// Severity is how serious a finding is. seal lint fails (exit 1) on
// findings at or above its --fail-on severity, error by default.
type Severity string

const (
	// SeverityError is a leak, or a SealedSecret that will not work.
	SeverityError Severity = "error"
	// SeverityWarning is for what works today but needs attention.
	SeverityWarning Severity = "warning"
	// SeverityInfo is for what a reader may want to know, such as
	// secrets managed by another tool.
	SeverityInfo Severity = "info"
)

// Severities lists the severities from most to least serious.
var Severities = []Severity{SeverityError, SeverityWarning, SeverityInfo}

// rank orders severities: higher is more serious.
func (s Severity) rank() int {
	switch s {
	case SeverityError:
		return 3
	case SeverityWarning:
		return 2
	case SeverityInfo:
		return 1
	}
	return 0
}

// AtLeast reports whether s is as serious as threshold or more.
func (s Severity) AtLeast(threshold Severity) bool { return s.rank() >= threshold.rank() }

// ParseSeverity parses "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	if v := Severity(s); v.rank() > 0 {
		return v, nil
	}
	return "", fmt.Errorf("%q: want error, warning or info", s)
}

// Rule is one kind of problem lint finds. Rule IDs and names are stable:
// CI configurations and suppressions refer to them.
type Rule struct {
	ID       string
	Name     string
	Severity Severity
	Summary  string
}

// The rules, in the order docs/gitops.md lists them.
var (
	PlaintextSecret = Rule{"SK001", "plaintext-secret", SeverityError,
		"a Secret with data or stringData (or a kustomize secretGenerator, a literal value in a Helm template, or a last-applied annotation) is committed in plaintext"}
	Unparseable = Rule{"SK002", "unparseable", SeverityError,
		"a Kubernetes manifest is not valid YAML or JSON, so it cannot be checked"}
	MalformedSealedSecret = Rule{"SK003", "malformed-sealedsecret", SeverityError,
		"a SealedSecret has unknown or missing fields, an invalid name, namespace or data key, or an unknown scope"}
	UndecodableValue = Rule{"SK004", "undecodable-value", SeverityError,
		"an encryptedData value is not a well-formed sealed value"}
	ScopeMismatch = Rule{"SK005", "scope-mismatch", SeverityWarning,
		"the scope binds values to a namespace the manifest does not name"}
	UnknownKey = Rule{"SK006", "unknown-key", SeverityError,
		"a value is sealed to a key that is in none of the repository's keyrings"}
	RetiredKey = Rule{"SK007", "retired-key", SeverityError,
		"a value is sealed to a key its keyring marks retired: the cluster no longer opens it with that key"}
	CompromisedKey = Rule{"SK008", "compromised-key", SeverityError,
		"a value is sealed to a key its keyring marks compromised: treat the secret as leaked"}
	OldKey = Rule{"SK009", "old-key", SeverityWarning,
		"a value is sealed to a key created longer ago than --max-key-age"}
	SOPSEncrypted = Rule{"SK010", "sops-encrypted", SeverityInfo,
		"a Secret is encrypted with SOPS: not plaintext, but managed outside sealkit"}
	NotSealkit = Rule{"SK011", "not-sealkit", SeverityInfo,
		"a Bitnami Sealed Secrets object (bitnami.com): not checked by seal lint"}
	ChartNotRendered = Rule{"SK012", "chart-not-rendered", SeverityWarning,
		"a Helm chart could not be rendered, so the objects it makes were not checked (literal values in its templates still were)"}
	UnreadablePath = Rule{"SK013", "unreadable-path", SeverityError,
		"a path given to seal lint does not exist or cannot be read"}
	InvalidSuppression = Rule{"SK014", "invalid-suppression", SeverityWarning,
		"a seal-lint-ignore comment or annotation names no known rule or gives no reason, so it suppresses nothing"}
)

// Rules lists every rule.
var Rules = []Rule{PlaintextSecret, Unparseable, MalformedSealedSecret, UndecodableValue,
	ScopeMismatch, UnknownKey, RetiredKey, CompromisedKey, OldKey, SOPSEncrypted, NotSealkit,
	ChartNotRendered, UnreadablePath, InvalidSuppression}

// LookupRule finds a rule by ID or name, ignoring case.
func LookupRule(s string) (Rule, bool) {
	for _, r := range Rules {
		if strings.EqualFold(s, r.ID) || strings.EqualFold(s, r.Name) {
			return r, true
		}
	}
	return Rule{}, false
}

// Finding is one problem in one document. It never contains a secret
// value, only names: the file, the object, the data key.
type Finding struct {
	File string `json:"file"`
	// Line and Column locate the offending key (a data key, a field, the
	// generator entry), else the document's start; both 1-based.
	Line   int `json:"line"`
	Column int `json:"column"`
	// Doc is the object's 1-based position in the file, counting the items
	// of a List, as seal's own messages count them; 0 when the finding is
	// about the file.
	Doc       int      `json:"doc"`
	Kind      string   `json:"kind,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name,omitempty"`
	Key       string   `json:"key,omitempty"`
	Rule      string   `json:"rule"`
	RuleName  string   `json:"ruleName"`
	Severity  Severity `json:"severity"`
	Message   string   `json:"message"`
	// Suppression says why the finding does not count, when it does not.
	Suppression *Suppression `json:"suppression,omitempty"`
}

// Suppression is a reason not to report a finding, given in the manifest
// (a comment or annotation) or in .sealkit.yaml.
type Suppression struct {
	// Kind is "inSource" (comment or annotation) or "external"
	// (.sealkit.yaml), as SARIF names them.
	Kind   string `json:"kind"`
	Reason string `json:"reason"`
	// Where is the comment's file:line, or the .sealkit.yaml entry.
	Where string `json:"where"`
}

// Result is the outcome of [Lint].
type Result struct {
	// Findings are those that count; Suppressed those a suppression
	// silenced. Both are sorted by file, line and column.
	Findings   []Finding
	Suppressed []Finding
	// Files and Documents count what was checked; Charts the Helm charts
	// among them (rendered, their templates not counted as files).
	Files     int
	Documents int
	Charts    int
	// KeyChecksSkipped counts files holding sealed values for which no
	// keyring applied, so SK006-SK009 were not checked.
	KeyChecksSkipped int
}

// Count returns how many findings have severity s.
func (r *Result) Count(s Severity) int {
	n := 0
	for _, f := range r.Findings {
		if f.Severity == s {
			n++
		}
	}
	return n
}

// Fails reports whether any finding is at least as serious as threshold.
func (r *Result) Fails(threshold Severity) bool {
	for _, f := range r.Findings {
		if f.Severity.AtLeast(threshold) {
			return true
		}
	}
	return false
}

// KeyChecksNote is what seal lint says, once, when key checks were
// skipped: why, and how to turn them on.
func (r *Result) KeyChecksNote() string {
	if r.KeyChecksSkipped == 0 {
		return ""
	}
	return fmt.Sprintf("key checks (SK006-SK009) skipped for %d %s with sealed values: no keyring applies to %s; "+
		"name keyrings in .sealkit.yaml (rules: keys:) or pass --keys FILE",
		r.KeyChecksSkipped, plural(r.KeyChecksSkipped, "file", "files"), plural(r.KeyChecksSkipped, "it", "them"))
}
