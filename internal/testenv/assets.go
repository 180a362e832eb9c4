package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// KubeVersion is the Kubernetes version hack/build-assets.sh builds; it names the
// cache directory and must match KUBE_VERSION there.
const KubeVersion = "1.37.2"

// Binaries the control plane needs, all built by hack/build-assets.sh.
var assetNames = []string{"etcd", "kube-apiserver", "kubectl"}

// ErrAssetsMissing is wrapped by AssetsDir when a binary is not there.
var ErrAssetsMissing = errors.New("control plane binaries missing; run `make envtest-assets` (hack/build-assets.sh)")

// AssetsDir returns the directory holding etcd, kube-apiserver and kubectl:
// $KUBEBUILDER_ASSETS when set, else the cache directory hack/build-assets.sh
// writes to. It fails, wrapping ErrAssetsMissing, when a binary is absent, so a
// test never silently runs without its API server.
func AssetsDir() (string, error) {
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	if dir == "" {
		dir = DefaultAssetsDir()
	}
	for _, name := range assetNames {
		p := filepath.Join(dir, name)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
			return "", fmt.Errorf("%s: %w", p, ErrAssetsMissing)
		}
	}
	return dir, nil
}

// DefaultAssetsDir is where hack/build-assets.sh puts the binaries unless
// SEALKIT_ASSETS_DIR says otherwise: $XDG_CACHE_HOME/sealkit/k8s-VERSION, falling
// back to ~/.cache.
func DefaultAssetsDir() string {
	if d := os.Getenv("SEALKIT_ASSETS_DIR"); d != "" {
		return d
	}
	cache := os.Getenv("XDG_CACHE_HOME")
	if cache == "" {
		home, _ := os.UserHomeDir()
		cache = filepath.Join(home, ".cache")
	}
	return filepath.Join(cache, "sealkit", "k8s-"+KubeVersion)
}

// ModuleRoot returns the root of the sealkit module: the nearest directory above
// the working directory (a test runs in its package directory) with a go.mod
// declaring our module.
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
		if err == nil && isOurModule(b) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("sealkit module root not found above the working directory")
		}
		dir = parent
	}
}

// isOurModule tells the main go.mod from the tool modules under hack/.
func isOurModule(gomod []byte) bool {
	for line := range strings.Lines(string(gomod)) {
		if strings.TrimSpace(line) == "module github.com/sealkit/sealkit" {
			return true
		}
	}
	return false
}

// CRDDir is manifests/crd in the module root.
func CRDDir() (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "manifests", "crd"), nil
}
