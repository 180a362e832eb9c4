package memlimit

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCgroupLimit(t *testing.T) {
	root := t.TempDir()
	write := func(path, content string) string {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("kubepods/pod1/memory.max", "268435456\n")
	write("memory/kubepods/pod2/memory.limit_in_bytes", "134217728\n")
	write("memory/unlimited/memory.limit_in_bytes", "9223372036854771712\n")
	write("free/memory.max", "max\n")
	for _, tt := range []struct {
		proc string
		want int64
	}{
		{"0::/kubepods/pod1\n", 256 << 20},
		{"12:pids:/x\n5:memory:/kubepods/pod2\n0::/ignored\n", 128 << 20},
		{"4:cpu,cpuacct,memory:/kubepods/pod2\n", 128 << 20},
		{"5:memory:/unlimited\n", 0},
		{"0::/free\n", 0},
		{"0::/missing\n", 0},
		{"garbage\n", 0},
	} {
		p := write("proc-cgroup", tt.proc)
		if got := cgroupLimit(p, root); got != tt.want {
			t.Errorf("cgroupLimit(%q) = %d, want %d", tt.proc, got, tt.want)
		}
	}
}
