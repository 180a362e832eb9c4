package lint

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

//go:generate go test -run TestGenerateRepos -update-repos

var updateRepos = flag.Bool("update-repos", false, "regenerate testdata/repos (real keys and sealed values)")

// reposDir holds the sample repositories: one clean, one per class of
// problem. TestRepos lints them; TestGenerateRepos writes them.
const reposDir = "../../testdata/repos"

// fixedNow is the time the repositories are linted at: their keyrings'
// creation times are fixed relative to it.
var fixedNow = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// testIdentity reads (or, when regenerating, creates) a committed
// TEST-ONLY identity, so regenerated repositories keep their keys.
func testIdentity(t testing.TB, name string) *crypto.Identity {
	t.Helper()
	path := filepath.Join(reposDir, "TEST-ONLY-identities", name+".txt")
	if b, err := os.ReadFile(path); err == nil {
		ids, err := crypto.ParseIdentities(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return ids[0]
	}
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, path, "# TEST-ONLY identity for sealkit's lint test repositories (testdata/repos).\n"+
		"# It is public: never seal anything real to it.\n"+id.String()+"\n")
	return id
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func keyringFile(keys ...keyring.Key) string {
	return string((&keyring.Keyring{Keys: keys}).Format())
}

func key(id *crypto.Identity, created string, state keyring.State) keyring.Key {
	c, err := time.Parse(time.DateOnly, created)
	if err != nil {
		panic(err)
	}
	return keyring.Key{ID: id.KeyID(), Recipient: id.Recipient(), Created: c, State: state}
}

// sealedSecret seals data for ns/name with scope to ids.
func sealedSecret(t testing.TB, ns, name string, scope crypto.Scope, data map[string]string, ids ...*crypto.Identity) *v1alpha1.SealedSecret {
	t.Helper()
	var rs []*crypto.Recipient
	for _, id := range ids {
		rs = append(rs, id.Recipient())
	}
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns}, StringData: data}
	ss, err := sealed.Seal(s, sealed.SealOptions{Scope: scope, Recipients: rs})
	if err != nil {
		t.Fatal(err)
	}
	return ss
}

func manifests(t testing.TB, format string, objs ...runtime.Object) string {
	t.Helper()
	var b bytes.Buffer
	if err := sealed.WriteManifests(&b, objs, format); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: nginx}]
`

// TestGenerateRepos writes testdata/repos. Run it with -update-repos (or
// go generate ./pkg/lint) after changing the format of sealed values.
func TestGenerateRepos(t *testing.T) {
	if !*updateRepos {
		t.Skip("run with -update-repos to regenerate testdata/repos")
	}
	prod, dev, old := testIdentity(t, "prod"), testIdentity(t, "dev"), testIdentity(t, "old")
	recovery, stranger := testIdentity(t, "recovery"), testIdentity(t, "stranger")
	for _, r := range []string{"clean", "plaintext", "malformed", "undecodable", "scope", "unknown-key", "retired-key", "compromised-key", "old-key", "chart", "suppress"} {
		if err := os.RemoveAll(filepath.Join(reposDir, r)); err != nil {
			t.Fatal(err)
		}
	}
	w := func(repo, path, content string) { writeFile(t, filepath.Join(reposDir, repo, path), content) }
	prodRing := keyringFile(key(prod, "2026-10-01", keyring.StateActive), key(old, "2025-01-01", keyring.StateRetained))
	config := "# sample repository for seal lint tests\nrules:\n- path: clusters/prod/**\n  keys: [keys/prod.keys]\n  recovery: [" +
		recovery.Recipient().String() + "]\n- path: clusters/dev/**\n  keys: [keys/dev.keys]\n  scope: namespace\n" +
		"- path: charts/web/**\n  keys: [keys/prod.keys]\n  recovery: [" + recovery.Recipient().String() + "]\n  values: [charts/web/values-prod.yaml]\n" +
		"- path: clusters/legacy/**\n  keys: [keys/prod.keys]\n" +
		"lint:\n  ignore:\n  - path: clusters/legacy/**\n    rules: [not-sealkit]\n    reason: moving to sealkit in OPS-42; kubeseal still deploys these\n"
	pw := map[string]string{"password": "test-only-canary"}

	// clean: everything right, including files lint must leave alone.
	w("clean", ".sealkit.yaml", config)
	w("clean", "keys/prod.keys", prodRing)
	w("clean", "keys/dev.keys", keyringFile(key(dev, "2026-11-01", keyring.StateActive)))
	w("clean", "clusters/prod/db.yaml", manifests(t, "yaml",
		sealedSecret(t, "shop", "db", crypto.ScopeStrict, map[string]string{"password": "x", "user": "app"}, prod, recovery)))
	w("clean", "clusters/prod/apps.yaml", deployment+"---\n"+
		manifests(t, "yaml", sealedSecret(t, "shop", "api", crypto.ScopeStrict, map[string]string{"token": "x"}, prod, recovery))+
		"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {mode: fast}\n")
	w("clean", "clusters/prod/list.json", manifests(t, "json",
		sealedSecret(t, "shop", "a", crypto.ScopeStrict, pw, prod, recovery),
		sealedSecret(t, "shop", "b", crypto.ScopeStrict, pw, prod, recovery)))
	w("clean", "clusters/dev/app.yaml", manifests(t, "yaml", sealedSecret(t, "dev", "app", crypto.ScopeNamespace, pw, dev)))
	w("clean", "clusters/dev/wide.yaml", manifests(t, "yaml", sealedSecret(t, "", "wide", crypto.ScopeCluster, pw, dev)))
	w("clean", "clusters/dev/sa-token.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: builder-token\n  namespace: dev\n"+
		"  annotations: {kubernetes.io/service-account.name: builder}\ntype: kubernetes.io/service-account-token\n")
	w("clean", "kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [clusters/prod/db.yaml]\n")
	w("clean", "README.md", "kind: Secret\ndata: {not: checked}\n")
	for p, content := range nonKubernetes {
		w("clean", p, content)
	}
	for p, content := range webChart {
		w("clean", "charts/web/"+p, content)
	}
	webDB := sealedSecret(t, "shop", "web-db", crypto.ScopeStrict, map[string]string{"password": "x", "user": "web"}, prod, recovery)
	w("clean", "charts/web/values-prod.yaml", "replicaCount: 3\ndb:\n  sealed:\n    password: "+webDB.Spec.EncryptedData["password"]+
		"\n    user: "+webDB.Spec.EncryptedData["user"]+"\n")
	w("clean", "clusters/prod/sops-db.yaml", sopsSecret("db-legacy", []string{"password", "username"}, nil))
	w("clean", "clusters/prod/sops-api.json", sopsJSON())
	w("clean", "clusters/prod/external-refs.yaml", referenceSecrets)
	w("clean", "clusters/legacy/db.yaml", bitnamiSealedSecret())
	w("clean", "clusters/dev/smoke-test.yaml", "# seal-lint-ignore SK001 dummy credentials for the smoke test: nothing accepts them\n"+
		"apiVersion: v1\nkind: Secret\nmetadata: {name: smoke-test, namespace: dev}\nstringData:\n  password: not-a-real-password\n")

	// plaintext: the leak, in every disguise.
	w("plaintext", "apps.yaml", deployment+"---\n# oops\napiVersion: v1\nkind: Secret\nmetadata: {name: db, namespace: shop}\n"+
		"stringData:\n  password: test-only-canary\n")
	w("plaintext", "list.yaml", "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n"+
		"  metadata: {name: api, namespace: shop}\n  data:\n    token: dGVzdC1vbmx5LWNhbmFyeQ==\n"+
		"- apiVersion: v1\n  kind: Secret\n  metadata:\n    name: named\n    namespace: shop\n  data:\n    namespace: c2hvcA==\n    name: dGVzdC1vbmx5LWNhbmFyeQ==\n")
	w("plaintext", "sops-partial.yaml", sopsSecret("db", []string{"password", "username"}, map[string]string{"password": "test-only-canary"}))
	w("plaintext", "charts/leaky/Chart.yaml", "apiVersion: v2\nname: leaky\nversion: 0.1.0\n")
	w("plaintext", "charts/leaky/values.yaml", "password: \"\"\nlegacy: {enabled: false}\n")
	w("plaintext", "charts/leaky/templates/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}-api\n"+
		"data:\n  password: {{ .Values.password | b64enc | quote }}\n  api-key: dGVzdC1vbmx5LWNhbmFyeQ==\n"+
		"{{- if .Values.legacy.enabled }}\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: legacy\nstringData:\n"+
		"  token: \"test-only-canary\"\n{{- end }}\n")
	w("plaintext", "kustomization.yaml", "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"+
		"secretGenerator:\n- name: db\n  literals: [password=test-only-canary]\n")
	ss := sealedSecret(t, "shop", "web", crypto.ScopeStrict, pw, prod)
	ss.Spec.Template.Metadata.Annotations = map[string]string{corev1.LastAppliedConfigAnnotation: `{"stringData":{"password":"test-only-canary"}}`}
	w("plaintext", "last-applied.yaml", manifests(t, "yaml", ss))

	// malformed: SealedSecrets that are not, and a file that is not YAML.
	good := manifests(t, "yaml", sealedSecret(t, "shop", "db", crypto.ScopeStrict, pw, prod))
	w("malformed", "unknown-field.yaml", strings.Replace(good, "encryptedData:", "encryptedDatas:", 1))
	w("malformed", "no-name.yaml", strings.Replace(good, "  name: db\n", "", 1))
	w("malformed", "bad-scope.yaml", strings.Replace(good, "scope: strict", "scope: global", 1))
	w("malformed", "no-data.yaml", "apiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: shop}\nspec: {encryptedData: {}}\n")
	w("malformed", "version.yaml", strings.Replace(good, "sealkit.dev/v1alpha1", "sealkit.dev/v1beta1", 1))
	w("malformed", "broken.yaml", "apiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db\n")

	// undecodable: values that are not sealed values.
	v := ss.Spec.EncryptedData["password"]
	i := strings.LastIndex(v, ":")
	w("undecodable", "values.yaml", fmt.Sprintf("apiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\nmetadata: {name: db, namespace: shop}\n"+
		"spec:\n  encryptedData:\n    garbage: not-a-sealed-value\n    truncated: %s\n    base64: %s\n",
		v[:i+1+(len(v)-i-1)/2/4*4], v[:i+1]+"!!!"))

	// scope: what the scope binds is missing, or a key cannot exist.
	noNS := manifests(t, "yaml", sealedSecret(t, "shop", "db", crypto.ScopeStrict, pw, prod))
	w("scope", "no-namespace.yaml", strings.Replace(noNS, "  namespace: shop\n", "", 1))
	w("scope", "bad-key.yaml", strings.Replace(noNS, "    password:", "    \"pass word\":", 1))

	// key problems, each against a keyring that knows better.
	for repo, ring := range map[string]string{
		"unknown-key":     keyringFile(key(dev, "2026-11-01", keyring.StateActive)),
		"retired-key":     keyringFile(key(dev, "2026-11-01", keyring.StateActive), key(prod, "2026-01-01", keyring.StateRetired)),
		"compromised-key": keyringFile(key(dev, "2026-11-01", keyring.StateActive), key(prod, "2026-01-01", keyring.StateCompromised)),
		"old-key":         keyringFile(key(prod, "2025-06-01", keyring.StateActive)),
	} {
		w(repo, ".sealkit.yaml", "rules:\n- path: '**'\n  keys: [cluster.keys]\n")
		w(repo, "cluster.keys", ring)
	}
	w("unknown-key", "db.yaml", manifests(t, "yaml", sealedSecret(t, "shop", "db", crypto.ScopeStrict, pw, stranger)))
	w("retired-key", "db.yaml", manifests(t, "yaml", sealedSecret(t, "shop", "db", crypto.ScopeStrict, pw, prod)))
	w("compromised-key", "db.yaml", manifests(t, "yaml", sealedSecret(t, "shop", "db", crypto.ScopeStrict, pw, prod, dev)))
	w("old-key", "db.yaml", manifests(t, "yaml", sealedSecret(t, "shop", "db", crypto.ScopeStrict, pw, prod)))

	// chart: what rendering finds, pointing at the template line.
	w("chart", ".sealkit.yaml", "rules:\n- path: charts/app/**\n  keys: [cluster.keys]\n  values: [charts/app/values-prod.yaml]\n"+
		"- path: '**'\n  keys: [cluster.keys]\n")
	w("chart", "cluster.keys", keyringFile(key(prod, "2026-10-01", keyring.StateActive)))
	w("chart", "charts/app/Chart.yaml", "apiVersion: v2\nname: app\nversion: 1.0.0\n")
	w("chart", "charts/app/values.yaml", "sealed: {}\n")
	w("chart", "charts/app/templates/sealedsecret.yaml", "apiVersion: sealkit.dev/v1alpha1\nkind: SealedSecret\n"+
		"metadata:\n  name: app\n  namespace: {{ .Release.Namespace }}\nspec:\n  encryptedData:\n"+
		"    password: {{ .Values.sealed.password }}\n    token: {{ .Values.sealed.token }}\n")
	w("chart", "charts/app/values-prod.yaml", "sealed:\n  password: "+sealedSecret(t, "default", "app", crypto.ScopeStrict, pw, stranger).Spec.EncryptedData["password"]+
		"\n  token: sealkit:v1:not-a-sealed-value\n")
	w("chart", "charts/needs-deps/Chart.yaml", "apiVersion: v2\nname: needs-deps\nversion: 1.0.0\ndependencies:\n"+
		"- name: common\n  version: 2.x.x\n  repository: oci://registry-1.docker.io/bitnamicharts\n")
	w("chart", "charts/needs-deps/templates/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ include \"common.names.fullname\" . }}\n"+
		"stringData:\n  password: {{ .Values.password | quote }}\n")

	// suppress: what suppressions do, and a broken one.
	w("suppress", ".sealkit.yaml", "lint:\n  ignore:\n  - path: fixtures/**\n    rules: [SK001]\n    reason: test fixtures, never deployed\n")
	plain := "apiVersion: v1\nkind: Secret\nmetadata: {name: %s, namespace: shop}\nstringData:\n  password: test-only-canary\n"
	w("suppress", "fixtures/db.yaml", fmt.Sprintf(plain, "fixture"))
	w("suppress", "apps/no-reason.yaml", "# seal-lint-ignore SK001\n"+fmt.Sprintf(plain, "no-reason"))
	w("suppress", "apps/annotated.json", `{"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "annotated", "namespace": "shop",`+
		`"annotations": {"sealkit.dev/lint-ignore": "plaintext-secret the e2e suite's throwaway user"}}, "stringData": {"password": "test-only-canary"}}`+"\n")
}
