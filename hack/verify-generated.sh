#!/usr/bin/env bash
# Fails, printing a diff, when the generated files checked in are not what
# hack/generate.sh produces from the current sources.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# A copy of the tracked and new (not ignored) files, without bin/ or .git.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$repo" && xargs -0 cp --parents -t "$tmp" 2>/dev/null || true)

# Keep in step with the outputs of hack/generate.sh. A directory stands for
# the generated files in it: everything but its kustomization.yaml.
generated=(
	pkg/sealed/v1alpha1/zz_generated.deepcopy.go
	manifests/crd
	manifests/rbac/role.yaml
	manifests/rbac/cluster/role.yaml
	charts/sealkit/files
)

for g in "${generated[@]}"; do
	if [[ -d $tmp/$g ]]; then
		find "$tmp/$g" -type f ! -name kustomization.yaml -delete
	else
		rm -f "${tmp:?}/$g"
	fi
done
"$repo/hack/generate.sh" "$tmp"

status=0
for g in "${generated[@]}"; do
	if ! diff -ruN "$repo/$g" "$tmp/$g"; then
		status=1
	fi
done
if [[ $status -ne 0 ]]; then
	echo "generated files are stale: run hack/generate.sh (make generate) and commit the result" >&2
fi
exit $status
