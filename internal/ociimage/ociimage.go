// Package ociimage builds OCI container images from files, without a
// container engine: a layer is a tar archive written here, an image is a
// config plus layers, and a multi-platform index names one image per
// platform. Everything is a pure function of its inputs (file contents,
// modes, owners and one timestamp), so building twice gives the same digests.
//
// It builds sealkit's controller image (see internal/release) and is meant for
// any other small image a test needs, e.g. a static binary and nothing else:
//
//	img, err := ociimage.Image(ociimage.Spec{
//		Platform:   v1.Platform{OS: "linux", Architecture: "amd64"},
//		Layers:     []ociimage.Layer{{Files: []ociimage.File{{Path: "/pause", Mode: 0o755, Source: "bin/pause"}}}},
//		Entrypoint: []string{"/pause"},
//		Created:    time.Unix(0, 0),
//	})
//
// # Output
//
// [WriteLayout] writes an OCI image layout (a directory), [WriteOCIArchive]
// the same as one tar file (skopeo's oci-archive, podman load), and
// [WriteDockerArchive] a tarball `docker load` reads.
package ociimage

import (
	"fmt"
	"io/fs"
	"maps"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// File is one entry of a layer.
type File struct {
	// Path is the absolute path in the image, e.g. /usr/bin/app.
	Path string
	// Mode holds the permission bits, plus fs.ModeDir for a directory (and
	// fs.ModeSticky where wanted, e.g. /tmp).
	Mode fs.FileMode
	// UID and GID own the entry (0 is root).
	UID, GID int
	// Data is the content of a regular file; Source, if set, is a file on
	// disk to read it from instead.
	Data   []byte
	Source string
}

// Layer is a set of files, one layer of an image. Parent directories not
// listed are added (root-owned, 0755).
type Layer struct {
	Files []File
	// Comment is the layer's history entry ("created_by"), shown by
	// `docker history`.
	Comment string
}

// Spec describes one image for one platform.
type Spec struct {
	Platform   v1.Platform
	Layers     []Layer
	Entrypoint []string
	Cmd        []string
	// User is "UID:GID" or a name; empty means root, which few images want.
	User       string
	Env        []string
	WorkingDir string
	// ExposedPorts are "8080/tcp" style ports, documentation only.
	ExposedPorts []string
	// Labels go into the image config; Annotations into its manifest (OCI
	// org.opencontainers.image.* keys belong in both, see [StandardLabels]).
	Labels      map[string]string
	Annotations map[string]string
	// Created is the image's creation time and every file's modification
	// time. Use the commit time (SOURCE_DATE_EPOCH), never time.Now, to keep
	// builds reproducible.
	Created time.Time
}

// Image builds the image spec describes. Layers are compressed here, once.
func Image(spec Spec) (v1.Image, error) {
	if spec.Platform.OS == "" || spec.Platform.Architecture == "" {
		return nil, fmt.Errorf("image spec: platform os and architecture are required")
	}
	created := v1.Time{Time: spec.Created.UTC()}
	cfg := &v1.ConfigFile{
		Architecture: spec.Platform.Architecture,
		OS:           spec.Platform.OS,
		OSVersion:    spec.Platform.OSVersion,
		Variant:      spec.Platform.Variant,
		Created:      created,
		Config: v1.Config{
			Entrypoint: spec.Entrypoint,
			Cmd:        spec.Cmd,
			User:       spec.User,
			Env:        spec.Env,
			WorkingDir: spec.WorkingDir,
			Labels:     maps.Clone(spec.Labels),
		},
		RootFS: v1.RootFS{Type: "layers"},
	}
	if len(spec.ExposedPorts) > 0 {
		cfg.Config.ExposedPorts = map[string]struct{}{}
		for _, p := range spec.ExposedPorts {
			cfg.Config.ExposedPorts[p] = struct{}{}
		}
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err := mutate.ConfigFile(img, cfg)
	if err != nil {
		return nil, err
	}
	for i, l := range spec.Layers {
		layer, err := buildLayer(l.Files, spec.Created)
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
		img, err = mutate.Append(img, mutate.Addendum{
			Layer:     layer,
			MediaType: types.OCILayer,
			History:   v1.History{Created: created, CreatedBy: l.Comment},
		})
		if err != nil {
			return nil, fmt.Errorf("layer %d: %w", i, err)
		}
	}
	if len(spec.Annotations) > 0 {
		img = mutate.Annotations(img, spec.Annotations).(v1.Image)
	}
	return img, nil
}

// Index is the multi-platform image index of imgs, each entry carrying the
// platform its config declares. annotations go on the index (nil for none).
func Index(imgs []v1.Image, annotations map[string]string) (v1.ImageIndex, error) {
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, err
		}
		p := cf.Platform()
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: p},
		})
	}
	if len(annotations) > 0 {
		idx = mutate.Annotations(idx, annotations).(v1.ImageIndex)
	}
	return idx, nil
}

// StandardLabels are the OCI pre-defined annotation keys
// (org.opencontainers.image.*) for the given values; empty values are left
// out. created is written in RFC 3339.
func StandardLabels(title, description, version, revision, source, licenses string, created time.Time) map[string]string {
	m := map[string]string{}
	set := func(k, v string) {
		if v != "" {
			m["org.opencontainers.image."+k] = v
		}
	}
	set("title", title)
	set("description", description)
	set("version", version)
	set("revision", revision)
	set("source", source)
	set("url", source)
	set("licenses", licenses)
	set("created", created.UTC().Format(time.RFC3339))
	return m
}
