package keys

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	"github.com/go-logr/logr/funcr"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/rest"
	"k8s.io/utils/clock"
	clocktesting "k8s.io/utils/clock/testing"
	"k8s.io/utils/ptr"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/config"
	"sigs.k8s.io/controller-runtime/pkg/metrics"
	metricsserver "sigs.k8s.io/controller-runtime/pkg/metrics/server"

	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	kscheme "github.com/sealkit/sealkit/internal/scheme"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// logSink collects a manager's log lines so tests can assert what was said.
type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (s *logSink) logger() logr.Logger {
	return funcr.New(func(prefix, args string) {
		s.mu.Lock()
		s.lines = append(s.lines, prefix+" "+args)
		s.mu.Unlock()
	}, funcr.Options{Verbosity: 1})
}

func (s *logSink) contains(sub string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, l := range s.lines {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

func (s *logSink) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Join(s.lines, "\n")
}

// keysController is a manager running only the key machinery.
type keysController struct {
	store *Store
	logs  *logSink
	mgr   ctrl.Manager
}

type keysOpts struct {
	cfg            *rest.Config // nil: admin
	leaderElection bool
	period         time.Duration
	clock          clock.PassiveClock
}

// startKeys starts a manager with Setup in ns, its cache restricted to key
// Secrets as NewManager restricts it, and stops it when the test ends.
func startKeys(t *testing.T, env *testenv.Env, ns string, o keysOpts) *keysController {
	t.Helper()
	cfg := o.cfg
	if cfg == nil {
		cfg = env.Config
	}
	scheme, err := kscheme.New()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logSink{}
	mgr, err := ctrl.NewManager(cfg, ctrl.Options{
		Scheme: scheme,
		Logger: logs.logger(),
		Cache: cache.Options{ByObject: map[client.Object]cache.ByObject{
			&corev1.Secret{}: {Namespaces: map[string]cache.Config{
				ns: {LabelSelector: labels.SelectorFromSet(labels.Set{keysecret.LabelKey: "true"})},
			}},
		}},
		Metrics:                       metricsserver.Options{BindAddress: "0"},
		HealthProbeBindAddress:        "0",
		LeaderElection:                o.leaderElection,
		LeaderElectionID:              "keys-test",
		LeaderElectionNamespace:       ns,
		LeaderElectionReleaseOnCancel: true,
		LeaseDuration:                 ptr.To(3 * time.Second),
		RenewDeadline:                 ptr.To(2 * time.Second),
		RetryPeriod:                   ptr.To(200 * time.Millisecond),
		Controller:                    config.Controller{SkipNameValidation: ptr.To(true)},
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := Setup(mgr, Options{Namespace: ns, RotationPeriod: o.period, Clock: o.clock})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
		// Whatever the test did to the keys, no identity reached a log line.
		if logs.contains("SECRET-KEY") {
			t.Error("controller logs contain key material")
		}
		if t.Failed() {
			t.Logf("controller logs:\n%s", logs)
		}
	})
	return &keysController{store: store, logs: logs, mgr: mgr}
}

func keySecrets(t *testing.T, env *testenv.Env, ns string) []corev1.Secret {
	t.Helper()
	var list corev1.SecretList
	if err := env.Client.List(context.Background(), &list, client.InNamespace(ns), client.MatchingLabels{keysecret.LabelKey: "true"}); err != nil {
		t.Fatal(err)
	}
	return list.Items
}

// states maps key ID to the state label of every key Secret in ns.
func states(t *testing.T, env *testenv.Env, ns string) map[crypto.KeyID]keyring.State {
	t.Helper()
	m := map[crypto.KeyID]keyring.State{}
	for _, s := range keySecrets(t, env, ns) {
		m[crypto.KeyID(s.Annotations[keysecret.AnnotationKeyID])] = keyring.State(s.Labels[keysecret.LabelState])
	}
	return m
}

// published returns the keyring ConfigMap's states by key ID, or nil.
func published(t *testing.T, env *testenv.Env, ns string) map[crypto.KeyID]keyring.State {
	t.Helper()
	var cm corev1.ConfigMap
	err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: keyring.KeyringConfigMap}, &cm)
	if err != nil {
		return nil
	}
	kr, err := keyring.Parse(strings.NewReader(cm.Data[keyring.KeyringDataKey]))
	if err != nil {
		t.Fatalf("published keyring does not parse: %v", err)
	}
	m := map[crypto.KeyID]keyring.State{}
	for _, k := range kr.Keys {
		m[k.ID] = k.State
	}
	return m
}

func activeID(s *Store) crypto.KeyID {
	if a := s.Active(); a != nil {
		return a.KeyID()
	}
	return ""
}

func ids(list []*crypto.Identity) []crypto.KeyID {
	var out []crypto.KeyID
	for _, id := range list {
		out = append(out, id.KeyID())
	}
	return out
}

func TestKeysFirstStart(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	kc := startKeys(t, env, ns, keysOpts{})

	testenv.Eventually(t, "an active key", func() bool { return kc.store.Active() != nil })
	active := kc.store.Active()
	secrets := keySecrets(t, env, ns)
	if len(secrets) != 1 {
		t.Fatalf("got %d key secrets, want 1", len(secrets))
	}
	s := secrets[0]
	if s.Labels[keysecret.LabelState] != string(keyring.StateActive) || s.Annotations[keysecret.AnnotationKeyID] != string(active.KeyID()) {
		t.Errorf("key secret labels %v annotations %v, want active %s", s.Labels, s.Annotations, active.KeyID())
	}
	if s.Immutable == nil || !*s.Immutable {
		t.Error("key secret is not immutable")
	}
	if _, err := time.Parse(time.RFC3339, s.Annotations[keysecret.AnnotationCreated]); err != nil {
		t.Errorf("created annotation: %v", err)
	}
	if !active.Recipient().PostQuantum() {
		t.Error("generated key is not post-quantum")
	}
	if got := kc.store.Recipients(); len(got) != 1 || got[0].KeyID() != active.KeyID() {
		t.Errorf("Recipients() = %v, want the active key", got)
	}
	testenv.Eventually(t, "the published keyring", func() bool {
		return published(t, env, ns)[active.KeyID()] == keyring.StateActive
	})
	var cm corev1.ConfigMap
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: keyring.KeyringConfigMap}, &cm); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cm.Data[keyring.KeyringDataKey], "SECRET-KEY") {
		t.Fatal("keyring ConfigMap contains a private key")
	}
	kr, err := keyring.Parse(strings.NewReader(cm.Data[keyring.KeyringDataKey]))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := kr.SealingRecipients()
	if err != nil || len(rs) != 1 || rs[0].String() != active.Recipient().String() {
		t.Errorf("published sealing recipients %v (%v), want the active key", rs, err)
	}
	if err := kc.store.readyCheck(nil); err != nil {
		t.Errorf("ready check: %v", err)
	}
	if got := gaugeValue(t, "sealkit_keys", map[string]string{"state": "active"}); got != 1 {
		t.Errorf("sealkit_keys{state=active} = %v, want 1", got)
	}
	if got := gaugeValue(t, "sealkit_key_age_seconds", map[string]string{"key_id": string(active.KeyID()), "state": "active"}); got < 0 || got > 600 {
		t.Errorf("sealkit_key_age_seconds of the new key = %v", got)
	}
}

// gaugeValue reads one gauge from the controller-runtime metrics registry,
// -1 when absent.
func gaugeValue(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	families, err := metrics.Registry.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	next:
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if v, ok := labels[l.GetName()]; ok && v != l.GetValue() {
					continue next
				}
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}

func TestKeysTwoManagersOneActive(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	a := startKeys(t, env, ns, keysOpts{leaderElection: true})
	b := startKeys(t, env, ns, keysOpts{leaderElection: true})

	// Both replicas load the key, the follower through its watch.
	testenv.Eventually(t, "both replicas to load the key", func() bool {
		return a.store.Active() != nil && b.store.Active() != nil
	})
	time.Sleep(2 * time.Second) // room for a second key, were there a race
	st := states(t, env, ns)
	if len(st) != 1 {
		t.Fatalf("got keys %v, want exactly one", st)
	}
	if activeID(a.store) != activeID(b.store) {
		t.Errorf("replicas disagree on the active key: %s, %s", activeID(a.store), activeID(b.store))
	}
}

func TestKeysRotateAnnotation(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	kc := startKeys(t, env, ns, keysOpts{})
	testenv.Eventually(t, "an active key", func() bool { return kc.store.Active() != nil })
	old := kc.store.Active()
	sealed, err := crypto.Seal(kc.store.Recipients(), crypto.Frame{Scope: crypto.ScopeStrict, Namespace: "n", Name: "s", Key: "k"}, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}

	ctrltest.PatchKey(t, env, ns, old.KeyID(), fmt.Sprintf(`{"metadata":{"annotations":{%q:"1"}}}`, keysecret.AnnotationRotate))
	testenv.Eventually(t, "a new active key", func() bool { return activeID(kc.store) != old.KeyID() && kc.store.Active() != nil })
	newID := activeID(kc.store)
	testenv.Eventually(t, "the old key retained", func() bool { return states(t, env, ns)[old.KeyID()] == keyring.StateRetained })
	if got := ids(kc.store.Identities()); len(got) != 2 || got[0] != newID || got[1] != old.KeyID() {
		t.Errorf("Identities() = %v, want [%s %s]", got, newID, old.KeyID())
	}
	if _, opened, err := crypto.Open(sealed, crypto.Frame{Scope: crypto.ScopeStrict, Namespace: "n", Name: "s", Key: "k"}, kc.store.Identities()); err != nil || opened != old.KeyID() {
		t.Errorf("old value: opened by %s, %v; want %s", opened, err, old.KeyID())
	}
	testenv.Eventually(t, "the keyring to show the rotation", func() bool {
		p := published(t, env, ns)
		return p[newID] == keyring.StateActive && p[old.KeyID()] == keyring.StateRetained
	})
	time.Sleep(time.Second) // the annotation stays on the retained key: it must not rotate again
	if n := len(states(t, env, ns)); n != 2 {
		t.Errorf("got %d keys after one rotation request, want 2", n)
	}
}

func TestKeysRotatePeriod(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	fc := clocktesting.NewFakeClock(time.Date(2026, 11, 25, 23, 0, 0, 0, time.UTC))
	kc := startKeys(t, env, ns, keysOpts{period: time.Hour, clock: fc})
	testenv.Eventually(t, "an active key", func() bool { return kc.store.Active() != nil })
	first := activeID(kc.store)

	fc.Step(59 * time.Minute)
	time.Sleep(time.Second)
	if got := activeID(kc.store); got != first || len(states(t, env, ns)) != 1 {
		t.Fatalf("rotated before the period: active %s, keys %v", got, states(t, env, ns))
	}
	fc.Step(2 * time.Minute)
	testenv.Eventually(t, "rotation after the period", func() bool { return activeID(kc.store) != first })
	testenv.Eventually(t, "the old key retained", func() bool { return states(t, env, ns)[first] == keyring.StateRetained })
	var s corev1.Secret
	if err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: keysecret.NamePrefix + string(activeID(kc.store))}, &s); err != nil {
		t.Fatal(err)
	}
	created, _ := time.Parse(time.RFC3339, s.Annotations[keysecret.AnnotationCreated])
	if !created.Equal(fc.Now()) {
		t.Errorf("new key created %s, want the clock's %s", created, fc.Now())
	}
}

func TestKeysCompromised(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	kc := startKeys(t, env, ns, keysOpts{})
	testenv.Eventually(t, "an active key", func() bool { return kc.store.Active() != nil })
	bad := activeID(kc.store)

	ctrltest.SetKeyState(t, env, ns, bad, keyring.StateCompromised)
	testenv.Eventually(t, "a new active key", func() bool { a := activeID(kc.store); return a != "" && a != bad })
	time.Sleep(500 * time.Millisecond)
	if st := states(t, env, ns)[bad]; st != keyring.StateCompromised {
		t.Errorf("compromised key relabelled %s", st)
	}
	if got := ids(kc.store.Identities()); len(got) != 2 || got[1] != bad {
		t.Errorf("Identities() = %v, want the compromised key still opening, after the active one", got)
	}
	for _, r := range kc.store.Recipients() {
		if r.KeyID() == bad {
			t.Error("compromised key is still sealed to")
		}
	}
	testenv.Eventually(t, "the keyring to say compromised", func() bool {
		return published(t, env, ns)[bad] == keyring.StateCompromised
	})
}

func TestKeysRetired(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	kc := startKeys(t, env, ns, keysOpts{})
	testenv.Eventually(t, "an active key", func() bool { return kc.store.Active() != nil })
	old := activeID(kc.store)
	where := crypto.Frame{Scope: crypto.ScopeStrict, Namespace: "n", Name: "s", Key: "k"}
	sealed, err := crypto.Seal(kc.store.Recipients(), where, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	ctrltest.PatchKey(t, env, ns, old, fmt.Sprintf(`{"metadata":{"annotations":{%q:"now"}}}`, keysecret.AnnotationRotate))
	testenv.Eventually(t, "the old key retained", func() bool { return states(t, env, ns)[old] == keyring.StateRetained })

	ctrltest.SetKeyState(t, env, ns, old, keyring.StateRetired)
	testenv.Eventually(t, "the retired key to be loaded", func() bool { return kc.store.State(old) == keyring.StateRetired })
	for _, id := range kc.store.Identities() {
		if id.KeyID() == old {
			t.Fatal("retired key in Identities()")
		}
	}
	var nk *crypto.NoKeyMatchError
	if _, _, err := crypto.Open(sealed, where, kc.store.Identities()); !errors.As(err, &nk) {
		t.Errorf("opening a value sealed to a retired key: %v, want NoKeyMatchError", err)
	}
	testenv.Eventually(t, "the keyring to list it retired", func() bool {
		return published(t, env, ns)[old] == keyring.StateRetired
	})
	if _, ok := states(t, env, ns)[old]; !ok {
		t.Error("retired key secret deleted")
	}
}

// importKey creates a key Secret the way an operator (or `seal keys restore`)
// would, with a name of their choosing.
func importKey(t *testing.T, env *testenv.Env, ns, name string, st keyring.State, created time.Time) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	s := keysecret.New(ns, id, created, st)
	s.Name = name
	if err := env.Client.Create(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestKeysImportedPickedUp(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	kc := startKeys(t, env, ns, keysOpts{})
	testenv.Eventually(t, "an active key", func() bool { return kc.store.Active() != nil })
	active := activeID(kc.store)

	imported := importKey(t, env, ns, "imported", keyring.StateRetained, time.Now().Add(-24*time.Hour))
	testenv.Eventually(t, "the imported key in Identities()", func() bool {
		got := ids(kc.store.Identities())
		return len(got) == 2 && got[0] == active && got[1] == imported.KeyID()
	})
	testenv.Eventually(t, "the keyring to list it", func() bool {
		return published(t, env, ns)[imported.KeyID()] == keyring.StateRetained
	})
}

func TestKeysTwoActiveFound(t *testing.T) {
	env := testenv.Shared(t)
	ns := env.Namespace(t)
	now := time.Now()
	older := importKey(t, env, ns, "restored-older", keyring.StateActive, now.Add(-2*time.Hour))
	newer := importKey(t, env, ns, "restored-newer", keyring.StateActive, now.Add(-time.Hour))

	kc := startKeys(t, env, ns, keysOpts{})
	testenv.Eventually(t, "the newer key active", func() bool { return activeID(kc.store) == newer.KeyID() })
	testenv.Eventually(t, "the older key relabelled retained", func() bool {
		var s corev1.Secret
		err := env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: "restored-older"}, &s)
		return err == nil && s.Labels[keysecret.LabelState] == string(keyring.StateRetained)
	})
	if got := ids(kc.store.Identities()); len(got) != 2 || got[1] != older.KeyID() {
		t.Errorf("Identities() = %v, want [%s %s]", got, newer.KeyID(), older.KeyID())
	}
	if !kc.logs.contains("several active keys") {
		t.Error("two active keys were not logged")
	}
	if n := len(keySecrets(t, env, ns)); n != 2 {
		t.Errorf("got %d key secrets, want the 2 restored (no new key)", n)
	}
}
