package lint

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	k8syaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// TestRepos lints every sample repository: the clean one has no error or
// warning (only information about what sealkit does not manage), each
// other one exactly its class of problem.
func TestRepos(t *testing.T) {
	for repo, want := range map[string]struct {
		rules      map[string]int
		suppressed int
	}{
		"clean":           {map[string]int{"SK010": 2}, 2},
		"plaintext":       {map[string]int{"SK001": 9, "SK010": 1}, 0},
		"malformed":       {map[string]int{"SK002": 1, "SK003": 5}, 0},
		"undecodable":     {map[string]int{"SK004": 3}, 0},
		"scope":           {map[string]int{"SK003": 1, "SK005": 1}, 0},
		"unknown-key":     {map[string]int{"SK006": 1}, 0},
		"retired-key":     {map[string]int{"SK007": 1}, 0},
		"compromised-key": {map[string]int{"SK008": 1}, 0},
		"old-key":         {map[string]int{"SK009": 1}, 0},
		"chart":           {map[string]int{"SK004": 1, "SK006": 1, "SK012": 1}, 0},
		"suppress":        {map[string]int{"SK001": 1, "SK014": 1}, 2},
	} {
		t.Run(repo, func(t *testing.T) {
			res, err := Lint([]string{filepath.Join(reposDir, repo)}, Options{MaxKeyAge: 180 * 24 * time.Hour, Now: fixedNow})
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, f := range res.Findings {
				got[f.Rule]++
			}
			if !maps.Equal(got, want.rules) || len(res.Suppressed) != want.suppressed {
				t.Errorf("findings by rule = %v, %d suppressed; want %v, %d", got, len(res.Suppressed), want.rules, want.suppressed)
				for _, f := range slices.Concat(res.Findings, res.Suppressed) {
					t.Logf("%s:%d:%d: [%s] %s (suppressed: %v)", f.File, f.Line, f.Column, f.Rule, f.Message, f.Suppression)
				}
			}
			for _, f := range res.Findings {
				if f.Line < 1 || f.Column < 1 {
					t.Errorf("finding without a location: %+v", f)
				}
			}
			assertNoCanary(t, res)
		})
	}
}

// assertNoCanary checks that no output format ever contains the sample
// repositories' plaintext.
func assertNoCanary(t *testing.T, res *Result) {
	t.Helper()
	for _, format := range Formats {
		var b bytes.Buffer
		if err := Write(&b, res, WriteOptions{Format: format}); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(b.String(), "test-only-canary") || strings.Contains(b.String(), "dGVzdC1vbmx5LWNhbmFyeQ") {
			t.Errorf("%s output contains a secret value:\n%s", format, b.String())
		}
	}
}

func TestPlaintextDetails(t *testing.T) {
	res, err := Lint([]string{filepath.Join(reposDir, "plaintext")}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	f := res.Findings[0]
	want := Finding{File: filepath.Join(reposDir, "plaintext/apps.yaml"), Line: 16, Column: 3, Doc: 2, Kind: "Secret",
		Namespace: "shop", Name: "db", Key: "password", Rule: "SK001", RuleName: "plaintext-secret", Severity: SeverityError}
	f.Message = ""
	if f != want {
		t.Errorf("first finding = %+v\nwant %+v", f, want)
	}
}

func TestLinesAndIndexes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "m.yaml")
	content := `# leading comment
---
apiVersion: v1
kind: ConfigMap
metadata: {name: a}
---

# comment-only document
---
apiVersion: v1
kind: Secret
metadata: {name: b}
data:
  one: YQ==
---
apiVersion: v1
kind: Secret
metadata: {name: broken
---
apiVersion: v1
kind: SecretList
items:
- apiVersion: v1
  kind: Secret
  metadata:
    name: c
  stringData: {name: x, two: "y"}
---
{not: [a manifest
`
	if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Lint([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%d@%d:%d %s %s", f.Doc, f.Line, f.Column, f.Rule, f.Key))
	}
	want := []string{"2@14:3 SK001 one", "3@18:1 SK002 ", "4@27:16 SK001 name", "4@27:25 SK001 two"}
	if !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
	if res.Documents != 4 || res.Files != 1 {
		t.Errorf("counted %d files, %d documents", res.Files, res.Documents)
	}
	if !strings.Contains(res.Findings[1].Message, "line 18") {
		t.Errorf("syntax error does not name the file's line: %s", res.Findings[1].Message)
	}
}

// TestSeparatorsAsKubectlReadsThem: a document separator is "---" followed
// by nothing but blanks or a comment, as Kubernetes' YAMLReader (kubectl
// apply) reads it. A plaintext Secret after "---\t# note" or "---#x" is a
// document of its own that kubectl would apply, so lint must see it.
func TestSeparatorsAsKubectlReadsThem(t *testing.T) {
	secret := func(name string) string {
		return "apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + "}\nstringData: {k: v}\n"
	}
	content := secret("a") + "---\t# tab, then a comment\n" + secret("b") + "---# no blank\n" + secret("c") +
		"--- \t \n" + secret("d") + "---\n" + secret("e")
	var docs int
	r := k8syaml.NewYAMLReader(bufio.NewReader(strings.NewReader(content)))
	for {
		d, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(bytes.TrimSpace(d)) > 0 {
			docs++
		}
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "m.yaml"), content)
	res, err := Lint([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, fmt.Sprintf("%d@%d %s", f.Doc, f.Line, f.Rule))
	}
	want := []string{"1@4 SK001", "2@9 SK001", "3@14 SK001", "4@19 SK001", "5@24 SK001"}
	if docs != 5 || res.Documents != docs || !slices.Equal(got, want) {
		t.Errorf("kubectl reads %d documents; lint counted %d with findings %q, want %q", docs, res.Documents, got, want)
	}
}

// TestGeneratorFromSOPSFiles: a secretGenerator whose files are SOPS
// encrypted (Flux and KSOPS decrypt them at build time) is not plaintext;
// a plain file, or one outside the kustomization's directory, still is.
func TestGeneratorFromSOPSFiles(t *testing.T) {
	dir := t.TempDir()
	app := filepath.Join(dir, "app")
	writeFile(t, filepath.Join(app, "values.enc.yaml"), "apiKey: ENC[AES256_GCM,data:Zm9v,iv:YQ==,tag:YQ==,type:str]\nsops:\n  mac: ENC[AES256_GCM,data:Zm9v,iv:YQ==,tag:YQ==,type:str]\n  version: 3.9.0\n")
	writeFile(t, filepath.Join(app, "db.enc.env"), "PASSWORD=ENC[AES256_GCM,data:Zm9v,iv:YQ==,tag:YQ==,type:str]\nsops_mac=ENC[AES256_GCM,data:Zm9v,iv:YQ==,tag:YQ==,type:str]\nsops_version=3.9.0\n")
	writeFile(t, filepath.Join(app, "plain.yaml"), "apiKey: s3cret\n")
	writeFile(t, filepath.Join(dir, "outside.yaml"), "sops:\n  version: 3.9.0\n")
	writeFile(t, filepath.Join(app, "kustomization.yaml"), `secretGenerator:
- name: encrypted
  files: [values.yaml=values.enc.yaml]
  envs: [db.enc.env]
- name: mixed
  files: [values.enc.yaml, plain.yaml, ../outside.yaml]
`)
	res, err := Lint([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range res.Findings {
		got = append(got, f.Rule+" "+f.Message)
	}
	want := []string{`SK001 kustomize secretGenerator "mixed" builds a Secret from 2 plaintext literal(s) or file(s) in the repository: seal it instead`}
	if !slices.Equal(got, want) {
		t.Errorf("findings = %q, want %q", got, want)
	}
}

// TestSyntaxErrorsWithheld checks that a parser message quoting the
// document does not carry a plaintext value into the findings.
func TestSyntaxErrorsWithheld(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "m.yaml"),
		"apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData:\n  ? {test-only-canary: x}\n  : y\n")
	res, err := Lint([]string{dir}, Options{})
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Rule != Unparseable.ID {
		t.Fatalf("findings = %+v, %v", res, err)
	}
	assertNoCanary(t, res)
}

func TestTooLarge(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "empty.yaml"), "")
	writeFile(t, filepath.Join(dir, "large.yaml"), "# "+strings.Repeat("x", sealed.MaxManifestSize)+"\n")
	res, err := Lint([]string{dir}, Options{})
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Rule != Unparseable.ID ||
		!strings.HasSuffix(res.Findings[0].File, "large.yaml") || !strings.Contains(res.Findings[0].Message, "exceeds 8 MiB") {
		t.Fatalf("findings = %+v, %v", res, err)
	}
}

func TestJSONStream(t *testing.T) {
	dir := t.TempDir()
	content := "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\"}}\n\n" +
		"{\"apiVersion\": \"v1\", \"kind\": \"Secret\",\n \"metadata\": {\"name\": \"b\"}, \"data\": {\"k\": \"YQ==\"}}\n"
	if err := os.WriteFile(filepath.Join(dir, "m.json"), []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Lint([]string{dir}, Options{})
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Line != 4 || res.Findings[0].Column != 38 || res.Findings[0].Doc != 2 {
		t.Fatalf("findings = %+v, %v", res.Findings, err)
	}
}

func TestWalk(t *testing.T) {
	dir := t.TempDir()
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n"
	for _, p := range []string{"a.yaml", "b/c.yml", "b/d.json", ".git/e.yaml", "f.txt", "vendor/g.yaml"} {
		writeFile(t, filepath.Join(dir, p), secret)
	}
	if err := os.WriteFile(filepath.Join(dir, "b/d.json"), []byte(`{"apiVersion":"v1","kind":"Secret","metadata":{"name":"s"},"data":{"k":"YQ=="}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Lint([]string{dir, filepath.Join(dir, "f.txt"), filepath.Join(dir, "a.yaml")}, Options{Exclude: []string{"vendor"}})
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, f := range res.Findings {
		rel, _ := filepath.Rel(dir, f.File)
		files = append(files, filepath.ToSlash(rel))
	}
	if want := []string{"a.yaml", "b/c.yml", "b/d.json", "f.txt"}; !slices.Equal(files, want) {
		t.Errorf("files with findings = %q, want %q", files, want)
	}
	// A missing path is a finding; the other paths are still checked.
	res, err = Lint([]string{filepath.Join(dir, "missing"), filepath.Join(dir, "a.yaml")}, Options{})
	if err != nil || len(res.Findings) != 2 || res.Findings[1].Rule != UnreadablePath.ID ||
		!strings.Contains(res.Findings[1].Message, "missing: no such file or directory") || res.Files != 1 {
		t.Errorf("missing path: %+v, %v", res, err)
	}
}

func TestKeyringErrors(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, ".sealkit.yaml"), "rules:\n- path: '**'\n  keys: [missing.keys]\n")
	writeFile(t, filepath.Join(dir, "a.yaml"), "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: v}\n")
	writeFile(t, filepath.Join(dir, "b.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n")
	res, err := Lint([]string{dir}, Options{})
	if err == nil || !strings.Contains(err.Error(), "missing.keys") || strings.Count(err.Error(), "missing.keys") != 1 {
		t.Errorf("error = %v, want one naming missing.keys", err)
	}
	if res == nil || len(res.Findings) != 1 {
		t.Errorf("the other checks did not run: %+v", res)
	}
	writeFile(t, filepath.Join(dir, ".sealkit.yaml"), "rules:\n- path: '**'\n  kes: [x]\n")
	if _, err := Lint([]string{dir}, Options{}); err == nil || !strings.Contains(err.Error(), ".sealkit.yaml:3: unknown field") {
		t.Errorf("error = %v, want one naming the config line", err)
	}
}

func TestKeysFlagWithoutConfig(t *testing.T) {
	dir := t.TempDir()
	prod := testIdentity(t, "prod")
	ring := filepath.Join(dir, "ring.keys")
	writeFile(t, ring, keyringFile(key(testIdentity(t, "dev"), "2026-11-01", keyring.StateActive)))
	writeFile(t, filepath.Join(dir, "m", "db.yaml"), manifests(t, "yaml", sealedSecret(t, "shop", "db", crypto.ScopeStrict,
		map[string]string{"k": "v"}, prod)))
	res, err := Lint([]string{filepath.Join(dir, "m")}, Options{Keyrings: []string{ring}})
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Rule != UnknownKey.ID {
		t.Fatalf("findings = %+v, %v", res, err)
	}
	// Without --keys and without .sealkit.yaml, key checks are skipped.
	if res, _ := Lint([]string{filepath.Join(dir, "m")}, Options{}); len(res.Findings) != 0 {
		t.Errorf("findings without keyrings = %+v", res.Findings)
	}
}

func TestFormats(t *testing.T) {
	res := &Result{Files: 1, Documents: 2, Findings: []Finding{{File: "a,b:c.yaml", Line: 3, Doc: 2, Rule: "SK001",
		RuleName: "plaintext-secret", Severity: SeverityError, Message: "100% bad\nreally"}, {File: "x.yaml", Line: 1, Doc: 1,
		Rule: "SK009", RuleName: "old-key", Severity: SeverityWarning, Message: "old"}}}
	var b bytes.Buffer
	if err := Write(&b, res, WriteOptions{Format: "github"}); err != nil {
		t.Fatal(err)
	}
	want := "::error file=a%2Cb%3Ac.yaml,line=3,title=SK001 plaintext-secret::100%25 bad%0Areally\n" +
		"::warning file=x.yaml,line=1,title=SK009 old-key::old\n"
	if b.String() != want {
		t.Errorf("github output:\n%s\nwant:\n%s", b.String(), want)
	}
	b.Reset()
	if err := Write(&b, res, WriteOptions{Format: "text"}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(b.String(), "a,b:c.yaml:3: error: 100% bad\nreally (SK001 plaintext-secret)\n") {
		t.Errorf("text output: %s", b.String())
	}
	b.Reset()
	if err := Write(&b, &Result{}, WriteOptions{Format: "json"}); err != nil {
		t.Fatal(err)
	}
	var rep map[string]any
	if err := json.Unmarshal(b.Bytes(), &rep); err != nil || rep["findings"] == nil || rep["version"] != 1.0 {
		t.Errorf("json output %s: %v", b.String(), err)
	}
	if Write(&b, res, WriteOptions{Format: "xml"}) == nil {
		t.Error("unknown format accepted")
	}
}

func TestParseAge(t *testing.T) {
	for in, want := range map[string]time.Duration{"90d": 90 * 24 * time.Hour, "36h": 36 * time.Hour, "0d": 0} {
		if got, err := ParseAge(in); err != nil || got != want {
			t.Errorf("ParseAge(%q) = %v, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "d", "-1h", "ninety", "1.5d"} {
		if _, err := ParseAge(in); err == nil {
			t.Errorf("ParseAge(%q) succeeded", in)
		}
	}
	if FormatAge(90*24*time.Hour) != "90d" || FormatAge(36*time.Hour) != "36h0m0s" {
		t.Error("FormatAge")
	}
}

// TestSuppressionScopes: a comment covers its document (also in a Helm
// template), an annotation its object (also a List item), a .sealkit.yaml
// entry its paths; an unknown rule in .sealkit.yaml is a configuration
// error.
func TestSuppressionScopes(t *testing.T) {
	dir := t.TempDir()
	secret := "apiVersion: v1\nkind: Secret\nmetadata: {name: %s}\nstringData: {password: hunter2}\n"
	writeFile(t, filepath.Join(dir, "chart/Chart.yaml"), "apiVersion: v2\nname: c\nversion: 1.0.0\n")
	writeFile(t, filepath.Join(dir, "chart/templates/s.yaml"), fmt.Sprintf(secret, "a")+
		"---\n# seal-lint-ignore plaintext-secret demo chart: the value is documented as public\n"+fmt.Sprintf(secret, "b"))
	writeFile(t, filepath.Join(dir, "list.yaml"), "apiVersion: v1\nkind: List\nitems:\n"+
		"- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: c\n    annotations: {sealkit.dev/lint-ignore: SK001 public test key}\n  stringData: {k: v}\n"+
		"- apiVersion: v1\n  kind: Secret\n  metadata: {name: d}\n  stringData: {k: v}\n")
	res, err := Lint([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got, sup []string
	for _, f := range res.Findings {
		got = append(got, f.Name)
	}
	for _, f := range res.Suppressed {
		sup = append(sup, f.Name+": "+f.Suppression.Reason)
	}
	if want := []string{"a", "d"}; !slices.Equal(got, want) {
		t.Errorf("findings for %q, want %q", got, want)
	}
	if want := []string{"b: demo chart: the value is documented as public", "c: public test key"}; !slices.Equal(sup, want) {
		t.Errorf("suppressed %q, want %q", sup, want)
	}
	writeFile(t, filepath.Join(dir, ".sealkit.yaml"), "lint:\n  ignore:\n  - path: '**'\n    rules: [SK001, no-such-rule]\n    reason: x\n")
	res, err = Lint([]string{dir}, Options{})
	if err == nil || !strings.Contains(err.Error(), `.sealkit.yaml:3: lint: ignore: names unknown rule "no-such-rule"`) || len(res.Findings) != 2 {
		t.Errorf("unknown rule in .sealkit.yaml: %v, %d findings", err, len(res.Findings))
	}
	writeFile(t, filepath.Join(dir, ".sealkit.yaml"), "lint:\n  ignore:\n  - path: '**'\n    rules: [SK001]\n    reason: all fixtures\n")
	if res, err = Lint([]string{dir}, Options{}); err != nil || len(res.Findings) != 0 || len(res.Suppressed) != 4 {
		t.Errorf("config ignore: %+v, %v", res, err)
	}
}

// TestChartMessagesWithheld renders a chart whose fail and required
// messages quote a value: nothing of it reaches a log or a finding, and
// rendering goes on.
func TestChartMessagesWithheld(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "c/Chart.yaml"), "apiVersion: v2\nname: c\nversion: 1.0.0\n")
	writeFile(t, filepath.Join(dir, "c/values.yaml"), "password: test-only-canary\nlegacy: true\n")
	writeFile(t, filepath.Join(dir, "c/templates/s.yaml"), `{{- if .Values.legacy }}{{ fail (printf "legacy is gone, password %s" .Values.password) }}{{ end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ required (printf "token needed (password is %s)" .Values.password) .Values.token }}x
data:
  bad: {{ .Values.password | quote }}
---
apiVersion: sealkit.dev/v1alpha1
kind: SealedSecret
metadata: {name: s, namespace: shop}
spec:
  encryptedData:
    password: {{ .Values.password }}
`)
	var logs bytes.Buffer
	defer slog.SetDefault(slog.Default())
	slog.SetDefault(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	res, err := Lint([]string{dir}, Options{})
	if err != nil || len(res.Findings) != 1 || res.Findings[0].Rule != UndecodableValue.ID || res.Findings[0].Line != 14 || res.Documents != 2 {
		t.Fatalf("findings = %+v, %v", res, err)
	}
	if strings.Contains(logs.String(), "canary") {
		t.Errorf("rendering logged a value: %s", logs.String())
	}
	assertNoCanary(t, res)
}

// TestBitnamiLeftovers: a Bitnami SealedSecret is information in a
// repository that does not use sealkit, and a warning, left over from a
// migration, where a .sealkit.yaml rule covers its file.
func TestBitnamiLeftovers(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "legacy", "db.yaml"), bitnamiSealedSecret())
	writeFile(t, filepath.Join(dir, "prod", "db.yaml"), bitnamiSealedSecret())
	writeFile(t, filepath.Join(dir, ".sealkit.yaml"), "rules:\n- path: prod/**\n  recipients: ["+testIdentity(t, "prod").Recipient().String()+"]\n")
	writeFile(t, filepath.Join(dir, ".git", "HEAD"), "ref: refs/heads/main\n")
	res, err := Lint([]string{dir}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Severity{}
	for _, f := range res.Findings {
		if f.Rule == NotSealkit.ID {
			got[filepath.Base(filepath.Dir(f.File))] = f.Severity
			if !strings.Contains(f.Message, "seal migrate") {
				t.Errorf("%s: %s", f.File, f.Message)
			}
		}
	}
	if got["legacy"] != SeverityInfo || got["prod"] != SeverityWarning {
		t.Errorf("severities %v, want legacy info, prod warning", got)
	}
}
