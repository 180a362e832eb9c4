package lint

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// SARIF 2.1.0 (OASIS), the format GitHub code scanning and other
// dashboards import. The writer uses the small part of the format lint
// needs: one run, the rules, one result per finding (suppressed ones
// marked with their justification), and the run's notes as tool
// notifications. Paths relative to the working directory are given
// relative to %SRCROOT%, which is what code scanning resolves against the
// repository.

const (
	sarifSchema  = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
	sarifVersion = "2.1.0"
	srcRoot      = "%SRCROOT%"
	infoURI      = "https://github.com/sealkit/sealkit"
	rulesHelpURI = infoURI + "/blob/main/docs/gitops.md#rules"
)

type sarifLog struct {
	Schema  string     `json:"$schema"`
	Version string     `json:"version"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool               sarifTool                   `json:"tool"`
	Invocations        []sarifInvocation           `json:"invocations"`
	OriginalURIBaseIDs map[string]sarifArtifactLoc `json:"originalUriBaseIds,omitempty"`
	Results            []sarifResult               `json:"results"`
	ColumnKind         string                      `json:"columnKind"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifRule struct {
	ID                   string         `json:"id"`
	Name                 string         `json:"name"`
	ShortDescription     sarifText      `json:"shortDescription"`
	HelpURI              string         `json:"helpUri"`
	DefaultConfiguration sarifConfig    `json:"defaultConfiguration"`
	Properties           map[string]any `json:"properties"`
}

type sarifConfig struct {
	Level string `json:"level"`
}

type sarifInvocation struct {
	ExecutionSuccessful bool                `json:"executionSuccessful"`
	Notifications       []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level   string    `json:"level"`
	Message sarifText `json:"message"`
}

type sarifArtifactLoc struct {
	URI       string `json:"uri"`
	URIBaseID string `json:"uriBaseId,omitempty"`
}

type sarifResult struct {
	RuleID              string             `json:"ruleId"`
	RuleIndex           int                `json:"ruleIndex"`
	Level               string             `json:"level"`
	Message             sarifText          `json:"message"`
	Locations           []sarifLocation    `json:"locations"`
	PartialFingerprints map[string]string  `json:"partialFingerprints"`
	Suppressions        []sarifSuppression `json:"suppressions,omitempty"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLoc `json:"artifactLocation"`
	Region           *sarifRegion     `json:"region,omitempty"`
}

type sarifRegion struct {
	StartLine   int `json:"startLine"`
	StartColumn int `json:"startColumn,omitempty"`
}

type sarifSuppression struct {
	Kind          string `json:"kind"`
	Justification string `json:"justification"`
}

func sarifLevel(s Severity) string {
	if s == SeverityInfo {
		return "note"
	}
	return string(s)
}

func writeSARIF(w io.Writer, r *Result, o WriteOptions) error {
	run := sarifRun{
		Tool: sarifTool{Driver: sarifDriver{Name: "seal lint", Version: o.Version,
			InformationURI: infoURI, Rules: sarifRules()}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: o.Err == nil}},
		Results:     []sarifResult{},
		ColumnKind:  "unicodeCodePoints",
	}
	if n := r.KeyChecksNote(); n != "" {
		run.Invocations[0].Notifications = append(run.Invocations[0].Notifications, sarifNotification{"note", sarifText{n}})
	}
	if o.Err != nil {
		run.Invocations[0].Notifications = append(run.Invocations[0].Notifications, sarifNotification{"error", sarifText{o.Err.Error()}})
	}
	relative := false
	for _, list := range [][]Finding{r.Findings, r.Suppressed} {
		for _, f := range list {
			res := sarifFinding(f)
			relative = relative || res.Locations[0].PhysicalLocation.ArtifactLocation.URIBaseID != ""
			run.Results = append(run.Results, res)
		}
	}
	if wd, err := os.Getwd(); err == nil && relative {
		run.OriginalURIBaseIDs = map[string]sarifArtifactLoc{srcRoot: {URI: fileURI(wd) + "/"}}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{Schema: sarifSchema, Version: sarifVersion, Runs: []sarifRun{run}})
}

func sarifRules() []sarifRule {
	var out []sarifRule
	for _, r := range Rules {
		out = append(out, sarifRule{ID: r.ID, Name: r.Name, ShortDescription: sarifText{r.Summary},
			HelpURI: rulesHelpURI, DefaultConfiguration: sarifConfig{sarifLevel(r.Severity)},
			Properties: map[string]any{"tags": []string{"security", "secrets"}, "problem.severity": map[Severity]string{
				SeverityError: "error", SeverityWarning: "warning", SeverityInfo: "recommendation"}[r.Severity]}})
	}
	return out
}

func sarifFinding(f Finding) sarifResult {
	loc := sarifPhysical{ArtifactLocation: artifact(f.File)}
	if f.Line > 0 {
		loc.Region = &sarifRegion{StartLine: f.Line, StartColumn: f.Column}
	}
	// The fingerprint names what the finding is about, not where: it
	// survives lines added above it, so code scanning keeps the alert.
	sum := sha256.Sum256([]byte(strings.Join([]string{f.Rule, filepath.ToSlash(f.File), f.Kind, f.Namespace, f.Name, f.Key}, "\x00")))
	res := sarifResult{RuleID: f.Rule, RuleIndex: ruleIndex(f.Rule), Level: sarifLevel(f.Severity),
		Message: sarifText{f.Message}, Locations: []sarifLocation{{PhysicalLocation: loc}},
		PartialFingerprints: map[string]string{"sealkitFinding/v1": hex.EncodeToString(sum[:16])}}
	if s := f.Suppression; s != nil {
		res.Suppressions = []sarifSuppression{{Kind: s.Kind, Justification: s.Reason + " (" + s.Where + ")"}}
	}
	return res
}

func ruleIndex(id string) int {
	for i, r := range Rules {
		if r.ID == id {
			return i
		}
	}
	return -1
}

// artifact names a file: relative to %SRCROOT% (the working directory)
// when it is relative, else by its file URI.
func artifact(path string) sarifArtifactLoc {
	if filepath.IsAbs(path) {
		return sarifArtifactLoc{URI: fileURI(path)}
	}
	p := filepath.ToSlash(filepath.Clean(path))
	return sarifArtifactLoc{URI: (&url.URL{Path: p}).String(), URIBaseID: srcRoot}
}

func fileURI(abs string) string {
	return (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs)}).String()
}
