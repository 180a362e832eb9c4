//go:build tools

// Package kube pins the Kubernetes commands built from source: kube-apiserver and
// kubectl for the test control plane (hack/build-assets.sh), and the rest of a
// one-node cluster for the node tests (hack/node/build.sh).
package kube

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-proxy"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
