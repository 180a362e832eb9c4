package lint

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	gotemplate "text/template"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/sealkit/sealkit/pkg/sealed"
)

// Helm charts are checked twice over, each way where it is exact:
//
//   - Their templates' source is read for Secrets with literal values
//     (template.go): a literal is committed plaintext whatever the chart is
//     rendered with, and even when a condition leaves it out of one
//     rendering. A value coming from a template action is not plaintext:
//     it is resolved when the chart is installed.
//   - The chart is rendered with the Helm SDK, with its default values
//     plus the values files its .sealkit.yaml rule names (values:), and
//     the objects it makes are checked like any manifest: the
//     SealedSecrets a chart templates from sealed values in its values
//     files get every check, keys included. Findings point at the template
//     line that made them.
//
// Rendering is offline: no cluster (lookup returns nothing), default
// capabilities, release "release-name" in namespace "default", as helm
// template does; missing required values and fail do not stop it, so a
// chart that needs deploy-time values still renders.

// Release options charts are rendered with.
const (
	releaseName      = "release-name"
	releaseNamespace = "default"
)

// lintChart checks the chart in dir.
func lintChart(dir string, res *resolver, opts *Options) unitResult {
	s, cfgErr := res.forFile(filepath.Join(dir, chartFile))
	u := unitResult{charts: 1, err: cfgErr}
	sources := map[string]*template{}
	staticObjects := 0
	for _, f := range templateFiles(dir) {
		data, tooLarge, err := readFile(f)
		if err != nil {
			r := unreadable(f, err)
			u.findings = append(u.findings, r.findings...)
			continue
		}
		u.files++
		if tooLarge {
			continue
		}
		t := parseTemplate(data)
		sources[f] = t
		k := newChecker(f, s, opts)
		t.literalSecrets(k)
		staticObjects += k.objects
		u.add(k)
	}
	var values []string
	if s != nil {
		values = s.values
	}
	rendered, err := renderChart(dir, values)
	if err != nil {
		k := newChecker(filepath.Join(dir, chartFile), s, opts)
		k.report(&doc{c: &chunk{line: 1}}, nil, "", ChartNotRendered,
			"chart %s could not be rendered, so the objects it makes were not checked: %s",
			dir, sealed.WithholdQuotes(err.Error()))
		u.add(k)
		u.objects += staticObjects
		return u
	}
	for _, name := range slices.Sorted(maps.Keys(rendered)) {
		src := filepath.Join(dir, filepath.FromSlash(name[strings.IndexByte(name, '/')+1:]))
		t := sources[src]
		if t == nil {
			t = parseTemplate([]byte(rendered[name])) // a packaged subchart: locate in the output
		}
		k := newChecker(src, s, opts)
		k.tmpl = t
		for _, c := range split([]byte(rendered[name])) {
			k.chunk(c)
		}
		u.objects += k.objects
		u.add(k)
	}
	return u
}

// templateFiles lists the template sources of the chart in dir and of the
// subcharts unpacked in its charts/.
func templateFiles(dir string) []string {
	var out []string
	for _, sub := range []string{"templates", "charts"} {
		_ = filepath.WalkDir(filepath.Join(dir, sub), func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.Type().IsRegular() && isTemplateSource(p) {
				out = append(out, p)
			}
			return nil
		})
	}
	return out
}

func isTemplateSource(p string) bool {
	if strings.Contains(filepath.ToSlash(p), "/charts/") && !strings.Contains(filepath.ToSlash(p), "/templates/") {
		return false // a subchart's values or Chart.yaml, not a template
	}
	switch strings.ToLower(filepath.Ext(p)) {
	case ".yaml", ".yml", ".json", ".tpl":
		return true
	}
	return false
}

// renderChart renders the chart in dir with its defaults and values files
// (applied in order, later ones winning), returning its templates' output
// by name ("CHART/templates/FILE").
func renderChart(dir string, valuesFiles []string) (map[string]string, error) {
	ch, err := loader.LoadDir(dir)
	if err != nil {
		return nil, err
	}
	if err := missingDependencies(ch); err != nil {
		return nil, err
	}
	vals := map[string]any{}
	for _, f := range valuesFiles {
		v, err := common.ReadValuesFile(f)
		if err != nil {
			if os.IsNotExist(err) {
				return nil, fmt.Errorf("values file %s (named in .sealkit.yaml) does not exist", f)
			}
			return nil, fmt.Errorf("values file %s: %w", f, err)
		}
		vals = loader.MergeMaps(vals, v)
	}
	if err := chartutil.ProcessDependencies(ch, vals); err != nil {
		return nil, err
	}
	top, err := util.ToRenderValuesWithSchemaValidation(ch, vals, common.ReleaseOptions{
		Name: releaseName, Namespace: releaseNamespace, Revision: 1, IsInstall: true}, nil, true)
	if err != nil {
		return nil, err
	}
	out, err := engine.Engine{CustomTemplateFuncs: quietFuncs}.RenderWithContext(context.Background(), ch, top)
	if err != nil {
		return nil, err
	}
	for name, text := range out {
		if !manifestExt(name) || strings.TrimSpace(text) == "" {
			delete(out, name)
		}
	}
	return out, nil
}

// quietFuncs replace Helm's required and fail: a missing required value
// or a fail does not stop rendering (lint checks what the chart makes, not
// whether today's values are complete), and their messages, which chart
// authors fill with values, are never printed (Helm's own lint mode logs
// them).
var quietFuncs = gotemplate.FuncMap{
	"required": func(_ string, v any) (any, error) {
		if v == nil {
			return "", nil
		}
		return v, nil
	},
	"fail": func(string) (string, error) { return "", nil },
}

// missingDependencies refuses a chart whose Chart.yaml lists dependencies
// charts/ does not hold, as helm template does: the fix is helm dependency
// build, which needs the network lint does without.
func missingDependencies(ch *chart.Chart) error {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	var missing []string
	for _, d := range ch.Metadata.Dependencies {
		if !have[d.Name] {
			missing = append(missing, d.Name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("dependencies %s are listed in Chart.yaml but missing from charts/: run helm dependency build", strings.Join(missing, ", "))
	}
	return nil
}
