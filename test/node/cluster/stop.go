package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Stop stops the cluster and removes everything it made: processes, the
// namespaces (and with them every mount made inside), cgroups and the run
// directory (unless Options.KeepDir). It returns an error naming whatever it
// finds left behind. It is safe to call more than once.
func (c *Cluster) Stop() error {
	c.stopOnce.Do(func() { c.stopErr = c.stop() })
	return c.stopErr
}

func (c *Cluster) stop() error {
	var errs []error
	byName := map[string]*component{}
	for _, comp := range c.components {
		byName[comp.name] = comp
	}
	stopComp := func(name string) {
		if comp := byName[name]; comp != nil {
			if err := comp.stop(15 * time.Second); err != nil {
				errs = append(errs, err)
			}
		}
	}
	// kubelet first, so that it restarts nothing; then every container and
	// shim, which containerd's exit would leave running.
	stopComp("kubelet")
	if c.cg != nil {
		if err := c.cg.kill(30 * time.Second); err != nil {
			errs = append(errs, err)
		}
	}
	for _, name := range []string{"kube-proxy", "containerd", "kube-scheduler", "kube-controller-manager", "kube-apiserver", "etcd"} {
		stopComp(name)
	}
	c.cancel() // the relay
	if c.sb != nil {
		c.sb.close()
		// Killed processes leave their namespaces as the kernel reaps them.
		var left []int
		for range 100 {
			if left = c.sb.leftovers(); len(left) == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if len(left) > 0 {
			errs = append(errs, fmt.Errorf("processes %v are still in the cluster's namespaces", left))
		}
	}
	if c.cg != nil {
		// Once more: a shim may have joined after the first sweep.
		if err := c.cg.kill(10 * time.Second); err != nil {
			errs = append(errs, err)
		}
		if err := c.cg.remove(); err != nil {
			errs = append(errs, err)
		}
	}
	if mounts := mountsUnder(c.Dir); len(mounts) > 0 {
		errs = append(errs, fmt.Errorf("mounts left under %s on the host: %v", c.Dir, mounts))
	} else if !c.opts.KeepDir {
		if err := os.RemoveAll(c.Dir); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// mountsUnder lists the host's mount points under dir.
func mountsUnder(dir string) []string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return []string{err.Error()}
	}
	defer f.Close()
	var ms []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) > 4 && (fields[4] == dir || strings.HasPrefix(fields[4], dir+"/")) && !slices.Contains(ms, fields[4]) {
			ms = append(ms, fields[4])
		}
	}
	return ms
}

// ownerFile, in the run directory, holds the pid of the process that started
// the cluster; a cluster whose owner is gone was left by a run that crashed.
const ownerFile = "owner"

// sweepStale removes what crashed runs left: for every cluster cgroup whose
// owner is gone, it kills the processes in it (containers and shims outlive
// everything else), removes the cgroups and the run directory.
func sweepStale(log io.Writer) {
	hs, err := cgroupHierarchies()
	if err != nil {
		return
	}
	seen := map[string]bool{}
	for _, h := range hs {
		entries, _ := os.ReadDir(h)
		for _, e := range entries {
			if e.IsDir() && strings.HasPrefix(e.Name(), runDirPrefix) {
				seen[e.Name()] = true
			}
		}
	}
	for name := range seen {
		dir := filepath.Join(os.TempDir(), name)
		if b, err := os.ReadFile(filepath.Join(dir, ownerFile)); err == nil {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && syscall.Kill(pid, 0) == nil {
				continue // a live cluster
			}
		}
		fmt.Fprintf(log, "node: removing %s, left by a run that did not stop it\n", name)
		cg := &cgroupRoot{name: name, hierarchies: hs}
		_ = cg.kill(10 * time.Second)
		_ = cg.remove()
		if len(mountsUnder(dir)) == 0 {
			_ = os.RemoveAll(dir)
		}
	}
}
