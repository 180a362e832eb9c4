// Package cluster runs a one-node Kubernetes cluster built from source, for the
// node tests (test/node, `make e2e-node`): etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler; containerd with runc and the CNI
// bridge plugins; kubelet and kube-proxy. Images are built from local Go
// programs and imported into containerd: nothing is pulled.
//
// # Isolation
//
// Every process of the cluster runs in a network and mount namespace of its own
// (see sandbox): the Pod network, iptables rules, ports and mounts never touch
// the host's, and two clusters can run side by side. Pods and containerd's
// shims run under a cgroup of the cluster's (see cgroupRoot), so Stop can kill
// them all. The test process reaches the API server through a relay on
// 127.0.0.1. Stop leaves no process, mount, cgroup or file behind, and says so
// when it cannot.
//
// # Host requirements
//
// Root; util-linux (unshare, nsenter, mount), iproute2 and iptables; binaries
// built by hack/node/build.sh and hack/build-assets.sh. A missing piece is an
// error naming the fix.
package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/sealkit/sealkit/internal/testenv"
)

// Options configure Start.
type Options struct {
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// KeepDir keeps the run directory (logs, configuration) after Stop.
	KeepDir bool
}

// Cluster is a running one-node cluster.
type Cluster struct {
	// Dir is the run directory: configuration, certificates, state, and the
	// components' logs in Dir/logs.
	Dir string
	// Kubeconfig is an admin (system:masters) kubeconfig for the host.
	Kubeconfig string
	// Config is the admin REST config, Client a clientset made from it.
	Config *rest.Config
	Client kubernetes.Interface
	// KubectlPath is the kubectl built with the control plane.
	KubectlPath string
	// Timings records how long each phase of Start took.
	Timings []Timing

	opts       Options
	l          layout
	assets     string
	sb         *sandbox
	cg         *cgroupRoot
	components []*component // in start order
	cancel     context.CancelFunc
	stopOnce   sync.Once
	stopErr    error
}

// Timing is one measured phase of Start.
type Timing struct {
	Phase    string
	Duration time.Duration
}

// runDirPrefix starts the name of every cluster's run directory (in the
// system's temporary directory) and cgroup.
const runDirPrefix = "sealkit-node-"

// Start brings the cluster up and returns once the node is Ready; the caller
// must Stop it. On failure Start stops what it started and keeps the run
// directory for its logs. It first removes what crashed earlier runs left
// behind.
func Start(ctx context.Context, opts Options) (*Cluster, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if os.Geteuid() != 0 {
		return nil, errors.New("the node cluster needs root: kubelet and containerd manage cgroups, mounts and network namespaces")
	}
	assets, err := testenv.AssetsDir()
	if err != nil {
		return nil, err
	}
	nodeBin, err := NodeAssetsDir()
	if err != nil {
		return nil, err
	}
	if err := checkHostTools(); err != nil {
		return nil, err
	}
	sweepStale(opts.Log)
	dir, err := os.MkdirTemp("", runDirPrefix)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		return nil, err
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{
		Dir:         dir,
		KubectlPath: filepath.Join(assets, "kubectl"),
		opts:        opts,
		l:           layout{run: dir, nodeBin: nodeBin},
		assets:      assets,
		cancel:      cancel,
	}
	if err := c.start(ctx, cctx); err != nil {
		// The components' logs say why: keep them.
		c.opts.KeepDir = true
		err = fmt.Errorf("%w; logs in %s", err, c.l.path("logs"))
		if serr := c.Stop(); serr != nil {
			err = fmt.Errorf("%w (and stopping: %w)", err, serr)
		}
		return nil, err
	}
	return c, nil
}

func (c *Cluster) start(ctx, cctx context.Context) error {
	for _, d := range []string{"logs", "pki", "pods-logs", "cni", "sysctl"} {
		if err := os.MkdirAll(c.l.path(d), 0o755); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.opts.Log, "node: run directory %s (%s cgroups)\n", c.Dir, cgroupVersion())
	steps := []struct {
		phase string
		run   func(ctx, cctx context.Context) error
	}{
		{"certificates", func(context.Context, context.Context) error { return c.writePKI() }},
		{"namespaces and cgroups", func(context.Context, context.Context) error { return c.isolate() }},
		{"control plane", c.startControlPlane},
		{"containerd and images", c.startRuntime},
		{"kubelet, kube-proxy, node Ready", c.startNode},
	}
	for _, s := range steps {
		t0 := time.Now()
		if err := s.run(ctx, cctx); err != nil {
			return fmt.Errorf("%s: %w", s.phase, err)
		}
		d := time.Since(t0)
		c.Timings = append(c.Timings, Timing{s.phase, d})
		fmt.Fprintf(c.opts.Log, "node: %s: %s\n", s.phase, d.Round(10*time.Millisecond))
	}
	return nil
}

// isolate makes the namespaces, the cgroup root, and the sysctl masks.
func (c *Cluster) isolate() error {
	sb, err := newSandbox(bridgeName, nodeIP+"/24")
	if err != nil {
		return err
	}
	c.sb = sb
	cg, err := newCgroupRoot(filepath.Base(c.Dir))
	if err != nil {
		return err
	}
	c.cg = cg
	if err := c.privateShimSockets(); err != nil {
		return err
	}
	return c.maskKernelDefaults()
}

// shimSocketDir is where containerd's shims make their sockets whatever the
// configuration says (containerd's default state directory).
const shimSocketDir = "/run/containerd"

// privateShimSockets mounts a tmpfs on shimSocketDir in the cluster's mount
// namespace: the sockets of shims that Stop kills vanish with it instead of
// piling up on the host. The host keeps an empty directory as mount point.
func (c *Cluster) privateShimSockets() error {
	if err := os.MkdirAll(shimSocketDir, 0o711); err != nil {
		return err
	}
	if out, err := c.sb.command("mount", "-t", "tmpfs", "-o", "mode=0711,size=16m", "tmpfs", shimSocketDir).CombinedOutput(); err != nil {
		return fmt.Errorf("mounting a tmpfs on %s: %w: %s", shimSocketDir, err, out)
	}
	return nil
}

// maskKernelDefaults bind-mounts, in the cluster's mount namespace only, files
// holding kernelDefaults over the host's sysctls, so kubelet finds what it
// wants and writes nothing.
func (c *Cluster) maskKernelDefaults() error {
	for key, val := range kernelDefaults {
		f := c.l.path("sysctl", strings.ReplaceAll(key, "/", "."))
		if err := os.WriteFile(f, []byte(val+"\n"), 0o444); err != nil {
			return err
		}
		if out, err := c.sb.command("mount", "--bind", "-o", "ro", f, "/proc/sys/"+key).CombinedOutput(); err != nil {
			return fmt.Errorf("masking /proc/sys/%s: %w: %s", key, err, out)
		}
	}
	return nil
}

// run starts a cluster binary inside the namespaces.
func (c *Cluster) run(name, bin string, args ...string) (*component, error) {
	cmd := c.sb.command(bin, args...)
	cmd.Dir = c.Dir
	comp, err := start(name, cmd, c.l.path("logs"))
	if err != nil {
		return nil, err
	}
	c.components = append(c.components, comp)
	return comp, nil
}

// LogPath is the log file of a component: etcd, kube-apiserver,
// kube-controller-manager, kube-scheduler, containerd, kubelet, kube-proxy.
func (c *Cluster) LogPath(component string) string {
	return c.l.path("logs", component+".log")
}

// Kubectl returns a kubectl command acting as the cluster's admin.
func (c *Cluster) Kubectl(args ...string) *exec.Cmd {
	flags := []string{"--kubeconfig=" + c.Kubeconfig, "--cache-dir=" + c.l.path("kubectl-cache")}
	return exec.Command(c.KubectlPath, append(flags, args...)...)
}

// Ctr returns a ctr command talking to the cluster's containerd, in the
// namespace kubelet's containers live in.
func (c *Cluster) Ctr(args ...string) *exec.Cmd {
	flags := []string{"--address", c.l.containerdSocket(), "--namespace", "k8s.io"}
	return exec.Command(filepath.Join(c.l.nodeBin, "ctr"), append(flags, args...)...)
}

// restConfig loads a kubeconfig file.
func restConfig(path string) (*rest.Config, error) {
	cfg, err := clientcmd.BuildConfigFromFlags("", path)
	if err != nil {
		return nil, fmt.Errorf("loading %s: %w", path, err)
	}
	return cfg, nil
}
