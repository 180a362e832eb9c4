package testenv_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/sealkit/sealkit/internal/testenv"
)

// A missing binary is an error that says how to build it, never a skip.
func TestMissingAssets(t *testing.T) {
	t.Setenv("KUBEBUILDER_ASSETS", t.TempDir())
	_, err := testenv.Start(testenv.Options{})
	if !errors.Is(err, testenv.ErrAssetsMissing) {
		t.Fatalf("Start with an empty assets directory: got %v, want ErrAssetsMissing", err)
	}
	if !strings.Contains(err.Error(), "make envtest-assets") {
		t.Fatalf("error %q does not say how to build the binaries", err)
	}
}

func TestCRDDir(t *testing.T) {
	dir, err := testenv.CRDDir()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(dir, "/manifests/crd") {
		t.Fatalf("CRDDir() = %s", dir)
	}
}
