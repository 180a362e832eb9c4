// Package ctrltest holds what the controller's test packages share: a
// manager as seal-controller builds it (without servers), running it for
// the length of a test, capturing its logs, and installing manifests/.
package ctrltest

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	ctrl "sigs.k8s.io/controller-runtime"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
)

// Names manifests/ gives the controller.
const (
	Namespace = "sealkit-system"
	// User is the ServiceAccount's user name: RBAC matches ServiceAccount
	// subjects by it, so a client certificate with this name gets exactly
	// the permissions manifests/ binds to the controller.
	User = "system:serviceaccount:sealkit-system:seal-controller"
)

// NewManager is controller.NewManager for a test process that runs several
// managers: no metrics or probe servers, no controller name checks.
func NewManager(t testing.TB, cfg *rest.Config, opts controller.ManagerOptions) ctrl.Manager {
	t.Helper()
	opts.MetricsBindAddress, opts.HealthProbeBindAddress = "0", "0"
	opts.SkipNameValidation = true
	mgr, err := controller.NewManager(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return mgr
}

// Run starts mgr and returns stop, which cancels it, waits for Start to
// return and reports its error. stop may be called more than once, and is
// called when the test ends; a cleanup that must see the manager stopped
// (logs complete) calls it first.
func Run(t testing.TB, mgr ctrl.Manager) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- mgr.Start(ctx) }()
	stop = sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("manager: %v", err)
		}
	})
	t.Cleanup(stop)
	return stop
}

// LogBuffer is a log destination safe for a manager's goroutines.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// ApplyManifests applies manifests/ as admin, then removes the webhook
// configurations: they point at a Service nothing serves in a shared
// control plane, and later tests must never wait on it.
func ApplyManifests(t testing.TB, env *testenv.Env) { ApplyKustomization(t, env, "manifests") }

// ApplyKustomization is ApplyManifests for the kustomization in dir (a path
// from the module root), such as an overlay of manifests/.
func ApplyKustomization(t testing.TB, env *testenv.Env, dir string) {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := env.Kubectl("apply", "-k", filepath.Join(root, dir)).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl apply -k %s: %v\n%s", dir, err, out)
	}
	out, err = env.Kubectl("delete", "--ignore-not-found",
		"validatingwebhookconfiguration/seal-controller", "mutatingwebhookconfiguration/seal-controller").CombinedOutput()
	if err != nil {
		t.Fatalf("removing webhook configurations: %v\n%s", err, out)
	}
}

// PatchKey applies a merge patch to the key Secret of id in ns.
func PatchKey(t testing.TB, env *testenv.Env, ns string, id crypto.KeyID, patch string) {
	t.Helper()
	s := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: keysecret.NamePrefix + string(id)}}
	if err := env.Client.Patch(context.Background(), s, client.RawPatch(types.MergePatchType, []byte(patch))); err != nil {
		t.Fatal(err)
	}
}

// SetKeyState labels the key Secret of id in ns with state st.
func SetKeyState(t testing.TB, env *testenv.Env, ns string, id crypto.KeyID, st keyring.State) {
	t.Helper()
	PatchKey(t, env, ns, id, fmt.Sprintf(`{"metadata":{"labels":{%q:%q}}}`, keysecret.LabelState, st))
}
