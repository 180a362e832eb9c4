package release

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/sealkit/sealkit/internal/ociimage"
)

// ControllerBinary is where the controller sits in its image (the
// entrypoint); LicensePath is where the license text is.
const (
	ControllerBinary = "/usr/bin/seal-controller"
	LicensePath      = "/usr/share/doc/sealkit/LICENSE"
)

// ImageOutput is what [Builder.Image] wrote.
type ImageOutput struct {
	Index v1.ImageIndex
	// Ref is the image reference pinned by the index digest:
	// ghcr.io/sealkit/seal-controller:TAG@sha256:….
	Ref string
	// Layout is the OCI image layout directory; OCIArchive the same packed in
	// one tar (skopeo's oci-archive); DockerArchives one `docker load`
	// tarball per platform.
	Layout, OCIArchive string
	DockerArchives     map[Platform]string
	// Binaries are the controller binaries in the image, per platform.
	Binaries map[Platform]string
}

// ControllerImage is the image spec of the controller binary for p: the
// non-root base, the binary and the license; user 65532, no shell.
func ControllerImage(binary string, p Platform, m Meta, license []byte) ociimage.Spec {
	labels := ociimage.StandardLabels("seal-controller",
		"sealkit controller: unseals SealedSecrets into Secrets and manages the cluster's keys",
		m.Version, m.Revision, SourceURL, License, m.Created)
	return ociimage.Spec{
		Platform: v1.Platform{OS: p.OS, Architecture: p.Arch},
		Layers: []ociimage.Layer{
			ociimage.NonRootBase(),
			{Comment: "seal-controller " + m.Version, Files: []ociimage.File{
				{Path: ControllerBinary, Mode: 0o755, Source: binary},
				{Path: LicensePath, Mode: 0o644, Data: license},
			}},
		},
		Entrypoint:   []string{ControllerBinary},
		User:         ociimage.NonRootUser,
		WorkingDir:   "/",
		ExposedPorts: []string{"8080/tcp", "8081/tcp", "9443/tcp"},
		Labels:       labels,
		Annotations:  labels,
		Created:      m.Created,
	}
}

// Image builds the controller for platforms and writes, into dir: the OCI
// layout seal-controller.oci/, seal-controller_VERSION.oci.tar, one
// seal-controller_VERSION_OS_ARCH.docker.tar per platform (tagged
// ghcr.io/sealkit/seal-controller:VERSION), and seal-controller.ref naming the
// image by digest. work holds the binaries.
func (b Builder) Image(ctx context.Context, m Meta, platforms []Platform, dir, work string) (*ImageOutput, error) {
	license, err := os.ReadFile(filepath.Join(b.Root, "LICENSE"))
	if err != nil {
		return nil, err
	}
	out := &ImageOutput{DockerArchives: map[Platform]string{}, Binaries: map[Platform]string{}}
	var imgs []v1.Image
	for _, p := range platforms {
		if p.OS != "linux" {
			return nil, fmt.Errorf("image platform %s: only linux images are built", p)
		}
		bin := filepath.Join(work, "controller_"+p.OS+"_"+p.Arch, "seal-controller")
		if err := b.Build(ctx, "./cmd/controller", p, m, bin); err != nil {
			return nil, err
		}
		img, err := ociimage.Image(ControllerImage(bin, p, m, license))
		if err != nil {
			return nil, fmt.Errorf("image for %s: %w", p, err)
		}
		out.Binaries[p] = bin
		imgs = append(imgs, img)
	}
	idx, err := ociimage.Index(imgs, ControllerImage("", platforms[0], m, nil).Annotations)
	if err != nil {
		return nil, err
	}
	d, err := idx.Digest()
	if err != nil {
		return nil, err
	}
	out.Index, out.Ref = idx, m.ImageRef()+"@"+d.String()

	out.Layout = filepath.Join(dir, "seal-controller.oci")
	if err := os.RemoveAll(out.Layout); err != nil {
		return nil, err
	}
	tag := ImageTag(m.Version)
	if err := ociimage.WriteLayout(out.Layout, idx, tag); err != nil {
		return nil, err
	}
	out.OCIArchive = filepath.Join(dir, "seal-controller_"+tag+".oci.tar")
	if err := ociimage.WriteOCIArchive(out.OCIArchive, idx, tag); err != nil {
		return nil, err
	}
	for i, p := range platforms {
		path := filepath.Join(dir, fmt.Sprintf("seal-controller_%s_%s_%s.docker.tar", tag, p.OS, p.Arch))
		if err := ociimage.WriteDockerArchive(path, m.ImageRef(), imgs[i]); err != nil {
			return nil, err
		}
		out.DockerArchives[p] = path
	}
	err = atomicWrite(filepath.Join(dir, "seal-controller.ref"), func(w io.Writer) error {
		_, err := io.WriteString(w, out.Ref+"\n")
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
