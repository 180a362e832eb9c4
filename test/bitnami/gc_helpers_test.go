package bitnami

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/log/zap"

	"github.com/sealkit/sealkit/internal/controller"
	"github.com/sealkit/sealkit/internal/controller/ctrltest"
	"github.com/sealkit/sealkit/internal/controller/keys"
	"github.com/sealkit/sealkit/internal/controller/policy"
	"github.com/sealkit/sealkit/internal/controller/reconciler"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
)

// startGarbageCollector runs kube-controller-manager, built from source by
// hack/node/build.sh, with only its garbage collector, against env until
// the test ends: envtest runs no controllers, and the cut-over depends on
// what the collector does with an orphan deletion.
func startGarbageCollector(t *testing.T, env *testenv.Env) {
	t.Helper()
	bin := filepath.Join(nodeAssetsDir(t), "kube-controller-manager")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("kube-controller-manager missing at %s; run `hack/node/build.sh kube-controller-manager`, which `make test` does", bin)
	}
	cmd := exec.Command(bin, //nolint:gosec // the binary hack/node/build.sh built
		"--kubeconfig="+env.Kubeconfig,
		"--controllers=garbage-collector-controller",
		"--leader-elect=false",
		"--secure-port=0",
		"--concurrent-gc-syncs=5",
	)
	log, err := os.Create(filepath.Join(t.TempDir(), "kube-controller-manager.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting kube-controller-manager: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("kube-controller-manager log (last 4 KiB):\n%s", b[max(0, len(b)-4096):])
		}
	})
}

// nodeAssetsDir is $SEALKIT_NODE_ASSETS, else the directory
// hack/node/build.sh builds into.
func nodeAssetsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("SEALKIT_NODE_ASSETS"); d != "" {
		return d
	}
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(filepath.Join(root, "hack", "node", "build.sh"), "--print-dir").Output() //nolint:gosec // the repository's script
	if err != nil {
		t.Fatalf("hack/node/build.sh --print-dir: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	return lines[len(lines)-1]
}

// startSealkit runs seal-controller (keys and reconciler) in-process with
// its keys in ns, retrying conflicts every second, and returns the
// recipient of its active key once it is published.
func startSealkit(t *testing.T, env *testenv.Env, ns string) []*crypto.Recipient {
	t.Helper()
	mgr := ctrltest.NewManager(t, env.Config, controller.ManagerOptions{Namespace: ns, Logger: zap.New(zap.WriteTo(os.Stderr))})
	store, err := keys.Setup(mgr, keys.Options{Namespace: ns})
	if err != nil {
		t.Fatal(err)
	}
	err = reconciler.Setup(mgr, store, reconciler.Options{Policy: policy.Policy{ControllerNamespace: ns}, ConflictRetry: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	ctrltest.Run(t, mgr)
	var cm corev1.ConfigMap
	testenv.Eventually(t, "sealkit's keyring", func() bool {
		return env.Client.Get(context.Background(), client.ObjectKey{Namespace: ns, Name: keyring.KeyringConfigMap}, &cm) == nil
	})
	kr, err := keyring.Parse(strings.NewReader(cm.Data[keyring.KeyringDataKey]))
	if err != nil {
		t.Fatal(err)
	}
	rs, err := kr.SealingRecipients()
	if err != nil {
		t.Fatal(err)
	}
	return rs
}
