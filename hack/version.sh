#!/usr/bin/env bash
# Prints the version of the checkout, the one make build, make image and make
# release stamp into seal and seal-controller (internal/version). It follows
# the rules the go command uses for a module version from VCS, so a release
# build and `go install …@<commit>` name a commit alike:
#
#   HEAD is tagged vX.Y.Z          vX.Y.Z
#   commits after tag vX.Y.Z       vX.Y.(Z+1)-0.<commit time UTC>-<12-hex revision>
#   no tag                         v0.0.0-<commit time UTC>-<12-hex revision>
#   uncommitted changes            any of the above, then +dirty
#   not a git checkout             v0.0.0-unknown
#
# Only tags that are semantic versions (vMAJOR.MINOR.PATCH, optionally with a
# pre-release) count. The commit time also sets SOURCE_DATE_EPOCH for
# reproducible builds: `hack/version.sh --epoch` prints it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! git rev-parse --verify -q HEAD >/dev/null 2>&1; then
	[[ ${1:-} == --epoch ]] && echo 0 || echo v0.0.0-unknown
	exit 0
fi

if [[ ${1:-} == --epoch ]]; then
	git log -1 --format=%ct HEAD
	exit 0
fi

semver='^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$'
rev=$(git rev-parse --short=12 HEAD)
stamp=$(TZ=UTC git log -1 --format=%cd --date=format-local:%Y%m%d%H%M%S HEAD)

# The newest semver tag on HEAD, else the nearest one behind it.
exact=$(git tag --points-at HEAD --list 'v*' --sort=-v:refname | grep -E "$semver" | head -n 1 || true)
if [[ -n $exact ]]; then
	v=$exact
else
	base=$(git describe --tags --abbrev=0 --match 'v[0-9]*' HEAD 2>/dev/null || true)
	if [[ $base =~ ^v([0-9]+)\.([0-9]+)\.([0-9]+)$ ]]; then
		v="v${BASH_REMATCH[1]}.${BASH_REMATCH[2]}.$((BASH_REMATCH[3] + 1))-0.$stamp-$rev"
	elif [[ $base =~ $semver ]]; then
		# After a pre-release tag, as go does: vX.Y.Z-pre.0.<time>-<rev>
		v="$base.0.$stamp-$rev"
	else
		v="v0.0.0-$stamp-$rev"
	fi
fi

if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
	v+=+dirty
fi
echo "$v"
