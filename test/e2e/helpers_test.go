package e2e

import (
	"os"
	"testing"

	"github.com/sealkit/sealkit/internal/testenv"
)

// kubectl runs the built kubectl as admin and fails the test if it fails.
func kubectl(t *testing.T, env *testenv.Env, args ...string) string {
	t.Helper()
	out, err := env.Kubectl(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("kubectl %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
