package ociimage

import (
	"archive/tar"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
)

var epoch = time.Date(2026, 11, 26, 3, 59, 53, 0, time.UTC)

func testSpec(arch string, binary []byte) Spec {
	return Spec{
		Platform:   v1.Platform{OS: "linux", Architecture: arch},
		Layers:     []Layer{NonRootBase(), {Comment: "app", Files: []File{{Path: "/usr/bin/app", Mode: 0o755, Data: binary}}}},
		Entrypoint: []string{"/usr/bin/app"},
		User:       NonRootUser,
		Labels:     map[string]string{"org.opencontainers.image.version": "v1.2.3"},
		Created:    epoch,
	}
}

func digest(t *testing.T, d interface{ Digest() (v1.Hash, error) }) v1.Hash {
	t.Helper()
	h, err := d.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestImageIsReproducible(t *testing.T) {
	build := func(binary string) v1.ImageIndex {
		var imgs []v1.Image
		for _, arch := range []string{"amd64", "arm64"} {
			img, err := Image(testSpec(arch, []byte(binary+arch)))
			if err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, img)
		}
		idx, err := Index(imgs, map[string]string{"org.opencontainers.image.version": "v1.2.3"})
		if err != nil {
			t.Fatal(err)
		}
		if err := validate.Index(idx); err != nil {
			t.Fatalf("invalid index: %v", err)
		}
		return idx
	}
	a, b := build("binary"), build("binary")
	if digest(t, a) != digest(t, b) {
		t.Fatalf("same inputs, different index digests: %s, %s", digest(t, a), digest(t, b))
	}
	if c := build("binarY"); digest(t, c) == digest(t, a) {
		t.Fatal("a different binary gave the same digest")
	}
}

func TestImageConfig(t *testing.T) {
	img, err := Image(testSpec("arm64", []byte("app")))
	if err != nil {
		t.Fatal(err)
	}
	if err := validate.Image(img); err != nil {
		t.Fatalf("invalid image: %v", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || !cf.Created.Equal(epoch) {
		t.Errorf("platform/created: %s/%s %v", cf.OS, cf.Architecture, cf.Created)
	}
	if cf.Config.User != "65532:65532" || !slices.Equal(cf.Config.Entrypoint, []string{"/usr/bin/app"}) {
		t.Errorf("user %q entrypoint %q", cf.Config.User, cf.Config.Entrypoint)
	}
	if len(cf.History) != 2 || cf.History[1].CreatedBy != "app" {
		t.Errorf("history: %+v", cf.History)
	}
	mt, _ := img.MediaType()
	if mt != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("manifest media type %s", mt)
	}
}

// entries lists the image's files: path -> "mode uid:gid".
func entries(t *testing.T, img v1.Image) map[string]string {
	t.Helper()
	rc := mutate.Extract(img)
	defer func() { _ = rc.Close() }()
	out := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.Equal(epoch) {
			t.Errorf("%s: mtime %v, want %v", h.Name, h.ModTime, epoch)
		}
		out[h.Name] = fmt.Sprintf("%v %c %d:%d", fs.FileMode(h.Mode), h.Typeflag, h.Uid, h.Gid)
	}
}

func TestImageFiles(t *testing.T) {
	img, err := Image(testSpec("amd64", []byte("app")))
	if err != nil {
		t.Fatal(err)
	}
	got := entries(t, img)
	want := map[string]string{
		"etc":               "-rwxr-xr-x 5 0:0",
		"etc/group":         "-rw-r--r-- 0 0:0",
		"etc/nsswitch.conf": "-rw-r--r-- 0 0:0",
		"etc/passwd":        "-rw-r--r-- 0 0:0",
		"home":              "-rwxr-xr-x 5 0:0",
		"home/nonroot":      "-rwx------ 5 65532:65532",
		"root":              "-rwx------ 5 0:0",
		"tmp":               "-rwxrwxrwx 5 0:0",
		"usr":               "-rwxr-xr-x 5 0:0",
		"usr/bin":           "-rwxr-xr-x 5 0:0",
		"usr/bin/app":       "-rwxr-xr-x 0 0:0",
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %q, want %q", name, got[name], w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected file %s", name)
		}
	}
}

func TestStickyTmp(t *testing.T) {
	l, err := buildLayer(NonRootBase().Files, epoch)
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := l.Uncompressed()
	defer func() { _ = rc.Close() }()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatal("no tmp/ entry")
		}
		if h.Name == "tmp/" {
			if h.Mode != 0o1777 {
				t.Fatalf("tmp/ mode %o, want 1777", h.Mode)
			}
			return
		}
	}
}

func TestBadFiles(t *testing.T) {
	for _, files := range [][]File{
		{{Path: "relative", Mode: 0o644}},
		{{Path: "/a/../b", Mode: 0o644}},
		{{Path: "/", Mode: fs.ModeDir | 0o755}},
		{{Path: "/a", Mode: 0o644}, {Path: "/a", Mode: 0o644}},
		{{Path: "/a", Mode: 0o644}, {Path: "/a/b", Mode: 0o644}},
		{{Path: "/d", Mode: fs.ModeDir | 0o755, Data: []byte("x")}},
		{{Path: "/l", Mode: fs.ModeSymlink | 0o777}},
	} {
		if _, err := buildLayer(files, epoch); err == nil {
			t.Errorf("%+v: no error", files)
		}
	}
	if _, err := Image(Spec{}); err == nil {
		t.Error("an image without platform: no error")
	}
}

func TestWriteLayoutAndArchives(t *testing.T) {
	img, err := Image(testSpec("amd64", []byte("app")))
	if err != nil {
		t.Fatal(err)
	}
	idx, err := Index([]v1.Image{img}, nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()

	lp := filepath.Join(dir, "layout")
	if err := WriteLayout(lp, idx, "v1.2.3"); err != nil {
		t.Fatal(err)
	}
	if err := WriteLayout(lp, idx, "v1.2.3"); err == nil {
		t.Error("writing over an existing layout: no error")
	}
	top, err := layout.ImageIndexFromPath(lp)
	if err != nil {
		t.Fatal(err)
	}
	im, _ := top.IndexManifest()
	if len(im.Manifests) != 1 || im.Manifests[0].Digest != digest(t, idx) || im.Manifests[0].Annotations[RefNameAnnotation] != "v1.2.3" {
		t.Fatalf("index.json: %+v", im.Manifests)
	}

	// The OCI archive is the same bytes every time.
	sum := func(p string) [32]byte {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		return sha256.Sum256(b)
	}
	a1, a2 := filepath.Join(dir, "a1.tar"), filepath.Join(dir, "a2.tar")
	for _, p := range []string{a1, a2} {
		if err := WriteOCIArchive(p, idx, "v1.2.3"); err != nil {
			t.Fatal(err)
		}
	}
	if sum(a1) != sum(a2) {
		t.Error("two OCI archives of one index differ")
	}

	// The docker archive loads back as the same image.
	d1, d2 := filepath.Join(dir, "d1.tar"), filepath.Join(dir, "d2.tar")
	for _, p := range []string{d1, d2} {
		if err := WriteDockerArchive(p, "example.com/app:v1.2.3", img); err != nil {
			t.Fatal(err)
		}
	}
	if sum(d1) != sum(d2) {
		t.Error("two docker archives of one image differ")
	}
	back, err := tarball.ImageFromPath(d1, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The docker format keeps the config and the layers (not the OCI manifest).
	if bc, ic := configName(t, back), configName(t, img); bc != ic {
		t.Errorf("docker archive config %s, want %s", bc, ic)
	}
	if err := WriteDockerArchive(filepath.Join(dir, "bad.tar"), "not a ref", img); err == nil {
		t.Error("bad reference: no error")
	}
	if _, err := os.Stat(filepath.Join(dir, "bad.tar")); !errors.Is(err, fs.ErrNotExist) {
		t.Error("a failed write left a file")
	}
	if matches, _ := filepath.Glob(filepath.Join(dir, ".*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

func configName(t *testing.T, img v1.Image) v1.Hash {
	t.Helper()
	h, err := img.ConfigName()
	if err != nil {
		t.Fatal(err)
	}
	return h
}
