package webhooks

import (
	"context"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// whCanary is the plaintext of every value in the webhook tests; it must
// never show up in a response or a log line.
const whCanary = "canary-9f1c2e-plaintext"

// whLogs collects log lines (all verbosities) to check for the canary.
type whLogs struct {
	mu    sync.Mutex
	lines []string
}

func (l *whLogs) add(prefix, args string) {
	l.mu.Lock()
	l.lines = append(l.lines, prefix+" "+args)
	l.mu.Unlock()
}

func (l *whLogs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

// whFixture is a control plane whose API server calls our webhooks, served
// in-process on the host, port and certificate envtest prepared, with the
// webhook configurations of manifests/webhook.
type whFixture struct {
	env      *testenv.Env
	active   *crypto.Identity
	old      *crypto.Identity // retained: opens, is not sealed to
	leaked   *crypto.Identity // compromised: opens, refused for new values
	recovery *crypto.Identity
	logs     *whLogs
	errs     []string // every error message the API server returned
}

// fixedKeys is a key store holding an active, a retained and a
// compromised key.
type fixedKeys struct{ active, retained, compromised *crypto.Identity }

func (k fixedKeys) Identities() []*crypto.Identity {
	return []*crypto.Identity{k.active, k.retained, k.compromised}
}

func (k fixedKeys) Recipients() []*crypto.Recipient { return []*crypto.Recipient{k.active.Recipient()} }

func (k fixedKeys) State(id crypto.KeyID) keyring.State {
	switch id {
	case k.active.KeyID():
		return keyring.StateActive
	case k.retained.KeyID():
		return keyring.StateRetained
	case k.compromised.KeyID():
		return keyring.StateCompromised
	}
	return ""
}

func whIdentity(t *testing.T) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// validatedNamespace is a new namespace labelled so that real writes of
// SealedSecrets in it are validated (manifests/webhook: elsewhere only
// dry-runs and requests carrying the re-seal marker are).
func validatedNamespace(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ns := env.Namespace(t)
	var obj corev1.Namespace
	if err := env.Client.Get(context.Background(), client.ObjectKey{Name: ns}, &obj); err != nil {
		t.Fatal(err)
	}
	obj.Labels = map[string]string{"sealkit.dev/validate-on-apply": "true"}
	if err := env.Client.Update(context.Background(), &obj); err != nil {
		t.Fatal(err)
	}
	return ns
}

// startWebhooks starts a control plane (envOpts, with the webhook
// configurations of manifests/webhook) and the webhooks (opts, with the
// fixture's keys and the address envtest chose).
func startWebhooks(t *testing.T, envOpts testenv.Options, opts Options) *whFixture {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	envOpts.Webhooks = envtest.WebhookInstallOptions{Paths: []string{filepath.Join(root, "manifests", "webhook")}}
	env := testenv.New(t, envOpts)
	f := &whFixture{env: env, logs: &whLogs{},
		active: whIdentity(t), old: whIdentity(t), leaked: whIdentity(t), recovery: whIdentity(t)}
	mgr := ctrltest.NewManager(t, env.Config, controller.ManagerOptions{
		Namespace: "sealkit-system", Logger: funcr.New(f.logs.add, funcr.Options{Verbosity: 10}),
	})
	wh := env.Webhooks()
	opts.Host, opts.Port, opts.CertDir = wh.LocalServingHost, wh.LocalServingPort, wh.LocalServingCertDir
	opts.RecoveryRecipients = []*crypto.Recipient{f.recovery.Recipient()}
	opts.Policy = policy.Policy{ControllerNamespace: "sealkit-system"}
	err = Setup(mgr, fixedKeys{active: f.active, retained: f.old, compromised: f.leaked}, opts)
	if err != nil {
		t.Fatal(err)
	}
	stop := ctrltest.Run(t, mgr)
	t.Cleanup(func() {
		stop() // the logs are complete
		if strings.Contains(f.logs.String(), whCanary) {
			t.Errorf("a secret value appears in the logs:\n%s", f.logs)
		}
		for _, m := range f.errs {
			if strings.Contains(m, whCanary) {
				t.Errorf("a secret value appears in a response: %s", m)
			}
		}
	})
	// failurePolicy is Ignore: until the server answers, everything passes.
	ns := env.Namespace(t)
	probe := f.sealedSecret(t, ns, "probe", map[string]*crypto.Identity{"k": whIdentity(t)})
	deadline := time.Now().Add(30 * time.Second)
	for env.Client.Create(context.Background(), probe.DeepCopy(), client.DryRunAll) == nil {
		if time.Now().After(deadline) {
			t.Fatal("webhook server never answered")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return f
}

// sealedSecret seals whCanary under each data key to the given identity,
// framed for ns/name.
func (f *whFixture) sealedSecret(t *testing.T, ns, name string, to map[string]*crypto.Identity) *v1alpha1.SealedSecret {
	t.Helper()
	ss := &v1alpha1.SealedSecret{
		ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name},
		Spec:       v1alpha1.SealedSecretSpec{Scope: v1alpha1.ScopeStrict, EncryptedData: map[string]string{}},
	}
	for k, id := range to {
		enc, err := crypto.Seal([]*crypto.Recipient{id.Recipient()}, sealed.FrameFor(ss, k), []byte(whCanary))
		if err != nil {
			t.Fatal(err)
		}
		ss.Spec.EncryptedData[k] = enc
	}
	return ss
}

// try records the error message of a request for the canary check.
func (f *whFixture) try(err error) error {
	if err != nil {
		f.errs = append(f.errs, err.Error())
	}
	return err
}

func wantDenied(t *testing.T, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("allowed, want denied with %q", parts)
	}
	if !apierrors.IsForbidden(err) && !apierrors.IsBadRequest(err) && !apierrors.IsInvalid(err) {
		t.Logf("denial status: %v", apierrors.ReasonForError(err))
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err, p)
		}
	}
}

func withMarker(ss *v1alpha1.SealedSecret) *v1alpha1.SealedSecret {
	ss = ss.DeepCopy()
	if ss.Annotations == nil {
		ss.Annotations = map[string]string{}
	}
	ss.Annotations[v1alpha1.AnnotationReseal] = "true"
	return ss
}

func TestWebhooks(t *testing.T) {
	f := startWebhooks(t, testenv.Options{}, Options{})
	ctx := context.Background()
	c := f.env.Client
	ns, other := f.env.Namespace(t), f.env.Namespace(t)

	t.Run("verify opens", func(t *testing.T) {
		ss := f.sealedSecret(t, ns, "good", map[string]*crypto.Identity{"a": f.active, "b": f.old})
		if err := f.try(c.Create(ctx, ss, client.DryRunAll)); err != nil {
			t.Fatal(err)
		}
		if err := c.Get(ctx, client.ObjectKeyFromObject(ss), &v1alpha1.SealedSecret{}); !apierrors.IsNotFound(err) {
			t.Errorf("dry-run persisted the object: %v", err)
		}
	})

	t.Run("unknown key names the data key", func(t *testing.T) {
		ss := f.sealedSecret(t, ns, "unknown", map[string]*crypto.Identity{"ok": f.active, "password": whIdentity(t)})
		err := f.try(c.Create(ctx, ss, client.DryRunAll))
		wantDenied(t, err, `data key "password": no key opens this value`)
		if strings.Contains(err.Error(), `"ok"`) {
			t.Errorf("denial names a value that opens: %v", err)
		}
	})

	t.Run("frame mismatch: copied to another namespace", func(t *testing.T) {
		ss := f.sealedSecret(t, ns, "db", map[string]*crypto.Identity{"password": f.active})
		ss.Namespace = other
		wantDenied(t, f.try(c.Create(ctx, ss, client.DryRunAll)), `data key "password": value is sealed for namespace`)
		ss = f.sealedSecret(t, ns, "db", map[string]*crypto.Identity{"password": f.active})
		ss.Spec.EncryptedData["user"] = ss.Spec.EncryptedData["password"]
		wantDenied(t, f.try(c.Create(ctx, ss, client.DryRunAll)), `data key "user": value is sealed for key`)
	})

	t.Run("marker on a real create is denied", func(t *testing.T) {
		ss := withMarker(f.sealedSecret(t, ns, "real", map[string]*crypto.Identity{"a": f.active}))
		wantDenied(t, f.try(c.Create(ctx, ss)), v1alpha1.AnnotationReseal, "dry-run")
		if err := c.Get(ctx, client.ObjectKeyFromObject(ss), &v1alpha1.SealedSecret{}); !apierrors.IsNotFound(err) {
			t.Errorf("denied create persisted: %v", err)
		}
	})

	t.Run("real create and update are validated where the namespace asks", func(t *testing.T) {
		ns := validatedNamespace(t, f.env)
		ss := f.sealedSecret(t, ns, "stored", map[string]*crypto.Identity{"a": f.old})
		if err := f.try(c.Create(ctx, ss)); err != nil {
			t.Fatal(err)
		}
		bad := ss.DeepCopy()
		bad.Spec.EncryptedData["b"] = f.sealedSecret(t, ns, "stored", map[string]*crypto.Identity{"b": whIdentity(t)}).Spec.EncryptedData["b"]
		wantDenied(t, f.try(c.Update(ctx, bad)), `data key "b"`)
	})

	t.Run("reseal on dry-run create", func(t *testing.T) {
		ss := f.sealedSecret(t, ns, "old", map[string]*crypto.Identity{"a": f.old, "b": f.old, "c": f.active})
		got := withMarker(ss)
		if err := f.try(c.Create(ctx, got, client.DryRunAll)); err != nil {
			t.Fatal(err)
		}
		f.checkResealed(t, ss, got)
		if err := c.Get(ctx, client.ObjectKeyFromObject(ss), &v1alpha1.SealedSecret{}); !apierrors.IsNotFound(err) {
			t.Errorf("re-seal persisted the object: %v", err)
		}
	})

	t.Run("reseal on dry-run update of an existing object", func(t *testing.T) {
		ss := f.sealedSecret(t, ns, "existing", map[string]*crypto.Identity{"a": f.old})
		if err := f.try(c.Create(ctx, ss)); err != nil {
			t.Fatal(err)
		}
		before := ss.Spec.EncryptedData["a"]
		got := withMarker(ss)
		if err := f.try(c.Update(ctx, got, client.DryRunAll)); err != nil {
			t.Fatal(err)
		}
		f.checkResealed(t, ss, got)
		var stored v1alpha1.SealedSecret
		if err := c.Get(ctx, client.ObjectKeyFromObject(ss), &stored); err != nil {
			t.Fatal(err)
		}
		if stored.Spec.EncryptedData["a"] != before || stored.Annotations[v1alpha1.AnnotationReseal] != "" {
			t.Error("a dry-run update changed the stored object")
		}
	})

	t.Run("reseal refuses a foreign-namespace ciphertext", func(t *testing.T) {
		// Sealed to the active key already: Reseal alone would pass it on.
		for _, to := range []*crypto.Identity{f.old, f.active} {
			ss := f.sealedSecret(t, other, "db", map[string]*crypto.Identity{"password": to})
			ss.Namespace = ns
			wantDenied(t, f.try(c.Create(ctx, withMarker(ss), client.DryRunAll)),
				`data key "password": value is sealed for namespace "`+other+`"`)
		}
	})

	t.Run("reseal follows RBAC", func(t *testing.T) {
		ss := withMarker(f.sealedSecret(t, ns, "rbac", map[string]*crypto.Identity{"a": f.old}))
		cfg, _ := f.env.User("no-rights")
		nobody, err := client.New(cfg, client.Options{Scheme: c.Scheme()})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.try(nobody.Create(ctx, ss.DeepCopy(), client.DryRunAll)); !apierrors.IsForbidden(err) {
			t.Fatalf("user without create rights: got %v, want Forbidden", err)
		}
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sealer"},
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"sealkit.dev"}, Resources: []string{"sealedsecrets"}, Verbs: []string{"create"}}}}
		binding := &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "sealer"},
			RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "sealer"},
			Subjects: []rbacv1.Subject{{Kind: "User", Name: "sealer"}}}
		for _, o := range []client.Object{role, binding} {
			if err := c.Create(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		cfg, _ = f.env.User("sealer")
		sealer, err := client.New(cfg, client.Options{Scheme: c.Scheme()})
		if err != nil {
			t.Fatal(err)
		}
		got := ss.DeepCopy()
		deadline := time.Now().Add(10 * time.Second) // RBAC caches settle
		for err = sealer.Create(ctx, got, client.DryRunAll); apierrors.IsForbidden(err) && time.Now().Before(deadline); err = sealer.Create(ctx, got, client.DryRunAll) {
			time.Sleep(100 * time.Millisecond)
			got = ss.DeepCopy()
		}
		if f.try(err) != nil {
			t.Fatal(err)
		}
		f.checkResealed(t, ss, got)
		if err := f.try(sealer.Create(ctx, ss.DeepCopy(), client.DryRunAll)); err != nil {
			t.Fatal(err)
		}
	})
}

// checkResealed checks got is sent re-sealed: marker gone, every value
// sealed to the active key and the recovery key (hints), opening with the
// active identity to the same plaintext under the same frame.
func (f *whFixture) checkResealed(t *testing.T, sent, got *v1alpha1.SealedSecret) {
	t.Helper()
	if _, ok := got.Annotations[v1alpha1.AnnotationReseal]; ok {
		t.Error("marker not removed")
	}
	want := []crypto.KeyID{f.active.KeyID(), f.recovery.KeyID()}
	slices.Sort(want)
	if len(got.Spec.EncryptedData) != len(sent.Spec.EncryptedData) {
		t.Fatalf("got %d values, sent %d", len(got.Spec.EncryptedData), len(sent.Spec.EncryptedData))
	}
	for k, enc := range got.Spec.EncryptedData {
		hints, err := crypto.KeyIDs(enc)
		if err != nil {
			t.Fatal(err)
		}
		slices.Sort(hints)
		if !slices.Equal(hints, want) {
			t.Errorf("value %q sealed to %v, want %v", k, hints, want)
		}
		for _, id := range []*crypto.Identity{f.active, f.recovery} {
			v, opened, err := crypto.Open(enc, sealed.FrameFor(sent, k), []*crypto.Identity{id})
			if err != nil || string(v) != whCanary || opened != id.KeyID() {
				t.Errorf("value %q with %s: opened %s, err %v", k, id.KeyID(), opened, err)
			}
		}
	}
}
