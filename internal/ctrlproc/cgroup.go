package ctrlproc

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Cgroup is a memory cgroup of a test's own (version 1's memory hierarchy,
// or version 2 where the memory controller is there).
type Cgroup struct {
	dir     string
	v2      bool
	procs   string
	limitOf string
}

// newCgroup makes a memory cgroup limited to limit bytes; the test fails,
// with what was tried, if the machine offers none (root and a writable
// cgroup file system are needed, as for a container runtime).
func newCgroup(t testing.TB, limit int64) *Cgroup {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "sealkit-test-" + hex.EncodeToString(b[:])
	var tried []string
	for _, c := range []struct {
		root, limitFile string
		v2              bool
	}{
		{"/sys/fs/cgroup/memory", "memory.limit_in_bytes", false},
		{"/sys/fs/cgroup", "memory.max", true},
	} {
		if c.v2 {
			ctl, err := os.ReadFile(filepath.Join(c.root, "cgroup.subtree_control"))
			if err != nil || !strings.Contains(string(ctl), "memory") {
				tried = append(tried, c.root+": no memory controller for children")
				continue
			}
		}
		dir := filepath.Join(c.root, name)
		if err := os.Mkdir(dir, 0o755); err != nil {
			tried = append(tried, err.Error())
			continue
		}
		if err := os.WriteFile(filepath.Join(dir, c.limitFile), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
			_ = os.Remove(dir)
			tried = append(tried, err.Error())
			continue
		}
		cg := &Cgroup{dir: dir, v2: c.v2, procs: filepath.Join(dir, "cgroup.procs"), limitOf: c.limitFile}
		t.Cleanup(func() {
			// The process is gone (killed in an earlier cleanup); the
			// kernel may take a moment to let go of the cgroup.
			for range 50 {
				if os.Remove(dir) == nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		})
		return cg
	}
	t.Fatalf("no memory cgroup to run the controller in (%s): run the tests as root on a machine with a cgroup file system", strings.Join(tried, "; "))
	return nil
}

// OOMKills is how many processes the kernel killed in the cgroup for
// exceeding its limit.
func (c *Cgroup) OOMKills(t testing.TB) int {
	t.Helper()
	file, key := "memory.oom_control", "oom_kill"
	if c.v2 {
		file = "memory.events"
	}
	b, err := os.ReadFile(filepath.Join(c.dir, file))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, key+" "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(v))
			return n
		}
	}
	t.Fatalf("no %s in %s", key, file)
	return 0
}

// PeakUsage is the most memory the cgroup used, page cache included, in
// bytes.
func (c *Cgroup) PeakUsage(t testing.TB) int64 {
	t.Helper()
	file := "memory.max_usage_in_bytes"
	if c.v2 {
		file = "memory.peak"
	}
	b, err := os.ReadFile(filepath.Join(c.dir, file))
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatal(fmt.Errorf("%s: %w", file, err))
	}
	return v
}
