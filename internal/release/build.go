package release

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Platform is a GOOS/GOARCH pair.
type Platform struct{ OS, Arch string }

func (p Platform) String() string { return p.OS + "/" + p.Arch }

// ParsePlatforms parses "linux/amd64,linux/arm64".
func ParsePlatforms(s string) ([]Platform, error) {
	var ps []Platform
	for _, f := range strings.Split(s, ",") {
		os, arch, ok := strings.Cut(strings.TrimSpace(f), "/")
		if !ok || os == "" || arch == "" {
			return nil, fmt.Errorf("platform %q: want OS/ARCH, e.g. linux/amd64", f)
		}
		ps = append(ps, Platform{os, arch})
	}
	return ps, nil
}

// Platforms every release covers.
var (
	CLIPlatforms = []Platform{
		{"linux", "amd64"}, {"linux", "arm64"},
		{"darwin", "amd64"}, {"darwin", "arm64"},
		{"windows", "amd64"}, {"windows", "arm64"},
	}
	ImagePlatforms = []Platform{{"linux", "amd64"}, {"linux", "arm64"}}
)

// Builder compiles sealkit's commands.
type Builder struct {
	// Root is the module's root directory.
	Root string
	// Env is added to the go command's environment (e.g. GOCACHE=… for a
	// build that must not reuse the cache).
	Env []string
}

// Build compiles the main package pkg (e.g. "./cmd/seal") for p into out: a
// static binary (CGO_ENABLED=0), -trimpath, no VCS stamping, symbols and
// DWARF stripped, the version stamped into internal/version.
func (b Builder) Build(ctx context.Context, pkg string, p Platform, m Meta, out string) error {
	if err := os.MkdirAll(filepath.Dir(out), 0o750); err != nil {
		return err
	}
	ldflags := "-s -w -X " + ModulePath + "/internal/version.version=" + m.Version
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-buildvcs=false", "-ldflags", ldflags, "-o", out, pkg) //nolint:gosec // our own packages and version
	cmd.Dir = b.Root
	// GOFLAGS from the caller's shell (e.g. -race, -cover, -mod=vendor) would
	// change the binary; a release build takes none.
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+p.OS, "GOARCH="+p.Arch, "GOFLAGS=", "GOAMD64=v1", "GOARM64=v8.0")
	cmd.Env = append(cmd.Env, b.Env...)
	if outb, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %s for %s: %w\n%s", pkg, p, err, outb)
	}
	return nil
}

// exe is the file name of a command on p.
func exe(name string, p Platform) string {
	if p.OS == "windows" {
		return name + ".exe"
	}
	return name
}
