package bitnami

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/sealkit/sealkit/internal/kubeseal"
	"github.com/sealkit/sealkit/internal/testenv"
)

// controllerNamespace is where Bitnami's controller keeps its keys by default.
const controllerNamespace = "kube-system"

// startController runs Bitnami's real controller, built by
// hack/build-kubeseal.sh, against env until the test ends.
//
// The controller only knows the in-cluster configuration: a service account
// token and CA under /var/run/secrets/kubernetes.io/serviceaccount. It runs
// in a mount namespace of its own (unshare, which needs root: CI has it)
// where a private tmpfs over /run holds them, so the host is never touched.
func startController(t *testing.T, env *testenv.Env) {
	t.Helper()
	bin := filepath.Join(kubeseal.Dir(), "controller")
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("bitnami controller missing at %s; run `make kubeseal` (hack/build-kubeseal.sh kubeseal controller), which `make test` does", bin)
	}
	if os.Geteuid() != 0 {
		t.Fatal("running bitnami's controller needs root (a private mount namespace for its in-cluster token); run the test as root, as CI does")
	}
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Fatal("unshare (util-linux) not found; install util-linux")
	}
	dir := t.TempDir()
	for name, content := range map[string][]byte{
		"token":     serviceAccountToken(t, env),
		"ca.crt":    env.Config.CAData,
		"namespace": []byte(controllerNamespace),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	u, err := url.Parse(env.Config.Host)
	if err != nil {
		t.Fatal(err)
	}
	const script = `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/secrets/kubernetes.io/serviceaccount
cp "$SA_DIR"/* /run/secrets/kubernetes.io/serviceaccount/
exec "$@"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", bin,
		"--key-size", "2048", // Bitnami's default is 4096; the format is the same and tests stay fast
		"--listen-addr", freeAddr(t), "--listen-metrics-addr", freeAddr(t))
	cmd.Env = append(os.Environ(), "SA_DIR="+dir, "KUBERNETES_SERVICE_HOST="+u.Hostname(), "KUBERNETES_SERVICE_PORT="+u.Port())
	log, err := os.Create(filepath.Join(t.TempDir(), "controller.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting bitnami's controller: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("bitnami controller log:\n%s", b)
		}
	})
}

// serviceAccountToken gives Bitnami's controller a service account with the
// rights of its Helm chart, broadly: cluster-admin keeps the test short.
func serviceAccountToken(t *testing.T, env *testenv.Env) []byte {
	t.Helper()
	ctx := context.Background()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Name: "sealed-secrets-controller", Namespace: controllerNamespace}}
	if _, err := cs.CoreV1().ServiceAccounts(controllerNamespace).Create(ctx, sa, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "sealed-secrets-controller"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "cluster-admin"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.ServiceAccountKind, Name: sa.Name, Namespace: controllerNamespace}},
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, crb, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(controllerNamespace).CreateToken(ctx, sa.Name, &authenticationv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(tr.Status.Token)
}

// freeAddr is a loopback address with a port nothing listens on.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := fmt.Sprint(l.Addr())
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// kubectl runs the built kubectl as admin and fails the test if it fails.
func kubectl(t *testing.T, env *testenv.Env, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := env.Kubectl(args...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.Output()
	if err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			err = fmt.Errorf("%w: %s", err, exit.Stderr)
		}
		t.Fatalf("kubectl %v: %v", args, err)
	}
	return out
}
