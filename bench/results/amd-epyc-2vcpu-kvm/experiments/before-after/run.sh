#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# Before/after of the batching-policy change (lib/batch.c) on the micro
# benchmark's end_to_end rows: pgfree_bench built from main (68b1678) and from
# this branch, run alternately, 5 rounds, each row once per round.
#   bench/results/amd-epyc-2vcpu-kvm/experiments/before-after/run.sh BEFORE_BENCH AFTER_BENCH OUTDIR
# e.g. with BEFORE_BENCH from `git archive 68b1678` built with
# -DPGFREE_BUILD_BENCH=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo, AFTER_BENCH likewise
# from this branch (build/n/bench/pgfree_bench).
set -euo pipefail
before=$1 after=$2 out=$3
mkdir -p "$out"
filter='^end_to_end/(percpu|v5|v3|global_llist|percpu_mark)/'
echo "load average at start: $(cat /proc/loadavg)" >"$out/load.txt"
for r in 1 2 3 4 5; do
	for which in before after; do
		bin=$before
		[ $which = after ] && bin=$after
		"$bin" --benchmark_filter="$filter" --benchmark_repetitions=1 \
			--benchmark_min_time=0.3 --benchmark_format=csv 2>/dev/null |
			grep '^"end_to_end' | sed "s/^/$which,$r,/" >>"$out/raw.csv"
	done
done
echo "load average at end: $(cat /proc/loadavg)" >>"$out/load.txt"
