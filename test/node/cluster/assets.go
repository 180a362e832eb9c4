package cluster

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/sealkit/sealkit/internal/testenv"
)

// ErrNodeAssetsMissing is wrapped by NodeAssetsDir when the node's binaries
// have not been built.
var ErrNodeAssetsMissing = errors.New("node binaries missing; run hack/node/build.sh (`make e2e-node` does)")

// NodeAssetsDir is the directory of the binaries hack/node/build.sh builds:
// $SEALKIT_NODE_ASSETS when set, else what `hack/node/build.sh --check`
// prints, which fails unless every binary is there and runs.
func NodeAssetsDir() (string, error) {
	if d := os.Getenv("SEALKIT_NODE_ASSETS"); d != "" {
		return d, nil
	}
	root, err := moduleRoot()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(filepath.Join(root, "hack", "node", "build.sh"), "--check")
	out, err := cmd.Output()
	if err != nil {
		var stderr string
		if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
			stderr = strings.TrimSpace(string(ee.Stderr))
		}
		return "", fmt.Errorf("%w: %s", ErrNodeAssetsMissing, stderr)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1], nil
}

// hostTools are the host commands the harness runs, with the Debian package
// that has each.
var hostTools = map[string]string{
	"unshare":  "util-linux",
	"nsenter":  "util-linux",
	"mount":    "mount",
	"ip":       "iproute2",
	"iptables": "iptables",
	"go":       "the Go toolchain",
}

func checkHostTools() error {
	var missing []string
	for tool, pkg := range hostTools {
		if _, err := exec.LookPath(tool); err != nil {
			missing = append(missing, fmt.Sprintf("%s (%s)", tool, pkg))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("missing host commands: %s; run hack/node/deps.sh", strings.Join(missing, ", "))
	}
	return nil
}

func moduleRoot() (string, error) { return testenv.ModuleRoot() }
