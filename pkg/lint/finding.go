package lint

// Severity is how serious a finding is. Every finding makes seal lint exit
// 1; the severity tells a reader (and a CI annotation) what to do first.
type Severity string

const (
	// SeverityError is a leak, or a SealedSecret that will not work.
	SeverityError Severity = "error"
	// SeverityWarning is for what works today but needs attention.
	SeverityWarning Severity = "warning"
)

// Rule is one kind of problem lint finds. Rule IDs are stable: CI
// configurations and suppressions refer to them.
type Rule struct {
	ID       string
	Name     string
	Severity Severity
	Summary  string
}

// The rules, in the order docs/gitops.md lists them.
var (
	PlaintextSecret = Rule{"SK001", "plaintext-secret", SeverityError,
		"a Secret with data or stringData (or a kustomize secretGenerator, or a last-applied annotation) is committed in plaintext"}
	Unparseable = Rule{"SK002", "unparseable", SeverityError,
		"a document is not valid YAML or JSON, so it cannot be checked"}
	MalformedSealedSecret = Rule{"SK003", "malformed-sealedsecret", SeverityError,
		"a SealedSecret has unknown or missing fields, an invalid name or namespace, or an unknown scope"}
	UndecodableValue = Rule{"SK004", "undecodable-value", SeverityError,
		"an encryptedData value is not a well-formed sealed value"}
	ScopeMismatch = Rule{"SK005", "scope-mismatch", SeverityError,
		"the scope needs a namespace the object lacks, or a data key is not a valid Secret key"}
	UnknownKey = Rule{"SK006", "unknown-key", SeverityError,
		"a value is sealed to a key that is in none of the repository's keyrings"}
	RetiredKey = Rule{"SK007", "retired-key", SeverityError,
		"a value is sealed to a key its keyring marks retired: the cluster no longer opens it with that key"}
	CompromisedKey = Rule{"SK008", "compromised-key", SeverityError,
		"a value is sealed to a key its keyring marks compromised: treat the secret as leaked"}
	OldKey = Rule{"SK009", "old-key", SeverityWarning,
		"a value is sealed to a key created longer ago than --max-key-age"}
)

// Rules lists every rule.
var Rules = []Rule{PlaintextSecret, Unparseable, MalformedSealedSecret, UndecodableValue,
	ScopeMismatch, UnknownKey, RetiredKey, CompromisedKey, OldKey}

// Finding is one problem in one document. It never contains a secret
// value, only names: the file, the object, the data key.
type Finding struct {
	File string `json:"file"`
	// Line is where the document starts (or the line of Key in it), 1-based.
	Line int `json:"line"`
	// Doc is the object's 1-based position in the file, counting the items
	// of a List, as seal's own messages count them.
	Doc       int      `json:"doc"`
	Kind      string   `json:"kind,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
	Name      string   `json:"name,omitempty"`
	Key       string   `json:"key,omitempty"`
	Rule      string   `json:"rule"`
	RuleName  string   `json:"ruleName"`
	Severity  Severity `json:"severity"`
	Message   string   `json:"message"`
}

// Result is the outcome of [Lint].
type Result struct {
	Findings []Finding
	// Files and Documents count what was checked.
	Files     int
	Documents int
}
