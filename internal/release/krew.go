package release

import (
	"fmt"
	"io"
	"path/filepath"

	"sigs.k8s.io/yaml"
)

// KrewManifest is a krew plugin manifest (krew.googlecontainertools.github.com/v1alpha2),
// the fields sealkit uses.
type KrewManifest struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Metadata   struct {
		Name string `json:"name"`
	} `json:"metadata"`
	Spec KrewSpec `json:"spec"`
}

// KrewSpec is the manifest's spec.
type KrewSpec struct {
	Version          string         `json:"version"`
	Homepage         string         `json:"homepage"`
	ShortDescription string         `json:"shortDescription"`
	Description      string         `json:"description"`
	Platforms        []KrewPlatform `json:"platforms"`
}

// KrewPlatform is one archive and how krew installs it.
type KrewPlatform struct {
	Selector struct {
		MatchLabels map[string]string `json:"matchLabels"`
	} `json:"selector"`
	URI    string     `json:"uri"`
	SHA256 string     `json:"sha256"`
	Files  []KrewFile `json:"files"`
	Bin    string     `json:"bin"`
}

// KrewFile is a file krew copies out of the archive.
type KrewFile struct {
	From string `json:"from"`
	To   string `json:"to"`
}

// KrewPluginName is the plugin's name: `kubectl krew install seal`, then
// `kubectl seal …` (krew links kubectl-seal to the binary).
const KrewPluginName = "seal"

// releaseURL is where GitHub serves a release asset.
func releaseURL(version, file string) string {
	return SourceURL + "/releases/download/" + version + "/" + file
}

// writeKrewManifest writes krew/seal.yaml for the CLI archives (path per
// platform, in CLIPlatforms order), with each archive's SHA-256.
func writeKrewManifest(path, version string, archives map[Platform]string) error {
	var km KrewManifest
	km.APIVersion = "krew.googlecontainertools.github.com/v1alpha2"
	km.Kind = "Plugin"
	km.Metadata.Name = KrewPluginName
	km.Spec = KrewSpec{
		Version:          version,
		Homepage:         SourceURL,
		ShortDescription: "Seal Secrets into SealedSecrets safe to commit (post-quantum)",
		Description: "Encrypts Kubernetes Secrets with the cluster's public key into SealedSecret\n" +
			"manifests that are safe to keep in Git; only sealkit's controller in the\n" +
			"cluster can open them. Also verifies, re-seals after key rotation, lints\n" +
			"repositories in CI, and manages the cluster's keys.\n" +
			"Needs seal-controller in the cluster: see " + SourceURL + "/blob/main/docs/install.md\n",
	}
	for _, p := range CLIPlatforms {
		archive, ok := archives[p]
		if !ok {
			continue
		}
		sum, err := fileSHA256(archive)
		if err != nil {
			return err
		}
		var kp KrewPlatform
		kp.Selector.MatchLabels = map[string]string{"os": p.OS, "arch": p.Arch}
		kp.URI = releaseURL(version, filepath.Base(archive))
		kp.SHA256 = sum
		kp.Files = []KrewFile{{From: exe("seal", p), To: "."}, {From: "LICENSE", To: "."}}
		kp.Bin = exe("seal", p)
		km.Spec.Platforms = append(km.Spec.Platforms, kp)
	}
	if len(km.Spec.Platforms) == 0 {
		return fmt.Errorf("krew manifest: no archive of a platform krew knows (%v)", CLIPlatforms)
	}
	b, err := yaml.Marshal(km)
	if err != nil {
		return err
	}
	return atomicWrite(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
