// Package release builds what a sealkit release ships: the seal archives for
// every platform, the seal-controller image, install.yaml, the SBOMs, the krew
// plugin manifest and SHA256SUMS. hack/release is its command line (make
// image, make release); tests call it directly.
//
// Everything is a function of the source tree, the [Meta] (version, revision,
// commit time) and the Go toolchain: two builds of one commit give the same
// bytes and the same image digests. Binaries are static (CGO_ENABLED=0), built
// with -trimpath and without VCS stamping, and the version is stamped into
// internal/version, so seal --version and seal-controller --version agree.
package release

import (
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Fixed names of what a release publishes.
const (
	// ImageRepository is where the controller image is published.
	ImageRepository = "ghcr.io/sealkit/seal-controller"
	// SourceURL is the project's repository (OCI source label, SBOMs, krew).
	SourceURL = "https://github.com/sealkit/sealkit"
	// License is the SPDX identifier of sealkit's license.
	License = "Apache-2.0"
	// ModulePath is sealkit's Go module.
	ModulePath = "github.com/sealkit/sealkit"
)

// Meta identifies the build: what version it is and when its commit was made.
type Meta struct {
	// Version is what the binaries report and the image is tagged with,
	// e.g. v1.2.3 or a Go pseudo-version (hack/version.sh).
	Version string
	// Revision is the full commit hash; empty outside a git checkout.
	Revision string
	// Created is the commit time (SOURCE_DATE_EPOCH): the image creation
	// time and every archived file's modification time.
	Created time.Time
}

// MetaFromRepo reads the version (hack/version.sh), the revision and the commit
// time of the checkout at root. SOURCE_DATE_EPOCH, if set in env, overrides the
// commit time; VERSION overrides the version.
func MetaFromRepo(root string, getenv func(string) string) (Meta, error) {
	var m Meta
	run := func(name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...) //nolint:gosec // git and hack/version.sh, fixed by the callers below
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			return "", fmt.Errorf("%s %s: %w", name, strings.Join(args, " "), err)
		}
		return strings.TrimSpace(string(out)), nil
	}
	var err error
	if m.Version = getenv("VERSION"); m.Version == "" {
		if m.Version, err = run("hack/version.sh"); err != nil {
			return m, err
		}
	}
	epoch := getenv("SOURCE_DATE_EPOCH")
	if epoch == "" {
		if epoch, err = run("hack/version.sh", "--epoch"); err != nil {
			return m, err
		}
	}
	sec, err := strconv.ParseInt(epoch, 10, 64)
	if err != nil {
		return m, fmt.Errorf("SOURCE_DATE_EPOCH %q: not a number of seconds", epoch)
	}
	m.Created = time.Unix(sec, 0).UTC()
	m.Revision, _ = run("git", "rev-parse", "HEAD") // none outside a checkout
	return m, nil
}

// ImageTag is the image tag for version: a tag may not contain '+', so the
// build metadata separator of "v1.2.3+dirty" becomes '_' (as Helm does).
func ImageTag(version string) string {
	return strings.ReplaceAll(version, "+", "_")
}

// ImageRef is the controller image reference tagged with m's version.
func (m Meta) ImageRef() string { return ImageRepository + ":" + ImageTag(m.Version) }
