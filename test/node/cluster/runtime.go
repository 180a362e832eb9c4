package cluster

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

func (c *Cluster) startRuntime(ctx, _ context.Context) error {
	cfg, err := c.l.write("containerd.toml", c.l.containerdConfig())
	if err != nil {
		return err
	}
	if _, err := c.l.write("cni/10-sealkit.conflist", cniConfig()); err != nil {
		return err
	}
	ctrd, err := c.run("containerd", filepath.Join(c.l.nodeBin, "containerd"), "--config="+cfg)
	if err != nil {
		return err
	}
	// containerd, and so each shim it starts, runs in the cluster's cgroup:
	// Stop kills the shims (which outlive containerd) through it.
	if err := c.cg.join(ctrd.cmd.Process.Pid); err != nil {
		return err
	}
	if err := c.poll(ctx, time.Minute, "containerd", []*component{ctrd}, func(context.Context) error {
		if out, err := c.Ctr("version").CombinedOutput(); err != nil {
			return fmt.Errorf("%w: %s", err, out)
		}
		return nil
	}); err != nil {
		return err
	}
	return c.ImportImage(ctx, Image{
		Name:       PauseImage,
		Entrypoint: []string{"/pause"},
		User:       "65535:65535",
	}, "/pause", "./test/node/images/pause")
}

// ImportImage builds the Go command pkg (a package path relative to the
// sealkit module root) as a static binary, puts it at binPath in im, and
// imports the image into the cluster's containerd.
func (c *Cluster) ImportImage(ctx context.Context, im Image, binPath, pkg string) error {
	bin, err := BuildStatic(ctx, pkg, c.l.path("images"))
	if err != nil {
		return err
	}
	data, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	im.Files = append(im.Files, File{Path: binPath, Mode: 0o755, Data: data})
	var archive bytes.Buffer
	if err := im.WriteArchive(&archive); err != nil {
		return err
	}
	tar := filepath.Join(c.l.path("images"), filepath.Base(pkg)+".tar")
	if err := os.WriteFile(tar, archive.Bytes(), 0o644); err != nil {
		return err
	}
	// --no-unpack is not given: CRI needs the image unpacked for its snapshotter.
	if out, err := c.Ctr("images", "import", "--snapshotter=overlayfs", tar).CombinedOutput(); err != nil {
		return fmt.Errorf("importing %s: %w: %s", im.Name, err, out)
	}
	return nil
}

// BuildStatic builds the sealkit package pkg (e.g. "./test/node/images/pause")
// without cgo into outDir and returns the binary's path.
func BuildStatic(ctx context.Context, pkg, outDir string) (string, error) {
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(outDir, filepath.Base(pkg))
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", out, pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %w: %s", pkg, err, b)
	}
	return out, nil
}
