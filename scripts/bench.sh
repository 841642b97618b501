#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The headline comparison: pgfree against the v5 design and the libraries a
# user would pick instead, side by side in one run.
#
# Usage: scripts/bench.sh [--quick] [--pin=CPULIST] [--max-threads=N]
#                         [--pgfree-delay-us=N] [--benchmark_filter=REGEX] ...
#
# Installs missing Debian packages (scripts/deps.sh bench), builds an
# optimized pgfree_bench in build/bench, runs it (about five minutes on two
# cores; --quick: under a minute), and writes to build/bench/results/:
#   bench.json    Google Benchmark's JSON, with the machine's description
#   summary.txt   the table (ns/op, ratio to percpu and to the floor) and
#                 the targets, PASS or MISS
#   results.csv   one row per result
#   enqueue.png, end_to_end.png, latency.png
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/deps.sh bench

build=build/bench
out=$build/results
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPGFREE_BUILD_BENCH=ON \
	-DPGFREE_BUILD_TESTS=OFF -DPGFREE_BUILD_SHARED=OFF >/dev/null
cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" --target pgfree_bench

mkdir -p "$out"
"$build/bench/pgfree_bench" "$@" \
	--benchmark_out="$out/bench.json" --benchmark_out_format=json
echo
python3 bench/report.py "$out/bench.json" "$out"
