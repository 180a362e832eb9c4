package main

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
)

// TestMigrateOnline migrates what the real kubeseal wrote through a real
// API server and seal-controller's real webhook, with no key on the
// client: Bitnami's current key is read from its controller's namespace,
// an older one is imported with 'seal keys import-bitnami' (decrypt-only:
// listed, never published). The migrated files change only where the
// objects were; applied, they unseal to exactly the original Secrets. A
// Bitnami value copied to another namespace is refused, before and after
// migration, and a user who may not create SealedSecrets migrates nothing.
func TestMigrateOnline(t *testing.T) {
	env := testenv.New(t, testenv.Options{Webhooks: webhookOptions(t)})
	ctx := context.Background()
	ctrlNS := newNamespace(t, env, "sealkit-system")
	app := newNamespace(t, env, "shop")
	other := newNamespace(t, env, "other")
	key, cert := kubeseal.KeyPair(t, 2048)
	oldKey, oldCert := kubeseal.KeyPair(t, 2048)
	if err := env.Client.Create(ctx, kubeseal.KeySecret(t, key, "sealed-secrets-keynew", "kube-system", "active")); err != nil {
		t.Fatal(err)
	}
	startController(t, env, ctrlNS, "kube-system")
	flags := onlineFlags(env, ctrlNS)

	// The old key: imported, decrypt-only; Bitnami had labelled it
	// compromised, and what it opens is reported.
	oldKeys := filepath.Join(t.TempDir(), "old-keys.yaml")
	writeFile(t, oldKeys, string(kubeseal.KeyBackup(t, kubeseal.KeySecret(t, oldKey, "sealed-secrets-keyold", "kube-system", "compromised"))))
	out := mustSeal(t, args(flags, "keys", "import-bitnami", oldKeys)...)
	if !strings.Contains(out, "imported 1 of 1 bitnami keys") {
		t.Fatalf("import-bitnami: %q", out)
	}
	if out := mustSeal(t, args(flags, "keys", "import-bitnami", oldKeys)...); !strings.Contains(out, "already imported") {
		t.Errorf("second import: %q", out)
	}
	listed := mustSeal(t, args(flags, "keys", "list")...)
	if !strings.Contains(listed, "Legacy Bitnami keys (decrypt-only") || !strings.Contains(listed, "secret kube-system/sealed-secrets-keyold") {
		t.Errorf("keys list:\n%s", listed)
	}
	if keys := listKeys(t, flags); len(keys) != 3 { // "active", "active:ID" and the legacy key
		t.Errorf("keys list -o json: %+v", keys)
	}
	if published := mustSeal(t, args(flags, "keys", "fetch")...); strings.Count(published, "age1pq1") != 1 {
		t.Errorf("keys fetch publishes other keys than the one sealkit key:\n%s", published)
	}

	repo := t.TempDir()
	before := bitnamiRepo(t, repo, app, cert)
	oldFile := "# sealed two years ago\n" + string(kubeseal.Seal(t, oldCert, []byte(secretYAML(app, "legacy", "token", "from-2024"))))
	writeFile(t, filepath.Join(repo, "legacy.yaml"), oldFile)
	moved := strings.ReplaceAll(string(kubeseal.Seal(t, cert, []byte(secretYAML(app, "db", "password", "s3cret")))), "namespace: "+app, "namespace: "+other)
	movedDir := t.TempDir()
	writeFile(t, filepath.Join(movedDir, "moved.yaml"), moved)

	// A user who may not create SealedSecrets in the namespace gets nothing.
	_, nobody := env.User("nobody")
	_, stderr, code := runSeal(t, "migrate", "--kubeconfig", nobody, repo)
	if code == 0 || !strings.Contains(stderr, "forbidden") {
		t.Errorf("nobody: exit %d, stderr %q", code, stderr)
	}
	for name, content := range before {
		if b, _ := os.ReadFile(filepath.Join(repo, name)); string(b) != content {
			t.Errorf("%s changed for a user without rights", name)
		}
	}

	stdout, stderr, code := runSeal(t, args(flags, "migrate", repo)...)
	if code != ExitError || !strings.Contains(stdout, "migrated 5 Bitnami SealedSecrets in 3 files; 1 refused; 0 unchanged") ||
		!strings.Contains(stderr, "bitnami sealedsecret shop/dsn: spec.template.data holds Go templates") ||
		!strings.Contains(stderr, "legacy.yaml: bitnami sealedsecret shop/legacy: opened with Bitnami key ") || !strings.Contains(stderr, "labelled compromised") {
		t.Fatalf("migrate: exit %d\nstdout %q\nstderr %q", code, stdout, stderr)
	}
	for name, content := range before {
		after, _ := os.ReadFile(filepath.Join(repo, name))
		onlySealedChanged(t, name, []byte(content), after)
	}
	after, _ := os.ReadFile(filepath.Join(repo, "legacy.yaml"))
	onlySealedChanged(t, "legacy.yaml", []byte(oldFile), after)

	// Applied, the migrated objects unseal to exactly the original Secrets.
	want := originalsOf(t, app)
	want["legacy"] = &corev1.Secret{Data: map[string][]byte{"token": []byte("from-2024")}}
	for _, f := range []string{"secrets.yaml", "app.json", "legacy.yaml"} {
		apply(t, env, filepath.Join(repo, f))
	}
	for name, orig := range want {
		var s corev1.Secret
		testenv.Eventually(t, "secret "+app+"/"+name, func() bool {
			return env.Client.Get(ctx, client.ObjectKey{Namespace: app, Name: name}, &s) == nil
		})
		if !maps.EqualFunc(s.Data, orig.Data, bytes.Equal) || orig.Type != "" && s.Type != orig.Type {
			t.Errorf("secret %s: type %s, data equal %v; want type %s", name, s.Type, maps.EqualFunc(s.Data, orig.Data, bytes.Equal), orig.Type)
		}
		for k, v := range orig.Labels {
			if s.Labels[k] != v {
				t.Errorf("secret %s: label %s=%q, want %q", name, k, s.Labels[k], v)
			}
		}
	}

	// verify checks the migrated repository, skipping the Bitnami object
	// left in secrets.yaml.
	out = mustSeal(t, args(flags, "verify", repo)...)
	for _, name := range []string{"db", "api", "registry", "app", "legacy"} {
		if !strings.Contains(out, "ok "+app+"/"+name+"\n") {
			t.Errorf("verify: %s missing from %q", name, out)
		}
	}

	// A Bitnami value copied to another namespace does not open there.
	_, stderr, code = runSeal(t, args(flags, "migrate", movedDir)...)
	if code != ExitError || !strings.Contains(stderr, "bitnami sealedsecret other/db: key \"password\": none of the 2 bitnami private keys opens this value") {
		t.Errorf("moved: exit %d, stderr %q", code, stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(movedDir, "moved.yaml")); string(b) != moved {
		t.Error("the moved object's file changed")
	}
	// ... and, migrated, a value copied to another namespace is refused too.
	copied := strings.ReplaceAll(string(after), "namespace: "+app, "namespace: "+other)
	writeFile(t, filepath.Join(movedDir, "copied.yaml"), copied)
	out, _, code = runSeal(t, args(flags, "verify", filepath.Join(movedDir, "copied.yaml"))...)
	if code != ExitError || !strings.Contains(out, "FAIL other/legacy: data key \"token\": value is sealed for namespace \"shop\"") {
		t.Errorf("verify copied: exit %d, %q", code, out)
	}
}
