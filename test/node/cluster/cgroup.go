package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cgroupRoot is the cgroup of one cluster, /NAME in every hierarchy mounted on
// the host: kubelet puts its Pods under it (--cgroup-root) and containerd, with
// the shims it starts, runs in NAME/runtime. Killing everything in it therefore
// kills every container and shim of the cluster, which outlive containerd
// otherwise.
type cgroupRoot struct {
	name        string   // e.g. "sealkit-node-1234"
	hierarchies []string // mount points, e.g. /sys/fs/cgroup/memory
}

// newCgroupRoot creates NAME and NAME/runtime in every hierarchy.
func newCgroupRoot(name string) (*cgroupRoot, error) {
	hs, err := cgroupHierarchies()
	if err != nil {
		return nil, err
	}
	if len(hs) == 0 {
		return nil, errors.New("no cgroup hierarchy is mounted")
	}
	c := &cgroupRoot{name: name, hierarchies: hs}
	for _, h := range hs {
		for _, dir := range []string{filepath.Join(h, name), filepath.Join(h, name, "runtime")} {
			if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, fs.ErrExist) {
				_ = c.remove()
				return nil, fmt.Errorf("creating cgroup %s: %w", dir, err)
			}
			// A new cpuset cgroup (v1) starts with no CPUs and no memory nodes:
			// no process may join it until they are copied from its parent.
			if err := inheritCpuset(dir); err != nil {
				_ = c.remove()
				return nil, err
			}
		}
		if err := delegateControllers(filepath.Join(h, name)); err != nil {
			_ = c.remove()
			return nil, err
		}
	}
	return c, nil
}

// delegateControllers, on a cgroup v2 hierarchy, enables for NAME's children
// (kubelet's kubepods, containerd's runtime) every controller NAME has.
func delegateControllers(dir string) error {
	avail, err := os.ReadFile(filepath.Join(dir, "cgroup.controllers"))
	if err != nil {
		return nil // a v1 hierarchy
	}
	var enable []string
	for ctrl := range strings.FieldsSeq(string(avail)) {
		enable = append(enable, "+"+ctrl)
	}
	if len(enable) == 0 {
		return nil // e.g. the empty v2 hierarchy of a hybrid host
	}
	p := filepath.Join(dir, "cgroup.subtree_control")
	if err := os.WriteFile(p, []byte(strings.Join(enable, " ")), 0o644); err != nil {
		return fmt.Errorf("enabling controllers in %s: %w", p, err)
	}
	return nil
}

// join moves pid into NAME/runtime in every hierarchy.
func (c *cgroupRoot) join(pid int) error {
	for _, h := range c.hierarchies {
		p := filepath.Join(h, c.name, "runtime", "cgroup.procs")
		if err := os.WriteFile(p, []byte(strconv.Itoa(pid)), 0o644); err != nil {
			return fmt.Errorf("moving process %d to %s: %w", pid, p, err)
		}
	}
	return nil
}

// procs lists the processes anywhere under NAME.
func (c *cgroupRoot) procs() []int {
	var pids []int
	for _, h := range c.hierarchies {
		_ = filepath.WalkDir(filepath.Join(h, c.name), func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || d.Name() != "cgroup.procs" {
				return nil
			}
			b, _ := os.ReadFile(p)
			for f := range strings.FieldsSeq(string(b)) {
				if pid, err := strconv.Atoi(f); err == nil && !slices.Contains(pids, pid) {
					pids = append(pids, pid)
				}
			}
			return nil
		})
	}
	return pids
}

// kill sends SIGKILL to every process under NAME until none is left.
func (c *cgroupRoot) kill(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pids := c.procs()
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v in cgroup %s survive SIGKILL", pids, c.name)
		}
		for _, pid := range pids {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// remove deletes NAME and everything below it (cgroups must be empty).
func (c *cgroupRoot) remove() error {
	var errs []error
	for _, h := range c.hierarchies {
		root := filepath.Join(h, c.name)
		var dirs []string
		_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err == nil && d.IsDir() {
				dirs = append(dirs, p)
			}
			return nil
		})
		// Children first.
		for _, d := range slices.Backward(dirs) {
			if err := removeCgroup(d); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// removeCgroup removes one empty cgroup; the kernel may take a moment to
// notice that its last process has gone.
func removeCgroup(dir string) error {
	var err error
	for range 50 {
		err = syscall.Rmdir(dir)
		if err == nil || errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("removing cgroup %s: %w", dir, err)
}

func inheritCpuset(dir string) error {
	for _, f := range []string{"cpuset.cpus", "cpuset.mems"} {
		p := filepath.Join(dir, f)
		cur, err := os.ReadFile(p)
		if err != nil || strings.TrimSpace(string(cur)) != "" {
			continue // not a v1 cpuset cgroup, or already set
		}
		parent, err := os.ReadFile(filepath.Join(filepath.Dir(dir), f))
		if err != nil {
			return err
		}
		if err := os.WriteFile(p, parent, 0o644); err != nil {
			return fmt.Errorf("setting %s: %w", p, err)
		}
	}
	return nil
}

// cgroupHierarchies lists the mount points of the host's cgroup hierarchies.
func cgroupHierarchies() ([]string, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var hs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE SOURCE SUPEROPTS
		fields := strings.Fields(sc.Text())
		sep := slices.Index(fields, "-")
		if sep < 0 || sep+1 >= len(fields) || len(fields) < 5 {
			continue
		}
		if t := fields[sep+1]; t == "cgroup" || t == "cgroup2" {
			hs = append(hs, fields[4])
		}
	}
	return hs, sc.Err()
}

// cgroupVersion describes the host: "v2" (unified), "hybrid" (v1 controllers
// with a v2 hierarchy beside them) or "v1".
func cgroupVersion() string {
	var st syscall.Statfs_t
	if syscall.Statfs("/sys/fs/cgroup", &st) == nil && st.Type == 0x63677270 { // CGROUP2_SUPER_MAGIC
		return "v2"
	}
	if syscall.Statfs("/sys/fs/cgroup/unified", &st) == nil && st.Type == 0x63677270 {
		return "hybrid"
	}
	return "v1"
}
