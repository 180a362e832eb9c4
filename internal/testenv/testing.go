package testenv

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// New starts a control plane for one test and stops it when the test ends.
// Prefer [Shared] unless the test needs a pristine API server.
func New(t testing.TB, opts Options) *Env {
	t.Helper()
	e, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	track(e)
	t.Cleanup(func() {
		if err := e.Stop(); err != nil {
			t.Errorf("stopping control plane: %v", err)
		}
	})
	return e
}

var shared struct {
	inMain bool
	opts   Options
	once   sync.Once
	env    *Env
	err    error
}

// Main runs a package's tests sharing one control plane, started with opts on
// the first call to [Shared] (so a run that selects no such test starts
// nothing) and stopped after the last test. Call it from TestMain:
//
//	func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }
//
// Tests sharing a control plane should work in their own namespace ([Env.Namespace]).
// An interrupt (Ctrl-C) or SIGTERM stops every control plane of the process
// before exiting: etcd and kube-apiserver run in their own process group and
// would otherwise outlive the test binary.
func Main(m *testing.M, opts Options) {
	shared.inMain = true
	shared.opts = opts
	stopOnSignal()
	code := m.Run()
	if err := stopAll(); err != nil {
		fmt.Fprintf(os.Stderr, "testenv: stopping control plane: %v\n", err)
		if code == 0 {
			code = 1
		}
	}
	os.Exit(code)
}

// Shared returns the package's control plane, starting it on first use. The
// package's TestMain must call [Main].
func Shared(t testing.TB) *Env {
	t.Helper()
	if !shared.inMain {
		t.Fatal("testenv.Shared: TestMain must call testenv.Main, which stops the shared control plane")
	}
	shared.once.Do(func() {
		shared.env, shared.err = Start(shared.opts)
		if shared.err == nil {
			track(shared.env)
		}
	})
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.env
}

var live struct {
	sync.Mutex
	envs []*Env
}

func track(e *Env) {
	live.Lock()
	defer live.Unlock()
	live.envs = append(live.envs, e)
}

// stopAll stops every control plane this process started; Stop is idempotent,
// so those already stopped by their test cost nothing.
func stopAll() error {
	live.Lock()
	envs := live.envs
	live.envs = nil
	live.Unlock()
	var first error
	for _, e := range envs {
		if err := e.Stop(); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func stopOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		fmt.Fprintf(os.Stderr, "testenv: %v: stopping control planes\n", sig)
		_ = stopAll()
		os.Exit(2)
	}()
}

var notDNS = regexp.MustCompile(`[^a-z0-9-]+`)

// Namespace creates a namespace named after the test, for tests sharing a
// control plane. Nothing deletes it: envtest runs no namespace controller, so
// deletion would never finish, and the control plane is thrown away anyway.
func (e *Env) Namespace(t testing.TB) string {
	t.Helper()
	base := strings.Trim(notDNS.ReplaceAllString(strings.ToLower(t.Name()), "-"), "-")
	base = base[:min(len(base), 50)]
	ns := &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: base + "-"}}
	if err := e.Client.Create(context.Background(), ns); err != nil {
		t.Fatalf("creating namespace: %v", err)
	}
	return ns.Name
}
