#!/usr/bin/env bash
# Regenerates the code and manifests derived from the API types:
#   pkg/sealed/v1alpha1/zz_generated.deepcopy.go  (controller-gen object)
#   manifests/crd/sealkit.dev_sealedsecrets.yaml   (controller-gen crd)
#   manifests/rbac/role.yaml                       (controller-gen rbac)
#   charts/sealkit/files/                          (copies the chart renders:
#       the CRD, the RBAC, the user roles, the alert rules and the dashboard)
#
# controller-gen is built from the pinned tool module hack/tools, so every
# checkout generates byte-identical output.
#
# Usage: hack/generate.sh [OUTPUT_ROOT]
# OUTPUT_ROOT defaults to the repository root; hack/verify-generated.sh
# passes a scratch copy of the tree.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
root=${1:-$repo}
bin=${CONTROLLER_GEN:-$repo/bin/controller-gen}

if [[ -z ${CONTROLLER_GEN:-} ]]; then
	# go build is a no-op when the cached binary is current.
	(cd "$repo/hack/tools" && go build -o "$bin" sigs.k8s.io/controller-tools/cmd/controller-gen)
fi

cd "$root"
"$bin" object paths=./pkg/sealed/...
"$bin" crd paths=./pkg/sealed/... output:crd:artifacts:config=manifests/crd

# RBAC of the controller from the +kubebuilder:rbac markers (bindings:
# manifests/rbac_bindings.yaml), in two roles so that an install limited to
# some namespaces (examples/namespaced) can bind the first per namespace:
#   seal-controller          what the reconciler and the webhooks need in the
#                            namespaces they serve (ClusterRole), and the keys,
#                            keyring and Lease in sealkit-system (Role);
#   seal-controller-cluster  what is cluster-scoped: the webhook configurations,
#                            TokenReviews and SubjectAccessReviews.
"$bin" rbac:roleName=seal-controller \
	paths="./internal/controller/keys/...;./internal/controller/reconciler/...;./internal/controller/webhooks/..." \
	output:rbac:artifacts:config=manifests/rbac
"$bin" rbac:roleName=seal-controller-cluster \
	paths="./internal/controller;./internal/webhookcert/..." \
	output:rbac:artifacts:config=manifests/rbac/cluster

# The Helm chart cannot read files outside its directory: it renders copies of
# the generated CRD and roles and of the monitoring assets, so the chart and
# the kustomize base never disagree on them (test/install compares both).
files=charts/sealkit/files
mkdir -p "$files"
cp manifests/crd/sealkit.dev_sealedsecrets.yaml "$files/crd.yaml"
cp manifests/rbac/role.yaml "$files/role.yaml"
cp manifests/rbac/cluster/role.yaml "$files/role-cluster.yaml"
cp manifests/rbac_bindings.yaml manifests/keyring_rbac.yaml manifests/metrics_rbac.yaml manifests/user_roles.yaml "$files/"
cp manifests/monitoring/prometheusrule.yaml "$files/prometheusrule.yaml"
cp manifests/monitoring/grafana-dashboard.json "$files/grafana-dashboard.json"
