package cluster

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
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
		if left := c.sb.leftovers(); len(left) > 0 {
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
