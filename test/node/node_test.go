//go:build node

// Package node tests sealkit on a real one-node cluster built from source
// (package cluster): kubelet runs Pods in containerd. It needs root and the
// binaries of hack/node/build.sh, so it is behind the build tag "node":
// `make e2e-node` builds everything and runs it.
package node

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/sealkit/sealkit/test/node/cluster"
)

const helloImage = "sealkit.local/hello:1"

var keep = flag.Bool("keep", false, "keep the cluster's run directory (logs, configuration) after the tests")

// kc is the cluster every test in the package shares: bringing one up takes a
// minute.
var kc *cluster.Cluster

func TestMain(m *testing.M) {
	flag.Parse()
	// The tests' controller-runtime clients log nothing worth reading.
	ctrllog.SetLogger(logr.Discard())
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	t0 := time.Now()
	var err error
	kc, err = cluster.Start(ctx, cluster.Options{Log: os.Stderr, KeepDir: *keep})
	if err != nil {
		fmt.Fprintf(os.Stderr, "node: error: starting the cluster: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "node: cluster up in %s\n", time.Since(t0).Round(10*time.Millisecond))
	code := 1
	if err = importHello(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "node: error: %v\n", err)
	} else {
		code = m.Run()
	}
	t1 := time.Now()
	if err := kc.Stop(); err != nil {
		fmt.Fprintf(os.Stderr, "node: error: stopping the cluster: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "node: cluster stopped in %s, nothing left behind\n", time.Since(t1).Round(10*time.Millisecond))
	return code
}

func importHello(ctx context.Context) error {
	return kc.ImportImage(ctx, helloImageSpec)
}

var helloImageSpec = cluster.Image{Name: helloImage, Package: "./test/node/images/hello", Path: "/hello", User: "65532:65532"}

// TestNodeReady: kubelet registered the node with the versions built here, and
// containerd runs the Pods.
func TestNodeReady(t *testing.T) {
	ctx := context.Background()
	n, err := kc.Client.CoreV1().Nodes().Get(ctx, cluster.NodeName, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	info := n.Status.NodeInfo
	t.Logf("node %s: kubelet %s, runtime %s, kernel %s", n.Name, info.KubeletVersion, info.ContainerRuntimeVersion, info.KernelVersion)
	if info.KubeletVersion != "v1.37.2" {
		t.Errorf("kubelet version %q, want v1.37.2 (hack/kube)", info.KubeletVersion)
	}
	if !strings.HasPrefix(info.ContainerRuntimeVersion, "containerd://2.") {
		t.Errorf("runtime %q, want containerd 2.x", info.ContainerRuntimeVersion)
	}
}

// TestPodRuns: a Pod of a locally built image is scheduled, runs, logs, and
// answers through the API server's proxy, which reaches the Pod over the node's
// network the way the API server reaches webhooks.
func TestPodRuns(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "pod", nil)
	pod := helloPod(ns, "hello", map[string]string{"GREETING": "canary-greeting-7"})
	pod = create(t, pod)
	waitRunning(t, ns, pod.Name)

	logs := podLogs(t, ns, pod.Name)
	t.Logf("container log: %s", logs)
	if !strings.Contains(logs, "canary-greeting-7: listening on :8080 as uid 65532") {
		t.Errorf("container log does not show the greeting and non-root uid:\n%s", logs)
	}
	body, err := kc.Client.CoreV1().RESTClient().Get().Namespace(ns).Resource("pods").
		Name(pod.Name + ":8080").SubResource("proxy").DoRaw(ctx)
	if err != nil || strings.TrimSpace(string(body)) != "canary-greeting-7" {
		t.Errorf("API server proxy to the Pod: %q, %v; want canary-greeting-7", body, err)
	}
}

// TestServiceAndInClusterAPI: a Pod calls the API server through the
// "kubernetes" Service (kube-proxy's rules, the service account's token: what
// the controller's in-cluster client does), and the API server reaches the Pod
// through a Service's endpoints.
func TestServiceAndInClusterAPI(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "svc", nil)
	pod := helloPod(ns, "caller", map[string]string{"GREETING": "svc-greeting", "CALL_API_SERVER": "1"})
	pod.Labels = map[string]string{"app": "caller"}
	create(t, pod)
	create(t, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "caller", Namespace: ns},
		Spec: corev1.ServiceSpec{
			Selector: map[string]string{"app": "caller"},
			Ports:    []corev1.ServicePort{{Port: 80, TargetPort: intstr.FromInt32(8080)}},
		},
	})
	waitRunning(t, ns, pod.Name)

	logs := podLogs(t, ns, pod.Name)
	if !strings.Contains(logs, "api server: 200 OK via 10.96.0.1:443") {
		t.Errorf("the Pod did not reach the API server through the kubernetes Service:\n%s", logs)
	}
	var body []byte
	eventually(t, time.Minute, func() error {
		var err error
		body, err = kc.Client.CoreV1().RESTClient().Get().Namespace(ns).Resource("services").
			Name("caller:80").SubResource("proxy").DoRaw(ctx)
		return err
	})
	if strings.TrimSpace(string(body)) != "svc-greeting" {
		t.Errorf("API server proxy to the Service: %q, want svc-greeting", body)
	}
}

// TestPodSecurityRestricted: with Pod Security admission enforcing
// "restricted" on a namespace, a Pod running as root with privilege escalation
// is refused, and the hardened Pod the controller's Deployment uses runs.
func TestPodSecurityRestricted(t *testing.T) {
	ctx := context.Background()
	ns := namespace(t, "restricted", map[string]string{
		"pod-security.kubernetes.io/enforce":         "restricted",
		"pod-security.kubernetes.io/enforce-version": "latest",
	})
	bad := helloPod(ns, "root", nil)
	bad.Spec.SecurityContext = nil
	bad.Spec.Containers[0].SecurityContext = &corev1.SecurityContext{RunAsUser: ptr.To[int64](0)}
	_, err := kc.Client.CoreV1().Pods(ns).Create(ctx, bad, metav1.CreateOptions{})
	if !apierrors.IsForbidden(err) || !strings.Contains(err.Error(), `violates PodSecurity "restricted:latest"`) {
		t.Fatalf("creating a root Pod in a restricted namespace: %v; want Forbidden by PodSecurity", err)
	}
	good := create(t, helloPod(ns, "hardened", nil))
	waitRunning(t, ns, good.Name)
}

// helloPod is a Pod of the hello image that meets the "restricted" Pod
// Security Standard.
func helloPod(ns, name string, env map[string]string) *corev1.Pod {
	var vars []corev1.EnvVar
	for k, v := range env {
		vars = append(vars, corev1.EnvVar{Name: k, Value: v})
	}
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: corev1.PodSpec{
			TerminationGracePeriodSeconds: ptr.To[int64](1),
			SecurityContext: &corev1.PodSecurityContext{
				RunAsNonRoot:   ptr.To(true),
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
			Containers: []corev1.Container{{
				Name:            "hello",
				Image:           helloImage,
				ImagePullPolicy: corev1.PullNever,
				Env:             vars,
				Ports:           []corev1.ContainerPort{{ContainerPort: 8080}},
				SecurityContext: &corev1.SecurityContext{
					AllowPrivilegeEscalation: ptr.To(false),
					ReadOnlyRootFilesystem:   ptr.To(true),
					Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				},
				ReadinessProbe: &corev1.Probe{
					ProbeHandler:  corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Port: intstr.FromInt32(8080)}},
					PeriodSeconds: 1,
				},
			}},
		},
	}
}

// TestSecondClusterAlongside: a second cluster starts while the shared one
// runs (same ports and addresses, each in its own namespaces), runs a Pod, and
// its Stop leaves no process, mount, cgroup or file, while the first cluster
// goes on working.
func TestSecondClusterAlongside(t *testing.T) {
	ctx := context.Background()
	// containerd's shims put their sockets here, whatever its configuration;
	// the cluster mounts its own tmpfs there, so the host's stays as it was.
	shimSockets := func() []string {
		s, _ := filepath.Glob("/run/containerd/s/*")
		return s
	}
	socketsBefore := shimSockets()
	c2, err := cluster.Start(ctx, cluster.Options{})
	if err != nil {
		t.Fatal(err)
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = c2.Stop()
		}
	}()
	if err := c2.ImportImage(ctx, helloImageSpec); err != nil {
		t.Fatal(err)
	}
	eventually(t, time.Minute, func() error {
		_, err := c2.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{})
		return err
	})
	pod := helloPod("default", "second", nil)
	if _, err := c2.Client.CoreV1().Pods("default").Create(ctx, pod, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	eventually(t, 2*time.Minute, func() error {
		p, err := c2.Client.CoreV1().Pods("default").Get(ctx, "second", metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("pod is %s", p.Status.Phase)
		}
		return nil
	})
	if _, err := kc.Client.CoreV1().Pods("default").Get(ctx, "second", metav1.GetOptions{}); !apierrors.IsNotFound(err) {
		t.Errorf("the second cluster's Pod is visible in the first: %v", err)
	}

	stopped = true
	if err := c2.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if _, err := os.Stat(c2.Dir); !os.IsNotExist(err) {
		t.Errorf("run directory %s is still there: %v", c2.Dir, err)
	}
	if left, _ := filepath.Glob("/sys/fs/cgroup/*/" + filepath.Base(c2.Dir)); len(left) > 0 {
		t.Errorf("cgroups left: %v", left)
	}
	if after := shimSockets(); !slices.Equal(after, socketsBefore) {
		t.Errorf("the host's shim sockets went from %v to %v", socketsBefore, after)
	}
	if _, err := kc.Client.CoreV1().Nodes().Get(ctx, cluster.NodeName, metav1.GetOptions{}); err != nil {
		t.Errorf("the first cluster stopped answering: %v", err)
	}
}
