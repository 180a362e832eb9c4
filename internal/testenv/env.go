// Package testenv runs a real Kubernetes control plane (etcd and kube-apiserver,
// built from source by hack/build-assets.sh) through controller-runtime's envtest,
// with sealkit's CRDs installed.
//
// Tests use [New] for a control plane of their own or, cheaper, [Main] and [Shared]
// for one control plane per test package (starting one costs about 4 s).
// hack/devcluster and the demo use [Start] directly.
//
// The API server authorizes with RBAC, so [Env.User] gives clients whose
// permissions are real. A missing binary is an error naming the fix
// (`make envtest-assets`), never a skipped test.
package testenv

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/envtest"

	kscheme "github.com/sealkit/sealkit/internal/scheme"
)

// Options configure [Start]. The zero value is what most tests want.
type Options struct {
	// CRDDirs are installed before Start returns; nil means manifests/crd.
	CRDDirs []string
	// NoCRDs starts a bare API server, for tests that install the CRDs themselves.
	NoCRDs bool
	// KubeconfigPath is where the admin kubeconfig is written; empty means a file in
	// a temporary directory. Stop removes it either way: it would name a dead server.
	KubeconfigPath string
	// Port is the API server's secure port on 127.0.0.1; 0 picks a free one.
	Port int
	// Webhooks is handed to envtest, which installs the webhook configurations and
	// serving certificates for a webhook server the test runs itself.
	Webhooks envtest.WebhookInstallOptions
	// APIServerArgs are extra kube-apiserver flags (name without dashes),
	// such as an admission configuration file.
	APIServerArgs map[string]string
	// Output receives the logs of etcd and kube-apiserver; nil discards them.
	// KUBEBUILDER_ATTACH_CONTROL_PLANE_OUTPUT=true sends them to stdout/stderr.
	Output io.Writer
}

// Env is a running control plane.
type Env struct {
	// Config is the admin (system:masters) REST config.
	Config *rest.Config
	// Client is an admin client whose scheme is [Scheme]'s.
	Client client.Client
	// Kubeconfig is the path of the admin kubeconfig file.
	Kubeconfig string
	// AssetsDir holds the etcd, kube-apiserver and kubectl binaries in use.
	AssetsDir string
	// StartDuration is how long etcd, kube-apiserver and the CRDs took to come up.
	StartDuration time.Duration

	env      *envtest.Environment
	dir      string // temporary files: kubeconfigs, kubectl cache
	ownKcfg  bool   // Kubeconfig was placed by the caller and is removed on Stop
	userMu   sync.Mutex
	stopOnce sync.Once
	stopErr  error
}

// Start starts etcd and kube-apiserver, installs the CRDs and writes the admin
// kubeconfig. The caller must call Stop, which leaves no process behind.
func Start(opts Options) (*Env, error) {
	assets, err := AssetsDir()
	if err != nil {
		return nil, err
	}
	scheme, err := kscheme.New()
	if err != nil {
		return nil, err
	}
	te := &envtest.Environment{
		BinaryAssetsDirectory: assets,
		Scheme:                scheme,
		WebhookInstallOptions: opts.Webhooks,
		ErrorIfCRDPathMissing: true,
	}
	if !opts.NoCRDs {
		te.CRDDirectoryPaths = opts.CRDDirs
		if te.CRDDirectoryPaths == nil {
			dir, err := CRDDir()
			if err != nil {
				return nil, err
			}
			te.CRDDirectoryPaths = []string{dir}
		}
	}
	dir, err := os.MkdirTemp("", "sealkit-testenv-")
	if err != nil {
		return nil, err
	}
	if err := configurePlane(te, opts, dir); err != nil {
		_ = os.RemoveAll(dir)
		return nil, err
	}
	e := &Env{env: te, dir: dir, AssetsDir: assets}
	start := time.Now()
	cfg, err := te.Start()
	if err != nil {
		_ = te.Stop()
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("starting control plane from %s: %w", assets, err)
	}
	e.StartDuration = time.Since(start)
	e.Config = cfg
	if err := e.finish(opts, scheme); err != nil {
		_ = e.Stop()
		return nil, err
	}
	return e, nil
}

// configurePlane sets the control plane up in dir. The API server's
// certificates and etcd's data live in directories of our own, not in ones
// envtest allocates and deletes on stop, so that either process can be
// stopped and started again on the same ports, data and credentials
// ([Env.RestartAPIServer], [Env.RestartEtcd]).
func configurePlane(te *envtest.Environment, opts Options, dir string) error {
	api := te.ControlPlane.GetAPIServer()
	api.CertDir = filepath.Join(dir, "apiserver")
	etcdData := filepath.Join(dir, "etcd")
	for _, d := range []string{api.CertDir, etcdData} {
		if err := os.Mkdir(d, 0o700); err != nil {
			return err
		}
	}
	if opts.Port != 0 {
		api.ListenAddr = envtest.ListenAddr{Address: "127.0.0.1", Port: strconv.Itoa(opts.Port)}
	}
	for k, v := range opts.APIServerArgs {
		api.Configure().Set(k, v)
	}
	te.ControlPlane.Etcd = &envtest.Etcd{DataDir: etcdData}
	if opts.Output != nil {
		api.Out, api.Err = opts.Output, opts.Output
		te.ControlPlane.Etcd.Out, te.ControlPlane.Etcd.Err = opts.Output, opts.Output
	}
	// Packages run in parallel on small machines; envtest's 20 s default is
	// too tight there. The KUBEBUILDER_CONTROLPLANE_*_TIMEOUT variables still win.
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_START_TIMEOUT") == "" {
		te.ControlPlaneStartTimeout = time.Minute
	}
	if os.Getenv("KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT") == "" {
		te.ControlPlaneStopTimeout = time.Minute
	}
	return nil
}

func (e *Env) finish(opts Options, scheme *runtime.Scheme) error {
	c, err := client.New(e.Config, client.Options{Scheme: scheme})
	if err != nil {
		return fmt.Errorf("admin client: %w", err)
	}
	e.Client = c
	e.Kubeconfig = opts.KubeconfigPath
	e.ownKcfg = e.Kubeconfig != ""
	if e.Kubeconfig == "" {
		e.Kubeconfig = filepath.Join(e.dir, "admin.kubeconfig")
	}
	return writeKubeconfig(e.Kubeconfig, e.env.KubeConfig)
}

// Stop stops kube-apiserver and etcd, deletes their data and removes the
// kubeconfig files. It is safe to call more than once.
func (e *Env) Stop() error {
	e.stopOnce.Do(func() {
		e.stopErr = e.env.Stop()
		if e.ownKcfg {
			_ = os.Remove(e.Kubeconfig)
		}
		_ = os.RemoveAll(e.dir)
	})
	return e.stopErr
}

// Webhooks returns the started webhook install options: the host, port and
// certificate directory a webhook server under test must serve on.
func (e *Env) Webhooks() *envtest.WebhookInstallOptions { return &e.env.WebhookInstallOptions }

// User provisions a user with the given groups and returns its REST config and
// the path of a kubeconfig file for it. The user has no permissions beyond what
// RBAC grants its name and groups (every user is also in system:authenticated).
// It panics if the user cannot be provisioned, which only a broken environment
// causes.
func (e *Env) User(name string, groups ...string) (cfg *rest.Config, kubeconfigPath string) {
	cfg, path, err := e.addUser(name, groups...)
	if err != nil {
		panic(err)
	}
	return cfg, path
}

func (e *Env) addUser(name string, groups ...string) (*rest.Config, string, error) {
	e.userMu.Lock()
	defer e.userMu.Unlock()
	base := rest.CopyConfig(e.Config)
	base.CertData, base.KeyData, base.CertFile, base.KeyFile = nil, nil, "", ""
	u, err := e.env.AddUser(envtest.User{Name: name, Groups: groups}, base)
	if err != nil {
		return nil, "", fmt.Errorf("adding user %s: %w", name, err)
	}
	kcfg, err := u.KubeConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig for user %s: %w", name, err)
	}
	f, err := os.CreateTemp(e.dir, "user-*.kubeconfig")
	if err != nil {
		return nil, "", err
	}
	_ = f.Close()
	if err := writeKubeconfig(f.Name(), kcfg); err != nil {
		return nil, "", err
	}
	return u.Config(), f.Name(), nil
}

// Kubectl returns a command running the built kubectl as admin.
func (e *Env) Kubectl(args ...string) *exec.Cmd {
	return e.KubectlAs(e.Kubeconfig, args...)
}

// KubectlAs returns a command running the built kubectl with the given
// kubeconfig (e.g. one from User). Its discovery cache lives in the
// environment's temporary directory, not in $HOME.
func (e *Env) KubectlAs(kubeconfig string, args ...string) *exec.Cmd {
	flags := []string{"--kubeconfig=" + kubeconfig, "--cache-dir=" + filepath.Join(e.dir, "kube-cache")}
	return exec.Command(filepath.Join(e.AssetsDir, "kubectl"), append(flags, args...)...)
}

// writeKubeconfig writes b to path, creating its directory; the file holds a
// client key, so only the owner may read it.
func writeKubeconfig(path string, b []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return fmt.Errorf("writing kubeconfig: %w", err)
	}
	return nil
}

// StartContext is Start for long-running callers such as hack/devcluster: if ctx
// ends (a signal) while the control plane is coming up, it waits for the start
// to finish, stops everything, and returns ctx's error.
func StartContext(ctx context.Context, opts Options) (*Env, error) {
	type result struct {
		e   *Env
		err error
	}
	done := make(chan result, 1)
	go func() {
		e, err := Start(opts)
		done <- result{e, err}
	}()
	select {
	case r := <-done:
		return r.e, r.err
	case <-ctx.Done():
		if r := <-done; r.err == nil {
			_ = r.e.Stop()
		}
		return nil, ctx.Err()
	}
}

// NewClient is a client of cfg with sealkit's scheme, for a test acting as
// another user or with other rate limits than [Env.Client].
func NewClient(t testing.TB, cfg *rest.Config) client.Client {
	t.Helper()
	scheme, err := kscheme.New()
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(cfg, client.Options{Scheme: scheme})
	if err != nil {
		t.Fatal(err)
	}
	return c
}
