//go:build node

package node

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealkit/sealkit/internal/release"
	"github.com/sealkit/sealkit/internal/testenv"
)

// bundle is what `make release` builds (release.BuildRelease, the code
// hack/release runs), for linux/amd64 only: the full release builds seal for
// six platforms and the image for two, minutes this test does not need.
type bundle struct {
	Dist string
	Meta release.Meta
	// Ref is the controller image pinned by digest, as install.yaml names it;
	// Archive is the OCI archive holding it.
	Ref, Archive string
	// Seal is the seal binary from the release's linux/amd64 archive.
	Seal string
}

var (
	bundleOnce sync.Once
	theBundle  *bundle
	bundleErr  error
)

// releaseBundle builds the bundle once for the package.
func releaseBundle(t *testing.T) *bundle {
	t.Helper()
	bundleOnce.Do(func() { theBundle, bundleErr = buildBundle(t.Context()) })
	if bundleErr != nil {
		t.Fatal(bundleErr)
	}
	return theBundle
}

var amd64 = []release.Platform{{OS: "linux", Arch: "amd64"}}

func buildBundle(ctx context.Context) (*bundle, error) {
	root, err := testenv.ModuleRoot()
	if err != nil {
		return nil, err
	}
	meta, err := release.MetaFromRepo(root, os.Getenv)
	if err != nil {
		return nil, err
	}
	// In the cluster's run directory: Stop removes it.
	dist := filepath.Join(kc.Dir, "dist")
	t0 := time.Now()
	_, err = release.BuildRelease(ctx, release.Options{
		Root: root, Dist: dist, Meta: meta, ImagePlatforms: amd64, CLIPlatforms: amd64, Log: os.Stderr,
	})
	if err != nil {
		return nil, fmt.Errorf("building the release: %w", err)
	}
	fmt.Fprintf(os.Stderr, "node: release %s for linux/amd64 built in %s\n", meta.Version, time.Since(t0).Round(100*time.Millisecond))
	b := &bundle{Dist: dist, Meta: meta, Archive: filepath.Join(dist, "seal-controller_"+release.ImageTag(meta.Version)+".oci.tar")}
	ref, err := os.ReadFile(filepath.Join(dist, "seal-controller.ref"))
	if err != nil {
		return nil, err
	}
	b.Ref = strings.TrimSpace(string(ref))
	if b.Seal, err = extractSeal(filepath.Join(dist, "seal_"+meta.Version+"_linux_amd64.tar.gz"), dist); err != nil {
		return nil, err
	}
	return b, nil
}

// buildImage builds another controller image as `make image` does, tagged
// version, into a directory of its own; it returns the pinned reference and
// the OCI archive.
func buildImage(t *testing.T, version string) (ref, archive string) {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	meta := releaseBundle(t).Meta
	meta.Version = version
	out, err := release.BuildImage(t.Context(), release.Options{
		Root: root, Dist: t.TempDir(), Meta: meta, ImagePlatforms: amd64,
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Ref, out.OCIArchive
}

// extractSeal takes the seal binary out of a release archive into dir.
func extractSeal(archive, dir string) (string, error) {
	f, err := os.Open(archive)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", fmt.Errorf("%s: %w", archive, err)
	}
	tr := tar.NewReader(zr)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return "", fmt.Errorf("%s: no seal binary in it", archive)
		}
		if err != nil {
			return "", fmt.Errorf("%s: %w", archive, err)
		}
		if hdr.Name != "seal" {
			continue
		}
		out := filepath.Join(dir, "bin", "seal")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return "", err
		}
		w, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
		if err != nil {
			return "", err
		}
		if _, err := io.Copy(w, tr); err != nil {
			_ = w.Close()
			return "", err
		}
		return out, w.Close()
	}
}
