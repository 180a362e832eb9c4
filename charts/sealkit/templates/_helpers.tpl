{{/*
Labels Helm adds to every object, next to the ones the kustomize base has
(test/install ignores exactly these when comparing the two).
*/}}
{{- define "sealkit.helmLabels" -}}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/version: {{ .Chart.AppVersion | replace "+" "_" | quote }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{/* The labels of the controller's objects, as in the base. */}}
{{- define "sealkit.labels" -}}
app.kubernetes.io/name: seal-controller
app.kubernetes.io/part-of: sealkit
{{ include "sealkit.helmLabels" . }}
{{- end }}

{{/* The pod selector; never changes (Deployment selectors are immutable). */}}
{{- define "sealkit.selector" -}}
app.kubernetes.io/name: seal-controller
{{- end }}

{{/* The controller image: repository@digest, else repository:tag (tag defaults to appVersion). */}}
{{- define "sealkit.image" -}}
{{- if .Values.image.digest -}}
{{- if not (hasPrefix "sha256:" .Values.image.digest) -}}
{{- fail (printf "image.digest %q: want sha256:<64 hex digits>" .Values.image.digest) -}}
{{- end -}}
{{ .Values.image.repository }}@{{ .Values.image.digest }}
{{- else -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}
{{- end }}

{{/*
Renders a copy of a kustomize base file (files/, see hack/generate.sh) in the
release namespace: namespaced objects and ServiceAccount subjects move to it,
Helm's labels are added. Call with (dict "root" $ "file" "files/x.yaml").
*/}}
{{- define "sealkit.baseFile" -}}
{{- $root := .root -}}
{{- range $doc := regexSplit "(?m)^---[ \t]*$" ($root.Files.Get .file) -1 }}
{{- $o := fromYaml $doc }}
{{- if hasKey $o "Error" }}
{{- fail (printf "%s: %s" $.file $o.Error) }}
{{- end }}
{{- if $o.kind }}
{{- if $o.metadata.namespace }}
{{- $_ := set $o.metadata "namespace" $root.Release.Namespace }}
{{- end }}
{{- range $s := $o.subjects | default list }}
{{- if eq $s.kind "ServiceAccount" }}
{{- $_ := set $s "namespace" $root.Release.Namespace }}
{{- end }}
{{- end }}
{{- $_ := set $o.metadata "labels" (merge (include "sealkit.helmLabels" $root | fromYaml) ($o.metadata.labels | default dict)) }}
---
{{ toYaml $o }}
{{- end }}
{{- end }}
{{- end }}
