package lint

import (
	"bytes"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// sarifSchemaFile is the official OASIS schema; see testdata/sarif/README.md.
const sarifSchemaFile = "testdata/sarif/sarif-schema-2.1.0.json"

func compileSARIFSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.AssertFormat() // uri, uri-reference, date-time are checked too
	s, err := c.Compile(sarifSchemaFile)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSARIFSchema validates the SARIF output for every sample repository
// (findings of every rule, suppressed ones, notes, a configuration error)
// against the official SARIF 2.1.0 schema.
func TestSARIFSchema(t *testing.T) {
	schema := compileSARIFSchema(t)
	repos, err := filepath.Glob(filepath.Join(reposDir, "*"))
	if err != nil {
		t.Fatal(err)
	}
	rules := map[string]bool{}
	for _, repo := range append(repos, filepath.Join(reposDir, "missing")) {
		res, err := Lint([]string{repo}, Options{MaxKeyAge: 180 * 24 * 3600e9, Now: fixedNow})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range []error{nil, errors.New("keyring x.keys: no keys")} {
			var b bytes.Buffer
			if err := Write(&b, res, WriteOptions{Format: "sarif", Version: "v1.2.3", Err: e}); err != nil {
				t.Fatal(err)
			}
			inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if err := schema.Validate(inst); err != nil {
				t.Fatalf("%s: SARIF output does not match the schema: %v\n%s", repo, err, b.String())
			}
			var log struct {
				Runs []struct {
					Results []struct {
						RuleID       string
						Suppressions []any
					}
					Invocations []struct{ ExecutionSuccessful bool }
				}
			}
			if err := json.Unmarshal(b.Bytes(), &log); err != nil {
				t.Fatal(err)
			}
			run := log.Runs[0]
			if len(run.Results) != len(res.Findings)+len(res.Suppressed) || run.Invocations[0].ExecutionSuccessful != (e == nil) {
				t.Errorf("%s: %d results, want %d; invocation %+v", repo, len(run.Results), len(res.Findings)+len(res.Suppressed), run.Invocations)
			}
			for _, r := range run.Results {
				rules[r.RuleID] = true
			}
		}
	}
	for _, r := range Rules {
		if !rules[r.ID] {
			t.Errorf("no sample repository yields %s %s: its SARIF is not validated", r.ID, r.Name)
		}
	}
}

// TestSARIFSchemaCatchesMistakes shows the validation is real: output
// with a level SARIF does not have is refused.
func TestSARIFSchemaCatchesMistakes(t *testing.T) {
	schema := compileSARIFSchema(t)
	var b bytes.Buffer
	res := &Result{Findings: []Finding{{File: "a.yaml", Line: 1, Column: 1, Rule: "SK001", Severity: SeverityInfo, Message: "m"}}}
	if err := Write(&b, res, WriteOptions{Format: "sarif"}); err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(b.String(), `"level": "note"`, `"level": "info"`, 1)
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(bad))
	if err != nil {
		t.Fatal(err)
	}
	if schema.Validate(inst) == nil {
		t.Error(`the schema accepted level "info"`)
	}
}
