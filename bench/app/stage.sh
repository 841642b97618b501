#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The application-shaped benchmark stage (issues 13, 17, 18): examples/iommu_sva
# with N = 1, 2, 4, 8, 16 CPU threads (and CPUs - 1, the most that leave a
# CPU to the devices and the worker) freeing page tables under an SVA
# IOMMU, in modes v5 (Linux 6.19), pgfree (take-back: the CPU threads take
# their flushed tables back) and pgfree_release (the drain thread releases
# them, as before issue 18), plus "none" (the bug) once per thread count to
# show the stale-walk detector works in the same run.
# bench/app/README.md says what it measures and how the rows are labelled.
#
#   bench/app/stage.sh OUTDIR [--quick]
#
# Self-contained: builds the example in Release in build/app (kept between
# runs), then runs >= 5 repetitions of 2 s per cell, the modes interleaved
# within each repetition (their order rotating), and writes
#   OUTDIR/app.csv          mode,threads,map_unmap_per_s,tables_freed_per_s,
#                           flushes_per_1000,stale_walks,reuse_p99_us,
#                           runnable_threads,oversubscribed,frame_wait_share,
#                           judged (medians)
#   OUTDIR/app_detail.csv   the same plus spreads, per-free costs, CPU shares
#   OUTDIR/app_summary.txt  a table per thread count, its labels, the targets
#                           PASS/MISS/SKIP (judged only on unlabelled rows)
#   OUTDIR/app.json         per-free costs for the many-core model (schema
#                           pgfree-app/2)
#   OUTDIR/app.png          the plot (gnuplot, if installed)
#   OUTDIR/app_raw.jsonl    every run, as the example printed it
# About 3.5 minutes on a 2-CPU machine; --quick (1 repetition of 0.5 s) under
# 30 s once built.  Environment: APP_REPS, APP_SECONDS, APP_THREADS override;
# APP_MODES the compared modes (default "v5 pgfree pgfree_release"; v5 and
# pgfree are needed for the labels and targets); APP_ARGS adds example
# options to every run (e.g. --pool=8192, --walk-rate=0,
# --take-back-every=8), for experiments: the committed runs use the
# defaults.
set -euo pipefail

if [ $# -lt 1 ]; then
	echo "usage: $0 OUTDIR [--quick]" >&2
	exit 2
fi
out=$1
quick=0
[ "${2:-}" = "--quick" ] && quick=1

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)

if [ $quick = 1 ]; then
	reps=${APP_REPS:-1}
	secs=${APP_SECONDS:-0.5}
else
	reps=${APP_REPS:-5}
	secs=${APP_SECONDS:-2}
fi
cpus=$(nproc)
threads=${APP_THREADS:-}
if [ -z "$threads" ]; then
	# The usual counts, and CPUs - 1: the most CPU threads that can leave
	# the devices and the worker or drain thread a CPU (the row may still
	# be labelled oversubscribed: report.py measures, it does not assume).
	threads="1 2 4 8 16"
	fit=$((cpus - 1))
	if [ $fit -ge 1 ] && [ $fit -le 32 ] && [[ " $threads " != *" $fit "* ]]; then
		# shellcheck disable=SC2086 # a list of numbers
		threads=$(printf '%s\n' $threads $fit | sort -n | paste -sd' ')
	fi
fi
extra=${APP_ARGS:-}
modes=${APP_MODES:-v5 pgfree pgfree_release}
none_secs=0.3

bdir="$root/build/app"
bin="$bdir/examples/iommu_sva/pgfree_iommu_sva"
# PGFREE_PREBUILT=1 (scripts/bench.sh): run the binary already there.
if [ "${PGFREE_PREBUILT:-0}" != 1 ]; then
	cmake -S "$root" -B "$bdir" -DCMAKE_BUILD_TYPE=Release -DPGFREE_BUILD_EXAMPLES=ON \
		-DPGFREE_BUILD_TESTS=OFF -DPGFREE_BUILD_BENCH=OFF -DPGFREE_BUILD_RCU=OFF \
		-DPGFREE_BUILD_SHARED=OFF >/dev/null
	cmake --build "$bdir" -j 2 --target pgfree_iommu_sva >/dev/null
elif [ ! -x "$bin" ]; then
	echo "app stage: PGFREE_PREBUILT=1 but $bin is missing" >&2
	exit 1
fi

raw="$out/app_raw.jsonl"
: >"$raw"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "app stage: $cpus CPUs, load average $load0, $reps x $secs s per cell, threads: $threads, modes: $modes${extra:+, options: $extra}"

# shellcheck disable=SC2206 # a list of mode names
mlist=($modes)
for ((rep = 0; rep < reps; rep++)); do
	for n in $threads; do
		# Each mode takes each place in turn (v5 and pgfree swap places
		# every repetition when they are the only two).
		order=
		for ((k = 0; k < ${#mlist[@]}; k++)); do
			order+="${mlist[(k + rep) % ${#mlist[@]}]} "
		done
		[ $rep = 0 ] && order="none $order"
		for m in $order; do
			s=$secs
			[ "$m" = none ] && s=$none_secs
			# shellcheck disable=SC2086 # APP_ARGS: several options
			"$bin" --mode="$m" --threads="$n" --seconds="$s" --json $extra |
				sed "s/^{/{\"rep\":$rep,/" >>"$raw"
		done
	done
	echo "app stage: repetition $((rep + 1))/$reps done (load $(cut -d' ' -f1 /proc/loadavg))"
done

load1=$(cut -d' ' -f1-3 /proc/loadavg)
python3 "$root/bench/app/report.py" "$out" --cpus "$cpus" --load0 "$load0" --load1 "$load1" \
	--seconds "$secs" --runs "$reps" \
	--command "${APP_MODES:+APP_MODES=\"$APP_MODES\" }${APP_ARGS:+APP_ARGS=\"$APP_ARGS\" }bench/app/stage.sh OUTDIR${2:+ $2}"
