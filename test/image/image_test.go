// Package image tests the seal-controller image that make image builds: its
// contents and config (static checks), that building it twice gives the same
// digests, and that it runs in a real container runtime (podman with runc)
// against a real API server the way a Pod runs it.
package image

import (
	"archive/tar"
	"crypto/sha256"
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"

	"github.com/sealkit/sealkit/internal/ociimage"
	"github.com/sealkit/sealkit/internal/release"
	"github.com/sealkit/sealkit/internal/testenv"
)

// hostPlatform is the one platform the tests build (make image builds both).
var hostPlatform = release.Platform{OS: "linux", Arch: runtime.GOARCH}

var built struct {
	once sync.Once
	dir  string
	meta release.Meta
	out  *release.ImageOutput
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// buildImage builds the image for the host platform once per test binary,
// into a temporary dist directory (removed by TestMain), as make image does.
func buildImage(t *testing.T) (release.Meta, *release.ImageOutput) {
	t.Helper()
	built.once.Do(func() {
		root, err := testenv.ModuleRoot()
		if err != nil {
			built.err = err
			return
		}
		if built.meta, err = release.MetaFromRepo(root, os.Getenv); err != nil {
			built.err = err
			return
		}
		if built.dir, err = os.MkdirTemp("", "sealkit-image-test-"); err != nil {
			built.err = err
			return
		}
		built.out, built.err = release.BuildImage(t.Context(), release.Options{
			Root: root, Dist: built.dir, Meta: built.meta, ImagePlatforms: []release.Platform{hostPlatform},
		})
	})
	if built.err != nil {
		t.Fatalf("building the image: %v", built.err)
	}
	return built.meta, built.out
}

func hostImage(t *testing.T, out *release.ImageOutput) v1.Image {
	t.Helper()
	im, err := out.Index.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(im.Manifests))
	}
	img, err := out.Index.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// TestImageConfig: user 65532, the controller as entrypoint, the OCI labels
// naming source, revision, version and license.
func TestImageConfig(t *testing.T) {
	meta, out := buildImage(t)
	cf, err := hostImage(t, out).ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	if !slices.Equal(c.Entrypoint, []string{"/usr/bin/seal-controller"}) || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q cmd %q", c.Entrypoint, c.Cmd)
	}
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if !cf.Created.Equal(meta.Created) {
		t.Errorf("created %v, want the commit time %v", cf.Created, meta.Created)
	}
	want := map[string]string{
		"org.opencontainers.image.source":   "https://github.com/sealkit/sealkit",
		"org.opencontainers.image.version":  meta.Version,
		"org.opencontainers.image.revision": meta.Revision,
		"org.opencontainers.image.licenses": "Apache-2.0",
		"org.opencontainers.image.title":    "seal-controller",
	}
	for k, v := range want {
		if c.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, c.Labels[k], v)
		}
	}
	if meta.Revision == "" {
		t.Error("no revision: the test runs outside a git checkout?")
	}
}

// TestImageFiles: exactly the files of the non-root base, the controller and
// its license; no shell or anything else executable; the binary is static.
func TestImageFiles(t *testing.T) {
	_, out := buildImage(t)
	rc := mutate.Extract(hostImage(t, out))
	defer func() { _ = rc.Close() }()
	var names, executables []string
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Typeflag == tar.TypeReg && h.Mode&0o111 != 0 {
			executables = append(executables, h.Name)
		}
		if h.Name == "usr/bin/seal-controller" {
			checkStatic(t, tr)
		}
	}
	sort.Strings(names)
	want := []string{
		"etc", "etc/group", "etc/nsswitch.conf", "etc/passwd", "home", "home/nonroot", "root", "tmp",
		"usr", "usr/bin", "usr/bin/seal-controller", "usr/share", "usr/share/doc", "usr/share/doc/sealkit",
		"usr/share/doc/sealkit/LICENSE",
	}
	if !slices.Equal(names, want) {
		t.Errorf("image files:\n%s\nwant:\n%s", strings.Join(names, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Equal(executables, []string{"usr/bin/seal-controller"}) {
		t.Errorf("executables %q: want the controller only (no shell)", executables)
	}
}

// checkStatic fails unless the ELF binary read from r has no interpreter and
// no dynamic section: it needs no libc in the image.
func checkStatic(t *testing.T, r io.Reader) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "bin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, r); err != nil {
		t.Fatal(err)
	}
	_ = f.Close()
	e, err := elf.Open(f.Name())
	if err != nil {
		t.Fatalf("seal-controller is not an ELF binary: %v", err)
	}
	defer func() { _ = e.Close() }()
	for _, p := range e.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			t.Errorf("seal-controller is dynamically linked (%v)", p.Type)
		}
	}
}

// TestImageReproducible builds the image a second time, into another
// directory and with an empty Go build cache (everything compiled again), and
// wants the same digests and the same archive bytes.
func TestImageReproducible(t *testing.T) {
	meta, first := buildImage(t)
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	dist := t.TempDir()
	second, err := release.BuildImage(t.Context(), release.Options{
		Root: root, Dist: dist, Meta: meta, ImagePlatforms: []release.Platform{hostPlatform},
		Env: []string{"GOCACHE=" + t.TempDir()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if first.Ref != second.Ref {
		t.Errorf("two builds of one commit: %s and %s", first.Ref, second.Ref)
	}
	for _, pair := range [][2]string{
		{first.OCIArchive, second.OCIArchive},
		{first.DockerArchives[hostPlatform], second.DockerArchives[hostPlatform]},
		{first.OCIArchive + release.SBOMSuffix, second.OCIArchive + release.SBOMSuffix},
	} {
		a, b := sha(t, pair[0]), sha(t, pair[1])
		if a != b {
			t.Errorf("%s differs between builds: %s, %s", filepath.Base(pair[0]), a, b)
		}
	}
	if !strings.Contains(first.Ref, "@sha256:") || !strings.HasPrefix(first.Ref, release.ImageRepository+":") {
		t.Errorf("image ref %q: want %s:TAG@sha256:…", first.Ref, release.ImageRepository)
	}
	// The layout names the image by its tag.
	idx, err := os.ReadFile(filepath.Join(first.Layout, "index.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(idx), `"`+ociimage.RefNameAnnotation+`": "`+release.ImageTag(meta.Version)+`"`) {
		t.Errorf("index.json does not name the tag %s:\n%s", meta.Version, idx)
	}
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", sha256.Sum256(b))
}
