package cluster

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"time"

	"k8s.io/client-go/kubernetes"
)

// writePKI issues every component's certificate and writes the kubeconfigs.
func (c *Cluster) writePKI() error {
	p, err := newPKI(c.l.path("pki"))
	if err != nil {
		return err
	}
	loopback := net.ParseIP("127.0.0.1")
	specs := []certSpec{
		{name: "kube-apiserver", cn: "kube-apiserver", server: true,
			ips: []net.IP{loopback, net.ParseIP(nodeIP), net.ParseIP(serviceIP)},
			dns: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster.local"}},
		{name: "admin", cn: "sealkit-node-admin", orgs: []string{"system:masters"}},
		{name: "kubelet", cn: "system:node:" + NodeName, orgs: []string{"system:nodes"}},
		{name: "kube-controller-manager", cn: "system:kube-controller-manager"},
		{name: "kube-scheduler", cn: "system:kube-scheduler"},
		{name: "kube-proxy", cn: "system:kube-proxy"},
		// The API server's identity towards kubelet (logs, exec, port-forward).
		{name: "apiserver-kubelet-client", cn: "kube-apiserver-kubelet-client", orgs: []string{"system:masters"}},
	}
	for _, s := range specs {
		if err := p.issue(s); err != nil {
			return err
		}
	}
	if err := p.serviceAccountKey(); err != nil {
		return err
	}
	// Inside the namespace components reach the API server directly.
	inside := "https://127.0.0.1:" + strconv.Itoa(apiPort)
	for _, name := range []string{"kubelet", "kube-controller-manager", "kube-scheduler", "kube-proxy"} {
		if _, err := c.l.write(name+".kubeconfig", c.l.kubeconfig(name, inside)); err != nil {
			return err
		}
	}
	return nil
}

func (c *Cluster) startControlPlane(ctx, cctx context.Context) error {
	if _, err := c.run("etcd", filepath.Join(c.assets, "etcd"),
		"--data-dir="+c.l.path("etcd"),
		"--listen-client-urls=http://127.0.0.1:2379",
		"--advertise-client-urls=http://127.0.0.1:2379",
		"--listen-peer-urls=http://127.0.0.1:2380",
		"--unsafe-no-fsync=true", // test data; the shared disk is slow enough
	); err != nil {
		return err
	}
	api, err := c.run("kube-apiserver", filepath.Join(c.assets, "kube-apiserver"),
		"--etcd-servers=http://127.0.0.1:2379",
		"--bind-address=0.0.0.0",
		"--secure-port="+strconv.Itoa(apiPort),
		"--advertise-address="+nodeIP,
		"--tls-cert-file="+c.l.pki("kube-apiserver.crt"),
		"--tls-private-key-file="+c.l.pki("kube-apiserver.key"),
		"--client-ca-file="+c.l.pki("ca.crt"),
		"--kubelet-client-certificate="+c.l.pki("apiserver-kubelet-client.crt"),
		"--kubelet-client-key="+c.l.pki("apiserver-kubelet-client.key"),
		"--service-cluster-ip-range="+serviceCIDR,
		"--service-account-issuer=https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file="+c.l.pki("sa.pub"),
		"--service-account-signing-key-file="+c.l.pki("sa.key"),
		"--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction",
		// The node name resolves nowhere: no DNS is reachable from inside.
		"--kubelet-preferred-address-types=InternalIP",
		// Webhooks (and aggregated APIs) are called at their Service's
		// endpoints, as on clusters without a route to Service IPs from the
		// API server.
		"--enable-aggregator-routing=true",
		"--allow-privileged=true",
		"--profiling=false",
	)
	if err != nil {
		return err
	}
	addr, err := c.sb.relay(cctx, "127.0.0.1:"+strconv.Itoa(apiPort))
	if err != nil {
		return err
	}
	c.Kubeconfig, err = c.l.write("admin.kubeconfig", c.l.kubeconfig("admin", "https://"+addr))
	if err != nil {
		return err
	}
	if c.Config, err = restConfig(c.Kubeconfig); err != nil {
		return err
	}
	c.Config.QPS, c.Config.Burst = 50, 100
	if c.Client, err = kubernetes.NewForConfig(c.Config); err != nil {
		return err
	}
	if err := c.waitReadyz(ctx, api); err != nil {
		return err
	}

	if _, err := c.run("kube-controller-manager", filepath.Join(c.l.nodeBin, "kube-controller-manager"),
		"--kubeconfig="+c.l.path("kube-controller-manager.kubeconfig"),
		"--authentication-kubeconfig="+c.l.path("kube-controller-manager.kubeconfig"),
		"--authorization-kubeconfig="+c.l.path("kube-controller-manager.kubeconfig"),
		"--bind-address=127.0.0.1",
		"--use-service-account-credentials=true",
		"--service-account-private-key-file="+c.l.pki("sa.key"),
		"--root-ca-file="+c.l.pki("ca.crt"),
		"--cluster-signing-cert-file="+c.l.pki("ca.crt"),
		"--cluster-signing-key-file="+c.l.pki("ca.key"),
		"--service-cluster-ip-range="+serviceCIDR,
		"--leader-elect=false",
		"--profiling=false",
	); err != nil {
		return err
	}
	_, err = c.run("kube-scheduler", filepath.Join(c.l.nodeBin, "kube-scheduler"),
		"--kubeconfig="+c.l.path("kube-scheduler.kubeconfig"),
		"--authentication-kubeconfig="+c.l.path("kube-scheduler.kubeconfig"),
		"--authorization-kubeconfig="+c.l.path("kube-scheduler.kubeconfig"),
		"--bind-address=127.0.0.1",
		"--leader-elect=false",
		"--profiling=false",
	)
	return err
}

// waitReadyz waits for the API server's /readyz through the relay.
func (c *Cluster) waitReadyz(ctx context.Context, api *component) error {
	return c.poll(ctx, 2*time.Minute, "the API server's /readyz", []*component{api, c.components[0]}, func(ctx context.Context) error {
		body, err := c.Client.Discovery().RESTClient().Get().AbsPath("/readyz").DoRaw(ctx)
		if err != nil {
			return fmt.Errorf("%w: %s", err, body)
		}
		return nil
	})
}

// poll calls check every 250 ms until it returns nil, watching procs: a dead
// component ends the wait at once with its log's name.
func (c *Cluster) poll(ctx context.Context, timeout time.Duration, what string, procs []*component, check func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		for _, p := range procs {
			if err := p.alive(); err != nil {
				return err
			}
		}
		rctx, rcancel := context.WithTimeout(ctx, 10*time.Second)
		last = check(rctx)
		rcancel()
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w (last error: %w)", what, ctx.Err(), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
