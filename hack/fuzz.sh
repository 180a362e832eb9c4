#!/usr/bin/env bash
# Runs every fuzz target of the module for FUZZTIME each (default 10m) and
# writes a table: target, executions, new corpus entries, crashes.
#
#   make fuzz                       # 10 minutes per target
#   make fuzz FUZZTIME=30s          # a quick pass
#   FUZZ_OUT=bin/fuzz.md hack/fuzz.sh
#   FUZZ_TARGETS='FuzzParseFrame|FuzzOpen' hack/fuzz.sh    # only these (an extended regexp)
#
# A crash stops that target (go test writes the failing input to the
# package's testdata/fuzz/FuzzX/, where `go test` then runs it as a
# regression case: commit it with the fix); the other targets still run, and
# the script exits 1 at the end. New corpus entries stay in Go's fuzz cache
# ($(go env GOCACHE)/fuzz), so each run starts where the last one stopped.
set -euo pipefail
cd "$(dirname "$0")/.."

fuzztime="${FUZZTIME:-10m}"
parallel="${FUZZ_PARALLEL:-$(nproc)}"
out="${FUZZ_OUT:-bin/fuzz.md}"
mkdir -p "$(dirname "$out")"
logdir="$(mktemp -d)"
trap 'rm -rf "$logdir"' EXIT

# package directory and target name of every fuzz target, sorted
mapfile -t targets < <(grep -rl --include='*_test.go' '^func Fuzz' . |
	while read -r f; do
		sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*/\1/p' "$f" | while read -r name; do
			echo "$(dirname "$f") $name"
		done
	done | sort | grep -E " (${FUZZ_TARGETS:-.*})\$")

{
	echo "Fuzzing: ${fuzztime} per target, ${parallel} workers, $(date -u +%Y-%m-%d), $(go version | cut -d' ' -f3)"
	echo
	echo "| target | package | executions | new corpus entries | crashes |"
	echo "|---|---|---:|---:|---:|"
} >"$out"

failed=0
for t in "${targets[@]}"; do
	read -r dir name <<<"$t"
	log="$logdir/$name.log"
	echo "fuzz: $dir $name for $fuzztime" >&2
	status=0
	go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" -parallel "$parallel" "$dir" >"$log" 2>&1 || status=$?
	# The last progress line: "fuzz: elapsed: 10m0s, execs: 123 (45/sec), new interesting: 6 (total: 9)"
	last="$(grep -E '^fuzz: elapsed: .*execs: ' "$log" | tail -n 1 || true)"
	execs="$(sed -nE 's/.*execs: ([0-9]+).*/\1/p' <<<"$last")"
	newer="$(sed -nE 's/.*new interesting: ([0-9]+).*/\1/p' <<<"$last")"
	crashes=0
	if [[ $status -ne 0 ]]; then
		crashes=1
		failed=1
		written="$(sed -nE 's/.*Failing input written to (.*)/\1/p' "$log" | head -n 1)"
		echo "fuzz: $name failed; input: ${written:-none written}" >&2
		tail -n 30 "$log" >&2
	fi
	echo "| $name | ${dir#./} | ${execs:-0} | ${newer:-0} | $crashes |" >>"$out"
done
cat "$out"
exit $failed
