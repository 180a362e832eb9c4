package cluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/sealkit/sealkit/internal/ociimage"
)

// Image is an image of one static Go program of this module. It is built
// with internal/ociimage, the builder of the release's controller image.
type Image struct {
	// Name is the full reference the image is imported as, e.g.
	// "sealkit.local/pause:1"; kubelet and containerd find it by this name.
	Name string
	// Package is the Go main package, relative to the module root (e.g.
	// "./test/node/images/pause"); Path is where its binary sits in the
	// image, the entrypoint.
	Package, Path string
	// User is "uid:gid"; empty means root.
	User string
	// Files are more files of the image's layer.
	Files []ociimage.File
}

// ImportImage builds im and imports it into the cluster's containerd.
func (c *Cluster) ImportImage(ctx context.Context, im Image) error {
	dir := c.l.path("images")
	bin, err := BuildStatic(ctx, im.Package, dir)
	if err != nil {
		return err
	}
	img, err := ociimage.Image(ociimage.Spec{
		Platform:   v1.Platform{OS: "linux", Architecture: "amd64"},
		Layers:     []ociimage.Layer{{Comment: im.Package, Files: append([]ociimage.File{{Path: im.Path, Mode: 0o755, Source: bin}}, im.Files...)}},
		Entrypoint: []string{im.Path},
		User:       im.User,
		Created:    time.Unix(0, 0),
	})
	if err != nil {
		return fmt.Errorf("image %s: %w", im.Name, err)
	}
	idx, err := ociimage.Index([]v1.Image{img}, nil)
	if err != nil {
		return err
	}
	archive := filepath.Join(dir, filepath.Base(im.Package)+".oci.tar")
	_ = os.Remove(archive)
	if err := ociimage.WriteOCIArchive(archive, idx, im.Name); err != nil {
		return err
	}
	return c.ImportArchive(ctx, archive, im.Name)
}

// ImportArchive imports an OCI archive (an image layout packed in a tar, as
// `make image` and `make release` write) into the cluster's containerd and
// names it ref. The archive's index names the image by tag only (e.g.
// "v1.2.3") or by ref's full name; for a reference pinned by digest,
// "REPO:TAG@sha256:…" (what install.yaml names), the image is also named
// "REPO@sha256:…", the name the CRI looks a pinned reference up by.
func (c *Cluster) ImportArchive(ctx context.Context, archive, ref string) error {
	named, digest, pinned := strings.Cut(ref, "@")
	repo := named
	if i := strings.LastIndex(named, ":"); i > strings.LastIndex(named, "/") {
		repo = named[:i]
	}
	if repo == named {
		return fmt.Errorf("importing %s: image reference %q has no tag", archive, ref)
	}
	// --no-unpack is not given: CRI needs the image unpacked for its snapshotter.
	if out, err := c.ctr(ctx, "images", "import", "--base-name="+repo, "--snapshotter=overlayfs", archive); err != nil {
		return fmt.Errorf("importing %s as %s: %w: %s", archive, named, err, out)
	}
	out, err := c.ctr(ctx, "images", "ls", "-q")
	if err != nil {
		return fmt.Errorf("listing images: %w: %s", err, out)
	}
	if !slices.Contains(strings.Fields(string(out)), named) {
		return fmt.Errorf("importing %s: no image %s in it; containerd has %s", archive, named, strings.Fields(string(out)))
	}
	if pinned {
		if out, err := c.ctr(ctx, "images", "tag", "--force", named, repo+"@"+digest); err != nil {
			return fmt.Errorf("naming %s by digest: %w: %s", named, err, out)
		}
	}
	return nil
}

func (c *Cluster) ctr(ctx context.Context, args ...string) ([]byte, error) {
	cmd := c.Ctr(args...)
	return exec.CommandContext(ctx, cmd.Path, cmd.Args[1:]...).CombinedOutput() //nolint:gosec // ctr with the harness's own arguments
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
