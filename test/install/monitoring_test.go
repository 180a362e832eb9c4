package install

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"text/template"

	"github.com/prometheus/prometheus/promql/parser"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"

	"github.com/sealkit/sealkit/internal/release"
)

// otherMetrics are the metrics the rules and dashboard use that sealkit does
// not define: Prometheus' own, controller-runtime's and client-go's (named
// in docs/metrics.md's controller-runtime section or standard).
var otherMetrics = []string{
	"up", "leader_election_master_status", "process_resident_memory_bytes",
	"controller_runtime_reconcile_total", "controller_runtime_reconcile_errors_total",
	"controller_runtime_webhook_requests_total", "workqueue_depth", "rest_client_requests_total",
}

// promParser is Prometheus' own PromQL parser, with default (stable) options:
// what a Prometheus server loading the rules accepts.
var promParser = parser.NewParser(parser.Options{})

// checkExpr parses expr with Prometheus' parser and checks that every metric
// it selects is a documented sealkit metric or a known other one.
func checkExpr(t *testing.T, where, expr string, documented []string) {
	t.Helper()
	e, err := promParser.ParseExpr(expr)
	if err != nil {
		t.Errorf("%s: %q does not parse: %v", where, expr, err)
		return
	}
	n := 0
	parser.Inspect(e, func(node parser.Node, _ []parser.Node) error {
		vs, ok := node.(*parser.VectorSelector)
		if !ok {
			return nil
		}
		n++
		switch {
		case strings.HasPrefix(vs.Name, "sealkit_"):
			if !slices.Contains(documented, vs.Name) {
				t.Errorf("%s: metric %s is not in docs/metrics.md", where, vs.Name)
			}
		case !slices.Contains(otherMetrics, vs.Name):
			t.Errorf("%s: metric %q is neither sealkit's nor a known controller-runtime one", where, vs.Name)
		}
		return nil
	})
	if n == 0 {
		t.Errorf("%s: %q selects no metric", where, expr)
	}
}

// documentedMetrics reads the sealkit_* metric names from docs/metrics.md's
// tables.
func documentedMetrics(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	names := regexp.MustCompile("(?m)^\\| `(sealkit_[a-z_]+)` \\|").FindAllStringSubmatch(string(b), -1)
	var out []string
	for _, m := range names {
		out = append(out, m[1])
	}
	if len(out) < 5 {
		t.Fatalf("found only %v in docs/metrics.md", out)
	}
	return out
}

// TestPrometheusRules: every alert of manifests/monitoring parses with the
// Prometheus parser, selects documented metrics, and has templates that
// render as Prometheus renders them.
func TestPrometheusRules(t *testing.T) {
	documented := documentedMetrics(t)
	objs, err := release.RenderKustomize(filepath.Join(repoRoot(t), "manifests", "monitoring"))
	if err != nil {
		t.Fatal(err)
	}
	var rule *unstructured.Unstructured
	kinds := map[string]bool{}
	for _, o := range objs {
		kinds[o.GetKind()] = true
		if o.GetNamespace() != "sealkit-system" {
			t.Errorf("%s %s is in namespace %q", o.GetKind(), o.GetName(), o.GetNamespace())
		}
		if o.GetKind() == "PrometheusRule" {
			rule = o
		}
	}
	for _, k := range []string{"PrometheusRule", "ServiceMonitor", "ConfigMap"} {
		if !kinds[k] {
			t.Errorf("manifests/monitoring has no %s", k)
		}
	}
	if rule == nil {
		t.FailNow()
	}
	alerts := checkRuleGroups(t, rule, documented)
	for _, want := range []string{"SealkitControllerDown", "SealkitNoLeader", "SealkitRotationStuck", "SealkitUnsealFailures",
		"SealkitCompromisedKeyInUse", "SealkitWebhookCertificateNotRenewed"} {
		if !slices.Contains(alerts, want) {
			t.Errorf("no alert %s", want)
		}
	}
}

// checkRuleGroups checks the spec.groups of a PrometheusRule and returns the
// alert names.
func checkRuleGroups(t *testing.T, rule *unstructured.Unstructured, documented []string) []string {
	t.Helper()
	groups, _, err := unstructured.NestedSlice(rule.Object, "spec", "groups")
	if err != nil || len(groups) == 0 {
		t.Fatalf("PrometheusRule %s has no groups (%v)", rule.GetName(), err)
	}
	var alerts []string
	for _, g := range groups {
		rules, _, _ := unstructured.NestedSlice(g.(map[string]any), "rules")
		for _, r := range rules {
			rm := r.(map[string]any)
			name, _ := rm["alert"].(string)
			expr, _ := rm["expr"].(string)
			if name == "" || slices.Contains(alerts, name) {
				t.Errorf("alert without a name or named twice: %q", name)
			}
			alerts = append(alerts, name)
			checkExpr(t, "alert "+name, expr, documented)
			annotations, _, _ := unstructured.NestedStringMap(rm, "annotations")
			if annotations["summary"] == "" {
				t.Errorf("alert %s has no summary", name)
			}
			for k, v := range annotations {
				checkTemplate(t, "alert "+name+" annotation "+k, v)
			}
		}
	}
	return alerts
}

// checkTemplate renders an alert annotation as Prometheus does: text/template
// with $labels, $externalLabels and $value defined.
func checkTemplate(t *testing.T, where, text string) {
	t.Helper()
	const defs = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$value := .Value}}"
	tmpl, err := template.New(where).Option("missingkey=zero").Parse(defs + text)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	data := map[string]any{"Labels": map[string]string{"pod": "p", "key_id": "k", "result": "r"}, "ExternalLabels": map[string]string{}, "Value": 1.0}
	var sb strings.Builder
	if err := tmpl.Execute(&sb, data); err != nil {
		t.Errorf("%s: %v", where, err)
	}
}

// TestGrafanaDashboard: the dashboard is valid JSON and every query parses
// with Grafana's variables replaced as Grafana replaces them.
func TestGrafanaDashboard(t *testing.T) {
	documented := documentedMetrics(t)
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "manifests", "monitoring", "grafana-dashboard.json"))
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		UID    string `json:"uid"`
		Panels []struct {
			Title   string `json:"title"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana-dashboard.json: %v", err)
	}
	if d.UID == "" || len(d.Panels) < 8 {
		t.Fatalf("dashboard uid %q with %d panels", d.UID, len(d.Panels))
	}
	grafana := strings.NewReplacer("$__rate_interval", "1m", "$__interval", "1m", "$job", ".+")
	for _, p := range d.Panels {
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			checkExpr(t, "panel "+p.Title, grafana.Replace(tg.Expr), documented)
		}
	}
}

// TestMetricsDocExamples: the example alerts in docs/metrics.md parse too.
func TestMetricsDocExamples(t *testing.T) {
	documented := documentedMetrics(t)
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "docs", "metrics.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, examples, ok := strings.Cut(string(b), "## Example alerts")
	if !ok {
		t.Fatal("docs/metrics.md has no Example alerts section")
	}
	block := regexp.MustCompile("(?s)```\n(.*?)```").FindStringSubmatch(examples)
	if block == nil {
		t.Fatal("no code block under Example alerts")
	}
	for _, line := range strings.Split(block[1], "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			checkExpr(t, "docs/metrics.md", line, documented)
		}
	}
}
