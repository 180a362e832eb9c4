#!/usr/bin/env bash
# Builds the test control plane (etcd, kube-apiserver, kubectl) from source into a
# cache directory keyed by the Kubernetes version, and prints that directory.
#
# Usage:
#   hack/build-assets.sh              build what is missing, print the directory
#   hack/build-assets.sh --print-dir  print the directory only, build nothing
#   hack/build-assets.sh --check      exit 1 (with a hint) unless all three are present and run
#
# The last line of stdout is always the directory (export it as KUBEBUILDER_ASSETS);
# progress goes to stderr. SEALKIT_ASSETS_DIR overrides the directory.
#
# The versions are pinned by hack/kube/go.mod and hack/etcd/go.mod; KUBE_VERSION must
# agree with the first (checked below) because it names the cache directory.
set -euo pipefail

KUBE_VERSION=1.37.2
ETCD_VERSION=3.6.16

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${SEALKIT_ASSETS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sealkit/k8s-$KUBE_VERSION}

log() { echo "build-assets: $*" >&2; }

# valid NAME: the binary exists, runs, and reports the pinned version.
valid() {
	local bin=$dir/$1 out want
	[[ -x $bin ]] || return 1
	case $1 in
	etcd) out=$("$bin" --version 2>/dev/null) || return 1; want=$ETCD_VERSION ;;
	kubectl) out=$("$bin" version --client 2>/dev/null) || return 1; want=v$KUBE_VERSION ;;
	*) out=$("$bin" --version 2>/dev/null) || return 1; want=v$KUBE_VERSION ;;
	esac
	[[ $out == *"$want"* ]]
}

case ${1:-} in
--print-dir)
	echo "$dir"
	exit 0
	;;
--check)
	for b in etcd kube-apiserver kubectl; do
		if ! valid "$b"; then
			log "$dir/$b is missing or does not run; run: make envtest-assets"
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

if ! grep -q "^require k8s.io/kubernetes v$KUBE_VERSION\$" "$root/hack/kube/go.mod"; then
	log "hack/kube/go.mod does not require k8s.io/kubernetes v$KUBE_VERSION; update KUBE_VERSION in $0"
	exit 1
fi
if ! grep -q "go.etcd.io/etcd/server/v3 v$ETCD_VERSION\$" "$root/hack/etcd/go.mod"; then
	log "hack/etcd/go.mod does not require go.etcd.io/etcd/server/v3 v$ETCD_VERSION; update ETCD_VERSION in $0"
	exit 1
fi

mkdir -p "$dir"

# One build at a time per directory: two `make test` runs started together must not
# both spend ten minutes, nor rename over each other.
if command -v flock >/dev/null; then
	exec 9>"$dir/.lock"
	flock 9
fi

tmp=()
trap 'rm -f "${tmp[@]}"' EXIT

# Stamp the version the way the Kubernetes release build does, so `--version` tells
# a finished binary of this version apart from anything else.
kube_ldflags="-X k8s.io/component-base/version.gitVersion=v$KUBE_VERSION"
kube_ldflags+=" -X k8s.io/component-base/version.gitMajor=${KUBE_VERSION%%.*}"
minor=${KUBE_VERSION#*.}
kube_ldflags+=" -X k8s.io/component-base/version.gitMinor=${minor%%.*}"
kube_ldflags+=" -X k8s.io/component-base/version.gitTreeState=clean"

# build NAME MODULE_DIR PACKAGE [go build flags...]
build() {
	local name=$1 moddir=$2 pkg=$3
	shift 3
	if valid "$name"; then
		log "$name: present"
		return
	fi
	log "$name: building $pkg (the first build takes minutes; later ones use the Go build cache)"
	local start=$SECONDS out
	# Build under a temporary name in the same directory and rename: an interrupted
	# build never leaves a half-written binary under the real name.
	out=$(mktemp "$dir/.$name.XXXXXX")
	tmp+=("$out")
	(cd "$root/$moddir" && GOWORK=off go build "$@" -o "$out" "$pkg")
	mv -f "$out" "$dir/$name"
	if ! valid "$name"; then
		log "$name: built but does not report version; see $dir/$name --version"
		exit 1
	fi
	log "$name: built in $((SECONDS - start))s"
}

build kube-apiserver hack/kube k8s.io/kubernetes/cmd/kube-apiserver -ldflags "$kube_ldflags"
build kubectl hack/kube k8s.io/kubernetes/cmd/kubectl -ldflags "$kube_ldflags"
build etcd hack/etcd go.etcd.io/etcd/server/v3

echo "$dir"
