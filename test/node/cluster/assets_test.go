package cluster

import (
	"errors"
	"strings"
	"testing"
)

// Missing node binaries are an error that says how to build them, never a skip.
func TestNodeAssetsMissing(t *testing.T) {
	t.Setenv("SEALKIT_NODE_ASSETS", "")
	t.Setenv("SEALKIT_NODE_ASSETS_DIR", t.TempDir())
	_, err := NodeAssetsDir()
	if !errors.Is(err, ErrNodeAssetsMissing) {
		t.Fatalf("NodeAssetsDir with an empty directory: %v, want ErrNodeAssetsMissing", err)
	}
	if !strings.Contains(err.Error(), "hack/node/build.sh") || !strings.Contains(err.Error(), "kubelet is missing") {
		t.Errorf("error %q does not name the missing binary and the fix", err)
	}
}
