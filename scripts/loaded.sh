#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Run the test suite N times on a machine kept busy by other processes, to
# find tests that depend on how fast a thread runs (they must not: see
# docs/testing.md).  Called by `scripts/test.sh --loaded[=N]`.
#
# Usage: scripts/loaded.sh N [normal] [asan] [tsan]    (default builds: all three)
#
# While the runs go on, PGFREE_LOAD_PROCS busy loops (default: the number of
# CPUs + 1) compete for every CPU at the script's own niceness (plus
# PGFREE_LOAD_NICE, default 0), so that the tests get no more than a share
# of each CPU, as on a shared machine with other work running.  The loops
# are killed on exit, however the script ends (trap on EXIT, INT, TERM).
#
# Each run is `scripts/test.sh [builds]`, logged to build/loaded/run-<i>.log;
# the script goes on after a failing run, prints how many passed (with each
# run's summary), and exits 1 unless all did.  The environment of
# scripts/test.sh (PGFREE_CTEST_ARGS, PGFREE_TEST_JOBS, ...) applies.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

runs=${1:-}
case "$runs" in
'' | *[!0-9]* | 0)
	echo "usage: $0 N [normal] [asan] [tsan]   (N >= 1 runs)" >&2
	exit 2
	;;
esac
shift

cpus=$(nproc 2>/dev/null || echo 2)
procs=${PGFREE_LOAD_PROCS:-$((cpus + 1))}
load_nice=${PGFREE_LOAD_NICE:-0}
logdir=build/loaded
mkdir -p "$logdir"

loaders=()
stop_load() {
	local pid
	for pid in ${loaders[@]+"${loaders[@]}"}; do
		kill "$pid" 2>/dev/null || true
	done
	for pid in ${loaders[@]+"${loaders[@]}"}; do
		wait "$pid" 2>/dev/null || true
	done
	loaders=()
}
trap stop_load EXIT
trap 'stop_load; exit 130' INT
trap 'stop_load; exit 143' TERM

# One process per loop (a subshell running a shell loop: no children), so
# that killing its pid stops it.
for ((i = 0; i < procs; i++)); do
	nice -n "$load_nice" bash -c 'while :; do :; done' &
	loaders+=($!)
done
echo "loaded.sh: $procs busy loops (niceness +$load_nice) on $cpus CPUs: pids ${loaders[*]}"

passed=0
summary=()
for ((r = 1; r <= runs; r++)); do
	log="$logdir/run-$r.log"
	start=$(date +%s)
	echo "loaded.sh: run $r of $runs (scripts/test.sh $*), log $log"
	if scripts/test.sh "$@" >"$log" 2>&1; then
		passed=$((passed + 1))
		verdict=passed
	else
		verdict=FAILED
	fi
	took=$(($(date +%s) - start))
	summary+=("run $r: $verdict in $took s; $(grep -E '^(normal|asan|tsan) ' "$log" | tr -s ' ' |
		paste -sd ';' -)")
	echo "loaded.sh: ${summary[-1]}"
	if [ "$verdict" = FAILED ]; then
		grep -E "\*\*\*Failed|Failed  |Assertion|FAIL" "$log" | head -20 | sed 's/^/    /' || true
	fi
done
stop_load

echo
echo "== loaded runs (load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
printf '%s\n' "${summary[@]}"
echo "loaded: $passed of $runs runs passed"
[ "$passed" -eq "$runs" ]
