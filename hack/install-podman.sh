#!/usr/bin/env bash
# Installs the container runtime the image test (test/image) runs the
# seal-controller image in: Debian's podman with runc (crun cannot raise
# rlimits on some hosts; the test passes --runtime runc and explicit ulimits).
# Does nothing when both are there. make test runs it; it needs root (or sudo)
# and Debian's package repositories.
#
#   hack/install-podman.sh           install what is missing
#   hack/install-podman.sh --check   exit 1 (with a hint) when something is missing
set -euo pipefail

log() { echo "install-podman: $*" >&2; }

missing=()
command -v podman >/dev/null || missing+=(podman)
command -v runc >/dev/null || missing+=(runc)
((${#missing[@]} == 0)) && exit 0

if [[ ${1:-} == --check ]]; then
	log "missing: ${missing[*]}; run hack/install-podman.sh (make test does)"
	exit 1
fi
if ! command -v apt-get >/dev/null; then
	log "missing: ${missing[*]}, and this is not a Debian-like system: install podman and runc with your package manager"
	exit 1
fi
sudo=()
if ((EUID != 0)); then
	command -v sudo >/dev/null || { log "missing: ${missing[*]}; run this script as root"; exit 1; }
	sudo=(sudo)
fi
log "installing ${missing[*]} (Debian packages podman, runc; about a minute)"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq >&2
# Only what the test uses: podman, conmon and runc; no rootless helpers,
# no CNI plugins (the test runs the container in the host network).
"${sudo[@]}" apt-get install -y -qq --no-install-recommends podman runc conmon >&2
command -v podman >/dev/null && command -v runc >/dev/null
log "installed: $(podman --version), $(runc --version | head -n 1)"
