package testenv

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Fault injection on the control plane. The processes are stopped the way
// envtest stops them (SIGTERM, then SIGKILL after the stop timeout, 60 s
// unless KUBEBUILDER_CONTROLPLANE_STOP_TIMEOUT says otherwise) and
// started again on the same ports, certificates and data, so clients keep
// their kubeconfigs and nothing stored is lost: what an operator restarting
// a control-plane node does.

// StopAPIServer stops kube-apiserver; etcd keeps running.
func (e *Env) StopAPIServer() error {
	api := e.env.ControlPlane.GetAPIServer()
	return stopped("kube-apiserver", api.Stop(), api.HostPort())
}

// stopped accepts a stop that timed out: envtest then kills the process
// (SIGKILL), which is as good a stop for a fault, once its port is free.
func stopped(what string, err error, addr string) error {
	if err == nil {
		return nil
	}
	if !strings.Contains(err.Error(), "timeout waiting for process") {
		return fmt.Errorf("stopping %s: %w", what, err)
	}
	for range 100 {
		c, derr := net.DialTimeout("tcp", addr, time.Second)
		if derr != nil {
			return nil
		}
		_ = c.Close()
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("stopping %s: %w, and it still listens on %s after SIGKILL", what, err, addr)
}

// StartAPIServer starts a stopped kube-apiserver again and waits until it
// is healthy.
func (e *Env) StartAPIServer() error {
	if err := e.env.ControlPlane.GetAPIServer().Start(); err != nil {
		return fmt.Errorf("starting kube-apiserver again: %w", err)
	}
	return nil
}

// RestartAPIServer stops kube-apiserver and starts it again.
func (e *Env) RestartAPIServer() error {
	if err := e.StopAPIServer(); err != nil {
		return err
	}
	return e.StartAPIServer()
}

// StopEtcd stops etcd; kube-apiserver keeps running (and fails its
// requests until etcd is back).
func (e *Env) StopEtcd() error {
	etcd := e.env.ControlPlane.Etcd
	return stopped("etcd", etcd.Stop(), etcd.URL.Host)
}

// StartEtcd starts a stopped etcd again on its data directory and waits
// until it is healthy.
func (e *Env) StartEtcd() error {
	if err := e.env.ControlPlane.Etcd.Start(); err != nil {
		return fmt.Errorf("starting etcd again: %w", err)
	}
	return nil
}

// RestartEtcd stops etcd and starts it again.
func (e *Env) RestartEtcd() error {
	if err := e.StopEtcd(); err != nil {
		return err
	}
	return e.StartEtcd()
}

// EtcdURL is the client URL of etcd (plain HTTP on loopback).
func (e *Env) EtcdURL() string { return e.env.ControlPlane.Etcd.URL.String() }

// CompactEtcd compacts etcd's history up to its current revision, as
// kube-apiserver does every few minutes, and returns that revision: a watch
// or list at an older resourceVersion that reaches etcd then fails with
// 410 Gone. It uses etcd's JSON gateway, so no etcd client library is
// needed.
func (e *Env) CompactEtcd(ctx context.Context) (int64, error) {
	var rng struct {
		Header struct {
			Revision string `json:"revision"`
		} `json:"header"`
	}
	key := base64.StdEncoding.EncodeToString([]byte("/"))
	if err := e.etcdCall(ctx, "/v3/kv/range", map[string]any{"key": key, "limit": 1, "keys_only": true}, &rng); err != nil {
		return 0, err
	}
	rev, err := strconv.ParseInt(rng.Header.Revision, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("etcd revision %q: %w", rng.Header.Revision, err)
	}
	if err := e.etcdCall(ctx, "/v3/kv/compaction", map[string]any{"revision": rev, "physical": true}, nil); err != nil {
		return 0, err
	}
	return rev, nil
}

func (e *Env) etcdCall(ctx context.Context, path string, req, resp any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, e.EtcdURL()+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(r)
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	defer func() { _ = res.Body.Close() }()
	b, err := io.ReadAll(io.LimitReader(res.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("etcd %s: %w", path, err)
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("etcd %s: %s: %s", path, res.Status, bytes.TrimSpace(b))
	}
	if resp == nil {
		return nil
	}
	return json.Unmarshal(b, resp)
}
