package cluster

import (
	"fmt"
	"os"
	"path/filepath"
)

// The node's network. It exists only inside the cluster's network namespace
// (see sandbox), so it is the same for every cluster and never meets the host's.
const (
	NodeName    = "sealkit-node"
	bridgeName  = "cni0"
	nodeIP      = "10.244.0.1" // the bridge's address: Pods' gateway, kubelet's and the API server's address
	podSubnet   = "10.244.0.0/24"
	serviceCIDR = "10.96.0.0/24"
	serviceIP   = "10.96.0.1" // the "kubernetes" Service
	apiPort     = 6443
	// PauseImage is the Pod sandbox image, built by the harness from
	// images/pause and imported before kubelet starts.
	PauseImage = "sealkit.local/pause:1"
)

// kernelDefaults are the values kubelet insists on for these host sysctls: it
// writes them unless protectKernelDefaults is set, in which case it refuses to
// start when they differ. They are global, not per namespace, so the harness
// leaves the host's alone and shows kubelet, in the cluster's mount namespace
// only, files holding the values it expects (see maskKernelDefaults).
var kernelDefaults = map[string]string{
	"vm/overcommit_memory":      "1",
	"vm/panic_on_oom":           "0",
	"kernel/panic":              "10",
	"kernel/panic_on_oops":      "1",
	"kernel/keys/root_maxkeys":  "1000000",
	"kernel/keys/root_maxbytes": "25000000",
}

// layout is where a cluster keeps its files; everything is under one run
// directory, removed by Stop.
type layout struct {
	run     string // the run directory
	nodeBin string // hack/node/build.sh's directory
}

func (l layout) path(elem ...string) string {
	return filepath.Join(append([]string{l.run}, elem...)...)
}

func (l layout) pki(file string) string { return l.path("pki", file) }

func (l layout) containerdSocket() string { return l.path("containerd.sock") }

func (l layout) write(name, content string) (string, error) {
	p := l.path(name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return "", err
	}
	return p, os.WriteFile(p, []byte(content), 0o600)
}

// containerdConfig: CRI with runc, the CNI plugins and the pause image of this
// cluster; every path under the run directory, so that clusters never share
// state. restrict_oom_score_adj: containerd may not lower a process's OOM score
// below its own where CAP_SYS_RESOURCE is missing (this sandbox), and Pods'
// sandboxes ask for -998.
func (l layout) containerdConfig() string {
	return fmt.Sprintf(`version = 3
root = %[1]q
state = %[2]q

[grpc]
  address = %[3]q

[plugins.'io.containerd.cri.v1.runtime']
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = 'runc'
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = 'io.containerd.runc.v2'
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        BinaryName = %[4]q
        Root = %[5]q
        SystemdCgroup = false
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [%[6]q]
    conf_dir = %[7]q

[plugins.'io.containerd.cri.v1.images']
  snapshotter = 'overlayfs'
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = %[8]q

[plugins.'io.containerd.grpc.v1.cri']
  disable_tcp_service = true
  stream_server_address = '127.0.0.1'
  stream_server_port = '0'

[plugins.'io.containerd.nri.v1.nri']
  disable = true

[plugins.'io.containerd.internal.v1.opt']
  path = %[9]q
`, l.path("containerd", "root"), l.path("containerd", "state"), l.containerdSocket(),
		filepath.Join(l.nodeBin, "runc"), l.path("runc"),
		filepath.Join(l.nodeBin, "cni"), l.path("cni"), PauseImage, l.path("containerd", "opt"))
}

// cniConfig: Pods on the bridge that already carries the node's address, with
// host-local addresses; portmap for hostPort. No masquerading: nothing leaves
// the namespace.
func cniConfig() string {
	return fmt.Sprintf(`{
  "cniVersion": "1.0.0",
  "name": "sealkit-node",
  "plugins": [
    {
      "type": "bridge",
      "bridge": %q,
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "ranges": [[{"subnet": %q, "gateway": %q}]],
        "routes": [{"dst": "0.0.0.0/0"}]
      }
    },
    {"type": "portmap", "capabilities": {"portMappings": true}}
  ]
}
`, bridgeName, podSubnet, nodeIP)
}

// kubeletConfig for the cgroup root cg. failCgroupV1: kubelet 1.35+ refuses
// cgroup v1 hosts (and hybrid ones, which it treats as v1) unless told.
// Eviction thresholds are low: the host's memory and disk are shared with
// other work, and evicting the tests' Pods would prove nothing. Image garbage
// collection is off: the images were imported, and there is no registry to
// pull them back from.
func (l layout) kubeletConfig(cg string) string {
	return fmt.Sprintf(`apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: %[1]s
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: %[2]q}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://%[3]s
cgroupDriver: cgroupfs
cgroupRoot: /%[4]s
cgroupsPerQOS: true
failCgroupV1: false
failSwapOn: false
protectKernelDefaults: true
oomScoreAdj: 0
podLogsDir: %[5]q
volumePluginDir: %[6]q
staticPodPath: ""
resolvConf: ""
maxPods: 50
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard:
  memory.available: 100Mi
  nodefs.available: 1%%
  nodefs.inodesFree: 1%%
  imagefs.available: 1%%
rotateCertificates: false
serverTLSBootstrap: false
registerNode: true
syncFrequency: 10s
nodeStatusUpdateFrequency: 5s
`, nodeIP, l.pki("ca.crt"), l.containerdSocket(), cg, l.path("pods-logs"), l.path("kubelet-plugins"))
}

// kubeProxyConfig: iptables mode inside the namespace; conntrack settings
// (which are host-wide for some keys) left as they are.
func (l layout) kubeProxyConfig() string {
	return fmt.Sprintf(`apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
hostnameOverride: %[1]s
clusterCIDR: %[2]s
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
clientConnection:
  kubeconfig: %[3]q
conntrack:
  maxPerCore: 0
  min: 0
  tcpEstablishedTimeout: 0s
  tcpCloseWaitTimeout: 0s
`, NodeName, podSubnet, l.path("kube-proxy.kubeconfig"))
}

// kubeconfig for a component authenticating with the client certificate NAME.
func (l layout) kubeconfig(name, server string) string {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: sealkit-node
  cluster:
    server: %[1]s
    certificate-authority: %[2]q
users:
- name: %[3]s
  user:
    client-certificate: %[4]q
    client-key: %[5]q
contexts:
- name: sealkit-node
  context: {cluster: sealkit-node, user: %[3]s}
current-context: sealkit-node
`, server, l.pki("ca.crt"), name, l.pki(name+".crt"), l.pki(name+".key"))
}
