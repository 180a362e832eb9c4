package lint

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strings"
)

// Files of the kinds real GitOps repositories hold next to their
// manifests. TestGenerateRepos writes them into the sample repositories;
// lint must leave them alone, or judge them as their tools do.

// nonKubernetes are YAML and JSON files that are not Kubernetes objects:
// CI workflows, task files, editor settings (JSON with comments and
// trailing commas), renovate config, compose files, YAML with custom tags,
// and a Go-templated YAML file that does not parse.
var nonKubernetes = map[string]string{
	".github/workflows/ci.yaml": `name: ci
on:
  pull_request:
  push:
    branches: [main]
permissions:
  contents: read
  security-events: write
jobs:
  lint:
    runs-on: ubuntu-latest
    env:
      REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}
    steps:
    - uses: actions/checkout@v4
    - run: seal lint --format sarif . > seal-lint.sarif
    - uses: github/codeql-action/upload-sarif@v3
      if: always()
      with: {sarif_file: seal-lint.sarif}
`,
	"Taskfile.yml": `version: '3'
vars:
  CLUSTER: '{{.CLUSTER | default "prod"}}'
tasks:
  seal:
    desc: seal a Secret for {{.CLUSTER}}
    cmds:
    - seal -f {{.CLI_ARGS}} -w clusters/{{.CLUSTER}}/{{base .CLI_ARGS}}
  lint:
    cmds: [seal lint .]
`,
	".vscode/settings.json": `{
  // editor settings: JSON with comments and trailing commas
  "yaml.schemas": {
    "kubernetes": ["clusters/**/*.yaml"], /* validate manifests */
  },
  "files.exclude": {"**/.git": true,},
}
`,
	"renovate.json": `{
  "$schema": "https://docs.renovatebot.com/renovate-schema.json",
  // renovate reads its config as JSON5
  "extends": ["config:recommended"],
  "kubernetes": {"fileMatch": ["clusters/.+\\.yaml$"]},
  "helm-values": {"fileMatch": ["charts/.+/values.*\\.yaml$"]},
}
`,
	".pre-commit-config.yaml": `repos:
- repo: https://github.com/sealkit/sealkit
  rev: v0.1.0
  hooks:
  - id: seal-lint
`,
	"compose.yaml": `services:
  db:
    image: postgres:17
    environment:
      POSTGRES_PASSWORD: example   # a local development database, not a Kubernetes Secret
    ports: ["5432:5432"]
`,
	"mkdocs.yml": `site_name: platform docs
markdown_extensions:
- pymdownx.emoji:
    emoji_index: !!python/name:material.extensions.emoji.twemoji
    emoji_generator: !!python/name:material.extensions.emoji.to_svg
`,
	".gitlab-ci.yml": `.setup:
  script: [go install github.com/sealkit/sealkit/cmd/seal@latest]
seal-lint:
  script:
  - !reference [.setup, script]
  - seal lint --format json . > seal-lint.json
`,
	".goreleaser.yaml": `version: 2
archives:
- name_template: {{ .ProjectName }}_{{ .Version }}_{{ .Os }}
`,
}

// sopsSecret is a Secret as sops encrypts it with encrypted_regex
// ^(data|stringData)$: every value of data and stringData ENC[…], the
// metadata in a sops: block. Keys listed in plain are left as given.
func sopsSecret(name string, keys []string, plain map[string]string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "apiVersion: v1\nkind: Secret\nmetadata:\n    name: %s\n    namespace: shop\ntype: Opaque\nstringData:\n", name)
	for _, k := range keys {
		if v, ok := plain[k]; ok {
			fmt.Fprintf(&b, "    %s: %s\n", k, v)
			continue
		}
		fmt.Fprintf(&b, "    %s: %s\n", k, sopsENC(name+k, 12))
	}
	b.WriteString("sops:\n    kms: []\n    gcp_kms: []\n    azure_kv: []\n    hc_vault: []\n    age:\n" +
		"        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\n" +
		"          enc: |\n            -----BEGIN AGE ENCRYPTED FILE-----\n" +
		"            " + fakeB64(name+"age1", 60) + "\n            " + fakeB64(name+"age2", 60) + "\n" +
		"            -----END AGE ENCRYPTED FILE-----\n" +
		"    lastmodified: \"2026-10-02T09:14:27Z\"\n    mac: " + sopsENC(name+"mac", 64) + "\n" +
		"    pgp: []\n    encrypted_regex: ^(data|stringData)$\n    version: 3.9.1\n")
	return b.String()
}

// sopsJSON is a SOPS-encrypted Secret in JSON.
const sopsJSONTemplate = `{
	"apiVersion": "v1",
	"kind": "Secret",
	"metadata": {"name": "api-legacy", "namespace": "shop"},
	"data": {"token": "%s"},
	"sops": {
		"kms": null, "gcp_kms": null, "azure_kv": null, "hc_vault": null,
		"age": [{"recipient": "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p", "enc": "-----BEGIN AGE ENCRYPTED FILE-----\n%s\n-----END AGE ENCRYPTED FILE-----\n"}],
		"lastmodified": "2026-10-02T09:15:01Z",
		"mac": "%s",
		"pgp": null,
		"encrypted_regex": "^(data|stringData)$",
		"version": "3.9.1"
	}
}
`

func sopsJSON() string {
	return fmt.Sprintf(sopsJSONTemplate, sopsENC("api-token", 20), fakeB64("api-age", 60), sopsENC("api-mac", 64))
}

// sopsENC is a value in SOPS's encrypted format. The bytes are made up
// (lint never decrypts), but stable, so regenerating changes nothing.
func sopsENC(seed string, n int) string {
	return fmt.Sprintf("ENC[AES256_GCM,data:%s,iv:%s,tag:%s,type:str]", fakeB64(seed+"d", n), fakeB64(seed+"iv", 32), fakeB64(seed+"tag", 16))
}

func fakeB64(seed string, n int) string {
	var out []byte
	for i := 0; len(out) < n; i++ {
		s := sha256.Sum256([]byte(fmt.Sprintf("%s/%d", seed, i)))
		out = append(out, s[:]...)
	}
	return base64.StdEncoding.EncodeToString(out[:n])
}

// referenceSecrets are Secrets whose values tools resolve at deploy time.
const referenceSecrets = `# 1Password: op inject / op run resolve op:// references
apiVersion: v1
kind: Secret
metadata: {name: db-1password, namespace: shop}
stringData:
  password: op://prod/db/password
  url: "postgres://app:{{ op://prod/db/password }}@db:5432/shop"
---
# argocd-vault-plugin: <path:…> and <placeholder> (also base64-encoded in data)
apiVersion: v1
kind: Secret
metadata:
  name: api-vault
  namespace: shop
  annotations:
    avp.kubernetes.io/path: secret/data/shop/api
type: Opaque
stringData:
  token: <token>
  signing-key: <path:secret/data/shop/api#signing-key>
data:
  legacy-token: PHRva2VuPg==
---
# Flux post-build substitution
apiVersion: v1
kind: Secret
metadata: {name: app-env, namespace: shop}
stringData:
  DATABASE_URL: postgres://app:${DB_PASSWORD}@db:5432/shop
  SMTP_PASSWORD: ${SMTP_PASSWORD:=}
---
# vals (helmfile, argocd-vals-plugin)
apiVersion: v1
kind: Secret
metadata: {name: mail-vals, namespace: shop}
stringData:
  password: ref+vault://secret/shop/mail#/password
  api-key: ref+awssecrets://prod/mail#api_key
---
# filled in by cert-manager: empty values are not plaintext
apiVersion: v1
kind: Secret
metadata: {name: web-tls, namespace: shop}
type: kubernetes.io/tls
data:
  tls.crt: ""
  tls.key: ""
`

// bitnamiSealedSecret is what kubeseal writes.
func bitnamiSealedSecret() string {
	return `---
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata:
  creationTimestamp: null
  name: legacy-db
  namespace: shop
spec:
  encryptedData:
    password: AgB` + fakeB64("bitnami-pw", 360) + `
  template:
    metadata:
      creationTimestamp: null
      name: legacy-db
      namespace: shop
    type: Opaque
`
}

// The chart "web": templated Secret values, a SealedSecret templated from
// sealed values in values-prod.yaml, helpers, NOTES.txt.
var webChart = map[string]string{
	"Chart.yaml": `apiVersion: v2
name: web
description: the shop's web front end
type: application
version: 0.3.1
appVersion: "1.27"
`,
	"values.yaml": `replicaCount: 2
image:
  repository: nginx
  tag: ""
api:
  endpoint: https://api.example.com
  token: ""   # set at install time (--set api.token=…), or use db.sealed
db:
  # sealed values (seal --raw); values-prod.yaml has production's
  sealed: {}
extraSecrets: {}
`,
	"templates/_helpers.tpl": `{{- define "web.fullname" -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "web.labels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}
`,
	"templates/NOTES.txt": `{{ include "web.fullname" . }} is installed. Its API token comes from
.Values.api.token or from the SealedSecret {{ include "web.fullname" . }}-db.
`,
	"templates/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "web.fullname" . }}
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
      {{- include "web.labels" . | nindent 6 }}
  template:
    metadata:
      labels:
        {{- include "web.labels" . | nindent 8 }}
    spec:
      containers:
      - name: web
        image: "{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}"
        envFrom:
        - secretRef: {name: {{ include "web.fullname" . }}-api}
`,
	"templates/secret.yaml": `apiVersion: v1
kind: Secret
metadata:
  name: {{ include "web.fullname" . }}-api
  labels:
    {{- include "web.labels" . | nindent 4 }}
type: Opaque
data:
  api-token: {{ .Values.api.token | b64enc | quote }}
  {{- range $key, $value := .Values.extraSecrets }}
  {{ $key }}: {{ $value | b64enc | quote }}
  {{- end }}
stringData:
  config.yaml: |
    endpoint: {{ .Values.api.endpoint }}
    token: {{ .Values.api.token }}
`,
	"templates/sealedsecret.yaml": `{{- if .Values.db.sealed }}
apiVersion: sealkit.dev/v1alpha1
kind: SealedSecret
metadata:
  name: web-db
  namespace: shop
  labels:
    {{- include "web.labels" . | nindent 4 }}
spec:
  encryptedData:
    {{- range $key, $value := .Values.db.sealed }}
    {{ $key }}: {{ $value }}
    {{- end }}
{{- end }}
`,
}
