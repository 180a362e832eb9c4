// Package install tests what users install: the kustomize base and its
// optional monitoring, the Helm chart (rendered, linted, installed, upgraded
// and uninstalled with the Helm SDK against a real API server), the user roles
// as a developer would use them, and the alert rules and dashboard.
package install

import (
	"testing"

	"github.com/sealkit/sealkit/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.Options{}) }

func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return root
}
