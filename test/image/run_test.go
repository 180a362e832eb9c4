package image

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/kubernetes"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/sealkit/sealkit/internal/release"
	"github.com/sealkit/sealkit/internal/testenv"
	"github.com/sealkit/sealkit/pkg/crypto"
	"github.com/sealkit/sealkit/pkg/keyring"
	"github.com/sealkit/sealkit/pkg/sealed"
	"github.com/sealkit/sealkit/pkg/sealed/v1alpha1"
)

// podman runs podman with storage of its own under dir (vfs: no mounts left
// behind, removed with dir), runc as the runtime, and no systemd.
type podman struct {
	t   *testing.T
	dir string
}

func newPodman(t *testing.T) *podman {
	t.Helper()
	for _, tool := range []string{"podman", "runc"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run hack/install-podman.sh (make test does)", tool)
		}
	}
	return &podman{t: t, dir: t.TempDir()}
}

func (p *podman) cmd(args ...string) *exec.Cmd {
	global := []string{
		"--root", filepath.Join(p.dir, "root"), "--runroot", filepath.Join(p.dir, "run"),
		"--tmpdir", filepath.Join(p.dir, "tmp"),
		"--storage-driver", "vfs", "--runtime", "runc",
		"--cgroup-manager", "cgroupfs", "--events-backend", "file",
	}
	return exec.Command("podman", append(global, args...)...)
}

// run runs podman and returns its stdout, failing the test on error.
func (p *podman) run(args ...string) string {
	p.t.Helper()
	var stdout, stderr bytes.Buffer
	c := p.cmd(args...)
	c.Stdout, c.Stderr = &stdout, &stderr
	if err := c.Run(); err != nil {
		p.t.Fatalf("podman %s: %v\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return strings.TrimSpace(stdout.String())
}

// ulimits are explicit: runc then sets exactly these, within the host's
// hard limits, instead of podman's defaults (nofile 1048576), which some
// hosts refuse to let a container raise to.
var ulimits = []string{"--ulimit", "nofile=1024:1024", "--ulimit", "nproc=4096:4096"}

// TestImageRunsInPodman loads the docker archive into podman and runs the
// image: --version, then the controller as a Pod runs it (ServiceAccount
// token and CA at the in-cluster paths, KUBERNETES_SERVICE_HOST/PORT,
// read-only root filesystem, user 65532, every capability dropped) against a
// real API server, where it must publish its keyring, unseal a SealedSecret
// and answer /readyz.
func TestImageRunsInPodman(t *testing.T) {
	meta, out := buildImage(t)
	pm := newPodman(t)
	loaded := pm.run("load", "-q", "-i", out.DockerArchives[hostPlatform])
	if !strings.Contains(loaded, meta.ImageRef()) {
		t.Fatalf("podman load: %q, want %s", loaded, meta.ImageRef())
	}
	ref := meta.ImageRef()

	got := pm.run(append(append([]string{"run", "--rm", "--network", "none"}, ulimits...), ref, "--version")...)
	if want := "seal-controller " + meta.Version + " ("; !strings.HasPrefix(got, want) {
		t.Fatalf("--version printed %q, want %q…", got, want)
	}

	env := testenv.New(t, testenv.Options{})
	ctx := t.Context()
	ports := freePorts(t, 3)
	health, metrics, webhook := ports[0], ports[1], ports[2]
	installBase(t, env, webhook)
	sa := serviceAccountDir(t, env)

	host, port, err := net.SplitHostPort(strings.TrimPrefix(env.Config.Host, "https://"))
	if err != nil {
		t.Fatal(err)
	}
	name := "seal-controller-test"
	args := []string{
		"run", "-d", "--name", name,
		"--network", "host", // the API server listens on 127.0.0.1
		"--read-only", "--tmpfs", "/tmp:rw,size=16m,mode=1777", // the Pod's emptyDir
		"--user", "65532:65532", "--cap-drop", "ALL", "--security-opt", "no-new-privileges",
		"-v", sa + ":/var/run/secrets/kubernetes.io/serviceaccount:ro",
		"-e", "KUBERNETES_SERVICE_HOST=" + host, "-e", "KUBERNETES_SERVICE_PORT=" + port,
		"-e", "POD_NAMESPACE=sealkit-system",
	}
	args = append(args, ulimits...)
	args = append(args, ref,
		"--leader-elect=true", "--log-format=json",
		"--health-probe-bind-address=127.0.0.1:"+strconv.Itoa(health),
		"--metrics-bind-address=127.0.0.1:"+strconv.Itoa(metrics),
		"--webhook-port="+strconv.Itoa(webhook), "--webhook-host=127.0.0.1",
	)
	pm.run(args...)
	t.Cleanup(func() {
		if t.Failed() {
			logs, _ := pm.cmd("logs", "--tail", "40", name).CombinedOutput()
			t.Logf("controller logs:\n%s", logs)
		}
		_ = pm.cmd("rm", "-f", "-t", "5", name).Run()
	})

	checkProcess(t, pm, name)

	readyz := fmt.Sprintf("http://127.0.0.1:%d/readyz", health)
	testenv.Eventually(t, "the controller in the container to answer /readyz", func() bool {
		return httpOK(readyz)
	})

	// The keyring it published is what seal fetches.
	var cm corev1.ConfigMap
	testenv.Eventually(t, "the keyring ConfigMap", func() bool {
		return env.Client.Get(ctx, types.NamespacedName{Namespace: "sealkit-system", Name: keyring.KeyringConfigMap}, &cm) == nil
	})
	kr, err := keyring.Parse(strings.NewReader(cm.Data[keyring.KeyringDataKey]))
	if err != nil {
		t.Fatalf("published keyring: %v", err)
	}
	var active *crypto.Recipient
	for _, k := range kr.Keys {
		if k.State == keyring.StateActive {
			active = k.Recipient
		}
	}
	if active == nil {
		t.Fatalf("published keyring has no active key:\n%s", cm.Data[keyring.KeyringDataKey])
	}

	// A SealedSecret sealed to it is unsealed into a Secret.
	ns := env.Namespace(t)
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: "db", Namespace: ns},
		StringData: map[string]string{"password": "canary-podman-7f3a"},
	}
	ss, err := sealed.Seal(secret, sealed.SealOptions{Recipients: []*crypto.Recipient{active}})
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Client.Create(ctx, ss); err != nil {
		t.Fatal(err)
	}
	var unsealed corev1.Secret
	testenv.Eventually(t, "the controller in the container to unseal db", func() bool {
		return env.Client.Get(ctx, types.NamespacedName{Namespace: ns, Name: "db"}, &unsealed) == nil
	})
	if string(unsealed.Data["password"]) != "canary-podman-7f3a" {
		t.Fatalf("unsealed Secret holds %q", unsealed.Data["password"])
	}
	var back v1alpha1.SealedSecret
	testenv.Eventually(t, "db to be Ready", func() bool {
		if err := env.Client.Get(ctx, client.ObjectKeyFromObject(ss), &back); err != nil {
			return false
		}
		for _, c := range back.Status.Conditions {
			if c.Type == "Ready" && c.Status == metav1.ConditionTrue {
				return true
			}
		}
		return false
	})

	// Its metrics: HTTPS, only for a caller bound to sealkit-metrics-reader.
	metricsURL := fmt.Sprintf("https://127.0.0.1:%d/metrics", metrics)
	if code, _ := scrape(t, metricsURL, ""); code != http.StatusUnauthorized && code != http.StatusForbidden {
		t.Errorf("/metrics without a token: HTTP %d, want 401 or 403", code)
	}
	if code, body := scrape(t, metricsURL, prometheusToken(t, env)); code != http.StatusOK || !strings.Contains(body, "sealkit_keys{") {
		t.Errorf("/metrics as a sealkit-metrics-reader: HTTP %d\n%.2000s", code, body)
	}

	// Its logs never carry the value.
	logs, err := pm.cmd("logs", name).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(logs, []byte("canary-podman-7f3a")) {
		t.Error("the controller's logs contain the secret value")
	}
}

// checkProcess reads the container's main process from /proc: it must run
// as 65532 with no capabilities, and the container must have a read-only
// root filesystem.
func checkProcess(t *testing.T, pm *podman, name string) {
	t.Helper()
	pid := pm.run("inspect", "--format", "{{.State.Pid}}", name)
	status, err := os.ReadFile("/proc/" + pid + "/status")
	if err != nil {
		t.Fatalf("the container's process %s: %v", pid, err)
	}
	fields := map[string]string{}
	for _, line := range strings.Split(string(status), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			fields[k] = strings.Join(strings.Fields(v), " ")
		}
	}
	if fields["Uid"] != "65532 65532 65532 65532" || fields["Gid"] != "65532 65532 65532 65532" {
		t.Errorf("the controller runs as uid %q gid %q, want 65532", fields["Uid"], fields["Gid"])
	}
	for _, c := range []string{"CapEff", "CapPrm", "CapBnd"} {
		if fields[c] != "0000000000000000" {
			t.Errorf("%s %s, want no capabilities", c, fields[c])
		}
	}
	if fields["NoNewPrivs"] != "1" {
		t.Errorf("NoNewPrivs %q, want 1", fields["NoNewPrivs"])
	}
	if ro := pm.run("inspect", "--format", "{{.HostConfig.ReadonlyRootfs}}", name); ro != "true" {
		t.Errorf("read-only root filesystem: %s", ro)
	}
}

// installBase applies the kustomize base as an operator would, less the
// Deployment (the test runs the container itself), with the webhooks
// calling the container on 127.0.0.1:webhookPort.
func installBase(t *testing.T, env *testenv.Env, webhookPort int) {
	t.Helper()
	root, err := testenv.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	objs, err := release.RenderKustomize(filepath.Join(root, "manifests"))
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range objs {
		switch o.GetKind() {
		case "Deployment":
			continue
		case "ValidatingWebhookConfiguration", "MutatingWebhookConfiguration":
			pointWebhooksAt(t, o, webhookPort)
		}
		if err := env.Client.Apply(t.Context(), client.ApplyConfigurationFromUnstructured(o), client.ForceOwnership, client.FieldOwner("image-test")); err != nil {
			t.Fatalf("applying %s %s: %v", o.GetKind(), o.GetName(), err)
		}
	}
}

func pointWebhooksAt(t *testing.T, o *unstructured.Unstructured, port int) {
	t.Helper()
	hooks, _, _ := unstructured.NestedSlice(o.Object, "webhooks")
	for i, h := range hooks {
		hm := h.(map[string]any)
		cc := hm["clientConfig"].(map[string]any)
		svc := cc["service"].(map[string]any)
		cc["url"] = (&url.URL{Scheme: "https", Host: "127.0.0.1:" + strconv.Itoa(port), Path: svc["path"].(string)}).String()
		delete(cc, "service")
		hooks[i] = hm
	}
	if err := unstructured.SetNestedSlice(o.Object, hooks, "webhooks"); err != nil {
		t.Fatal(err)
	}
}

// serviceAccountDir writes what the kubelet mounts at
// /var/run/secrets/kubernetes.io/serviceaccount: a token of the controller's
// ServiceAccount (so the container has exactly its RBAC rights), the
// cluster CA and the namespace; readable by the container's user.
func serviceAccountDir(t *testing.T, env *testenv.Env) string {
	t.Helper()
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts("sealkit-system").CreateToken(t.Context(), "seal-controller",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}},
		metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "serviceaccount")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"token":     []byte(tr.Status.Token),
		"ca.crt":    env.Config.CAData,
		"namespace": []byte("sealkit-system"),
	} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// t.TempDir is 0700: the container's user must get through it.
	for d := dir; d != os.TempDir() && d != "/"; d = filepath.Dir(d) {
		_ = os.Chmod(d, 0o755)
	}
	return dir
}

func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	for _, l := range ls {
		_ = l.Close()
	}
	return ports
}

func httpOK(u string) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return false
	}
	_ = resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// scrape GETs the controller's /metrics as Prometheus does: HTTPS without
// checking the controller's self-signed certificate, with a bearer token.
func scrape(t *testing.T, u, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // the controller's self-signed serving certificate
	}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

// prometheusToken is a token of a ServiceAccount bound to the base's
// ClusterRole sealkit-metrics-reader, as docs/install.md says to set up.
func prometheusToken(t *testing.T, env *testenv.Env) string {
	t.Helper()
	ctx := t.Context()
	sa := &corev1.ServiceAccount{ObjectMeta: metav1.ObjectMeta{Namespace: "default", Name: "prometheus"}}
	crb := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "prometheus-sealkit-metrics"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "sealkit-metrics-reader"},
		Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Namespace: "default", Name: "prometheus"}},
	}
	for _, o := range []client.Object{sa, crb} {
		if err := env.Client.Create(ctx, o); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts("default").CreateToken(ctx, "prometheus",
		&authenticationv1.TokenRequest{Spec: authenticationv1.TokenRequestSpec{ExpirationSeconds: ptr.To[int64](3600)}},
		metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return tr.Status.Token
}
