// Package ctrlproc runs the real seal-controller binary as a separate
// process against a test control plane, the way a Pod runs it: tests can
// then kill it, restart it and measure it (peak memory), which an
// in-process manager does not allow.
package ctrlproc

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/keysecret"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

var build struct {
	once sync.Once
	bin  string
	err  error
}

// Build compiles cmd/controller once per test binary and returns its path.
// SEALKIT_TEST_CONTROLLER, when set, names a binary to use instead (to
// measure another build in the same test).
func Build(t testing.TB) string {
	t.Helper()
	if bin := os.Getenv("SEALKIT_TEST_CONTROLLER"); bin != "" {
		return bin
	}
	build.once.Do(func() {
		root, err := testenv.ModuleRoot()
		if err != nil {
			build.err = err
			return
		}
		dir, err := os.MkdirTemp("", "sealkit-ctrlproc-")
		if err != nil {
			build.err = err
			return
		}
		build.bin = filepath.Join(dir, "seal-controller")
		cmd := exec.Command("go", "build", "-o", build.bin, "./cmd/controller")
		cmd.Dir = root
		if b, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("building seal-controller: %w\n%s", err, b)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.bin
}

// Process is one run of seal-controller.
type Process struct {
	Cmd     *exec.Cmd
	LogPath string
	exited  chan struct{}
	once    sync.Once
}

// Start runs seal-controller with the kubeconfig of env, in controller
// namespace ns, with args after the defaults (no leader election, no
// webhooks, no servers: a later flag wins), and env vars envv. The process
// is killed when the test ends; its log is kept in a temporary file.
func Start(t testing.TB, env *testenv.Env, ns string, envv []string, args ...string) *Process {
	t.Helper()
	return StartWith(t, env, Config{Namespace: ns, Env: envv, Args: args})
}

// Config is how [StartWith] runs seal-controller.
type Config struct {
	// Namespace is the controller namespace (--namespace).
	Namespace string
	// Kubeconfig is the kubeconfig the controller uses; empty means the
	// environment's admin kubeconfig. Tests give it another user's (one
	// RBAC or API Priority and Fairness treat differently) or one whose
	// server is a proxy.
	Kubeconfig string
	// Env are extra environment variables (NAME=value).
	Env []string
	// Args are flags after the defaults; a later flag wins.
	Args []string
}

// StartWith runs seal-controller as cfg says; see [Start].
func StartWith(t testing.TB, env *testenv.Env, cfg Config) *Process {
	t.Helper()
	return start(t, env, cfg, "")
}

// StartLimited is Start in a memory cgroup of its own limited to limit
// bytes, as a Pod's container is: over it, the kernel reclaims the
// process' page cache and then kills it.
func StartLimited(t testing.TB, env *testenv.Env, ns string, limit int64, args ...string) (*Process, *Cgroup) {
	t.Helper()
	cg := newCgroup(t, limit)
	return start(t, env, Config{Namespace: ns, Args: args}, cg.procs), cg
}

func start(t testing.TB, env *testenv.Env, cfg Config, cgroupProcs string) *Process {
	t.Helper()
	bin := Build(t)
	kubeconfig := cfg.Kubeconfig
	if kubeconfig == "" {
		kubeconfig = env.Kubeconfig
	}
	all := append([]string{"--kubeconfig=" + kubeconfig, "--namespace=" + cfg.Namespace, "--leader-elect=false",
		"--enable-webhooks=false", "--metrics-bind-address=0", "--health-probe-bind-address=0", "--log-format=json"}, cfg.Args...)
	cmd := exec.Command(bin, all...)
	if cgroupProcs != "" {
		// Join the cgroup first, then become the controller: nothing it
		// allocates is outside the limit.
		cmd = exec.Command("/bin/sh", append([]string{"-c", `echo $$ > "$0" && exec "$@"`, cgroupProcs, bin}, all...)...)
	}
	cmd.Env = append(os.Environ(), cfg.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.CreateTemp("", "seal-controller-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, LogPath: logf.Name(), exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); _ = logf.Close(); close(p.exited) }()
	t.Cleanup(func() {
		p.Kill()
		if t.Failed() {
			t.Logf("seal-controller log: %s", p.LogPath)
		} else {
			_ = os.Remove(p.LogPath)
		}
	})
	return p
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	p.once.Do(func() { _ = p.Cmd.Process.Kill(); <-p.exited })
}

// Terminate sends SIGTERM, as the kubelet does to a Pod being deleted, and
// waits up to grace for the process to exit; after that it is killed. It
// returns the exit status, or an error if the process had to be killed.
func (p *Process) Terminate(grace time.Duration) (*os.ProcessState, error) {
	_ = p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		return p.Cmd.ProcessState, nil
	case <-time.After(grace):
		p.Kill()
		return p.Cmd.ProcessState, fmt.Errorf("still running %s after SIGTERM: killed", grace)
	}
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// PeakRSS is the process' peak resident set size (VmHWM), in bytes. The
// process must be running.
func (p *Process) PeakRSS(t testing.TB) int64 {
	t.Helper()
	return p.status(t, "VmHWM:")
}

// RSS is the process' resident set size now (VmRSS), in bytes. The process
// must be running.
func (p *Process) RSS(t testing.TB) int64 {
	t.Helper()
	return p.status(t, "VmRSS:")
}

// status reads a size field of /proc/PID/status, in bytes.
func (p *Process) status(t testing.TB, field string) int64 {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.Cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field); ok {
			kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return kib << 10
		}
	}
	t.Fatalf("no %s in /proc status", field)
	return 0
}

// Log returns what the process wrote so far.
func (p *Process) Log(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// CreateKey stores an active key in namespace ns the way the controller
// does, so that SealedSecrets can be made before the controller first runs.
func CreateKey(t testing.TB, c client.Client, ns string) *crypto.Identity {
	t.Helper()
	id, err := crypto.GenerateIdentity()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Create(context.Background(), keysecret.New(ns, id, time.Now(), keyring.StateActive)); err != nil {
		t.Fatal(err)
	}
	return id
}

// ReadyCount counts the SealedSecrets of ns whose Ready column (the CRD's
// printer column) is True. It lists a table, not the objects, which would
// be megabytes of ciphertext.
func ReadyCount(t testing.TB, rc rest.Interface, ns string) int {
	t.Helper()
	n, err := CountReady(context.Background(), rc, ns)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// CountReady is ReadyCount returning its error, for callers that expect the
// API server to be unavailable at times.
func CountReady(ctx context.Context, rc rest.Interface, ns string) (int, error) {
	raw, err := rc.Get().AbsPath("/apis", v1alpha1.GroupVersion.Group, v1alpha1.GroupVersion.Version, "namespaces", ns, "sealedsecrets").
		SetHeader("Accept", "application/json;as=Table;v=v1;g=meta.k8s.io").DoRaw(ctx)
	if err != nil {
		return 0, err
	}
	var table metav1.Table
	if err := json.Unmarshal(raw, &table); err != nil {
		return 0, err
	}
	col := slices.IndexFunc(table.ColumnDefinitions, func(c metav1.TableColumnDefinition) bool { return c.Name == "Ready" })
	if col < 0 {
		return 0, errors.New("no Ready column in the SealedSecret table")
	}
	n := 0
	for _, row := range table.Rows {
		if row.Cells[col] == string(metav1.ConditionTrue) {
			n++
		}
	}
	return n, nil
}
