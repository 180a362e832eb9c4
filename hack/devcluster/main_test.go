package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/testenv"
)

// TestSIGTERMLeavesNoProcesses runs the dev cluster as users do, waits for its
// kubeconfig, uses it, sends SIGTERM and checks that etcd and kube-apiserver are
// gone and the files removed.
func TestSIGTERMLeavesNoProcesses(t *testing.T) {
	assets, err := testenv.AssetsDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "devcluster")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	kubeconfig := filepath.Join(dir, "cluster", "kubeconfig")
	cmd := exec.Command(bin, "-kubeconfig", kubeconfig)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	defer func() { _ = cmd.Process.Kill() }() // after a failure; a no-op once it has exited

	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("reading the kubeconfig path devcluster prints: %v", err)
	}
	if got := strings.TrimSpace(line); got != kubeconfig {
		t.Fatalf("devcluster printed %q, want %q", got, kubeconfig)
	}
	go func() { exited <- cmd.Wait() }()

	out, err := exec.Command(filepath.Join(assets, "kubectl"), "--kubeconfig", kubeconfig, "get", "crd", "sealedsecrets.sealkit.dev", "-o", "name").CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl against the dev cluster: %v\n%s", err, out)
	}
	pidFile, err := os.ReadFile(filepath.Join(dir, "cluster", "pid"))
	if err != nil || strings.TrimSpace(string(pidFile)) != strconv.Itoa(cmd.Process.Pid) {
		t.Fatalf("pid file: %q, %v; want %d", pidFile, err, cmd.Process.Pid)
	}
	children := descendants(cmd.Process.Pid)
	names := map[string]bool{}
	for pid, name := range children {
		t.Logf("child %d: %s", pid, name)
		names[name] = true
	}
	if !names["etcd"] || !names["kube-apiserver"] {
		t.Fatalf("devcluster's children are %v, want etcd and kube-apiserver among them", children)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("devcluster exited with %v after SIGTERM, want a clean exit", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("devcluster still running 60s after SIGTERM")
	}
	for pid, name := range children {
		if alive(pid, name) {
			t.Errorf("%s (pid %d) still running after devcluster stopped", name, pid)
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	for _, f := range []string{kubeconfig, filepath.Join(dir, "cluster", "pid")} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind (stat: %v)", f, err)
		}
	}
}

// descendants maps every process below pid to its command name, from /proc.
func descendants(pid int) map[int]string {
	parent := map[int]int{}
	name := map[int]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if pp, comm, ok := stat(p); ok {
			parent[p], name[p] = pp, comm
		}
	}
	out := map[int]string{}
	for p := range parent {
		for q := parent[p]; q > 1; q = parent[q] {
			if q == pid {
				out[p] = name[p]
				break
			}
		}
	}
	return out
}

// alive reports whether pid still runs the named command (not a zombie, and not
// a recycled pid).
func alive(pid int, comm string) bool {
	_, c, ok := stat(pid)
	return ok && c == comm
}

// stat reads the parent pid and command name of pid; zombies count as gone.
func stat(pid int) (ppid int, comm string, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, "", false
	}
	s := string(b)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return 0, "", false
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 2 || fields[0] == "Z" {
		return 0, "", false
	}
	ppid, err = strconv.Atoi(fields[1])
	return ppid, s[open+1 : end], err == nil
}
