#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The headline comparison: pgfree against the v5 design and the libraries a
# user would pick instead, side by side in one run, on any host from 2 to
# 256 CPUs.
#
# Usage: scripts/bench.sh [--quick] [--machine=NAME] [--out=DIR] [--no-stages]
#                         [pgfree_bench options: --pin=CPULIST --threads=LIST
#                          --reps=N --window-ms=X --benchmark_filter=RE ...]
#
# Installs missing Debian packages (scripts/deps.sh bench), builds an
# optimized pgfree_bench and pgfree_bench_lockstat in build/bench, and
# writes to bench/results/<machine>/ (or --out=DIR).  With PGFREE_PREBUILT=1
# it installs and builds nothing and runs the binaries already in build/bench,
# build/app and build/model (the stages honour it too): for a host with no
# compiler or package mirror, given binaries built by this script on another
# host of the same architecture (their shared libraries on LD_LIBRARY_PATH).
# Writes:
#   bench.json     every row (median, quartiles, IQR of the repetitions);
#                  the format is documented at the top of bench/report.py
#   summary.txt    the tables for both batching policies, lock statistics,
#                  the harness sanity check, the targets (PASS/MISS)
#   results.csv    one row per result; oversubscribed rows say so
#   enqueue_delay.png, enqueue_nodelay.png, end_to_end.png, latency.png
#   topology.txt   lscpu, NUMA nodes, SMT siblings, the pin order
#   run_info.json  machine name, load averages at start and end, durations
#   raw/           the programs' own JSON (gbench, enqueue, lockstat)
#
# <machine> is derived from the CPU model, the CPU count and the
# virtualization (e.g. amd-epyc-2vcpu-kvm); --machine=NAME or
# PGFREE_BENCH_MACHINE overrides it.
#
# Pinning: producers are pinned one per CPU while there are no more
# producers than CPUs, in an order that fills distinct physical cores
# first (SMT siblings last) and NUMA node 0 before node 1; rows with more
# producers than CPUs run unpinned and are labelled oversubscribed.
#
# Duration on 2 CPUs: pgfree_bench about 3 minutes, --quick about 1 minute;
# with the stages below (the application stage's three modes take most of
# the rest) about 8 minutes in all.
#
# Stage hooks, run after pgfree_bench and the report, in this order, each
# only if the file exists and is executable (skipped silently otherwise):
#   bench/app/stage.sh OUTDIR [--quick]     the application workload
#                                           (examples/iommu_sva); writes
#                                           OUTDIR/app_summary.txt
#   bench/model/stage.sh OUTDIR [--quick]   the many-core model; reads
#                                           OUTDIR/bench.json, writes
#                                           OUTDIR/model_summary.txt
# A stage's failure is reported and makes this script fail at the end, after
# the other stage has run.  summary.txt then gets OUTDIR/app_summary.txt and
# OUTDIR/model_summary.txt appended, when they exist.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

quick=""
machine="${PGFREE_BENCH_MACHINE:-}"
out=""
stages=1
pass=()
for a in "$@"; do
	case "$a" in
	--quick) quick=--quick; pass+=("$a") ;;
	--machine=*) machine="${a#--machine=}" ;;
	--out=*) out="${a#--out=}" ;;
	--no-stages) stages=0 ;;
	*) pass+=("$a") ;;
	esac
done

t_start=$(date +%s)
# Let the load of whatever ran just before settle (at most 2 minutes), so
# that the recorded start load says whether other work shares the CPUs.
for _ in $(seq 24); do
	awk -v n="$(nproc)" '{ exit !($1 > (n / 4 > 0.3 ? n / 4 : 0.3)) }' /proc/loadavg || break
	[ "${PGFREE_BENCH_NO_WAIT:-0}" = 1 ] && break
	[ -z "${waited:-}" ] && echo "bench.sh: waiting for the load average to settle: $(cut -d' ' -f1-3 /proc/loadavg)"
	waited=1
	sleep 5
done
load_start=$(cut -d' ' -f1-3 /proc/loadavg)

prebuilt=${PGFREE_PREBUILT:-0}
[ "$prebuilt" = 1 ] || scripts/deps.sh bench

# ---- the machine's name ----------------------------------------------------
# The hypervisor (a VM's vCPUs), not a container: containers share the CPUs.
virt=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Hypervisor vendor: *//p' | tr 'A-Z' 'a-z' |
	tr -cd 'a-z0-9')
if [ -z "$virt" ]; then
	virt=$(systemd-detect-virt --vm 2>/dev/null || true)
	[ "$virt" = none ] && virt=""
fi
ncpu=$(nproc)
if [ -z "$machine" ]; then
	model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
	model=$(echo "${model:-unknown}" | tr 'A-Z' 'a-z' |
		sed -e 's/([^)]*)//g' -e 's/@.*//' -e 's/[0-9]*-core//g' \
		    -e 's/\b\(processor\|cpu\|with\|radeon\|graphics\)\b//g' |
		tr -cs 'a-z0-9' '-' | sed -e 's/^-*//' -e 's/-*$//' | cut -d- -f1-4)
	if [ -n "$virt" ]; then
		machine="$model-${ncpu}vcpu-$virt"
	else
		machine="$model-${ncpu}cpu"
	fi
fi
out="${out:-bench/results/$machine}"
mkdir -p "$out/raw"

# ---- topology, and the pin order: distinct cores first, node by node ------
{
	echo "# lscpu"
	LC_ALL=C lscpu 2>/dev/null || true
	echo
	echo "# NUMA nodes (node: CPUs)"
	for n in /sys/devices/system/node/node[0-9]*; do
		[ -e "$n/cpulist" ] && echo "$(basename "$n"): $(cat "$n/cpulist")"
	done
	echo
	echo "# SMT siblings (cpu: thread_siblings_list)"
	for c in /sys/devices/system/cpu/cpu[0-9]*; do
		[ -e "$c/topology/thread_siblings_list" ] &&
			echo "$(basename "$c"): $(cat "$c/topology/thread_siblings_list")"
	done | sort -V
} >"$out/topology.txt"

pin_order() {
	# Allowed CPUs, sorted by (index among its SMT siblings, NUMA node, CPU).
	python3 - <<'EOF'
import glob, os, re

def cpus(text):
    out = []
    for part in text.strip().split(","):
        if part:
            a, _, b = part.partition("-")
            out += range(int(a), int(b or a) + 1)
    return out

keys = []
for c in sorted(os.sched_getaffinity(0)):
    d = "/sys/devices/system/cpu/cpu%d" % c
    try:
        with open(d + "/topology/thread_siblings_list") as f:
            sib = sorted(cpus(f.read())).index(c)
    except (OSError, ValueError):
        sib = 0
    nodes = [int(re.sub(r"\D", "", os.path.basename(n))) for n in glob.glob(d + "/node[0-9]*")]
    keys.append((sib, nodes[0] if nodes else 0, c))
print(",".join(str(k[2]) for k in sorted(keys)))
EOF
}
pin=$(pin_order)
have_pin=0
for a in "${pass[@]}"; do
	case "$a" in --pin=* | --no-pin) have_pin=1 ;; esac
done
[ "$have_pin" = 1 ] || pass=("--pin=$pin" "${pass[@]}")
{
	echo
	echo "# producer pin order (producer i -> i-th CPU)"
	echo "$pin"
} >>"$out/topology.txt"
numa_nodes=$(ls -d /sys/devices/system/node/node[0-9]* 2>/dev/null | wc -l)
smt=$(LC_ALL=C lscpu 2>/dev/null | sed -n 's/^Thread(s) per core: *//p')

# ---- build ------------------------------------------------------------------
build=build/bench
if [ "$prebuilt" = 1 ]; then
	for b in pgfree_bench pgfree_bench_lockstat; do
		[ -x "$build/bench/$b" ] || {
			echo "bench.sh: PGFREE_PREBUILT=1 but $build/bench/$b is missing" >&2
			exit 1
		}
	done
else
	cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DPGFREE_BUILD_BENCH=ON \
		-DPGFREE_BUILD_TESTS=OFF -DPGFREE_BUILD_SHARED=OFF >/dev/null
	cmake --build "$build" -j"$(nproc 2>/dev/null || echo 2)" \
		--target pgfree_bench pgfree_bench_lockstat >/dev/null
fi

# ---- run --------------------------------------------------------------------
t_bench=$(date +%s)
"$build/bench/pgfree_bench" "${pass[@]}" \
	--enqueue-out="$out/raw/enqueue.json" \
	--benchmark_out="$out/raw/gbench.json" --benchmark_out_format=json
# The lock statistics, from the instrumented copy, apart from the figures.
"$build/bench/pgfree_bench_lockstat" "${pass[@]}" --enqueue-only \
	--reps="$([ -n "$quick" ] && echo 3 || echo 5)" \
	--enqueue-out="$out/raw/lockstat.json"
t_bench_end=$(date +%s)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

cat >"$out/run_info.json" <<EOF
{
  "machine": "$machine",
  "virtualization": "${virt:-none}",
  "cpus": $ncpu,
  "numa_nodes": $numa_nodes,
  "threads_per_core": "${smt:-?}",
  "pin_order": "$pin",
  "load_avg_start": "$load_start",
  "load_avg_end": "$load_end",
  "pgfree_bench_seconds": $((t_bench_end - t_bench)),
  "mode": "${quick:-full}"
}
EOF
echo
python3 bench/report.py "$out/raw/gbench.json" "$out/raw/enqueue.json" "$out" \
	--lockstat "$out/raw/lockstat.json" --info "$out/run_info.json"

# ---- stages (see the header) ------------------------------------------------
status=0
if [ "$stages" = 1 ]; then
	for stage in bench/app/stage.sh bench/model/stage.sh; do
		if [ -x "$stage" ]; then
			echo
			echo "== $stage"
			t0=$(date +%s)
			"$stage" "$out" $quick || {
				echo "bench.sh: $stage failed" >&2
				status=1
			}
			echo "== $stage: $(($(date +%s) - t0)) s"
		fi
	done
fi
for f in app_summary.txt model_summary.txt; do
	if [ -f "$out/$f" ]; then
		{
			echo
			cat "$out/$f"
		} >>"$out/summary.txt"
	fi
done
echo
echo "bench.sh: pgfree_bench $((t_bench_end - t_bench)) s, all $(($(date +%s) - t_start)) s;" \
	"results in $out (load average start $load_start, end $load_end)"
exit $status
