package lint

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Formats are the output formats [Write] knows.
var Formats = []string{"text", "json", "github", "sarif"}

// WriteOptions say how [Write] writes a result.
type WriteOptions struct {
	// Format is one of [Formats].
	Format string
	// Version is the tool's version, for SARIF.
	Version string
	// Err is the configuration or keyring error Lint returned with the
	// result, if any: the run is then incomplete, which JSON and SARIF say.
	Err error
}

// Write writes r in o.Format. Suppressed findings appear only in the
// machine-readable formats (json, sarif), marked as such.
func Write(w io.Writer, r *Result, o WriteOptions) error {
	switch o.Format {
	case "text":
		return writeText(w, r)
	case "json":
		return writeJSON(w, r, o)
	case "github":
		return writeGitHub(w, r)
	case "sarif":
		return writeSARIF(w, r, o)
	}
	return fmt.Errorf("unknown format %q: want %s", o.Format, strings.Join(Formats, ", "))
}

// writeText writes one line per finding, as compilers do, so editors and
// terminals can jump to it: "FILE:LINE:COLUMN: SEVERITY: MESSAGE (ID name)".
func writeText(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Findings {
		b.WriteString(f.File)
		if f.Line > 0 {
			fmt.Fprintf(&b, ":%d", f.Line)
		}
		if f.Line > 0 && f.Column > 0 {
			fmt.Fprintf(&b, ":%d", f.Column)
		}
		fmt.Fprintf(&b, ": %s: %s (%s %s)\n", f.Severity, f.Message, f.Rule, f.RuleName)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// JSONReport is the document --format json writes. Its schema is stable:
// fields may be added, never renamed or removed (docs/gitops.md).
type JSONReport struct {
	Version   int `json:"version"`
	Files     int `json:"files"`
	Documents int `json:"documents"`
	Charts    int `json:"charts"`
	// Counts are the findings by severity, and how many were suppressed.
	Counts struct {
		Error      int `json:"error"`
		Warning    int `json:"warning"`
		Info       int `json:"info"`
		Suppressed int `json:"suppressed"`
	} `json:"counts"`
	KeyChecksSkipped int `json:"keyChecksSkipped"`
	// Notes are what the text output says on stderr: skipped checks, and
	// the configuration error that made the run incomplete.
	Notes      []string  `json:"notes"`
	Findings   []Finding `json:"findings"`
	Suppressed []Finding `json:"suppressed"`
}

func writeJSON(w io.Writer, r *Result, o WriteOptions) error {
	rep := JSONReport{Version: 1, Files: r.Files, Documents: r.Documents, Charts: r.Charts,
		KeyChecksSkipped: r.KeyChecksSkipped, Notes: notes(r, o.Err),
		Findings: orEmpty(r.Findings), Suppressed: orEmpty(r.Suppressed)}
	rep.Counts.Error, rep.Counts.Warning, rep.Counts.Info = r.Count(SeverityError), r.Count(SeverityWarning), r.Count(SeverityInfo)
	rep.Counts.Suppressed = len(r.Suppressed)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

func orEmpty(fs []Finding) []Finding {
	if fs == nil {
		return []Finding{}
	}
	return fs
}

// notes are the run's messages that are not findings.
func notes(r *Result, err error) []string {
	out := []string{}
	if n := r.KeyChecksNote(); n != "" {
		out = append(out, n)
	}
	if err != nil {
		out = append(out, "incomplete: "+err.Error())
	}
	return out
}

// writeGitHub writes GitHub Actions workflow commands, which the runner
// turns into annotations on the pull request's files.
func writeGitHub(w io.Writer, r *Result) error {
	var b strings.Builder
	for _, f := range r.Findings {
		level := map[Severity]string{SeverityError: "error", SeverityWarning: "warning"}[f.Severity]
		if level == "" {
			level = "notice"
		}
		fmt.Fprintf(&b, "::%s file=%s", level, ghProperty(f.File))
		if f.Line > 0 {
			fmt.Fprintf(&b, ",line=%d", f.Line)
		}
		if f.Line > 0 && f.Column > 0 {
			fmt.Fprintf(&b, ",col=%d", f.Column)
		}
		fmt.Fprintf(&b, ",title=%s::%s\n", ghProperty(f.Rule+" "+f.RuleName), ghData(f.Message))
	}
	if n := r.KeyChecksNote(); n != "" {
		fmt.Fprintf(&b, "::notice title=seal lint::%s\n", ghData(n))
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
