//go:build node

package node

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// namespace creates a namespace for the test, deleted when it ends.
func namespace(t *testing.T, prefix string, labels map[string]string) string {
	t.Helper()
	ns, err := kc.Client.CoreV1().Namespaces().Create(context.Background(), &corev1.Namespace{
		ObjectMeta: metav1.ObjectMeta{GenerateName: prefix + "-", Labels: labels},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Pods may be created once kube-controller-manager has made the
	// namespace's service account.
	eventually(t, time.Minute, func() error {
		_, err := kc.Client.CoreV1().ServiceAccounts(ns.Name).Get(context.Background(), "default", metav1.GetOptions{})
		return err
	})
	t.Cleanup(func() {
		if t.Failed() {
			dumpNamespace(t, ns.Name)
		}
		_ = kc.Client.CoreV1().Namespaces().Delete(context.Background(), ns.Name, metav1.DeleteOptions{})
	})
	return ns.Name
}

// create creates a Pod or Service and returns what the API server stored.
func create[T client.Object](t *testing.T, obj T) T {
	t.Helper()
	ctx := context.Background()
	var err error
	var out any
	switch o := any(obj).(type) {
	case *corev1.Pod:
		out, err = kc.Client.CoreV1().Pods(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	case *corev1.Service:
		out, err = kc.Client.CoreV1().Services(o.Namespace).Create(ctx, o, metav1.CreateOptions{})
	default:
		t.Fatalf("create: unsupported %T", obj)
	}
	if err != nil {
		t.Fatalf("creating %T %s: %v", obj, obj.GetName(), err)
	}
	return out.(T)
}

// waitRunning waits until the Pod is Running and Ready.
func waitRunning(t *testing.T, ns, name string) {
	t.Helper()
	eventually(t, 2*time.Minute, func() error {
		p, err := kc.Client.CoreV1().Pods(ns).Get(context.Background(), name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if p.Status.Phase != corev1.PodRunning {
			return fmt.Errorf("pod %s/%s is %s", ns, name, p.Status.Phase)
		}
		for _, c := range p.Status.Conditions {
			if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
				return nil
			}
		}
		return fmt.Errorf("pod %s/%s is not Ready", ns, name)
	})
}

// podLogs reads a Pod's log through the API server and kubelet.
func podLogs(t *testing.T, ns, name string) string {
	t.Helper()
	var logs string
	eventually(t, 30*time.Second, func() error {
		b, err := kc.Client.CoreV1().Pods(ns).GetLogs(name, &corev1.PodLogOptions{}).DoRaw(context.Background())
		logs = string(b)
		if err == nil && logs == "" {
			return fmt.Errorf("pod %s/%s has logged nothing yet", ns, name)
		}
		return err
	})
	return logs
}

func eventually(t *testing.T, timeout time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		err := f()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", timeout, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// dumpNamespace logs the Pods and events of a namespace, for a failed test.
func dumpNamespace(t *testing.T, ns string) {
	out, _ := kc.Kubectl("get", "pods,events", "-n", ns, "-o", "wide").CombinedOutput()
	t.Logf("namespace %s:\n%s", ns, out)
	if b, err := os.ReadFile(kc.LogPath("kubelet")); err == nil {
		lines := strings.Split(string(b), "\n")
		t.Logf("kubelet log, last lines:\n%s", strings.Join(lines[max(0, len(lines)-40):], "\n"))
	}
}
