#!/usr/bin/env bash
# The end-to-end demo (`make demo`): a local control plane, seal-controller
# running as a local process with its ServiceAccount's RBAC identity, and the
# `seal` CLI doing what a user does: fetch keys, seal, apply, rotate, re-seal,
# retire, lint.
#
# Non-interactive; the first run builds etcd, kube-apiserver and kubectl from
# source (hack/build-assets.sh, minutes), later runs take well under 2 minutes.
# Everything it starts runs in its own process group and is stopped on exit,
# error and Ctrl-C; its temporary directory is removed. test/demo runs it.
#
# It prints, for test/demo, one line "demo: work dir DIR" and one line
# "demo: pids NAME=PID ..." of every long-running process it starts; each of
# them has DIR in its command line.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
start=$SECONDS
steps=11
step=0

if [[ -t 1 ]]; then
	bold=$'\e[1m' dim=$'\e[2m' red=$'\e[31m' green=$'\e[32m' reset=$'\e[0m'
else
	bold='' dim='' red='' green='' reset=''
fi

# step TITLE: a numbered step header, the markers test/demo looks for.
step() {
	step=$((step + 1))
	printf '\n%s==> [%d/%d] %s%s\n' "$bold" "$step" "$steps" "$*" "$reset"
}
say() { printf '    %s\n' "$*"; }
# shorten FILE: print a manifest or keyring with its long values cut, as
# post-quantum keys and sealed values are kilobytes long.
shorten() {
	printf '%s$ cat %s   (long values shortened)%s\n' "$dim" "$1" "$reset"
	sed -E 's/((sealkit:v1:[0-9a-f,]+:|age1pq1).{24}).*/\1.../' "$1"
}
# show CMD...: print the command as a user would type it, then run it.
show() {
	printf '%s$ %s%s\n' "$dim" "$*" "$reset"
	"$@"
}
# fds 8 and 9 are the script's stdout and stderr: die and the traps write
# there, so that they are seen even when they run inside a command whose output
# is discarded (wait_for), where a Ctrl-C may catch the script.
exec 8>&1 9>&2
die() {
	printf '%sdemo: error: %s%s\n' "$red" "$*" "$reset" >&9
	exit 1
}

work=$(mktemp -d "${TMPDIR:-/tmp}/sealkit-demo.XXXXXX")
echo "demo: work dir $work"
mkdir -p "$work/tmp" "$work/repo"
# envtest's etcd data and API server certificates go under $work too, so every
# process the demo starts names $work on its command line.
export TMPDIR=$work/tmp

dev_pid='' ctrl_pid='' plane_pids=()

# alive PID: running and not yet a zombie waiting for us to reap it.
alive() {
	local s
	s=$(ps -o stat= -p "$1" 2>/dev/null) && [[ $s != Z* ]]
}

# signal SIG PID: send SIG to the process group PID leads (our setsid
# children), or to PID alone if it leads none.
signal() {
	kill "-$1" -- "-$2" 2>/dev/null || kill "-$1" "$2" 2>/dev/null || true
}

# stop PID NAME SECONDS: SIGTERM the process group of PID (our setsid child),
# SIGKILL it if it has not exited within SECONDS, and reap it.
stop() {
	local pid=$1 name=$2 limit=$(($3 * 10)) i
	[[ -n $pid ]] || return 0
	if alive "$pid"; then
		signal TERM "$pid"
		for ((i = 0; i < limit; i++)); do
			alive "$pid" || break
			sleep 0.1
		done
		if alive "$pid"; then
			echo "demo: $name (pid $pid) did not stop in $3s; killing it" >&2
			signal KILL "$pid"
		fi
	fi
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	trap - EXIT INT TERM
	set +e
	exec >&8 2>&9
	if ((rc != 0 && rc != 130 && rc != 143)); then # not for Ctrl-C or kill
		for log in controller devcluster; do
			if [[ -s $work/$log.log ]]; then
				echo "--- last lines of $log.log ---" >&2
				tail -n 25 "$work/$log.log" >&2
			fi
		done
	fi
	printf '\n%s==> Cleaning up%s\n' "$bold" "$reset"
	stop "$ctrl_pid" seal-controller 10
	# devcluster stops etcd and kube-apiserver (their own process groups) and
	# deletes their data on SIGTERM.
	stop "$dev_pid" devcluster 30
	local pid
	for pid in "${plane_pids[@]}"; do
		if alive "$pid"; then
			echo "demo: killing leftover control plane process $pid" >&2
			signal KILL "$pid"
		fi
	done
	rm -rf "$work"
	say "stopped seal-controller and the control plane; removed $work"
	if ((rc == 0)); then
		printf '%sdemo: OK%s\n' "$green" "$reset"
	else
		printf '%sdemo: FAILED (exit %d)%s\n' "$red" "$rc" "$reset" >&2
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'printf "\ndemo: interrupted\n" >&9; exit 130' INT
trap 'echo "demo: terminated" >&9; exit 143' TERM

# free_port: a TCP port on 127.0.0.1 nobody listens on, below the kernel's
# ephemeral range (32768 up), where outgoing connections and other servers'
# ":0" listeners would take it between this check and the controller's bind.
free_port() {
	local p i
	for ((i = 0; i < 100; i++)); do
		p=$((10000 + RANDOM % 20000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return
		fi
	done
	die "no free port found"
}

# wait_for SECONDS WHAT CMD...: retry CMD (quietly) until it succeeds.
wait_for() {
	local limit=$(($1 * 5)) what=$2 i
	shift 2
	for ((i = 0; i < limit; i++)); do
		if "$@" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.2
	done
	die "timed out after $((limit / 5))s waiting for $what"
}

step "Building seal and seal-controller"
show make --no-print-directory build
if [[ -n ${KUBEBUILDER_ASSETS:-} ]]; then
	assets=$KUBEBUILDER_ASSETS
else
	say "etcd, kube-apiserver and kubectl: built from source once, then cached"
	assets=$(hack/build-assets.sh | tail -n 1)
fi
[[ -x $assets/kubectl && -x $assets/kube-apiserver && -x $assets/etcd ]] ||
	die "no control plane binaries in $assets; run: make envtest-assets"
go build -o "$work/devcluster" ./hack/devcluster
export PATH=$root/bin:$assets:$PATH
# kubectl keeps its discovery cache with the demo, not in $HOME.
kubectl() { command kubectl --cache-dir="$work/kube-cache" "$@"; }

step "Starting a local control plane (etcd + kube-apiserver, as in make dev-cluster)"
export KUBECONFIG=$work/cluster/kubeconfig
KUBEBUILDER_ASSETS=$assets setsid "$work/devcluster" -kubeconfig "$KUBECONFIG" \
	>"$work/devcluster.out" 2>"$work/devcluster.log" 8>&- 9>&- &
dev_pid=$!
# devcluster prints its kubeconfig path once the API server is ready.
plane_up() { alive "$dev_pid" || die "the control plane did not start"; [[ -s $work/devcluster.out ]]; }
wait_for 90 "the control plane to start" plane_up
mapfile -t plane_pids < <(pgrep -P "$dev_pid")
say "$(grep -o 'API server .* up in [^;]*' "$work/devcluster.log" || echo "API server up")"
say "admin kubeconfig: $KUBECONFIG"

step "Installing manifests/ (CRD, namespace, RBAC; webhooks pointed at the local controller)"
webhook_port=$(free_port)
health_port=$(free_port)
metrics_port=$(free_port)
# A kustomize overlay of manifests/: the Deployment is left out (the controller
# runs on this machine instead) and the webhook configurations call it at
# https://127.0.0.1:PORT; seal-controller still injects their caBundle itself.
mkdir -p "$work/install"
# (kustomize accepts a base only as a relative path)
base=$(realpath --relative-to="$work/install" "$root/manifests")
cat >"$work/install/kustomization.yaml" <<EOF
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - $base
patches:
  - target: {kind: Deployment, name: seal-controller}
    patch: |
      \$patch: delete
      apiVersion: apps/v1
      kind: Deployment
      metadata: {name: seal-controller, namespace: sealkit-system}
  - target: {kind: ValidatingWebhookConfiguration, name: seal-controller}
    patch: |
      - {op: remove, path: /webhooks/0/clientConfig/service}
      - {op: add, path: /webhooks/0/clientConfig/url, value: "https://127.0.0.1:$webhook_port/validate-sealkit-dev-v1alpha1-sealedsecret"}
      - {op: remove, path: /webhooks/1/clientConfig/service}
      - {op: add, path: /webhooks/1/clientConfig/url, value: "https://127.0.0.1:$webhook_port/validate-sealkit-dev-v1alpha1-sealedsecret"}
  - target: {kind: MutatingWebhookConfiguration, name: seal-controller}
    patch: |
      - {op: remove, path: /webhooks/0/clientConfig/service}
      - {op: add, path: /webhooks/0/clientConfig/url, value: "https://127.0.0.1:$webhook_port/mutate-sealkit-dev-v1alpha1-sealedsecret"}
EOF
# Server-side apply: the CRD is already there (the control plane installs it),
# created without kubectl's last-applied annotation.
show kubectl apply --server-side -k "$work/install"

step "Running seal-controller locally as its ServiceAccount (RBAC from manifests/, not admin)"
# A token for the ServiceAccount (TokenRequest API): the controller is then
# system:serviceaccount:sealkit-system:seal-controller, in group
# system:serviceaccounts, and only the bindings in manifests/ authorize it.
token=$(kubectl -n sealkit-system create token seal-controller --duration=1h)
ctrl_kubeconfig=$work/controller.kubeconfig
kubectl config view --raw --minify --flatten >"$ctrl_kubeconfig"
kubectl --kubeconfig "$ctrl_kubeconfig" config set-credentials seal-controller --token="$token" >/dev/null
kubectl --kubeconfig "$ctrl_kubeconfig" config set-context --current --user=seal-controller >/dev/null
unset token
chmod 600 "$ctrl_kubeconfig"
say "identity: $(kubectl --kubeconfig "$ctrl_kubeconfig" auth whoami -o jsonpath='{.status.userInfo.username} (groups {.status.userInfo.groups})')"
show kubectl --kubeconfig "$ctrl_kubeconfig" auth can-i get secrets -n demo ||
	die "the controller's ServiceAccount cannot read Secrets: RBAC not applied?"
show kubectl --kubeconfig "$ctrl_kubeconfig" auth can-i create sealedsecrets -n demo &&
	die "the controller's ServiceAccount may create SealedSecrets: is it admin?"
printf '%s$ %s%s\n' "$dim" "POD_NAMESPACE=sealkit-system seal-controller --kubeconfig controller.kubeconfig --leader-elect=false --webhook-host 127.0.0.1 --webhook-port $webhook_port ... &" "$reset"
# setpriv (util-linux): the controller gets SIGTERM should this script be
# killed outright (SIGKILL), when no trap runs; devcluster does the same itself.
pdeathsig=()
if command -v setpriv >/dev/null; then
	pdeathsig=(setpriv --pdeathsig TERM)
fi
POD_NAMESPACE=sealkit-system setsid "${pdeathsig[@]}" "$root/bin/seal-controller" \
	--kubeconfig "$ctrl_kubeconfig" \
	--leader-elect=false \
	--webhook-host 127.0.0.1 \
	--webhook-port "$webhook_port" \
	--webhook-cert-dir "$work/webhook-certs" \
	--health-probe-bind-address "127.0.0.1:$health_port" \
	--metrics-bind-address "127.0.0.1:$metrics_port" \
	>"$work/controller.log" 2>&1 8>&- 9>&- &
ctrl_pid=$!
echo "demo: pids devcluster=$dev_pid $(for p in "${plane_pids[@]}"; do printf '%s=%s ' "$(ps -o comm= -p "$p")" "$p"; done)seal-controller=$ctrl_pid"
ready() { alive "$ctrl_pid" || die "seal-controller exited"; curl -fsS "http://127.0.0.1:$health_port/readyz"; }
wait_for 60 "seal-controller to be ready (first key generated)" ready
# The API server calls the webhooks with the CA bundle the controller injects.
ca_injected() {
	local kind
	for kind in validatingwebhookconfiguration mutatingwebhookconfiguration; do
		[[ -n $(kubectl get "$kind" seal-controller -o jsonpath='{.webhooks[0].clientConfig.caBundle}') ]] || return 1
	done
}
wait_for 60 "seal-controller to inject the webhooks' caBundle" ca_injected
say "seal-controller ready: key generated, webhooks serving on 127.0.0.1:$webhook_port, metrics on 127.0.0.1:$metrics_port"

cd "$work/repo"
step "Fetching the cluster's public keys (seal keys fetch)"
wait_for 30 "the public keyring ConfigMap" seal keys fetch
show seal keys fetch -w cluster.keys
shorten cluster.keys
active_key() { sed -n 's/^# id: \([0-9a-f]*\) .*state: active$/\1/p' "$1"; }
old_key=$(active_key cluster.keys)
[[ -n $old_key ]] || die "no active key in cluster.keys"

step "Sealing a Secret and applying the SealedSecret"
show kubectl create namespace demo
cat >db-credentials.yaml <<'EOF'
apiVersion: v1
kind: Secret
metadata:
  name: db-credentials
  namespace: demo
stringData:
  username: app
  password: correct-horse-battery-staple
EOF
show seal --keys cluster.keys -f db-credentials.yaml -w db-credentials.sealed.yaml
rm db-credentials.yaml # the plaintext never goes near the repository
shorten db-credentials.sealed.yaml
show seal verify db-credentials.sealed.yaml
show kubectl apply -f db-credentials.sealed.yaml
show kubectl -n demo wait sealedsecret/db-credentials --for=condition=Ready --timeout=60s
show kubectl -n demo get sealedsecret db-credentials

step "The Secret seal-controller made"
show kubectl -n demo get secret db-credentials -o go-template='{{range $k, $v := .data}}{{$k}}{{"\n"}}{{end}}'
say "password (decoded, to show it worked): $(kubectl -n demo get secret db-credentials -o jsonpath='{.data.password}' | base64 -d)"

step "Rotating the cluster's key (seal keys rotate)"
show seal keys rotate
show seal keys fetch -w cluster.keys
new_key=$(active_key cluster.keys)
[[ -n $new_key && $new_key != "$old_key" ]] || die "the active key did not change (still $old_key)"
show seal keys list

step "Re-sealing the sample to the new key (seal reseal) and applying it"
show seal reseal db-credentials.sealed.yaml
show kubectl apply -f db-credentials.sealed.yaml
# The controller records which key opened the values (status.keyIDs); retire
# relies on it.
show kubectl -n demo wait sealedsecret/db-credentials --for=jsonpath='{.status.keyIDs[0]}'="$new_key" --timeout=60s
show kubectl -n demo wait sealedsecret/db-credentials --for=condition=Ready --timeout=60s

step "Retiring the old key $old_key (seal keys retire)"
show seal keys retire "$old_key"
show seal keys list
show kubectl -n demo get sealedsecret,secret db-credentials
show kubectl -n demo wait sealedsecret/db-credentials --for=condition=Ready --timeout=10s
[[ $(kubectl -n demo get secret db-credentials -o jsonpath='{.data.password}' | base64 -d) == correct-horse-battery-staple ]] ||
	die "the Secret does not hold the sealed value any more"
say "the controller's metrics (docs/metrics.md), served to callers RBAC allows (ClusterRole sealkit-metrics-reader):"
kubectl -n demo create serviceaccount prometheus >/dev/null
kubectl create clusterrolebinding demo-prometheus --clusterrole=sealkit-metrics-reader --serviceaccount=demo:prometheus >/dev/null
scrape_token=$(kubectl -n demo create token prometheus --duration=10m)
scrape() { curl -fsSk -H "Authorization: Bearer $scrape_token" "https://127.0.0.1:$metrics_port/metrics"; }
wait_for 30 "the scrape to be authorized" scrape >/dev/null
scrape |
	grep -E '^sealkit_(keys|key_rotations_total|sealedsecrets_by_key|unseal_total|secret_writes_total)\b' | sed 's/^/      /'

step "seal lint catching a plaintext Secret (exit 1 expected)"
show seal keys fetch -w cluster.keys
cat >leaked.yaml <<'EOF'
apiVersion: v1
kind: Secret
metadata:
  name: api-token
  namespace: demo
stringData:
  token: do-not-commit-me
EOF
lint_rc=0
show seal lint --keys cluster.keys . || lint_rc=$?
((lint_rc == 1)) || die "seal lint exited $lint_rc, want 1"
say "seal lint exited 1: the plaintext Secret is caught; the SealedSecret passes"

printf '\n%s==> Summary%s\n' "$bold" "$reset"
say "control plane:       etcd + kube-apiserver $("$assets/kube-apiserver" --version | cut -d' ' -f2), local processes"
say "seal-controller:     local process as system:serviceaccount:sealkit-system:seal-controller"
say "sealed and unsealed: demo/db-credentials (keys: password, username), Ready"
say "key rotation:        $old_key (retired) -> $new_key (active)"
say "re-seal:             online, through the controller's admission webhook"
say "lint:                plaintext Secret leaked.yaml caught (exit 1)"
say "demo took $((SECONDS - start))s"
