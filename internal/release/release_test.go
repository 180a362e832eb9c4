package release

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"sigs.k8s.io/yaml"
)

// repoRoot is the sealkit checkout the test runs in.
func repoRoot(t *testing.T) string {
	t.Helper()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(wd, "..", "..")
}

// fixtureRoot is a checkout-shaped directory whose seal and controller are
// tiny programs (cross-compiling the real ones for every platform takes
// minutes), with the real LICENSE, README.md and manifests/.
func fixtureRoot(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	files := map[string]string{
		"go.mod":                      "module github.com/sealkit/sealkit\n\ngo 1.26\n",
		"internal/version/version.go": "package version\n\nvar version string\n\nfunc String() string { return version }\n",
		"cmd/seal/main.go":            "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/sealkit/sealkit/internal/version\"\n)\n\nfunc main() { fmt.Println(\"seal\", version.String()) }\n",
		"cmd/controller/main.go":      "package main\n\nimport (\n\t\"fmt\"\n\n\t\"github.com/sealkit/sealkit/internal/version\"\n)\n\nfunc main() { fmt.Println(\"seal-controller\", version.String()) }\n",
	}
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	src := repoRoot(t)
	if err := os.CopyFS(filepath.Join(root, "manifests"), os.DirFS(filepath.Join(src, "manifests"))); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"LICENSE", "README.md"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(root, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

var (
	hostCLI   = Platform{"linux", runtime.GOARCH}
	testMeta  = Meta{Version: "v1.2.3", Revision: "0123456789abcdef0123456789abcdef01234567", Created: time.Date(2026, 12, 1, 3, 40, 24, 0, time.UTC)}
	windowsPf = Platform{"windows", "amd64"}
)

// TestBuildRelease builds a release of the fixture and checks every artifact:
// SHA256SUMS, the archives, the SBOMs, install.yaml and the krew manifest,
// and that a second build gives the same bytes.
func TestBuildRelease(t *testing.T) {
	root := fixtureRoot(t)
	o := Options{Root: root, Dist: filepath.Join(root, "dist"), Meta: testMeta,
		ImagePlatforms: []Platform{{"linux", runtime.GOARCH}}, CLIPlatforms: []Platform{hostCLI, windowsPf}}
	arts, err := BuildRelease(t.Context(), o)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]Artifact{}
	for _, a := range arts {
		names[a.Name] = a
	}
	tgz := "seal_v1.2.3_linux_" + runtime.GOARCH + ".tar.gz"
	for _, want := range []string{
		tgz, tgz + SBOMSuffix, "seal_v1.2.3_windows_amd64.zip", "seal_v1.2.3_windows_amd64.zip" + SBOMSuffix,
		"seal-controller_v1.2.3.oci.tar", "seal-controller_v1.2.3.oci.tar" + SBOMSuffix,
		"seal-controller_v1.2.3_linux_" + runtime.GOARCH + ".docker.tar", "seal-controller.ref",
		"install.yaml", "krew/seal.yaml", ChecksumsFile,
	} {
		if _, ok := names[want]; !ok {
			t.Errorf("no %s in %v", want, slices.Sorted(func(yield func(string) bool) {
				for n := range names {
					if !yield(n) {
						return
					}
				}
			}))
		}
	}

	listed, err := VerifyChecksums(o.Dist)
	if err != nil {
		t.Fatal(err)
	}
	if len(listed) != len(arts)-1 {
		t.Errorf("SHA256SUMS lists %d files, the release has %d besides it", len(listed), len(arts)-1)
	}

	checkArchive(t, filepath.Join(o.Dist, tgz), []string{"seal", "LICENSE", "README.md"})
	checkArchive(t, filepath.Join(o.Dist, "seal_v1.2.3_windows_amd64.zip"), []string{"seal.exe", "LICENSE", "README.md"})
	checkSBOM(t, o.Dist, tgz, cdx.ComponentTypeApplication)
	checkSBOM(t, o.Dist, "seal-controller_v1.2.3.oci.tar", cdx.ComponentTypeContainer)

	ref, err := os.ReadFile(filepath.Join(o.Dist, "seal-controller.ref"))
	if err != nil {
		t.Fatal(err)
	}
	checkInstallYAML(t, o.Dist, strings.TrimSpace(string(ref)))
	checkKrew(t, o.Dist, names)

	// Same inputs, same bytes.
	first, _ := os.ReadFile(filepath.Join(o.Dist, ChecksumsFile))
	if _, err := BuildRelease(t.Context(), o); err != nil {
		t.Fatal(err)
	}
	second, _ := os.ReadFile(filepath.Join(o.Dist, ChecksumsFile))
	if string(first) != string(second) {
		t.Errorf("two builds differ:\n%s\n%s", first, second)
	}
}

// checkArchive wants exactly names, the binary executable and stamped with
// the commit time.
func checkArchive(t *testing.T, path string, names []string) {
	t.Helper()
	type entry struct {
		name  string
		mode  fs.FileMode
		mtime time.Time
	}
	var got []entry
	if strings.HasSuffix(path, ".zip") {
		zr, err := zip.OpenReader(path)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = zr.Close() }()
		for _, f := range zr.File {
			got = append(got, entry{f.Name, f.Mode(), f.Modified})
		}
	} else {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(zr)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, entry{h.Name, h.FileInfo().Mode(), h.ModTime})
		}
	}
	if len(got) != len(names) {
		t.Fatalf("%s: %v, want %v", filepath.Base(path), got, names)
	}
	for i, e := range got {
		if e.name != names[i] || !e.mtime.Equal(testMeta.Created) {
			t.Errorf("%s: entry %v, want %s at %v", filepath.Base(path), e, names[i], testMeta.Created)
		}
		if i == 0 && e.mode.Perm() != 0o755 {
			t.Errorf("%s: %s mode %v", filepath.Base(path), e.name, e.mode)
		}
	}
}

// checkSBOM decodes the artifact's CycloneDX SBOM: it names the artifact with
// its SHA-256, the Go standard library and the main module.
func checkSBOM(t *testing.T, dist, artifact string, typ cdx.ComponentType) {
	t.Helper()
	f, err := os.Open(filepath.Join(dist, artifact+SBOMSuffix))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(f, cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("%s: %v", artifact, err)
	}
	sum, _ := fileSHA256(filepath.Join(dist, artifact))
	top := bom.Metadata.Component
	if top.Type != typ || top.Version != "v1.2.3" || (*top.Hashes)[0].Value != sum || (*top.Licenses)[0].License.ID != "Apache-2.0" {
		t.Errorf("%s: SBOM component %+v (artifact sha256 %s)", artifact, top, sum)
	}
	if bom.Metadata.Timestamp != "2026-12-01T03:40:24Z" || !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
		t.Errorf("%s: timestamp %s serial %s", artifact, bom.Metadata.Timestamp, bom.SerialNumber)
	}
	var names []string
	for _, c := range *bom.Components {
		names = append(names, c.Name)
	}
	if !slices.Contains(names, "std") || !slices.Contains(names, ModulePath) {
		t.Errorf("%s: SBOM components %v", artifact, names)
	}
}

func checkInstallYAML(t *testing.T, dist, ref string) {
	t.Helper()
	if !strings.HasPrefix(ref, ImageRepository+":v1.2.3@sha256:") {
		t.Fatalf("image ref %q", ref)
	}
	b, err := os.ReadFile(filepath.Join(dist, "install.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	objs, err := DecodeObjects(b)
	if err != nil {
		t.Fatal(err)
	}
	base, err := RenderKustomize(filepath.Join(repoRoot(t), "manifests"))
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != len(base) {
		t.Errorf("install.yaml has %d objects, the base %d", len(objs), len(base))
	}
	if !strings.Contains(string(b), "image: "+ref+"\n") || strings.Count(string(b), "image: ") != 1 {
		t.Errorf("install.yaml does not pin the image to %s", ref)
	}
}

// checkKrew checks the manifest's checksums, then installs the host's
// archive with krew itself (built from hack/krew) and runs kubectl-seal.
func checkKrew(t *testing.T, dist string, arts map[string]Artifact) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dist, "krew", "seal.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var km KrewManifest
	if err := yaml.UnmarshalStrict(b, &km); err != nil {
		t.Fatal(err)
	}
	if km.Metadata.Name != "seal" || km.Spec.Version != "v1.2.3" || len(km.Spec.Platforms) != 2 {
		t.Fatalf("krew manifest %+v", km)
	}
	for _, p := range km.Spec.Platforms {
		name := filepath.Base(p.URI)
		if a, ok := arts[name]; !ok || a.SHA256 != p.SHA256 {
			t.Errorf("krew platform %v: %s sha256 %s, release has %+v", p.Selector.MatchLabels, name, p.SHA256, a)
		}
		if !strings.HasPrefix(p.URI, SourceURL+"/releases/download/v1.2.3/") {
			t.Errorf("krew uri %s", p.URI)
		}
	}

	krew := filepath.Join(t.TempDir(), "krew")
	build := exec.Command("go", "build", "-o", krew, "sigs.k8s.io/krew/cmd/krew")
	build.Dir = filepath.Join(repoRoot(t), "hack", "krew")
	build.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building krew (hack/krew): %v\n%s", err, out)
	}
	krewRoot := t.TempDir()
	archive := filepath.Join(dist, "seal_v1.2.3_linux_"+runtime.GOARCH+".tar.gz")
	install := exec.Command(krew, "install", "--manifest="+filepath.Join(dist, "krew", "seal.yaml"), "--archive="+archive)
	install.Env = append(os.Environ(), "KREW_ROOT="+krewRoot, "KREW_NO_UPGRADE_CHECK=1")
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("krew install: %v\n%s", err, out)
	}
	out, err := exec.Command(filepath.Join(krewRoot, "bin", "kubectl-seal")).CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "seal v1.2.3" {
		t.Errorf("kubectl-seal installed by krew printed %q (%v)", out, err)
	}
}

func TestImageTag(t *testing.T) {
	if got := ImageTag("v0.0.0-20261201034024-d3dd999824f0+dirty"); got != "v0.0.0-20261201034024-d3dd999824f0_dirty" {
		t.Errorf("ImageTag: %s", got)
	}
}

func TestParsePlatforms(t *testing.T) {
	ps, err := ParsePlatforms("linux/amd64, linux/arm64")
	if err != nil || len(ps) != 2 || ps[1] != (Platform{"linux", "arm64"}) {
		t.Errorf("%v %v", ps, err)
	}
	for _, bad := range []string{"linux", "linux/", "/amd64", ""} {
		if _, err := ParsePlatforms(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestPinControllerImageNeedsAContainer(t *testing.T) {
	if err := PinControllerImage(nil, "x"); err == nil {
		t.Error("no Deployment: no error")
	}
}

func TestVerifyChecksumsCatchesATamperedFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeChecksums(dir, []string{"a"}); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyChecksums(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a"), []byte("b"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifyChecksums(dir); err == nil {
		t.Error("a changed file passed")
	}
}
