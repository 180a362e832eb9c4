package release

import (
	"crypto/sha256"
	"debug/buildinfo"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/google/uuid"
)

// SBOMSuffix is appended to an artifact's file name for its SBOM.
const SBOMSuffix = ".cdx.json"

// sbomSubject is what an SBOM describes: an artifact file, built from one Go
// binary.
type sbomSubject struct {
	// Artifact is the file the SBOM is published for (its SHA-256 is recorded).
	Artifact string
	// Binary is the Go binary inside it, whose build info lists the modules.
	Binary string
	// Name and Type of the top component: "seal" (application) or the image
	// repository (container).
	Name string
	Type cdx.ComponentType
	// Version is the release version.
	Version string
	// Properties describe the artifact further (platform, image digest).
	Properties map[string]string
}

// writeSBOM writes a CycloneDX (JSON) SBOM of s next to the artifact, from the
// Go module data embedded in the binary (debug/buildinfo): the main module,
// every dependency module compiled in, the Go standard library, and the
// build settings. It is deterministic: the serial number derives from the
// artifact's hash and the timestamp is the commit time.
func writeSBOM(s sbomSubject, created time.Time) (string, error) {
	info, err := buildinfo.ReadFile(s.Binary)
	if err != nil {
		return "", fmt.Errorf("reading Go build info of %s: %w", s.Binary, err)
	}
	sum, err := fileSHA256(s.Artifact)
	if err != nil {
		return "", err
	}
	bom := cdx.NewBOM()
	bom.SerialNumber = "urn:uuid:" + uuid.NewSHA1(uuid.NameSpaceURL, []byte("sha256:"+sum)).String()
	mainRef := "pkg:golang/" + info.Main.Path + "@" + s.Version
	top := cdx.Component{
		BOMRef:   s.Name + "@" + s.Version,
		Type:     s.Type,
		Name:     s.Name,
		Version:  s.Version,
		Hashes:   &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: sum}},
		Licenses: &cdx.Licenses{{License: &cdx.License{ID: License}}},
		ExternalReferences: &[]cdx.ExternalReference{
			{Type: cdx.ERTypeVCS, URL: SourceURL},
		},
		Properties: properties(s.Properties),
	}
	bom.Metadata = &cdx.Metadata{
		Timestamp: created.UTC().Format(time.RFC3339),
		Component: &top,
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "sealkit internal/release", Version: s.Version,
		}}},
	}

	goVersion := strings.TrimPrefix(info.GoVersion, "go")
	comps := []cdx.Component{{
		BOMRef:     mainRef,
		Type:       cdx.ComponentTypeApplication,
		Name:       info.Main.Path,
		Version:    s.Version,
		PackageURL: mainRef,
		Licenses:   &cdx.Licenses{{License: &cdx.License{ID: License}}},
		Properties: properties(buildSettings(info)),
	}, {
		BOMRef:      "pkg:golang/std@v" + goVersion,
		Type:        cdx.ComponentTypeLibrary,
		Name:        "std",
		Version:     "v" + goVersion,
		PackageURL:  "pkg:golang/std@v" + goVersion,
		Description: "the Go standard library",
	}}
	deps := []string{"pkg:golang/std@v" + goVersion}
	for _, d := range info.Deps {
		m := d
		if d.Replace != nil {
			m = d.Replace
		}
		ref := "pkg:golang/" + m.Path + "@" + m.Version
		c := cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: m.Path, Version: m.Version, PackageURL: ref}
		if m.Sum != "" {
			c.Properties = &[]cdx.Property{{Name: "go:module:sum", Value: m.Sum}}
		}
		if d.Replace != nil {
			c.Description = "replaces " + d.Path + "@" + d.Version
		}
		comps = append(comps, c)
		deps = append(deps, ref)
	}
	sort.Strings(deps[1:])
	bom.Components = &comps
	topDeps := []string{mainRef}
	bom.Dependencies = &[]cdx.Dependency{
		{Ref: top.BOMRef, Dependencies: &topDeps},
		{Ref: mainRef, Dependencies: &deps},
	}

	path := s.Artifact + SBOMSuffix
	return path, atomicWrite(path, func(w io.Writer) error {
		return cdx.NewBOMEncoder(w, cdx.BOMFileFormatJSON).SetPretty(true).Encode(bom)
	})
}

func buildSettings(info *buildinfo.BuildInfo) map[string]string {
	m := map[string]string{"go:version": info.GoVersion}
	for _, s := range info.Settings {
		m["go:build:"+s.Key] = s.Value
	}
	return m
}

func properties(m map[string]string) *[]cdx.Property {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ps := make([]cdx.Property, 0, len(keys))
	for _, k := range keys {
		ps = append(ps, cdx.Property{Name: k, Value: m[k]})
	}
	return &ps
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path) //nolint:gosec // an artifact this package wrote
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
