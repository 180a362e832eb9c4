package install

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v4/pkg/action"
	"helm.sh/helm/v4/pkg/chart/common"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/lint/support"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	kubefake "helm.sh/helm/v4/pkg/kube/fake"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"

	"github.com/sealkit/sealkit/internal/release"
)

const chartNamespace = "sealkit-system"

func chartDir(t *testing.T) string { return filepath.Join(repoRoot(t), "charts", "sealkit") }

func loadChart(t *testing.T) *chartv2.Chart {
	t.Helper()
	ch, err := loader.Load(chartDir(t))
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// render renders the chart as `helm template sealkit charts/sealkit -n
// sealkit-system` does, with the Helm SDK.
func render(t *testing.T, vals map[string]any) ([]*unstructured.Unstructured, error) {
	t.Helper()
	cfg := &action.Configuration{
		Releases:     storage.Init(driver.NewMemory()),
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: common.DefaultCapabilities,
	}
	in := action.NewInstall(cfg)
	in.DryRunStrategy = action.DryRunClient
	in.ReleaseName, in.Namespace = "sealkit", chartNamespace
	in.Replace = true
	in.KubeVersion = kubeVersion(t)
	rel, err := in.Run(loadChart(t), vals)
	if err != nil {
		return nil, err
	}
	r, ok := rel.(*releasev1.Release)
	if !ok {
		t.Fatalf("release is a %T", rel)
	}
	return release.DecodeObjects([]byte(r.Manifest))
}

// kubeVersion is the version of the test control plane (hack/build-assets.sh).
func kubeVersion(t *testing.T) *common.KubeVersion {
	t.Helper()
	v, err := common.ParseKubeVersion("v1.37.2")
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func mustRender(t *testing.T, vals map[string]any) []*unstructured.Unstructured {
	t.Helper()
	objs, err := render(t, vals)
	if err != nil {
		t.Fatalf("rendering the chart with %v: %v", vals, err)
	}
	return objs
}

// TestChartLint: helm lint --strict finds nothing, with the default values
// and with every optional part on.
func TestChartLint(t *testing.T) {
	for name, vals := range map[string]map[string]any{
		"defaults":      nil,
		"everything on": allOn(),
	} {
		l := action.NewLint()
		l.Strict, l.Namespace, l.KubeVersion = true, chartNamespace, kubeVersion(t)
		res := l.Run([]string{chartDir(t)}, vals)
		for _, m := range res.Messages {
			if m.Severity > support.InfoSev {
				t.Errorf("%s: %v", name, m)
			} else {
				t.Logf("%s: %v", name, m)
			}
		}
		for _, err := range res.Errors {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func allOn() map[string]any {
	return map[string]any{
		"image":            map[string]any{"digest": "sha256:" + strings.Repeat("ab", 32)},
		"networkPolicy":    map[string]any{"restrictEgress": true, "metricsFrom": []any{map[string]any{"namespaceSelector": map[string]any{}}}},
		"metrics":          map[string]any{"readers": []any{map[string]any{"kind": "ServiceAccount", "name": "prometheus", "namespace": "monitoring"}}},
		"serviceMonitor":   map[string]any{"enabled": true},
		"prometheusRule":   map[string]any{"enabled": true},
		"grafanaDashboard": map[string]any{"enabled": true},
	}
}

// helmOnly are the labels and annotations the chart adds to what the base has.
var helmOnly = []string{
	"app.kubernetes.io/instance", "app.kubernetes.io/managed-by", "app.kubernetes.io/version",
	"helm.sh/chart", "helm.sh/resource-policy",
}

func key(o *unstructured.Unstructured) string {
	return fmt.Sprintf("%s %s/%s", o.GetKind(), o.GetNamespace(), o.GetName())
}

// withoutHelmLabels strips what the chart adds on purpose, and the base's tag, so
// that equal objects are DeepEqual.
func withoutHelmLabels(o *unstructured.Unstructured) *unstructured.Unstructured {
	o = o.DeepCopy()
	for _, field := range []string{"labels", "annotations"} {
		m, _, _ := unstructured.NestedStringMap(o.Object, "metadata", field)
		for _, k := range helmOnly {
			delete(m, k)
		}
		if len(m) == 0 {
			unstructured.RemoveNestedField(o.Object, "metadata", field)
		} else {
			_ = unstructured.SetNestedStringMap(o.Object, m, "metadata", field)
		}
	}
	return o
}

// TestChartMatchesKustomizeBase: the chart's default render is the kustomize
// base, object for object (the Namespace aside: helm install
// --create-namespace makes it), once Helm's own labels are set aside.
func TestChartMatchesKustomizeBase(t *testing.T) {
	base := map[string]*unstructured.Unstructured{}
	for _, o := range renderBase(t) {
		if o.GetKind() == "Namespace" {
			continue
		}
		base[key(o)] = withoutHelmLabels(o)
	}
	chart := map[string]*unstructured.Unstructured{}
	for _, o := range mustRender(t, nil) {
		if _, dup := chart[key(o)]; dup {
			t.Errorf("the chart renders %s twice", key(o))
		}
		chart[key(o)] = withoutHelmLabels(o)
	}
	for k, b := range base {
		c, ok := chart[k]
		if !ok {
			t.Errorf("the chart does not render %s", k)
			continue
		}
		if !equalObjects(b.Object, c.Object) {
			by, _ := yaml.Marshal(b.Object)
			cy, _ := yaml.Marshal(c.Object)
			t.Errorf("%s differs.\nkustomize base:\n%s\nchart:\n%s", k, by, cy)
		}
	}
	for k := range chart {
		if _, ok := base[k]; !ok {
			t.Errorf("the chart renders %s, which the base does not have", k)
		}
	}
}

// equalObjects compares two decoded objects; numbers compare by value
// (YAML gives int64 or float64 depending on the text).
func equalObjects(a, b any) bool {
	ay, err1 := yaml.Marshal(a)
	by, err2 := yaml.Marshal(b)
	if err1 != nil || err2 != nil {
		return false
	}
	var an, bn any
	_ = yaml.Unmarshal(ay, &an)
	_ = yaml.Unmarshal(by, &bn)
	ay, _ = yaml.Marshal(an)
	by, _ = yaml.Marshal(bn)
	return string(ay) == string(by)
}

// TestChartDefaultImage: the default image is the chart's appVersion, the
// same tag as the base's Deployment.
func TestChartDefaultImage(t *testing.T) {
	ch := loadChart(t)
	want := release.ImageRepository + ":" + ch.Metadata.AppVersion
	if got := controllerContainer(t, mustRender(t, nil))["image"]; got != want {
		t.Errorf("chart image %v, want %s", got, want)
	}
	if got := controllerContainer(t, renderBase(t))["image"]; got != want {
		t.Errorf("kustomize base image %v, want the chart's appVersion %s", got, want)
	}
}

func find(objs []*unstructured.Unstructured, kind, name string) *unstructured.Unstructured {
	for _, o := range objs {
		if o.GetKind() == kind && o.GetName() == name {
			return o
		}
	}
	return nil
}

func kinds(objs []*unstructured.Unstructured) []string {
	var ks []string
	for _, o := range objs {
		ks = append(ks, o.GetKind()+"/"+o.GetName())
	}
	return ks
}

func controllerContainer(t *testing.T, objs []*unstructured.Unstructured) map[string]any {
	t.Helper()
	d := find(objs, "Deployment", "seal-controller")
	if d == nil {
		t.Fatalf("no Deployment seal-controller in %v", kinds(objs))
	}
	cs, _, _ := unstructured.NestedSlice(d.Object, "spec", "template", "spec", "containers")
	return cs[0].(map[string]any)
}

func args(t *testing.T, objs []*unstructured.Unstructured) []string {
	t.Helper()
	var out []string
	for _, a := range controllerContainer(t, objs)["args"].([]any) {
		out = append(out, a.(string))
	}
	return out
}

// TestChartValues: every value the chart documents changes what it should.
func TestChartValues(t *testing.T) {
	const recipient = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"
	objs := mustRender(t, map[string]any{
		"image":               map[string]any{"repository": "registry.example/sealkit", "tag": "v9.9.9"},
		"replicas":            3,
		"resources":           map[string]any{"limits": map[string]any{"memory": "1Gi"}},
		"watchNamespaces":     []any{"shop", "billing"},
		"keyRotationPeriod":   "168h",
		"recoveryRecipients":  []any{recipient},
		"extraArgs":           []any{"--concurrency=64"},
		"affinity":            map[string]any{"nodeAffinity": map[string]any{}},
		"tolerations":         []any{map[string]any{"key": "dedicated", "operator": "Exists"}},
		"priorityClassName":   "system-cluster-critical",
		"podDisruptionBudget": map[string]any{"enabled": false},
		"networkPolicy":       map[string]any{"enabled": false},
		"metrics":             map[string]any{"secure": false},
		"webhook":             map[string]any{"enabled": false},
		"createCRD":           false,
		"userRoles":           map[string]any{"enabled": false},
	})
	c := controllerContainer(t, objs)
	if c["image"] != "registry.example/sealkit:v9.9.9" {
		t.Errorf("image %v", c["image"])
	}
	a := args(t, objs)
	for _, want := range []string{
		"--watch-namespaces=shop,billing", "--key-rotation-period=168h", "--recovery-recipient=" + recipient,
		"--concurrency=64", "--enable-webhooks=false", "--metrics-secure=false",
	} {
		if !slices.Contains(a, want) {
			t.Errorf("args %q lack %s", a, want)
		}
	}
	d := find(objs, "Deployment", "seal-controller")
	spec, _, _ := unstructured.NestedMap(d.Object, "spec", "template", "spec")
	if r, _, _ := unstructured.NestedFieldNoCopy(d.Object, "spec", "replicas"); fmt.Sprint(r) != "3" {
		t.Errorf("replicas %v", r)
	}
	if spec["priorityClassName"] != "system-cluster-critical" || spec["tolerations"] == nil {
		t.Errorf("pod spec %v", spec)
	}
	if aff, _ := spec["affinity"].(map[string]any); aff["podAntiAffinity"] != nil || aff["nodeAffinity"] == nil {
		t.Errorf("affinity %v: the value replaces the default", aff)
	}
	if mem, _, _ := unstructured.NestedString(c, "resources", "limits", "memory"); mem != "1Gi" {
		t.Errorf("memory limit %q", mem)
	}
	for _, gone := range []string{
		"PodDisruptionBudget/seal-controller", "NetworkPolicy/seal-controller", "ValidatingWebhookConfiguration/seal-controller",
		"MutatingWebhookConfiguration/seal-controller", "Service/seal-controller-webhook",
		"CustomResourceDefinition/sealedsecrets.sealkit.dev", "ClusterRole/sealkit-edit", "ClusterRole/sealkit-view",
	} {
		if slices.Contains(kinds(objs), gone) {
			t.Errorf("%s rendered although disabled", gone)
		}
	}
}

// TestChartOptionalParts: ServiceMonitor, PrometheusRule, the dashboard and
// the metrics reader binding are off by default and render when enabled; the
// NetworkPolicy narrows metrics ingress and egress when asked; the rules are
// manifests/monitoring's and pass the Prometheus parser; a bad digest is
// refused.
func TestChartOptionalParts(t *testing.T) {
	defaults := kinds(mustRender(t, nil))
	for _, k := range []string{"ServiceMonitor", "PrometheusRule", "ConfigMap", "ClusterRoleBinding/sealkit-metrics-reader"} {
		for _, o := range defaults {
			if o == k || strings.HasPrefix(o, k+"/") {
				t.Errorf("%s rendered by default", o)
			}
		}
	}
	objs := mustRender(t, allOn())
	if img := controllerContainer(t, objs)["image"]; img != release.ImageRepository+"@sha256:"+strings.Repeat("ab", 32) {
		t.Errorf("image %v: the digest must win over the tag", img)
	}
	for _, want := range []string{"NetworkPolicy/seal-controller", "ServiceMonitor/seal-controller", "PrometheusRule/sealkit",
		"ConfigMap/sealkit-grafana-dashboard", "ClusterRoleBinding/sealkit-metrics-reader"} {
		if !slices.Contains(kinds(objs), want) {
			t.Errorf("%s not rendered with %v", want, allOn())
		}
	}
	if np := find(objs, "NetworkPolicy", "seal-controller"); np != nil {
		types, _, _ := unstructured.NestedStringSlice(np.Object, "spec", "policyTypes")
		ingress, _, _ := unstructured.NestedSlice(np.Object, "spec", "ingress")
		if !slices.Equal(types, []string{"Ingress", "Egress"}) || len(ingress) != 2 || ingress[1].(map[string]any)["from"] == nil {
			t.Errorf("NetworkPolicy with metricsFrom and restrictEgress: types %v ingress %v", types, ingress)
		}
	}
	if rule := find(objs, "PrometheusRule", "sealkit"); rule != nil {
		checkRuleGroups(t, rule, documentedMetrics(t))
		mon, err := release.RenderKustomize(filepath.Join(repoRoot(t), "manifests", "monitoring"))
		if err != nil {
			t.Fatal(err)
		}
		if !equalObjects(rule.Object["spec"], find(mon, "PrometheusRule", "sealkit").Object["spec"]) {
			t.Error("the chart's PrometheusRule differs from manifests/monitoring's")
		}
		if !equalObjects(find(objs, "ServiceMonitor", "seal-controller").Object["spec"], find(mon, "ServiceMonitor", "seal-controller").Object["spec"]) {
			t.Error("the chart's ServiceMonitor differs from manifests/monitoring's")
		}
	}
	if _, err := render(t, map[string]any{"image": map[string]any{"digest": "latest"}}); err == nil || !strings.Contains(err.Error(), "image.digest") {
		t.Errorf("a bad digest: %v", err)
	}
}

// TestChartValidateWrites: webhook.validateWrites says where the webhook
// that validates real writes is called: labelled namespaces by default,
// every namespace with "all"; anything else is refused.
func TestChartValidateWrites(t *testing.T) {
	objs := mustRender(t, map[string]any{"webhook": map[string]any{"validateWrites": "all"}})
	hooks, _, _ := unstructured.NestedSlice(find(objs, "ValidatingWebhookConfiguration", "seal-controller").Object, "webhooks")
	if len(hooks) != 2 {
		t.Fatalf("%d validating webhooks, want 2", len(hooks))
	}
	w := hooks[1].(map[string]any)
	if sel, ok := w["namespaceSelector"].(map[string]any); w["name"] != "validate.sealedsecrets.sealkit.dev" || !ok || len(sel) != 0 {
		t.Errorf("webhook %v: namespaceSelector %v, want {}", w["name"], w["namespaceSelector"])
	}
	if _, err := render(t, map[string]any{"webhook": map[string]any{"validateWrites": "some"}}); err == nil || !strings.Contains(err.Error(), "want labelled or all") {
		t.Errorf("validateWrites: some: %v", err)
	}
}
