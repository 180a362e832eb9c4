package kubeseal

import "strings"

// SampleSecrets is a repository's Secrets in namespace before kubeseal, the
// input of the migration tests: every scope (strict, namespace-wide,
// cluster-wide), a template (labels, annotations, type, immutable), binary
// and empty values, characters YAML quotes, several documents and comments.
func SampleSecrets(namespace string) string {
	return strings.ReplaceAll(sampleSecrets, "NAMESPACE", namespace)
}

const sampleSecrets = `# production credentials
apiVersion: v1
kind: Secret
metadata:
  name: db
  namespace: NAMESPACE
  labels: {app: shop, tier: db}
  annotations: {owner: team-a}
type: kubernetes.io/basic-auth
immutable: true
stringData:
  username: admin
  password: "hunter2: with # and 'quotes'"
---
# shared by every app of the namespace
apiVersion: v1
kind: Secret
metadata:
  name: api
  namespace: NAMESPACE
  annotations:
    sealedsecrets.bitnami.com/namespace-wide: "true"
data:
  token: AAECAwQF/w==
  empty: ""
---
apiVersion: v1
kind: Secret
metadata:
  name: registry
  namespace: NAMESPACE
  annotations:
    sealedsecrets.bitnami.com/cluster-wide: "true"
type: kubernetes.io/dockerconfigjson
stringData:
  .dockerconfigjson: '{"auths":{"r.example":{"auth":"dTpw"}}}'
`
