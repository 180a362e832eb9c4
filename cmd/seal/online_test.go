package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"filippo.io/age"
	admissionv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/util/retry"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/controller/keys"
	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/internal/controller/reconciler"
	"github.com/sealkit/sealkit/internal/controller/webhooks"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/bitnami"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// The online tests run the real seal entry point (Main) against a real
// kube-apiserver (internal/testenv) with seal-controller's manager, key
// manager, reconciler and webhooks running in-process, as in production.

// seal runs the CLI in-process and returns stdout, stderr and the exit code.
func runSeal(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(args, Streams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut})
	t.Logf("seal %s -> %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errOut.String())
	return out.String(), errOut.String(), code
}

func mustSeal(t *testing.T, args ...string) string {
	t.Helper()
	out, _, code := runSeal(t, args...)
	if code != 0 {
		t.Fatalf("seal %s: exit %d", strings.Join(args, " "), code)
	}
	return out
}

// webhookOptions loads manifests/webhook with failurePolicy Fail, so a test
// never passes because the webhook was not reached.
func webhookOptions(t testing.TB) envtest.WebhookInstallOptions {
	t.Helper()
	v, m := testenv.ShippedWebhooks(t)
	fail := admissionv1.Fail
	for i := range v.Webhooks {
		v.Webhooks[i].FailurePolicy = &fail
	}
	for i := range m.Webhooks {
		m.Webhooks[i].FailurePolicy = &fail
	}
	return envtest.WebhookInstallOptions{
		ValidatingWebhooks: []*admissionv1.ValidatingWebhookConfiguration{v},
		MutatingWebhooks:   []*admissionv1.MutatingWebhookConfiguration{m},
	}
}

// startController runs seal-controller in-process with its keys in ns,
// serving webhooks where envtest points the webhook configurations, and
// waits until the public keyring is published and the webhook serves.
// bitnamiNS, when given, is where it reads Bitnami's keys for migrations.
func startController(t testing.TB, env *testenv.Env, ns string, bitnamiNS ...string) {
	t.Helper()
	mgr := ctrltest.NewManager(t, env.Config, controller.ManagerOptions{
		Namespace: ns, Logger: zap.New(zap.WriteTo(os.Stderr)),
	})
	store, err := keys.Setup(mgr, keys.Options{Namespace: ns, BitnamiNamespace: strings.Join(bitnamiNS, "")})
	if err != nil {
		t.Fatal(err)
	}
	if err := reconciler.Setup(mgr, store, reconciler.Options{Policy: policy.Policy{ControllerNamespace: ns}}); err != nil {
		t.Fatal(err)
	}
	wh := env.Webhooks()
	if err := webhooks.Setup(mgr, store, webhooks.Options{
		Host: wh.LocalServingHost, Port: wh.LocalServingPort, CertDir: wh.LocalServingCertDir, Legacy: store,
	}); err != nil {
		t.Fatal(err)
	}
	ctrltest.Run(t, mgr)
	ctx := context.Background()
	testenv.Eventually(t, "keyring published and webhook serving", func() bool {
		var cm corev1.ConfigMap
		if env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: keyring.KeyringConfigMap}, &cm) != nil {
			return false
		}
		return mgr.GetWebhookServer().StartedChecker()(nil) == nil
	})
}

// onlineFlags are the flags pointing seal at env and its controller.
func onlineFlags(env *testenv.Env, ctrlNS string) []string {
	return []string{"--kubeconfig", env.Kubeconfig, "--controller-namespace", ctrlNS}
}

func args(base []string, more ...string) []string {
	return append(slices.Clone(base), more...)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func secretYAML(ns, name string, kv ...string) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: " + ns + "}\nstringData:\n")
	for i := 0; i < len(kv); i += 2 {
		b.WriteString("  " + kv[i] + ": " + kv[i+1] + "\n")
	}
	return b.String()
}

// readSealed returns the SealedSecrets of a file.
func readSealed(t *testing.T, path string) []*v1alpha1.SealedSecret {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	docs, err := sealed.ReadManifests(f, path)
	if err != nil {
		t.Fatal(err)
	}
	var out []*v1alpha1.SealedSecret
	for _, d := range docs {
		if d.Kind == "SealedSecret" && !bitnami.Is(d) {
			ss, err := d.SealedSecret()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ss)
		}
	}
	return out
}

// apply creates or updates the file's SealedSecrets in the cluster.
func apply(t *testing.T, env *testenv.Env, path string) {
	t.Helper()
	ctx := context.Background()
	for _, ss := range readSealed(t, path) {
		// An update retries when the controller's status write came
		// between the read and the update.
		err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
			var cur v1alpha1.SealedSecret
			if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ss), &cur); err != nil {
				return err
			}
			cur.Spec = ss.Spec
			return env.Client.Update(ctx, &cur)
		})
		if apierrors.IsNotFound(err) {
			err = env.Client.Create(ctx, ss)
		}
		if err != nil {
			t.Fatalf("applying %s/%s: %v", ss.Namespace, ss.Name, err)
		}
	}
}

// waitSecret waits for the controller to unseal ns/name with key = value,
// opened with keyID when keyID is not empty.
func waitSecret(t *testing.T, env *testenv.Env, ns, name, key, value, keyID string) {
	t.Helper()
	ctx := context.Background()
	testenv.Eventually(t, "secret "+ns+"/"+name, func() bool {
		var s corev1.Secret
		if env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &s) != nil || string(s.Data[key]) != value {
			return false
		}
		if keyID == "" {
			return true
		}
		var ss v1alpha1.SealedSecret
		return env.Client.Get(ctx, client.ObjectKey{Namespace: ns, Name: name}, &ss) == nil &&
			slices.Equal(ss.Status.KeyIDs, []string{keyID})
	})
}

type listedKey struct {
	ID            string `json:"id"`
	State         string `json:"state"`
	SealedSecrets int    `json:"sealedSecrets"`
}

func listKeys(t *testing.T, flags []string) map[string]listedKey {
	t.Helper()
	var keys []listedKey
	if err := json.Unmarshal([]byte(mustSeal(t, args(append([]string{"keys", "list", "-o", "json"}, flags...))...)), &keys); err != nil {
		t.Fatal(err)
	}
	out := map[string]listedKey{}
	for _, k := range keys {
		out[k.State+":"+k.ID] = k
		if k.State == "active" {
			out["active"] = k
		}
	}
	return out
}

func newNamespace(t testing.TB, env *testenv.Env, name string) string {
	t.Helper()
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
	if err := env.Client.Create(context.Background(), ns); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestOnlineRoundTrip: keys fetch and list; seal online; verify names the
// failing data key; old key -> rotate -> retire refused -> reseal (files in
// place, other documents kept) -> retire -> the controller still unseals
// everything; reseal refused to a user without create rights.
func TestOnlineRoundTrip(t *testing.T) {
	env := testenv.New(t, testenv.Options{Webhooks: webhookOptions(t)})
	ctrlNS := newNamespace(t, env, "sealkit-system")
	app := newNamespace(t, env, "shop")
	startController(t, env, ctrlNS)
	flags := onlineFlags(env, ctrlNS)
	dir := t.TempDir()

	// keys fetch writes a keyring that parses and seals offline.
	// It names the cluster the keys are from.
	_, fetchErr, fetchCode := runSeal(t, args(flags, "keys", "fetch", "-w", filepath.Join(dir, "prod.keys"))...)
	if fetchCode != 0 || !strings.Contains(fetchErr, `keys of context "envtest" (cluster "envtest", server https://`) {
		t.Fatalf("keys fetch: exit %d, stderr %q", fetchCode, fetchErr)
	}
	keys := listKeys(t, flags)
	oldID := keys["active"].ID
	if oldID == "" || keys["active"].SealedSecrets != 0 {
		t.Fatalf("keys list: %+v", keys)
	}

	// Sealing with no --keys fetches the cluster's active key.
	repo := filepath.Join(dir, "repo")
	if err := os.MkdirAll(filepath.Join(repo, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "db.yaml"), secretYAML(app, "db", "password", "one", "user", "admin"))
	writeFile(t, filepath.Join(dir, "api.yaml"), secretYAML(app, "api", "token", "two"))
	// It says on stderr which cluster the keys came from.
	_, errOut, code := runSeal(t, args(flags, "-f", filepath.Join(dir, "db.yaml"), "-w", filepath.Join(dir, "db.sealed.yaml"))...)
	if code != 0 || !strings.Contains(errOut, `seal: sealing to the keys of context "envtest" (cluster "envtest", server https://`) ||
		!strings.Contains(errOut, "configmap "+ctrlNS+"/"+keyring.KeyringConfigMap+"\n") {
		t.Fatalf("online seal: exit %d, stderr %q", code, errOut)
	}
	mustSeal(t, "--keys", filepath.Join(dir, "prod.keys"), "-f", filepath.Join(dir, "api.yaml"), "-w", filepath.Join(repo, "sub", "api.yaml"))
	cm := "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: settings, namespace: shop}\ndata: {color: blue}\n"
	db, err := os.ReadFile(filepath.Join(dir, "db.sealed.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(repo, "app.yaml"), cm+"---\n"+string(db))
	writeFile(t, filepath.Join(repo, "notes.yaml"), "just: some yaml\n")
	apply(t, env, filepath.Join(repo, "app.yaml"))
	apply(t, env, filepath.Join(repo, "sub", "api.yaml"))
	waitSecret(t, env, app, "db", "password", "one", oldID)
	waitSecret(t, env, app, "api", "token", "two", oldID)
	testenv.Eventually(t, "keys list: active key needed by 2 SealedSecrets", func() bool {
		return listKeys(t, flags)["active"].SealedSecrets == 2
	})

	// verify: all ok; then a value moved to another data key fails, naming it.
	out := mustSeal(t, args(flags, "verify", repo)...)
	if !strings.Contains(out, "ok shop/db\n") || !strings.Contains(out, "ok shop/api\n") {
		t.Fatalf("verify: %q", out)
	}
	bad := readSealed(t, filepath.Join(dir, "db.sealed.yaml"))[0]
	bad.Spec.EncryptedData["pass"] = bad.Spec.EncryptedData["password"]
	delete(bad.Spec.EncryptedData, "password")
	var buf bytes.Buffer
	if err := sealed.WriteManifests(&buf, []runtime.Object{bad}, "yaml"); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "bad", "db.yaml"), buf.String())
	out, _, code = runSeal(t, args(flags, "verify", filepath.Join(dir, "bad"))...)
	if code != ExitError || !strings.HasPrefix(out, `FAIL shop/db: data key "pass": `) {
		t.Fatalf("verify of a moved value: exit %d, %q", code, out)
	}

	// rotate: a new active key; the old one is retained and still needed.
	out = mustSeal(t, args(flags, "keys", "rotate")...)
	keys = listKeys(t, flags)
	newID := keys["active"].ID
	if newID == oldID || !strings.Contains(out, "new active key "+newID) {
		t.Fatalf("rotate: %q, keys %+v", out, keys)
	}
	if k := keys["retained:"+oldID]; k.SealedSecrets != 2 {
		t.Fatalf("old key: %+v", k)
	}
	_, errOut, code = runSeal(t, args(flags, "keys", "retire", oldID)...)
	if code != ExitError || !strings.Contains(errOut, "still needed by 2 SealedSecrets") || !strings.Contains(errOut, "shop/db") {
		t.Fatalf("retire in use: exit %d, %q", code, errOut)
	}
	if _, _, code := runSeal(t, args(flags, "keys", "retire", newID)...); code != ExitError {
		t.Fatalf("retiring the active key: exit %d", code)
	}

	// A user without create rights on SealedSecrets in shop cannot re-seal.
	_, userKcfg := env.User("viewer")
	before, _ := os.ReadFile(filepath.Join(repo, "app.yaml"))
	_, errOut, code = runSeal(t, "reseal", "--kubeconfig", userKcfg, repo)
	after, _ := os.ReadFile(filepath.Join(repo, "app.yaml"))
	if code != ExitError || !strings.Contains(errOut, "forbidden") || !bytes.Equal(before, after) {
		t.Fatalf("reseal without rights: exit %d, %q; file changed: %v", code, errOut, !bytes.Equal(before, after))
	}

	// reseal online: both files rewritten, the ConfigMap kept, notes.yaml untouched.
	// The summary names the key the controller sealed to.
	out = mustSeal(t, args(flags, "reseal", repo)...)
	if want := "resealed 3 values in 2 objects, 2 files changed, 0 unchanged\nsealed to " + newID + `: chosen by seal-controller, context "envtest"`; !strings.HasPrefix(out, want) {
		t.Fatalf("reseal: %q, want %q…", out, want)
	}
	app2, _ := os.ReadFile(filepath.Join(repo, "app.yaml"))
	if !strings.Contains(string(app2), "color: blue") {
		t.Fatalf("the ConfigMap was lost:\n%s", app2)
	}
	for _, f := range []string{"app.yaml", "sub/api.yaml"} {
		for _, ss := range readSealed(t, filepath.Join(repo, f)) {
			for k, v := range ss.Spec.EncryptedData {
				if ids, _ := crypto.KeyIDs(v); !slices.Equal(ids, []crypto.KeyID{crypto.KeyID(newID)}) {
					t.Fatalf("%s: %s/%s: value %s sealed to %v, want %s", f, ss.Namespace, ss.Name, k, ids, newID)
				}
			}
		}
	}
	out = mustSeal(t, args(flags, "reseal", repo)...)
	if want := "resealed 0 values in 0 objects, 0 files changed, 2 unchanged\n"; out != want {
		t.Fatalf("second reseal: %q, want %q", out, want)
	}

	// Apply, retire the old key, and the controller still unseals all.
	apply(t, env, filepath.Join(repo, "app.yaml"))
	apply(t, env, filepath.Join(repo, "sub", "api.yaml"))
	waitSecret(t, env, app, "db", "password", "one", newID)
	waitSecret(t, env, app, "api", "token", "two", newID)
	mustSeal(t, args(flags, "keys", "retire", oldID)...)
	// The controller republishes the keyring asynchronously.
	testenv.Eventually(t, "old key listed as retired", func() bool {
		return listKeys(t, flags)["retired:"+oldID].ID == oldID
	})
	for _, name := range []string{"db", "api"} {
		s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: app, Name: name}}
		if err := env.Client.Delete(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	waitSecret(t, env, app, "db", "user", "admin", newID)
	waitSecret(t, env, app, "api", "token", "two", newID)

	// --force retires a key still needed.
	mustSeal(t, args(flags, "keys", "rotate")...)
	_, _, code = runSeal(t, args(flags, "keys", "retire", newID)...)
	if code != ExitError {
		t.Fatalf("retire in use: exit %d", code)
	}
	mustSeal(t, args(flags, "keys", "retire", "--force", newID)...)
}

// TestOnlineBackupRestore: a backup restored into a fresh control plane
// brings back unsealing there.
func TestOnlineBackupRestore(t *testing.T) {
	dir := t.TempDir()
	env := testenv.New(t, testenv.Options{Webhooks: webhookOptions(t)})
	ctrlNS := newNamespace(t, env, "sealkit-system")
	newNamespace(t, env, "shop")
	startController(t, env, ctrlNS)
	flags := onlineFlags(env, ctrlNS)

	recovery := filepath.Join(dir, "recovery.key")
	mustSeal(t, "keys", "generate", "-o", recovery)
	ids, err := readIdentities(Streams{}, recovery)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "db.yaml"), secretYAML("shop", "db", "password", "one"))
	mustSeal(t, args(flags, "-f", filepath.Join(dir, "db.yaml"), "-w", filepath.Join(dir, "db.sealed.yaml"))...)

	backup := filepath.Join(dir, "keys.age")
	if _, stderr, code := runSeal(t, args(flags, "keys", "backup", "--recipient", ids[0].Recipient().String(), "-w", backup)...); code != 0 || strings.Contains(stderr, "warning") {
		t.Fatalf("backup to a post-quantum recipient: exit %d, stderr %q", code, stderr)
	}
	// A classic recipient is allowed, with a warning naming it: the backup
	// is then only as strong as X25519 against a quantum adversary.
	classic, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runSeal(t, args(flags, "keys", "backup", "--recipient", classic.Recipient().String(), "-w", filepath.Join(dir, "classic.age"))...)
	if code != 0 || !strings.Contains(stderr, "seal: warning: recipient ") || !strings.Contains(stderr, "is a classic X25519 key") {
		t.Fatalf("backup to a classic recipient: exit %d, stderr %q", code, stderr)
	}
	b, err := os.ReadFile(backup)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte("-----BEGIN AGE ENCRYPTED FILE-----")) || bytes.Contains(b, []byte("AGE-SECRET-KEY")) {
		t.Fatalf("backup is not an armored age file, or holds plaintext")
	}
	if _, _, code := runSeal(t, args(flags, "keys", "backup", "--recipient", ids[0].Recipient().String(), "-w", backup)...); code == 0 {
		t.Fatal("backup replaced an existing file without --force")
	}

	fresh := testenv.New(t, testenv.Options{Webhooks: webhookOptions(t)})
	freshNS := newNamespace(t, fresh, "sealkit-system")
	newNamespace(t, fresh, "shop")
	freshFlags := onlineFlags(fresh, freshNS)
	out := mustSeal(t, args(freshFlags, "keys", "restore", backup, "-i", recovery)...)
	// The backup's active key comes back retained: a backup never chooses
	// what the cluster seals to (the controller makes its own active key).
	if !strings.Contains(out, "restored 1 of 1 keys") || !strings.Contains(out, " (retained) as secret ") {
		t.Fatalf("restore: %q", out)
	}
	out = mustSeal(t, args(freshFlags, "keys", "restore", backup, "-i", recovery)...)
	if !strings.Contains(out, "restored 0 of 1 keys") {
		t.Fatalf("second restore: %q", out)
	}
	startController(t, fresh, freshNS)
	apply(t, fresh, filepath.Join(dir, "db.sealed.yaml"))
	waitSecret(t, fresh, "shop", "db", "password", "one", "")
}

// TestControllerDown: the webhooks fail open, so with no controller
// answering, a dry-run comes back unchecked. verify and reseal must say so
// (reseal leaving the file as it was), never report success.
func TestControllerDown(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	app := newNamespace(t, env, "shop")
	dir := t.TempDir()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "db.yaml"), secretYAML(app, "db", "password", "canary-7f3a"))
	sealed := filepath.Join(dir, "db.sealed.yaml")
	mustSeal(t, "--recipient", id.Recipient().String(), "-f", filepath.Join(dir, "db.yaml"), "-w", sealed)
	before, err := os.ReadFile(sealed)
	if err != nil {
		t.Fatal(err)
	}
	// The check did not run: exit 2, not a verification failure.
	stdout, stderr, code := runSeal(t, "--kubeconfig", env.Kubeconfig, "verify", sealed)
	if code != ExitUsage || !strings.Contains(stdout, "UNCHECKED shop/db: the controller did not answer the verify request\n") ||
		!strings.Contains(stderr, "seal: error: 1 of 1 SealedSecrets could not be checked\n") || strings.Contains(stdout+stderr, "canary") {
		t.Fatalf("verify with no controller: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// Nor did it for a caller the API server refuses (RBAC) ...
	_, viewer := env.User("viewer")
	stdout, stderr, code = runSeal(t, "--kubeconfig", viewer, "verify", sealed)
	if code != ExitUsage || !strings.Contains(stdout, "UNCHECKED shop/db: ") || !strings.Contains(stdout, "forbidden") {
		t.Fatalf("verify forbidden: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// -n completes the cluster's namespaces.
	stdout, _, _ = runSeal(t, "__complete", "verify", "--kubeconfig", env.Kubeconfig, "-n", "")
	if !strings.Contains(stdout, "shop\n") || !strings.Contains(stdout, "kube-system\n") {
		t.Fatalf("completing -n: %q", stdout)
	}
	// client-go's override flags work: the admin acting as nobody is refused.
	stdout, _, code = runSeal(t, "--kubeconfig", env.Kubeconfig, "--as", "nobody", "--as-group", "nogroup", "verify", sealed)
	if code != ExitUsage || !strings.Contains(stdout, `User "nobody" cannot create resource "sealedsecrets"`) {
		t.Fatalf("verify --as nobody: exit %d, stdout:\n%s", code, stdout)
	}
	// ... or with a cluster that cannot be reached.
	unreachable := filepath.Join(dir, "unreachable.kubeconfig")
	writeFile(t, unreachable, "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: \"https://127.0.0.1:1\"}}]\n"+
		"users: [{name: u, user: {token: x}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n")
	stdout, stderr, code = runSeal(t, "--kubeconfig", unreachable, "--request-timeout", "5s", "verify", sealed)
	if code != ExitUsage || !strings.Contains(stderr, "seal: error: verifying shop/db: ") || !strings.Contains(stderr, "seal: hint: check that the cluster is reachable") {
		t.Fatalf("verify unreachable: exit %d, stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	// ... or without a kubeconfig at all.
	t.Setenv("KUBECONFIG", filepath.Join(dir, "none"))
	t.Setenv("HOME", dir)
	_, stderr, code = runSeal(t, "verify", sealed)
	if code != ExitUsage || !strings.Contains(stderr, "seal: error: no kubeconfig found") {
		t.Fatalf("verify without kubeconfig: exit %d, stderr:\n%s", code, stderr)
	}
	_, stderr, code = runSeal(t, "--kubeconfig", env.Kubeconfig, "reseal", sealed)
	if code == 0 || !strings.Contains(stderr, "did not answer the re-seal request") || strings.Contains(stderr, "canary") {
		t.Fatalf("reseal with no controller: exit %d, stderr:\n%s", code, stderr)
	}
	after, err := os.ReadFile(sealed)
	if err != nil {
		t.Fatal(err)
	}
	if string(after) != string(before) {
		t.Fatal("file changed although the re-seal was not answered")
	}
}
