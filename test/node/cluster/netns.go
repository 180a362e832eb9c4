package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// sandbox is the network and mount namespace every cluster process runs in.
//
// Inside it the node has a network of its own: loopback, and the Pod bridge
// whose address is the node's IP. No route leads out of it, so nothing a Pod
// or kube-proxy does reaches the host's network, and the bridge plugin may turn
// on IP forwarding without forwarding anything off the machine. Mounts made
// inside (container root filesystems, volumes, Pod network namespaces) are
// private to it and vanish with its last process. Fixed ports (6443, 10250,
// 2379) never collide with another cluster's.
//
// The namespaces are held open by a process (unshare running sleep) for as
// long as the cluster runs; the test process reaches the API server through a
// relay on the host's loopback (see [sandbox.relay]).
type sandbox struct {
	holder *exec.Cmd
	pid    int      // the process in the namespaces (unshare's child)
	netNS  *os.File // its network namespace, held open for setns
	// inodes of the namespaces, to prove that no process is left in them.
	netIno, mntIno uint64
}

// newSandbox starts the holder and brings up the node's links: loopback and
// the bridge bridgeName with address cidr (e.g. 10.244.0.1/24).
func newSandbox(bridgeName, cidr string) (*sandbox, error) {
	holder := exec.Command("unshare", "--net", "--mount", "--propagation", "slave", "--fork", "--kill-child", "sleep", "infinity")
	holder.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL, Setpgid: true}
	if err := holder.Start(); err != nil {
		return nil, fmt.Errorf("starting the namespace holder (unshare, from util-linux): %w", err)
	}
	s := &sandbox{holder: holder}
	// unshare forks: the namespaces belong to its child, sleep.
	var err error
	for range 100 {
		if err = s.findSleeper(); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		s.close()
		return nil, err
	}
	for _, args := range [][]string{
		{"ip", "link", "set", "lo", "up"},
		{"ip", "link", "add", bridgeName, "type", "bridge"},
		{"ip", "addr", "add", cidr, "dev", bridgeName},
		{"ip", "link", "set", bridgeName, "up"},
	} {
		if out, err := s.command(args[0], args[1:]...).CombinedOutput(); err != nil {
			s.close()
			return nil, fmt.Errorf("%v in the node's namespace: %w: %s", args, err, out)
		}
	}
	return s, nil
}

// findSleeper opens the namespaces of the holder's child, once it has entered them.
func (s *sandbox) findSleeper() error {
	pid, err := childOf(s.holder.Process.Pid)
	if err != nil {
		return err
	}
	self, err := nsIno(os.Getpid(), "net")
	if err != nil {
		return err
	}
	ino, err := nsIno(pid, "net")
	if err != nil || ino == self {
		return errors.New("the namespace holder has not entered its namespaces yet")
	}
	f, err := os.Open(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return err
	}
	mnt, err := nsIno(pid, "mnt")
	if err != nil {
		_ = f.Close()
		return err
	}
	s.pid, s.netNS, s.netIno, s.mntIno = pid, f, ino, mnt
	return nil
}

// command runs name inside the namespaces (through nsenter, which then execs
// it: the process started is the command itself).
func (s *sandbox) command(name string, args ...string) *exec.Cmd {
	full := append([]string{"--target=" + strconv.Itoa(s.pid), "--net", "--mount", "--", name}, args...)
	return exec.Command("nsenter", full...)
}

// dial connects to addr from inside the network namespace: the socket is made
// on an OS thread switched into the namespace and back. Should switching back
// fail, the thread stays locked and the runtime discards it when the goroutine
// ends. (Threads must not end otherwise: a child started from a thread that ends
// would get its parent-death signal.)
func (s *sandbox) dial(ctx context.Context, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		home, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer home.Close()
		if err := unix.Setns(int(s.netNS.Fd()), unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, fmt.Errorf("entering the node's network namespace: %w", err)}
			return
		}
		var d net.Dialer
		c, err := d.DialContext(ctx, "tcp", addr)
		if unix.Setns(int(home.Fd()), unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// relay listens on the host's loopback and forwards each connection to addr
// inside the namespace; it returns the address it listens on. It stops when
// ctx ends.
func (s *sandbox) relay(ctx context.Context, addr string) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	go func() {
		<-ctx.Done()
		_ = ln.Close()
	}()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.forward(ctx, c, addr)
		}
	}()
	return ln.Addr().String(), nil
}

func (s *sandbox) forward(ctx context.Context, c net.Conn, addr string) {
	defer func() { _ = c.Close() }()
	u, err := s.dial(ctx, addr)
	if err != nil {
		return
	}
	defer func() { _ = u.Close() }()
	var wg sync.WaitGroup
	wg.Add(2)
	pipe := func(dst, src net.Conn) {
		defer wg.Done()
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}
	go pipe(u, c)
	go pipe(c, u)
	wg.Wait()
}

// close kills the holder; the namespaces end once no other process is in them.
func (s *sandbox) close() {
	if s.netNS != nil {
		_ = s.netNS.Close()
	}
	_ = syscall.Kill(-s.holder.Process.Pid, syscall.SIGKILL)
	_ = s.holder.Wait()
}

// leftovers lists the processes still in the sandbox's namespaces.
func (s *sandbox) leftovers() []int {
	var pids []int
	for _, pid := range allPIDs() {
		for _, kind := range []string{"net", "mnt"} {
			ino, err := nsIno(pid, kind)
			if err == nil && (kind == "net" && ino == s.netIno || kind == "mnt" && ino == s.mntIno) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

func nsIno(pid int, kind string) (uint64, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(fmt.Sprintf("/proc/%d/ns/%s", pid, kind), &st); err != nil {
		return 0, err
	}
	return st.Ino, nil
}

// childOf returns the first child of pid.
func childOf(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", pid, pid))
	if err != nil {
		return 0, err
	}
	var child int
	if _, err := fmt.Sscan(string(b), &child); err != nil {
		return 0, fmt.Errorf("process %d has no child yet", pid)
	}
	return child, nil
}

func allPIDs() []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil {
			pids = append(pids, pid)
		}
	}
	return pids
}
