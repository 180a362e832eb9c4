package main

import (
	"bytes"
	"crypto/rsa"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/manifest"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/sealed"
)

// bitnamiRepo is a repository of what the real kubeseal wrote for namespace
// ns, sealed with cert, beside other files:
//
//	secrets.yaml  a comment, the sample Secrets (every scope, a template,
//	              several documents with comments), a ConfigMap, and an
//	              object with Go templates (refused)
//	app.json      kubeseal -o json
//	config.yaml   no SealedSecret at all
func bitnamiRepo(t *testing.T, dir, ns, cert string) map[string]string {
	t.Helper()
	templated := strings.Replace(string(kubeseal.Seal(t, cert, []byte(secretYAML(ns, "dsn", "username", "admin")))),
		"  template:\n", "  template:\n    data:\n      dsn: 'postgres://{{ index . \"username\" }}@db'\n", 1)
	files := map[string]string{
		"secrets.yaml": "# managed by the platform team\n" + string(kubeseal.Seal(t, cert, []byte(kubeseal.SampleSecrets(ns)))) +
			"---\n# not a secret\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: b}  # keep me\n" + templated,
		"app.json":    string(kubeseal.Run(t, []byte(secretYAML(ns, "app", "token", "t0k3n")), "--cert", cert, "-o", "json")),
		"config.yaml": "replicas: 3 # not a manifest\n",
	}
	for name, content := range files {
		writeFile(t, filepath.Join(dir, name), content)
	}
	return files
}

// originalsOf are the Secrets bitnamiRepo sealed, by name, with their data
// as the API server would store it.
func originalsOf(t *testing.T, ns string) map[string]*corev1.Secret {
	t.Helper()
	out := map[string]*corev1.Secret{}
	for _, manifestText := range []string{kubeseal.SampleSecrets(ns), secretYAML(ns, "app", "token", "t0k3n")} {
		docs, err := sealed.ReadManifests(strings.NewReader(manifestText), "input")
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			s, err := d.Secret()
			if err != nil {
				t.Fatal(err)
			}
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			for k, v := range s.StringData {
				s.Data[k] = []byte(v)
			}
			out[s.Name] = s
		}
	}
	return out
}

// checkMigrated checks the repository after a migration: only the migrated
// documents changed, byte for byte; each migrated object unseals with ids
// to exactly the original values, in its scope; the refused one is as it
// was.
func checkMigrated(t *testing.T, dir, ns string, before map[string]string, ids []*crypto.Identity) {
	t.Helper()
	want := originalsOf(t, ns)
	scopes := map[string]string{"db": "strict", "api": "namespace", "registry": "cluster", "app": "strict"}
	migrated := 0
	for name, content := range before {
		after, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		onlySealedChanged(t, name, []byte(content), after)
		if !bytes.Contains(after, []byte("SealedSecret")) {
			continue
		}
		docs, err := sealed.ReadManifests(bytes.NewReader(after), name)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range docs {
			switch {
			case bitnami.Is(d):
				if b, _ := bitnami.Decode(d); b.Name != "dsn" {
					t.Errorf("%s: %s is still a Bitnami SealedSecret", name, b.Name)
				}
				continue
			case d.Kind != "SealedSecret":
				continue
			}
			ss, err := d.SealedSecret()
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := sealed.Unseal(ss, ids)
			orig := want[ss.Name]
			if err != nil || !maps.EqualFunc(got.Data, orig.Data, bytes.Equal) {
				t.Errorf("%s: %s does not unseal to the original values (%v)", name, ss.Name, err)
				continue
			}
			sameType := got.Type == orig.Type || got.Type == "" && orig.Type == corev1.SecretTypeOpaque
			if ss.Spec.Scope != scopes[ss.Name] || !sameType || !maps.Equal(got.Labels, orig.Labels) {
				t.Errorf("%s: %s: scope %s type %q labels %v; want %s %q %v", name, ss.Name, ss.Spec.Scope, got.Type, got.Labels, scopes[ss.Name], orig.Type, orig.Labels)
			}
			migrated++
		}
	}
	if migrated != 4 {
		t.Errorf("%d migrated objects, want 4", migrated)
	}
}

// onlySealedChanged: documents that hold no SealedSecret, and the text
// between documents, keep every byte; comments stay.
func onlySealedChanged(t *testing.T, name string, before, after []byte) {
	t.Helper()
	_, bd, err := manifest.Split(before)
	if err != nil {
		if !bytes.Equal(before, after) {
			t.Errorf("%s: not a manifest, yet changed", name)
		}
		return
	}
	_, ad, err := manifest.Split(after)
	if err != nil || len(ad) != len(bd) {
		t.Fatalf("%s: %d documents before, %d after (%v)", name, len(bd), len(ad), err)
	}
	prevB, prevA := 0, 0
	for i := range bd {
		b, a := before[bd[i].Start:bd[i].End], after[ad[i].Start:ad[i].End]
		if !bytes.Equal(before[prevB:bd[i].Start], after[prevA:ad[i].Start]) {
			t.Errorf("%s: the text before document %d changed", name, i+1)
		}
		if !bytes.Contains(b, []byte("kind: SealedSecret")) && !bytes.Contains(b, []byte(`"kind": "SealedSecret"`)) && !bytes.Equal(a, b) {
			t.Errorf("%s: document %d changed:\n%s\n---\n%s", name, i+1, b, a)
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "#") && !bytes.Contains(a, []byte(l)) {
				t.Errorf("%s: document %d lost the comment %q", name, i+1, l)
			}
		}
		prevB, prevA = bd[i].End, ad[i].End
	}
	if !bytes.Equal(before[prevB:], after[prevA:]) {
		t.Errorf("%s: the end of the file changed", name)
	}
}

// writeBitnamiKeys writes key as users back it up, and returns the file.
func writeBitnamiKeys(t *testing.T, key *rsa.PrivateKey) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "bitnami-keys.yaml")
	writeFile(t, p, string(kubeseal.KeyBackup(t, kubeseal.KeySecret(t, key, "sealed-secrets-keyabcde", "kube-system", "active"))))
	return p
}

func newIdentity(t *testing.T) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMigrateOffline migrates, with Bitnami's exported keys, what the real
// kubeseal wrote: every scope, templates, JSON, several documents with
// comments. The files change only where the objects were, the template
// object is refused by name and its file's other objects migrated, and a
// second run changes nothing.
func TestMigrateOffline(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := writeBitnamiKeys(t, key)
	id := newIdentity(t)
	repo := t.TempDir()
	before := bitnamiRepo(t, repo, "shop", cert)

	stdout, stderr, code := runSeal(t, "migrate", "-i", keys, "--recipient", id.Recipient().String(), repo)
	if code != ExitError {
		t.Fatalf("exit %d, want %d (one object refused)", code, ExitError)
	}
	if !strings.Contains(stdout, "migrated 4 Bitnami SealedSecrets in 2 files; 1 refused; 0 unchanged") {
		t.Errorf("summary: %q", stdout)
	}
	if !strings.Contains(stderr, "seal: error: "+filepath.Join(repo, "secrets.yaml")+": bitnami sealedsecret shop/dsn: spec.template.data holds Go templates") ||
		!strings.Contains(stderr, "seal: error: 1 Bitnami SealedSecrets were not migrated") {
		t.Errorf("stderr: %q", stderr)
	}
	checkMigrated(t, repo, "shop", before, []*crypto.Identity{id})

	// Again: nothing to migrate but the refused object; nothing changes.
	snapshot := map[string][]byte{}
	for name := range before {
		snapshot[name], _ = os.ReadFile(filepath.Join(repo, name))
	}
	stdout, _, code = runSeal(t, "migrate", "-i", keys, "--recipient", id.Recipient().String(), repo)
	if code != ExitError || !strings.Contains(stdout, "migrated 0 Bitnami SealedSecrets in 0 files; 1 refused; 4 unchanged") {
		t.Errorf("second run: exit %d, %q", code, stdout)
	}
	for name, b := range snapshot {
		if now, _ := os.ReadFile(filepath.Join(repo, name)); !bytes.Equal(now, b) {
			t.Errorf("%s changed on the second run", name)
		}
	}
}

// TestMigrateOfflineRepoConfig: without --keys or --recipient, each file's
// values are sealed to the keys of its .sealkit.yaml rule, plus its
// recovery recipient, as seal would.
func TestMigrateOfflineRepoConfig(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := writeBitnamiKeys(t, key)
	prod, recovery := newIdentity(t), newIdentity(t)
	repo := t.TempDir()
	writeFile(t, filepath.Join(repo, "keys", "prod.keys"), prod.Recipient().String()+"\n")
	writeFile(t, filepath.Join(repo, ".sealkit.yaml"), "rules:\n- path: clusters/prod/**\n  keys: [keys/prod.keys]\n  recovery: ["+recovery.Recipient().String()+"]\n")
	dir := filepath.Join(repo, "clusters", "prod")
	before := bitnamiRepo(t, dir, "shop", cert)
	if _, _, code := runSeal(t, "migrate", "-i", keys, dir); code != ExitError {
		t.Fatalf("exit %d", code)
	}
	checkMigrated(t, dir, "shop", before, []*crypto.Identity{prod})
	checkMigrated(t, dir, "shop", before, []*crypto.Identity{recovery})
}

// TestMigrateOfflineMovedValue: a Bitnami value copied into an object of
// another namespace does not open there, offline as in the cluster: the
// object is refused and its file left as it was.
func TestMigrateOfflineMovedValue(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := writeBitnamiKeys(t, key)
	id := newIdentity(t)
	moved := strings.ReplaceAll(string(kubeseal.Seal(t, cert, []byte(secretYAML("shop", "db", "password", "s3cret")))), "namespace: shop", "namespace: evil")
	file := filepath.Join(t.TempDir(), "moved.yaml")
	writeFile(t, file, moved)
	_, stderr, code := runSeal(t, "migrate", "-i", keys, "--recipient", id.Recipient().String(), file)
	if code != ExitError || !strings.Contains(stderr, `bitnami sealedsecret evil/db: key "password": none of the 1 bitnami private keys opens this value`) {
		t.Errorf("exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(file); string(b) != moved {
		t.Error("the file changed")
	}

	// A file under a directory that does not parse is reported and left;
	// the others are migrated.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "broken.yaml"), "kind: SealedSecret\nspec: [\n")
	writeFile(t, filepath.Join(dir, "ok.yaml"), string(kubeseal.Seal(t, cert, []byte(secretYAML("shop", "db", "password", "s3cret")))))
	stdout, stderr, code := runSeal(t, "migrate", "-i", keys, "--recipient", id.Recipient().String(), dir)
	if code != ExitError || !strings.Contains(stdout, "migrated 1 Bitnami SealedSecrets in 1 files; 0 refused") ||
		!strings.Contains(stderr, filepath.Join(dir, "broken.yaml")) || !strings.Contains(stderr, "1 files could not be read as manifests") {
		t.Errorf("broken file: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
}

// TestMigrateUsage: flag mistakes are usage errors (exit 2) found before
// anything is read; bad input is exit 1 naming the file; nothing is
// written either way.
func TestMigrateUsage(t *testing.T) {
	key, cert := kubeseal.KeyPair(t, 2048)
	keys := writeBitnamiKeys(t, key)
	dir := t.TempDir()
	before := bitnamiRepo(t, dir, "shop", cert)
	r := newIdentity(t).Recipient().String()
	notKeys := filepath.Join(dir, "config.yaml")
	configMap := filepath.Join(t.TempDir(), "cm.yaml")
	writeFile(t, configMap, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\n")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"migrate", "--recipient", r, dir}, ExitUsage, "--keys and --recipient need -i"},
		{[]string{"migrate", "--scope", "cluster", dir}, ExitUsage, "--scope applies to --from-sops only"},
		{[]string{"migrate", "-w", "x.yaml", dir}, ExitUsage, "-w applies to --from-sops only"},
		{[]string{"migrate", "--cut-over", "-i", keys, dir}, ExitUsage, "--cut-over changes the cluster only"},
		{[]string{"migrate", "--from-sops", "--cut-over", dir}, ExitUsage, "cannot be given together"},
		{[]string{"migrate", "-i", keys, "--recipient", "age1nope", dir}, ExitUsage, "--recipient"},
		{[]string{"migrate", "-i", notKeys, "--recipient", r, dir}, ExitError, notKeys + ": document 1: object has no kind"},
		{[]string{"migrate", "-i", filepath.Join(dir, "missing.yaml"), "--recipient", r, dir}, ExitError, "missing.yaml: no such file"},
		{[]string{"migrate", "-i", keys, "--recipient", r, configMap}, ExitError, "no Bitnami SealedSecrets found"},
	} {
		_, stderr, code := runSeal(t, tc.args...)
		if code != tc.code || !strings.Contains(stderr, tc.msg) {
			t.Errorf("seal %s: exit %d, stderr %q; want %d, %q", strings.Join(tc.args, " "), code, stderr, tc.code, tc.msg)
		}
	}
	for name, content := range before {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); string(b) != content {
			t.Errorf("%s changed", name)
		}
	}
}
