#!/usr/bin/env bash
# Builds the one-node test cluster's binaries from source into a cache directory
# keyed by their versions, and prints that directory:
#   kubelet, kube-controller-manager, kube-scheduler, kube-proxy  (hack/kube: k8s.io/kubernetes)
#   containerd, containerd-shim-runc-v2, ctr, runc                (hack/node)
#   cni/bridge, cni/host-local, cni/loopback, cni/portmap          (hack/node)
# The control plane's etcd, kube-apiserver and kubectl come from hack/build-assets.sh,
# which this script runs last; its directory is the second-to-last line of stdout.
#
# Usage:
#   hack/node/build.sh              build what is missing; print the assets dir, then the node dir
#   hack/node/build.sh --print-dir  print the node dir only, build nothing
#   hack/node/build.sh --check      exit 1 (with a hint) unless every binary is present and runs
#
# The last line of stdout is always the node directory (SEALKIT_NODE_ASSETS); progress
# goes to stderr. SEALKIT_NODE_ASSETS_DIR overrides the directory.
#
# runc is built with cgo and seccomp support: it needs gcc and libseccomp-dev
# (`apt-get install libseccomp-dev`), checked below.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

log() { echo "node-build: $*" >&2; }

# modversion GOMOD MODULE: the version GOMOD requires of MODULE.
modversion() {
	awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) { print ($1 == "require" ? $3 : $2); exit }' "$root/$1"
}

KUBE_VERSION=$(modversion hack/kube/go.mod k8s.io/kubernetes)
CONTAINERD_VERSION=$(modversion hack/node/go.mod github.com/containerd/containerd/v2)
CNI_VERSION=$(modversion hack/node/go.mod github.com/containernetworking/plugins)
RUNC_VERSION=$(modversion hack/node/go.mod github.com/opencontainers/runc)
for v in KUBE_VERSION CONTAINERD_VERSION CNI_VERSION RUNC_VERSION; do
	if [[ -z ${!v} ]]; then
		log "cannot read $v from hack/kube/go.mod or hack/node/go.mod"
		exit 1
	fi
done

key="k8s-${KUBE_VERSION#v}-containerd-${CONTAINERD_VERSION#v}-runc-${RUNC_VERSION#v}-cni-${CNI_VERSION#v}"
dir=${SEALKIT_NODE_ASSETS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sealkit/node-$key}

# Every binary, relative to $dir.
names=(kubelet kube-controller-manager kube-scheduler kube-proxy
	containerd containerd-shim-runc-v2 ctr runc
	cni/bridge cni/host-local cni/loopback cni/portmap)

# valid NAME: the binary exists, runs, and reports the pinned version.
valid() {
	local bin=$dir/$1 out want
	[[ -x $bin ]] || return 1
	case $1 in
	cni/*) out=$(CNI_COMMAND=VERSION "$bin" 2>&1 </dev/null) || return 1; want=cniVersion ;;
	runc) out=$("$bin" --version 2>/dev/null) || return 1; want=${RUNC_VERSION#v} ;;
	containerd | ctr) out=$("$bin" --version 2>/dev/null) || return 1; want=$CONTAINERD_VERSION ;;
	containerd-shim-runc-v2) out=$("$bin" -v 2>/dev/null) || return 1; want=$CONTAINERD_VERSION ;;
	*) out=$("$bin" --version 2>/dev/null) || return 1; want=$KUBE_VERSION ;;
	esac
	[[ $out == *"$want"* ]]
}

case ${1:-} in
--print-dir)
	echo "$dir"
	exit 0
	;;
--check)
	for b in "${names[@]}"; do
		if ! valid "$b"; then
			log "$dir/$b is missing or does not run; run: hack/node/build.sh (or make e2e-node)"
			exit 1
		fi
	done
	echo "$dir"
	exit 0
	;;
"") ;;
*)
	echo "usage: $0 [--print-dir|--check]" >&2
	exit 2
	;;
esac

total=$SECONDS
mkdir -p "$dir/cni"
if command -v flock >/dev/null; then
	exec 9>"$dir/.lock"
	flock 9
fi

tmp=()
trap 'rm -f "${tmp[@]}"' EXIT

kube_ldflags="-X k8s.io/component-base/version.gitVersion=$KUBE_VERSION"
kube_ldflags+=" -X k8s.io/component-base/version.gitMajor=$(cut -d. -f1 <<<"${KUBE_VERSION#v}")"
kube_ldflags+=" -X k8s.io/component-base/version.gitMinor=$(cut -d. -f2 <<<"${KUBE_VERSION#v}")"
kube_ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"
ctrd_ldflags="-X github.com/containerd/containerd/v2/version.Version=$CONTAINERD_VERSION"
cni_ldflags="-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=$CNI_VERSION"

# build NAME MODULE_DIR PACKAGE CGO [go build flags...]
build() {
	local name=$1 moddir=$2 pkg=$3 cgo=$4
	shift 4
	if valid "$name"; then
		log "$name: present"
		return
	fi
	log "$name: building $pkg"
	local start=$SECONDS out
	# A temporary name in the same directory, then a rename: an interrupted build
	# never leaves a half-written binary under the real name.
	out=$(mktemp "$dir/.${name//\//-}.XXXXXX")
	tmp+=("$out")
	(cd "$root/$moddir" && GOWORK=off CGO_ENABLED=$cgo go build "$@" -o "$out" "$pkg")
	mv -f "$out" "$dir/$name"
	if ! valid "$name"; then
		log "$name: built but does not report version; see $dir/$name"
		exit 1
	fi
	log "$name: built in $((SECONDS - start))s"
}

for c in kubelet kube-controller-manager kube-scheduler kube-proxy; do
	build "$c" hack/kube "k8s.io/kubernetes/cmd/$c" 0 -ldflags "$kube_ldflags"
done

ctrd=github.com/containerd/containerd/v2/cmd
build containerd hack/node $ctrd/containerd 0 -tags urfave_cli_no_docs -ldflags "$ctrd_ldflags"
build containerd-shim-runc-v2 hack/node $ctrd/containerd-shim-runc-v2 0 -tags urfave_cli_no_docs,no_grpc -ldflags "$ctrd_ldflags"
build ctr hack/node $ctrd/ctr 0 -tags urfave_cli_no_docs -ldflags "$ctrd_ldflags"

if ! valid runc && ! pkg-config --exists libseccomp 2>/dev/null; then
	log "runc needs libseccomp's headers to build with seccomp support; run: apt-get install -y libseccomp-dev pkg-config"
	exit 1
fi
build runc hack/node github.com/opencontainers/runc 1 -tags seccomp,urfave_cli_no_docs -ldflags "-X main.version=${RUNC_VERSION#v}"

cni=github.com/containernetworking/plugins/plugins
for p in main/bridge ipam/host-local main/loopback meta/portmap; do
	build "cni/${p#*/}" hack/node "$cni/$p" 0 -ldflags "$cni_ldflags"
done

log "node binaries present ($((SECONDS - total))s)"
# Last, so that the node's build does not wait behind another run's lock on the
# control plane's directory.
assets=$("$root/hack/build-assets.sh" | tail -n 1)
echo "$assets"
echo "$dir"
