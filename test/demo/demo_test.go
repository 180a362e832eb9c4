// Package demo runs hack/demo.sh, the `make demo` script, the way CI and a
// user do, so the demo cannot rot: it must finish, print every step, and leave
// no process and no file behind, also when interrupted with Ctrl-C.
package demo

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/testenv"
)

// demoTimeout bounds one run. After the first build the demo takes well under
// two minutes; make test runs other packages beside it on two cores.
const demoTimeout = 6 * time.Minute

// steps is the number of numbered steps hack/demo.sh prints.
const steps = 11

// run is one run of hack/demo.sh.
type run struct {
	out     string
	err     error
	elapsed time.Duration
	workDir string
	pids    map[string]int
}

// runDemo runs the script in its own process group, as a terminal would.
// When interruptAt is not empty, the group gets SIGINT (Ctrl-C) once a line
// of output contains it.
func runDemo(t *testing.T, interruptAt string) run {
	t.Helper()
	assets, err := testenv.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), demoTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", filepath.Join(root, "hack", "demo.sh"))
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "KUBEBUILDER_ASSETS="+assets)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// On timeout the script gets SIGTERM, which its trap turns into a cleanup.
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = time.Minute
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw

	started := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	_ = pw.Close()
	// A backstop after a failure: the script's own cleanup should make it moot.
	defer func() { _ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }()

	var (
		mu  sync.Mutex
		buf bytes.Buffer
	)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		sent := false
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			line := sc.Text()
			mu.Lock()
			buf.WriteString(line + "\n")
			mu.Unlock()
			if interruptAt != "" && !sent && strings.Contains(line, interruptAt) {
				sent = true
				_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)
			}
		}
	}()
	err = cmd.Wait()
	<-scanned
	_ = pr.Close()
	r := run{out: buf.String(), err: err, elapsed: time.Since(started)}
	r.workDir, r.pids = parseOutput(t, r.out)
	return r
}

var (
	workDirLine = regexp.MustCompile(`(?m)^demo: work dir (\S+)$`)
	pidsLine    = regexp.MustCompile(`(?m)^demo: pids (.+)$`)
)

// parseOutput finds the work directory and the processes the script says it
// started.
func parseOutput(t *testing.T, out string) (string, map[string]int) {
	t.Helper()
	m := workDirLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no %q line in the output:\n%s", "demo: work dir", out)
	}
	pids := map[string]int{}
	if m := pidsLine.FindStringSubmatch(out); m != nil {
		for _, f := range strings.Fields(m[1]) {
			name, v, ok := strings.Cut(f, "=")
			pid, err := strconv.Atoi(v)
			if !ok || err != nil {
				t.Fatalf("malformed pids line %q", m[0])
			}
			pids[name] = pid
		}
	}
	return m[1], pids
}

// checkNothingLeft asserts that no process the demo started is running and
// that its work directory is gone. Every such process has the work directory
// on its command line: the script runs them from it or points their data
// and certificates into it.
func checkNothingLeft(t *testing.T, r run) {
	t.Helper()
	if left := processesMentioning(t, r.workDir); len(left) > 0 {
		t.Errorf("processes left behind by the demo:\n%s", strings.Join(left, "\n"))
	}
	for name, pid := range r.pids {
		if cmdline, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline"); err == nil &&
			bytes.Contains(cmdline, []byte(r.workDir)) {
			t.Errorf("%s (pid %d) still running", name, pid)
		}
	}
	if _, err := os.Stat(r.workDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("work dir %s not removed (stat: %v)", r.workDir, err)
	}
}

// processesMentioning lists the running processes whose command line
// contains s.
func processesMentioning(t *testing.T, s string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil || !bytes.Contains(cmdline, []byte(s)) {
			continue
		}
		out = append(out, e.Name()+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
	}
	return out
}

// TestDemo runs the whole demo and checks its steps, summary and clean-up.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about a minute")
	}
	r := runDemo(t, "")
	t.Logf("demo took %s", r.elapsed.Round(time.Second))
	if r.err != nil {
		t.Fatalf("hack/demo.sh: %v\n%s", r.err, r.out)
	}
	for i := 1; i <= steps; i++ {
		if marker := "==> [" + strconv.Itoa(i) + "/" + strconv.Itoa(steps) + "] "; !strings.Contains(r.out, marker) {
			t.Errorf("no step marker %q in the output", marker)
		}
	}
	for _, want := range []string{
		"identity: system:serviceaccount:sealkit-system:seal-controller",
		"ok demo/db-credentials", // seal verify
		"password (decoded, to show it worked): correct-horse-battery-staple",
		"new active key ", // seal keys rotate
		"resealed ",       // seal reseal
		"seal lint exited 1",
		"key rotation:", "(retired) -> ", "(active)",
		"demo took ",
		"demo: OK",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	for _, name := range []string{"devcluster", "etcd", "kube-apiserver", "seal-controller"} {
		if r.pids[name] == 0 {
			t.Errorf("the pids line names no %s", name)
		}
	}
	checkNothingLeft(t, r)
	if t.Failed() {
		t.Logf("output:\n%s", r.out)
	}
}

// TestDemoInterrupted presses Ctrl-C once the controller runs: the script
// must exit 130 and stop everything it started.
func TestDemoInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo takes about a minute")
	}
	r := runDemo(t, "demo: pids ")
	t.Logf("interrupted demo took %s", r.elapsed.Round(time.Second))
	var ee *exec.ExitError
	if !errors.As(r.err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("interrupted hack/demo.sh: %v, want exit status 130", r.err)
	}
	if !strings.Contains(r.out, "demo: interrupted") {
		t.Errorf("output lacks %q", "demo: interrupted")
	}
	if len(r.pids) == 0 {
		t.Errorf("the script was interrupted before it printed its pids")
	}
	checkNothingLeft(t, r)
	if t.Failed() {
		t.Logf("output:\n%s", r.out)
	}
}
