// Package memlimit sets the Go runtime's soft memory limit from the
// container's, so that the garbage collector works harder as the process
// nears its limit instead of letting the kernel kill it.
package memlimit

import (
	"bufio"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
)

// Ratio is the share of the container's limit given to the Go runtime: the
// rest is for what the runtime does not count (the binary's pages, memory
// outside the Go heap).
const Ratio = 0.9

// Set sets the runtime's memory limit to Ratio of the process' memory
// cgroup limit and returns it, unless GOMEMLIMIT is set (the runtime obeys
// it already) or there is no limit; then it returns 0 and changes nothing.
func Set() int64 {
	if os.Getenv("GOMEMLIMIT") != "" {
		return 0
	}
	limit := cgroupLimit("/proc/self/cgroup", "/sys/fs/cgroup")
	if limit <= 0 {
		return 0
	}
	limit = int64(float64(limit) * Ratio)
	debug.SetMemoryLimit(limit)
	return limit
}

// cgroupLimit returns the memory limit of the cgroup the process is in, as
// procCgroup (/proc/self/cgroup) names it under root (/sys/fs/cgroup), or 0
// for none. In a container, a cgroup namespace makes that path "/", which
// is the container's cgroup.
func cgroupLimit(procCgroup, root string) int64 {
	f, err := os.Open(procCgroup) //nolint:gosec // a fixed path (a test's file)
	if err != nil {
		return 0
	}
	defer func() { _ = f.Close() }()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// "hierarchy-ID:controllers:path": version 2 is "0::path".
		parts := strings.SplitN(sc.Text(), ":", 3)
		if len(parts) != 3 {
			continue
		}
		switch {
		case parts[0] == "0" && parts[1] == "":
			if v := readLimit(filepath.Join(root, parts[2], "memory.max")); v > 0 {
				return v
			}
		case slices.Contains(strings.Split(parts[1], ","), "memory"):
			if v := readLimit(filepath.Join(root, "memory", parts[2], "memory.limit_in_bytes")); v > 0 {
				return v
			}
		}
	}
	return 0
}

// readLimit reads a limit file: 0 for none ("max", or version 1's huge
// "unlimited" value) or an unreadable file.
func readLimit(path string) int64 {
	b, err := os.ReadFile(path) //nolint:gosec // under the cgroup root
	if err != nil {
		return 0
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || v <= 0 || v >= 1<<60 {
		return 0
	}
	return v
}
