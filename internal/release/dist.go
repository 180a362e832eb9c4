package release

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// Options configure [BuildImage] and [BuildRelease].
type Options struct {
	// Root is the repository root; Dist the output directory (dist/).
	Root, Dist string
	Meta       Meta
	// ImagePlatforms and CLIPlatforms default to the release's.
	ImagePlatforms, CLIPlatforms []Platform
	// Env is added to the go command's environment.
	Env []string
	// Log receives one line per step with its duration; nil discards it.
	Log io.Writer
}

func (o *Options) defaults() {
	if o.ImagePlatforms == nil {
		o.ImagePlatforms = ImagePlatforms
	}
	if o.CLIPlatforms == nil {
		o.CLIPlatforms = CLIPlatforms
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
}

func (o *Options) step(what string, f func() error) error {
	start := time.Now()
	if err := f(); err != nil {
		return err
	}
	fmt.Fprintf(o.Log, "release: %s (%.1fs)\n", what, time.Since(start).Seconds())
	return nil
}

// BuildImage builds the controller image for o.ImagePlatforms into o.Dist
// (see [Builder.Image]) with an SBOM for each image archive.
func BuildImage(ctx context.Context, o Options) (*ImageOutput, error) {
	o.defaults()
	work, err := os.MkdirTemp("", "sealkit-image-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(work) }()
	if err := os.MkdirAll(o.Dist, 0o755); err != nil { //nolint:gosec // release artifacts are for everyone to read
		return nil, err
	}
	var out *ImageOutput
	err = o.step(fmt.Sprintf("image %s for %v", o.Meta.ImageRef(), o.ImagePlatforms), func() error {
		var err error
		out, err = Builder{Root: o.Root, Env: o.Env}.Image(ctx, o.Meta, o.ImagePlatforms, o.Dist, work)
		return err
	})
	if err != nil {
		return nil, err
	}
	digest, err := out.Index.Digest()
	if err != nil {
		return nil, err
	}
	// One SBOM per file; the multi-platform archive's lists the first
	// platform's modules (the same source for every platform).
	subjects := []sbomSubject{{Artifact: out.OCIArchive, Binary: out.Binaries[o.ImagePlatforms[0]],
		Properties: map[string]string{"oci:image:index:digest": digest.String(), "oci:image:platforms": fmt.Sprint(o.ImagePlatforms)}}}
	for _, p := range o.ImagePlatforms {
		subjects = append(subjects, sbomSubject{Artifact: out.DockerArchives[p], Binary: out.Binaries[p],
			Properties: map[string]string{"oci:image:platform": p.String()}})
	}
	for _, s := range subjects {
		s.Name, s.Type, s.Version = ImageRepository, cdx.ComponentTypeContainer, o.Meta.Version
		if _, err := writeSBOM(s, o.Meta.Created); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Artifact is one published file of a release.
type Artifact struct {
	Name   string // relative to dist/
	Size   int64
	SHA256 string
}

// BuildRelease empties o.Dist and writes a whole release into it: the image
// ([BuildImage]), a seal archive per CLI platform (tar.gz, zip for Windows)
// with its SBOM, the krew manifest krew/seal.yaml, install.yaml with the image
// pinned by digest, and SHA256SUMS over all of it. It returns the artifacts.
func BuildRelease(ctx context.Context, o Options) ([]Artifact, error) {
	o.defaults()
	if err := os.RemoveAll(o.Dist); err != nil {
		return nil, err
	}
	img, err := BuildImage(ctx, o)
	if err != nil {
		return nil, err
	}
	archives, err := buildCLIArchives(ctx, o)
	if err != nil {
		return nil, err
	}
	err = o.step("krew/seal.yaml", func() error {
		return writeKrewManifest(filepath.Join(o.Dist, "krew", KrewPluginName+".yaml"), o.Meta.Version, archives)
	})
	if err != nil {
		return nil, err
	}
	err = o.step("install.yaml, image "+img.Ref, func() error {
		return writeInstallYAML(filepath.Join(o.Dist, "install.yaml"), filepath.Join(o.Root, "manifests"), img.Ref, o.Meta.Version)
	})
	if err != nil {
		return nil, err
	}
	files, err := publishedFiles(o.Dist)
	if err != nil {
		return nil, err
	}
	if err := writeChecksums(o.Dist, files); err != nil {
		return nil, err
	}
	return describe(o.Dist, append(files, ChecksumsFile))
}

// buildCLIArchives builds seal for every CLI platform and archives it with
// the license and README, each archive with its SBOM.
func buildCLIArchives(ctx context.Context, o Options) (map[Platform]string, error) {
	work, err := os.MkdirTemp("", "sealkit-cli-")
	if err != nil {
		return nil, err
	}
	defer func() { _ = os.RemoveAll(work) }()
	b := Builder{Root: o.Root, Env: o.Env}
	archives := map[Platform]string{}
	for _, p := range o.CLIPlatforms {
		name := fmt.Sprintf("seal_%s_%s_%s", o.Meta.Version, p.OS, p.Arch)
		ext := ".tar.gz"
		if p.OS == "windows" {
			ext = ".zip"
		}
		path := filepath.Join(o.Dist, name+ext)
		bin := filepath.Join(work, name, exe("seal", p))
		err := o.step(filepath.Base(path), func() error {
			if err := b.Build(ctx, "./cmd/seal", p, o.Meta, bin); err != nil {
				return err
			}
			files := []archiveFile{
				{Name: exe("seal", p), Source: bin, Mode: 0o755},
				{Name: "LICENSE", Source: filepath.Join(o.Root, "LICENSE"), Mode: 0o644},
				{Name: "README.md", Source: filepath.Join(o.Root, "README.md"), Mode: 0o644},
			}
			if err := writeArchive(path, files, o.Meta.Created); err != nil {
				return err
			}
			_, err := writeSBOM(sbomSubject{Artifact: path, Binary: bin, Name: "seal", Type: cdx.ComponentTypeApplication,
				Version: o.Meta.Version, Properties: map[string]string{"go:platform": p.String()}}, o.Meta.Created)
			return err
		})
		if err != nil {
			return nil, err
		}
		archives[p] = path
	}
	return archives, nil
}

// publishedFiles lists the regular files under dir (relative, slash
// separated), leaving out the OCI layout directory (its content is the
// .oci.tar) and SHA256SUMS.
func publishedFiles(dir string) ([]string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if d.IsDir() && rel == "seal-controller.oci" {
			return filepath.SkipDir
		}
		if d.Type().IsRegular() && rel != ChecksumsFile {
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(files)
	return files, err
}

func describe(dir string, files []string) ([]Artifact, error) {
	var as []Artifact
	for _, f := range files {
		fi, err := os.Stat(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		sum, err := fileSHA256(filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		as = append(as, Artifact{Name: f, Size: fi.Size(), SHA256: sum})
	}
	return as, nil
}
