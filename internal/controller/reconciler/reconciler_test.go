package reconciler

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	eventsv1 "k8s.io/api/events/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/util/retry"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"
	ctrlmetrics "sigs.k8s.io/controller-runtime/pkg/metrics"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/controller/keys"
	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// sealController is a whole controller (NewManager, keys.Setup, the
// reconciler) running in the test process.
type sealController struct {
	keys *keys.Store
	rec  *Reconciler
	logs *ctrltest.LogBuffer
	stop func()
}

type ctrlOpts struct {
	cfg            *rest.Config // nil: admin
	namespace      string       // controller namespace
	watch          []string
	leaderElection bool
	// prefetchReader, if set, wraps the reader the start-up prefetch lists
	// with.
	prefetchReader func(client.Reader) client.Reader
	// policy is the tenant policy; its controller namespace is set from
	// namespace.
	policy policy.Policy
}

// startController starts the controller and stops it when the test ends
// (or earlier, through stop).
func startController(t *testing.T, env *testenv.Env, o ctrlOpts) *sealController {
	t.Helper()
	cfg := o.cfg
	if cfg == nil {
		cfg = env.Config
	}
	logs := &ctrltest.LogBuffer{}
	logger := zap.New(zap.WriteTo(logs), zap.UseDevMode(true))
	mgr := ctrltest.NewManager(t, cfg, controller.ManagerOptions{
		Namespace:       o.namespace,
		WatchNamespaces: o.watch,
		LeaderElection:  o.leaderElection,
		Logger:          logger,
	})
	store, err := keys.Setup(mgr, keys.Options{Namespace: o.namespace})
	if err != nil {
		t.Fatal(err)
	}
	o.policy.ControllerNamespace = o.namespace
	rec, err := setup(mgr, store, Options{Policy: o.policy, ConflictRetry: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if o.prefetchReader != nil {
		rec.prefetch.reader = o.prefetchReader(rec.prefetch.reader)
	}
	sc := &sealController{keys: store, rec: rec, logs: logs, stop: ctrltest.Run(t, mgr)}
	t.Cleanup(func() {
		sc.stop()
		if t.Failed() {
			t.Logf("controller logs:\n%s", logs)
		}
	})
	testenv.Eventually(t, "an active key", func() bool { return store.Active() != nil })
	return sc
}

// sealedSecret seals data for ns/name to the controller's active key.
func (c *sealController) sealedSecret(t *testing.T, ns, name string, data map[string]string, tmpl v1alpha1.SecretTemplate) *v1alpha1.SealedSecret {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name}, StringData: data, Data: map[string][]byte{}}
	for k, v := range data {
		s.Data[k] = []byte(v)
	}
	s.StringData = nil
	ss, err := sealed.Seal(s, sealed.SealOptions{Scope: crypto.ScopeStrict, Recipients: c.keys.Recipients()})
	if err != nil {
		t.Fatal(err)
	}
	ss.Spec.Template = tmpl
	return ss
}

func create(t *testing.T, env *testenv.Env, obj client.Object) {
	t.Helper()
	if err := env.Client.Create(context.Background(), obj); err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
}

func getSS(t *testing.T, env *testenv.Env, ns, name string) *v1alpha1.SealedSecret {
	t.Helper()
	ss := &v1alpha1.SealedSecret{}
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, ss); err != nil {
		t.Fatal(err)
	}
	return ss
}

func getSecret(env *testenv.Env, ns, name string) (*corev1.Secret, error) {
	s := &corev1.Secret{}
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: name}, s)
	return s, err
}

// waitReason waits for the Ready condition of ns/name to have reason, for
// the current generation, and returns the SealedSecret.
func waitReason(t *testing.T, env *testenv.Env, ns, name, reason string) *v1alpha1.SealedSecret {
	t.Helper()
	var ss *v1alpha1.SealedSecret
	testenv.Eventually(t, fmt.Sprintf("%s/%s to be %s", ns, name, reason), func() bool {
		ss = getSS(t, env, ns, name)
		c := meta.FindStatusCondition(ss.Status.Conditions, v1alpha1.ConditionReady)
		return c != nil && c.Reason == reason && c.ObservedGeneration == ss.Generation && ss.Status.ObservedGeneration == ss.Generation
	})
	return ss
}

// updateSS changes ns/name with mutate and updates it, again on a conflict
// (the controller may be writing its status).
func updateSS(t *testing.T, env *testenv.Env, ns, name string, mutate func(*v1alpha1.SealedSecret)) {
	t.Helper()
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error {
		ss := getSS(t, env, ns, name)
		mutate(ss)
		return env.Client.Update(context.Background(), ss)
	}); err != nil {
		t.Fatal(err)
	}
}

func waitData(t *testing.T, env *testenv.Env, ns, name, key, want string) *corev1.Secret {
	t.Helper()
	var s *corev1.Secret
	testenv.Eventually(t, fmt.Sprintf("Secret %s/%s to hold %s", ns, name, key), func() bool {
		var err error
		s, err = getSecret(env, ns, name)
		return err == nil && string(s.Data[key]) == want
	})
	return s
}

func TestUnsealCreatesSecret(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	ss := c.sealedSecret(t, ns, "db", map[string]string{"user": "app", "password": "hunter2"}, v1alpha1.SecretTemplate{
		Metadata: v1alpha1.TemplateMetadata{Labels: map[string]string{"app": "shop"}, Annotations: map[string]string{"team": "db"}},
		Type:     corev1.SecretTypeBasicAuth,
	})
	create(t, env, ss)

	got := waitReason(t, env, ns, "db", v1alpha1.ReasonUnsealed)
	active := string(c.keys.Active().KeyID())
	if len(got.Status.KeyIDs) != 1 || got.Status.KeyIDs[0] != active {
		t.Errorf("status.keyIDs = %v, want [%s]", got.Status.KeyIDs, active)
	}
	s := waitData(t, env, ns, "db", "password", "hunter2")
	if string(s.Data["user"]) != "app" || s.Type != corev1.SecretTypeBasicAuth {
		t.Errorf("secret data/type wrong: type %s", s.Type)
	}
	if s.Labels["app"] != "shop" || s.Labels[v1alpha1.LabelManagedBy] != v1alpha1.ManagedByController || s.Annotations["team"] != "db" {
		t.Errorf("template metadata missing: labels %v annotations %v", s.Labels, slices.Collect(maps.Keys(s.Annotations)))
	}
	// envtest runs no garbage collector, so deleting the SealedSecret would
	// not delete the Secret here; the owner reference is what makes a real
	// cluster do it.
	ref := metav1.GetControllerOf(s)
	if ref == nil || ref.UID != got.UID || ref.Kind != "SealedSecret" || !ptr.Deref(ref.BlockOwnerDeletion, false) {
		t.Errorf("owner reference = %+v, want controller SealedSecret %s with blockOwnerDeletion", ref, got.UID)
	}
	// A creation is told by the status alone: no event write per object.
	if hasEvent(t, env, ns, "db", v1alpha1.ReasonUnsealed) {
		t.Error("an Unsealed event for a Secret created")
	}
}

func hasEvent(t *testing.T, env *testenv.Env, ns, name, reason string) bool {
	t.Helper()
	found := false
	testenv.Eventually(t, "events to be listed", func() bool {
		for _, e := range events(t, env, ns) {
			if e.Regarding.Name == name && e.Reason == reason {
				found = true
			}
		}
		return true
	})
	return found
}

func events(t *testing.T, env *testenv.Env, ns string) []eventsv1.Event {
	t.Helper()
	var list eventsv1.EventList
	var out []eventsv1.Event
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := env.Client.List(context.Background(), &list, client.InNamespace(ns)); err != nil {
			t.Fatal(err)
		}
		out = list.Items
		if len(out) > 0 || time.Now().After(deadline) {
			return out
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestDriftHealed(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	create(t, env, c.sealedSecret(t, ns, "api", map[string]string{"token": "t0ken"}, v1alpha1.SecretTemplate{}))
	s := waitData(t, env, ns, "api", "token", "t0ken")

	s.Data["token"] = []byte("edited")
	if err := env.Client.Update(ctx, s); err != nil {
		t.Fatal(err)
	}
	waitData(t, env, ns, "api", "token", "t0ken")
	if !hasEvent(t, env, ns, "api", v1alpha1.ReasonUnsealed) {
		t.Error("no Unsealed event for a Secret updated")
	}

	s, _ = getSecret(env, ns, "api")
	if err := env.Client.Delete(ctx, s); err != nil {
		t.Fatal(err)
	}
	testenv.Eventually(t, "a new Secret", func() bool {
		n, err := getSecret(env, ns, "api")
		return err == nil && n.UID != s.UID && string(n.Data["token"]) == "t0ken"
	})
}

func TestTamperedValueKeepsSecret(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	create(t, env, c.sealedSecret(t, ns, "db", map[string]string{"password": "v1"}, v1alpha1.SecretTemplate{}))
	before := waitData(t, env, ns, "db", "password", "v1")
	waitReason(t, env, ns, "db", v1alpha1.ReasonUnsealed)

	updateSS(t, env, ns, "db", func(ss *v1alpha1.SealedSecret) {
		enc := ss.Spec.EncryptedData["password"]
		i := len(enc) - 10
		flip := byte('A')
		if enc[i] == 'A' {
			flip = 'B'
		}
		ss.Spec.EncryptedData["password"] = enc[:i] + string(flip) + enc[i+1:]
	})
	got := waitReason(t, env, ns, "db", v1alpha1.ReasonDecryptFailed)
	c1 := meta.FindStatusCondition(got.Status.Conditions, v1alpha1.ConditionReady)
	if !strings.Contains(c1.Message, "password") || c1.Status != metav1.ConditionFalse {
		t.Errorf("condition %+v should name the data key", c1)
	}
	after, err := getSecret(env, ns, "db")
	if err != nil || after.ResourceVersion != before.ResourceVersion || string(after.Data["password"]) != "v1" {
		t.Errorf("Secret changed after a failed unseal (err %v)", err)
	}
}

func TestScopeMismatchCopiedNamespace(t *testing.T) {
	env := testenv.Shared(t)
	ns, other := env.Namespace(t), env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns, other}})
	ss := c.sealedSecret(t, ns, "db", map[string]string{"password": "p"}, v1alpha1.SecretTemplate{})
	ss.Namespace = other
	create(t, env, ss)
	waitReason(t, env, other, "db", v1alpha1.ReasonScopeMismatch)
	if _, err := getSecret(env, other, "db"); !apierrors.IsNotFound(err) {
		t.Errorf("Secret for a copied ciphertext: %v, want not found", err)
	}
}

func TestImmutableSecretReplaced(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ns := env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns}})
	tmpl := v1alpha1.SecretTemplate{Immutable: ptr.To(true)}
	create(t, env, c.sealedSecret(t, ns, "cfg", map[string]string{"k": "one"}, tmpl))
	first := waitData(t, env, ns, "cfg", "k", "one")
	if !ptr.Deref(first.Immutable, false) {
		t.Fatal("Secret not immutable")
	}
	two := c.sealedSecret(t, ns, "cfg", map[string]string{"k": "two"}, tmpl).Spec.EncryptedData
	if err := retry.RetryOnConflict(retry.DefaultRetry, func() error { // the status may be written meanwhile
		ss := getSS(t, env, ns, "cfg")
		ss.Spec.EncryptedData = two
		return env.Client.Update(ctx, ss)
	}); err != nil {
		t.Fatal(err)
	}
	second := waitData(t, env, ns, "cfg", "k", "two")
	if second.UID == first.UID || !ptr.Deref(second.Immutable, false) {
		t.Errorf("immutable Secret not replaced (same UID %v)", second.UID == first.UID)
	}
}

func TestRotationAndRetirement(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ns, cns := env.Namespace(t), env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
	old := c.keys.Active().KeyID()
	create(t, env, c.sealedSecret(t, ns, "old", map[string]string{"v": "1"}, v1alpha1.SecretTemplate{}))
	waitReason(t, env, ns, "old", v1alpha1.ReasonUnsealed)

	ctrltest.PatchKey(t, env, cns, old, fmt.Sprintf(`{"metadata":{"annotations":{%q:"now"}}}`, keysecret.AnnotationRotate))
	testenv.Eventually(t, "a new active key", func() bool { return c.keys.Active().KeyID() != old })
	newID := c.keys.Active().KeyID()
	create(t, env, c.sealedSecret(t, ns, "new", map[string]string{"v": "2"}, v1alpha1.SecretTemplate{}))
	got := waitReason(t, env, ns, "new", v1alpha1.ReasonUnsealed)
	if len(got.Status.KeyIDs) != 1 || got.Status.KeyIDs[0] != string(newID) {
		t.Errorf("new SealedSecret opened by %v, want %s", got.Status.KeyIDs, newID)
	}
	if ss := waitReason(t, env, ns, "old", v1alpha1.ReasonUnsealed); ss.Status.KeyIDs[0] != string(old) {
		t.Errorf("old SealedSecret opened by %v", ss.Status.KeyIDs)
	}
	before, _ := getSecret(env, ns, "old")

	ctrltest.SetKeyState(t, env, cns, old, keyring.StateRetired)
	got = waitReason(t, env, ns, "old", v1alpha1.ReasonNoKey)
	if len(got.Status.KeyIDs) != 0 {
		t.Errorf("keyIDs of an unopenable SealedSecret: %v", got.Status.KeyIDs)
	}
	after, err := getSecret(env, ns, "old")
	if err != nil || after.ResourceVersion != before.ResourceVersion {
		t.Errorf("Secret changed when its key was retired (err %v)", err)
	}
	_ = ctx
}

func TestRestartDecryptsNothing(t *testing.T) {
	env := testenv.Shared(t)
	ns, cns := env.Namespace(t), env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
	for i := range 5 {
		create(t, env, c.sealedSecret(t, ns, fmt.Sprintf("s%d", i), map[string]string{"a": "1", "b": "2"}, v1alpha1.SecretTemplate{}))
	}
	for i := range 5 {
		waitReason(t, env, ns, fmt.Sprintf("s%d", i), v1alpha1.ReasonUnsealed)
	}
	c.stop()
	nEvents := len(events(t, env, ns))
	decrypts := testutil.ToFloat64(decryptOps)

	c2 := startController(t, env, ctrlOpts{namespace: cns, watch: []string{ns}})
	testenv.Eventually(t, "the restarted controller to look at every SealedSecret", func() bool {
		byKey, _ := c2.rec.usage.counts()
		return len(byKey) == 1 && byKey[string(c2.keys.Active().KeyID())] == 5
	})
	time.Sleep(time.Second)
	if d := testutil.ToFloat64(decryptOps) - decrypts; d != 0 {
		t.Errorf("restart with nothing changed decrypted %v values", d)
	}
	if n := len(events(t, env, ns)); n != nEvents {
		t.Errorf("restart emitted %d events", n-nEvents)
	}
}

func TestCanaryNeverLeaks(t *testing.T) {
	env := testenv.Shared(t)
	ns, other := env.Namespace(t), env.Namespace(t)
	c := startController(t, env, ctrlOpts{namespace: env.Namespace(t), watch: []string{ns, other}})
	const canary = "CANARY-7f3a9c1e-do-not-log"
	create(t, env, c.sealedSecret(t, ns, "ok", map[string]string{"canary": canary}, v1alpha1.SecretTemplate{}))
	copied := c.sealedSecret(t, ns, "moved", map[string]string{"canary": canary}, v1alpha1.SecretTemplate{})
	copied.Namespace = other
	create(t, env, copied)
	waitData(t, env, ns, "ok", "canary", canary)
	waitReason(t, env, other, "moved", v1alpha1.ReasonScopeMismatch)

	var where []string
	if strings.Contains(c.logs.String(), canary) {
		where = append(where, "logs")
	}
	for _, n := range []string{ns, other} {
		for _, e := range events(t, env, n) {
			if strings.Contains(e.Note, canary) {
				where = append(where, "events")
			}
		}
		var list v1alpha1.SealedSecretList
		if err := env.Client.List(context.Background(), &list, client.InNamespace(n)); err != nil {
			t.Fatal(err)
		}
		for _, ss := range list.Items {
			if strings.Contains(fmt.Sprint(ss.Status), canary) {
				where = append(where, "status")
			}
		}
	}
	if strings.Contains(gatherMetrics(t), canary) {
		where = append(where, "metrics")
	}
	if len(where) > 0 {
		t.Errorf("canary value found in %v", where)
	}
	if !strings.Contains(c.logs.String(), "moved") {
		t.Error("captured logs are empty of the failing object: is the capture working?")
	}
}

func gatherMetrics(t *testing.T) string {
	t.Helper()
	mfs, err := ctrlmetrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		fmt.Fprintln(&b, mf.String())
	}
	return b.String()
}

// TestControllerRBAC runs the whole controller as the ServiceAccount user
// bound by manifests/, then removes its right to write Secrets.
func TestControllerRBAC(t *testing.T) {
	env := testenv.Shared(t)
	ctx := context.Background()
	ctrltest.ApplyManifests(t, env)
	ns := env.Namespace(t)
	cfg, _ := env.User(ctrltest.User, "system:serviceaccounts", "system:serviceaccounts:"+ctrltest.Namespace)
	c := startController(t, env, ctrlOpts{cfg: cfg, namespace: ctrltest.Namespace, leaderElection: true})
	create(t, env, c.sealedSecret(t, ns, "db", map[string]string{"password": "p"}, v1alpha1.SecretTemplate{}))
	waitReason(t, env, ns, "db", v1alpha1.ReasonUnsealed)
	waitData(t, env, ns, "db", "password", "p")

	var role rbacv1.ClusterRole
	if err := env.Client.Get(ctx, client.ObjectKey{Name: "seal-controller"}, &role); err != nil {
		t.Fatal(err)
	}
	orig := role.DeepCopy()
	if !dropVerb(&role, "secrets", "create") {
		t.Fatalf("generated ClusterRole does not let the controller create Secrets: %+v", role.Rules)
	}
	if err := env.Client.Update(ctx, &role); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		var cur rbacv1.ClusterRole
		if err := env.Client.Get(ctx, client.ObjectKey{Name: "seal-controller"}, &cur); err == nil {
			cur.Rules = orig.Rules
			_ = env.Client.Update(ctx, &cur)
		}
	})
	create(t, env, c.sealedSecret(t, ns, "denied", map[string]string{"password": "p"}, v1alpha1.SecretTemplate{}))
	testenv.Eventually(t, "a logged permission error", func() bool {
		return strings.Contains(c.logs.String(), "forbidden") && strings.Contains(c.logs.String(), "denied")
	})
	if _, err := getSecret(env, ns, "denied"); !apierrors.IsNotFound(err) {
		t.Errorf("Secret created without the permission: %v", err)
	}
	if ss := getSS(t, env, ns, "denied"); meta.IsStatusConditionTrue(ss.Status.Conditions, v1alpha1.ConditionReady) {
		t.Error("SealedSecret Ready although its Secret could not be created")
	}
}

func dropVerb(role *rbacv1.ClusterRole, resource, verb string) bool {
	dropped := false
	for i, r := range role.Rules {
		if slices.Contains(r.Resources, resource) && slices.Contains(r.Verbs, verb) {
			role.Rules[i].Verbs = slices.DeleteFunc(slices.Clone(r.Verbs), func(v string) bool { return v == verb })
			dropped = true
		}
	}
	return dropped
}

// TestNamespacedInstall installs examples/namespaced (the ClusterRole bound
// per namespace, --watch-namespaces) and runs the controller as its
// ServiceAccount: it unseals in the namespaces it serves, and can reach no
// Secret anywhere else.
func TestNamespacedInstall(t *testing.T) {
	env := testenv.New(t, testenv.Options{})
	ctx := context.Background()
	for _, ns := range []string{"team-a", "team-b", "team-c"} {
		create(t, env, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}})
	}
	ctrltest.ApplyKustomization(t, env, "examples/namespaced")
	cfg, _ := env.User(ctrltest.User, "system:serviceaccounts", "system:serviceaccounts:"+ctrltest.Namespace)
	c := startController(t, env, ctrlOpts{cfg: cfg, namespace: ctrltest.Namespace, watch: []string{"team-a", "team-b"}, leaderElection: true})
	create(t, env, c.sealedSecret(t, "team-b", "db", map[string]string{"password": "p"}, v1alpha1.SecretTemplate{}))
	waitData(t, env, "team-b", "db", "password", "p")
	waitReason(t, env, "team-b", "db", v1alpha1.ReasonUnsealed)

	create(t, env, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team-c", Name: "other"}, Data: map[string][]byte{"k": []byte("v")}})
	sa, err := client.New(cfg, client.Options{Scheme: env.Client.Scheme()})
	if err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"get a Secret of team-c":          sa.Get(ctx, client.ObjectKey{Namespace: "team-c", Name: "other"}, &corev1.Secret{}),
		"list Secrets of every namespace": sa.List(ctx, &corev1.SecretList{}),
	} {
		if !apierrors.IsForbidden(err) {
			t.Errorf("%s: %v, want forbidden", what, err)
		}
	}
}
