package lint

import (
	"fmt"
	"slices"
	"testing"
)

// TestTemplateLiterals reads Helm templates the way lint does: a literal
// value in a Secret is reported at its line, a templated one never.
func TestTemplateLiterals(t *testing.T) {
	src := `{{- /* a Secret made of literals and templates */ -}}
apiVersion: v1
kind: Secret
metadata:
  name: {{ include "x.fullname" . }}
  labels:
    name: not-data
data:
  templated: {{ .Values.a | b64enc | quote }}
  literal: c2VjcmV0
  "quoted-literal": "c2VjcmV0" # a comment
  {{ .Values.key }}: c2VjcmV0
  prefix-{{ .Values.key }}: c2VjcmV0
  {{- range $k, $v := .Values.more }}
  {{ $k }}: {{ $v | b64enc }}
  {{- end }}
  empty: ""
  placeholder: PHBhc3N3b3JkPg==
stringData:
  block-literal: |
    user=app
    password=hunter2
  block-templated: |
    password={{ .Values.password }}
  folded: >-
    {{ .Values.x }}
  flux: ${PASSWORD}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm}
data:
  literal: not-a-secret
---
apiVersion: v1
kind: Secret
metadata: {name: flow}
stringData: {a: literal, b: "{{ .Values.b }}"}
---
kind: {{ .Values.kind }}
data:
  literal: not-judged
`
	tm := parseTemplate([]byte(src))
	k := &checker{file: "t.yaml"}
	tm.literalSecrets(k)
	var got []string
	for _, f := range k.findings {
		got = append(got, fmt.Sprintf("%d:%d %s %s/%s", f.Line, f.Column, f.Key, f.Kind, f.Name))
	}
	want := []string{
		"10:3 literal Secret/(name from the template)",
		"11:3 quoted-literal Secret/(name from the template)",
		"20:3 block-literal Secret/(name from the template)",
		"38:1 a Secret/flow",
	}
	if !slices.Equal(got, want) {
		t.Errorf("findings = %q\nwant %q", got, want)
	}
	if k.objects != 2 {
		t.Errorf("%d Secret documents, want 2", k.objects)
	}
	for _, tc := range []struct {
		path []any
		line int
		col  int
	}{
		{[]any{"data", "literal"}, 10, 3},
		{[]any{"metadata", "labels", "name"}, 7, 5},
		{[]any{"data", "missing"}, 8, 1},        // the longest prefix that exists
		{[]any{"stringData", 0, "flux"}, 27, 3}, // indexes are dropped
		{[]any{"nothing"}, 2, 1},                // the first key
	} {
		if l, c := tm.locate(tc.path); l != tc.line || c != tc.col {
			t.Errorf("locate(%v) = %d:%d, want %d:%d", tc.path, l, c, tc.line, tc.col)
		}
	}
}
