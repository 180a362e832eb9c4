package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats are the output formats [Write] knows.
var Formats = []string{"text", "json", "github"}

// Write writes the findings in format: "text", "json" or "github".
func Write(w io.Writer, r *Result, format string) error {
	switch format {
	case "text":
		return writeText(w, r)
	case "json":
		return writeJSON(w, r)
	case "github":
		return writeGitHub(w, r)
	}
	return fmt.Errorf("unknown format %q: want %s", format, strings.Join(Formats, ", "))
}

// writeText writes one line per finding: "FILE:DOC: [ID name] message".
func writeText(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Findings {
		fmt.Fprintf(&b, "%s:%d: [%s %s] %s\n", f.File, f.Doc, f.Rule, f.RuleName, f.Message)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSONReport is the document --format json writes. Its schema is stable:
// fields may be added, never renamed or removed (docs/gitops.md).
type JSONReport struct {
	Version   int       `json:"version"`
	Files     int       `json:"files"`
	Documents int       `json:"documents"`
	Findings  []Finding `json:"findings"`
}

func writeJSON(w io.Writer, r *Result) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	findings := r.Findings
	if findings == nil {
		findings = []Finding{}
	}
	return enc.Encode(JSONReport{Version: 1, Files: r.Files, Documents: r.Documents, Findings: findings})
}

// writeGitHub writes GitHub Actions workflow commands, which the runner
// turns into annotations on the pull request's files.
func writeGitHub(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Findings {
		level := "error"
		if f.Severity == SeverityWarning {
			level = "warning"
		}
		fmt.Fprintf(&b, "::%s file=%s,line=%d,title=%s::%s\n", level,
			ghProperty(f.File), f.Line, ghProperty(f.Rule+" "+f.RuleName), ghData(f.Message))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// ghData escapes a workflow command's message, as @actions/core does.
func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

// ghProperty escapes a workflow command's property value.
func ghProperty(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}
