package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

func (c *Cluster) startNode(ctx, _ context.Context) error {
	cfg, err := c.l.write("kubelet.yaml", c.l.kubeletConfig(c.cg.name))
	if err != nil {
		return err
	}
	kubelet, err := c.run("kubelet", filepath.Join(c.l.nodeBin, "kubelet"),
		"--config="+cfg,
		"--kubeconfig="+c.l.path("kubelet.kubeconfig"),
		"--root-dir="+c.l.path("kubelet"),
		"--cert-dir="+c.l.path("kubelet", "pki"),
		"--hostname-override="+NodeName,
		"--node-ip="+nodeIP,
		"--v=2",
	)
	if err != nil {
		return err
	}
	pcfg, err := c.l.write("kube-proxy.yaml", c.l.kubeProxyConfig())
	if err != nil {
		return err
	}
	proxy, err := c.run("kube-proxy", filepath.Join(c.l.nodeBin, "kube-proxy"), "--config="+pcfg)
	if err != nil {
		return err
	}
	if err := c.poll(ctx, 3*time.Minute, "node "+NodeName+" to be Ready", []*component{kubelet, proxy}, func(ctx context.Context) error {
		n, err := c.Client.CoreV1().Nodes().Get(ctx, NodeName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		for _, cond := range n.Status.Conditions {
			if cond.Type == corev1.NodeReady {
				if cond.Status == corev1.ConditionTrue {
					return nil
				}
				return fmt.Errorf("node not Ready: %s: %s", cond.Reason, cond.Message)
			}
		}
		return errors.New("node has no Ready condition yet")
	}); err != nil {
		return err
	}
	// Pods need their namespace's service account and CA bundle, which
	// kube-controller-manager makes.
	return c.poll(ctx, time.Minute, "kube-controller-manager's default service account", c.components, func(ctx context.Context) error {
		if _, err := c.Client.CoreV1().ServiceAccounts("default").Get(ctx, "default", metav1.GetOptions{}); err != nil {
			return err
		}
		_, err := c.Client.CoreV1().ConfigMaps("default").Get(ctx, "kube-root-ca.crt", metav1.GetOptions{})
		return err
	})
}
