#!/usr/bin/env bash
# Installs the Debian packages the one-node test cluster needs on the host,
# when they are missing: iptables (kube-proxy's rules, inside the cluster's own
# network namespace), libseccomp-dev and pkg-config (runc's seccomp support,
# built with cgo), util-linux and iproute2 (namespaces, the Pod bridge).
# Needs root (it runs apt-get), as the node tests do.
set -euo pipefail

need=()
command -v iptables >/dev/null || need+=(iptables)
command -v unshare >/dev/null && command -v nsenter >/dev/null || need+=(util-linux)
command -v ip >/dev/null || need+=(iproute2)
command -v pkg-config >/dev/null || need+=(pkg-config)
pkg-config --exists libseccomp 2>/dev/null || need+=(libseccomp-dev)
command -v gcc >/dev/null || need+=(gcc libc6-dev)

if ((${#need[@]} == 0)); then
	exit 0
fi
echo "node-deps: installing ${need[*]}" >&2
if [[ $(id -u) != 0 ]]; then
	echo "node-deps: error: not root; run: sudo apt-get install -y ${need[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "${need[@]}" >&2 ||
	{ apt-get update >&2 && apt-get install -y --no-install-recommends "${need[@]}" >&2; }
