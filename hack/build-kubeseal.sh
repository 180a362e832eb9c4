#!/usr/bin/env bash
# Builds Bitnami Sealed Secrets' kubeseal (and, on request, its controller) from
# the Go module pinned in hack/kubeseal/go.mod into a cache directory keyed by
# the version, and prints that directory. The migration tests seal with kubeseal
# and run the controller against a test API server; with the controller comes
# Bitnami's CRD, copied from the same module to crd/ in that directory.
#
# Usage:
#   hack/build-kubeseal.sh                       build kubeseal if missing, print the directory
#   hack/build-kubeseal.sh kubeseal controller   build both if missing (make kubeseal, make test)
#   hack/build-kubeseal.sh --print-dir           print the directory only, build nothing
#   hack/build-kubeseal.sh --check               exit 1 (with a hint) unless kubeseal is there and runs
#
# The last line of stdout is always the directory (tests read $SEALKIT_KUBESEAL_DIR,
# else this default); progress goes to stderr. SEALKIT_KUBESEAL_DIR overrides it.
set -euo pipefail

BITNAMI_VERSION=0.36.6

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dir=${SEALKIT_KUBESEAL_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sealkit/kubeseal-$BITNAMI_VERSION}
module=github.com/bitnami-labs/sealed-secrets

log() { echo "build-kubeseal: $*" >&2; }

# valid NAME: the binary exists, runs, and reports the pinned version (both
# commands print "<name> version: v0.36.6", taken from the module's build info).
valid() {
	local bin=$dir/$1 out
	[[ -x $bin ]] || return 1
	out=$("$bin" --version 2>/dev/null) || return 1
	[[ $out == *"v$BITNAMI_VERSION"* ]]
}

names=()
case ${1:-} in
--print-dir)
	echo "$dir"
	exit 0
	;;
--check)
	if ! valid kubeseal; then
		log "$dir/kubeseal is missing or does not run; run: make kubeseal"
		exit 1
	fi
	echo "$dir"
	exit 0
	;;
"") names=(kubeseal) ;;
*) names=("$@") ;;
esac

for name in "${names[@]}"; do
	case $name in
	kubeseal | controller) ;;
	*)
		echo "usage: $0 [--print-dir|--check|kubeseal|controller...]" >&2
		exit 2
		;;
	esac
done

if ! grep -q "^require $module v$BITNAMI_VERSION\$" "$root/hack/kubeseal/go.mod"; then
	log "hack/kubeseal/go.mod does not require $module v$BITNAMI_VERSION; update BITNAMI_VERSION in $0"
	exit 1
fi

mkdir -p "$dir"

# One build at a time per directory, as hack/build-assets.sh does.
if command -v flock >/dev/null; then
	exec 9>"$dir/.lock"
	flock 9
fi

tmp=()
trap 'rm -f "${tmp[@]}"' EXIT

for name in "${names[@]}"; do
	if valid "$name"; then
		log "$name: present"
		continue
	fi
	log "$name: building $module/cmd/$name v$BITNAMI_VERSION (about two minutes the first time)"
	start=$SECONDS
	# Build under a temporary name and rename: an interrupted build never
	# leaves a half-written binary under the real name.
	out=$(mktemp "$dir/.$name.XXXXXX")
	tmp+=("$out")
	(cd "$root/hack/kubeseal" && GOWORK=off go build -o "$out" "$module/cmd/$name")
	mv -f "$out" "$dir/$name"
	if ! valid "$name"; then
		log "$name: built but does not report v$BITNAMI_VERSION; see $dir/$name --version"
		exit 1
	fi
	log "$name: built in $((SECONDS - start))s"
done

if [[ " ${names[*]} " == *" controller "* ]]; then
	crd=$dir/crd/bitnami.com_sealedsecrets.yaml
	if [[ ! -s $crd ]]; then
		src=$(cd "$root/hack/kubeseal" && GOWORK=off go list -m -f '{{.Dir}}' "$module")
		mkdir -p "$dir/crd"
		cp "$src/helm/sealed-secrets/crds/bitnami.com_sealedsecrets.yaml" "$crd.tmp"
		mv -f "$crd.tmp" "$crd"
		log "crd: copied to $crd"
	fi
fi

echo "$dir"
