#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The many-core model stage (bench/model/README.md), called by scripts/bench.sh
# after the main benchmark:
#
#   bench/model/stage.sh OUTDIR [--quick]
#
# Builds and runs the calibration (calib.c, pinned to the first two CPUs),
# then the model (model.py) on OUTDIR/bench.json and, if present,
# OUTDIR/app.json.  Writes into OUTDIR: calib.json, model_inputs.json,
# model_validation.txt, model_prediction.csv, model_end_to_end.csv,
# model_summary.txt, model.png (if gnuplot is installed), counts.txt (the
# committed transfer counts, bench/model/count.sh), and model_pairs/ (the
# paired validation's calibrations and rows, below).  About 50 s on this
# project's 2-vCPU machine; --quick about 12 s.  A bench.json without the
# newer rows (*_tas, percpu_takeback) is validated as it ran (model.py says
# how).
#
# Never fails the benchmark: a missing optional input or tool is reported
# (on stderr and in model_summary.txt) and the stage exits 0.  Exit 2 only
# for a usage error.
set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${1:-}
quick=
[ "${2:-}" = "--quick" ] && quick=--quick
if [ -z "$out" ] || { [ -n "${2:-}" ] && [ -z "$quick" ]; }; then
	echo "usage: $0 OUTDIR [--quick]" >&2
	exit 2
fi
mkdir -p "$out" || exit 2
out=$(cd "$out" && pwd)

skip() {
	echo "model: skipped: $*" >&2
	printf 'many-core model: skipped: %s\n' "$*" > "$out/model_summary.txt"
	exit 0
}

command -v python3 >/dev/null 2>&1 || skip "python3 not found"
ncpu=$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 1)
[ "$ncpu" -ge 2 ] || skip "needs 2 CPUs for the hand-off measurement; this machine has $ncpu"

# The calibration is built from the library's sources, like the library
# (C11 with GNU extensions, -O2), into the git-ignored build tree.
bdir=${PGFREE_MODEL_BUILD:-$root/build/model}
mkdir -p "$bdir" || skip "cannot create $bdir"
calib=$bdir/calib
cc=${CC:-cc}
# PGFREE_PREBUILT=1 (scripts/bench.sh): run the calib already there.
if [ "${PGFREE_PREBUILT:-0}" = 1 ]; then
	[ -x "$calib" ] || skip "PGFREE_PREBUILT=1 but $calib is missing"
elif ! command -v "$cc" >/dev/null 2>&1; then
	skip "no C compiler ($cc)"
elif [ ! -x "$calib" ] || [ -n "$(find "$here/calib.c" "$here/model_designs.h" "$root/lib" "$root/include" -newer "$calib" -name '*.[ch]' 2>/dev/null | head -1)" ]; then
	echo "model: building $calib" >&2
	nice -n 10 "$cc" -O2 -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -I"$root/include" -I"$root/lib" \
		"$here/calib.c" "$root"/lib/*.c -o "$calib" -lpthread ||
		skip "calib did not build"
fi

# CPUs: the first two online ones (0 and 1 on this project's machines).
cpus=$(python3 -c 'import os; c=sorted(os.sched_getaffinity(0)); print("%d,%d" % (c[0], c[1]))' 2>/dev/null || echo 0,1)
echo "model: calibrating on CPUs $cpus ${quick:+(quick)}" >&2
"$calib" $quick --cpus="$cpus" > "$out/calib.json.tmp" || skip "calib failed"
mv "$out/calib.json.tmp" "$out/calib.json"

args=(--calib "$out/calib.json" --transfers "$here/transfers.json" --out "$out")

# The paired validation (model.py --pairs): a calibration and the 1-2 CPU
# enqueue rows the model is validated on, alternated, each pair a few
# seconds apart, so that the model of each calibration meets rows of the
# same moment of a shared machine (the rows of bench.json ran minutes
# before the calibration), and the spread over the pairs shows how much of
# an error the machine's moments make.  PGFREE_MODEL_PAIRS=N (default 7,
# --quick 3; 0: none).  The rows are pgfree_bench's own (build/bench, built
# by scripts/bench.sh), with its harness, pinned to the calibration's CPUs.
# A failure here costs the paired validation only, never the stage.
npairs=${PGFREE_MODEL_PAIRS:-$([ -n "$quick" ] && echo 3 || echo 7)}
bench_bin=${PGFREE_MODEL_BENCH:-$root/build/bench/bench/pgfree_bench}
if [ "$npairs" -gt 0 ] 2>/dev/null && [ -x "$bench_bin" ]; then
	# The rows model.py validates: its designs, and the floor for the harness.
	designs=$(python3 -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import model
print("|".join(("floor",) + model.DESIGNS))' "$here")
	pdir=$out/model_pairs
	if rm -rf "$pdir" && mkdir -p "$pdir"; then
		echo "model: $npairs calibration/row pairs for the paired validation" >&2
		for i in $(seq "$npairs"); do
			"$calib" $quick --cpus="$cpus" > "$pdir/calib$i.json" &&
				"$bench_bin" --pin="$cpus" --enqueue-only --threads=1,2 \
					--reps="$([ -n "$quick" ] && echo 5 || echo 11)" \
					--enqueue-filter="/($designs)/policy:(delay|none)/" \
					--enqueue-out="$pdir/enqueue$i.json" > "$pdir/log$i.txt" 2>&1 || {
				echo "model: pair $i failed (see $pdir/log$i.txt): no paired validation" >&2
				break
			}
			rm -f "$pdir/log$i.txt"
			# Only when every pair ran.
			[ "$i" = "$npairs" ] && args+=(--pairs "$pdir")
		done
	else
		echo "model: cannot create $pdir: no paired validation" >&2
	fi
elif [ "$npairs" != 0 ]; then
	echo "model: no $bench_bin: no paired validation" >&2
fi
if [ -s "$out/bench.json" ]; then
	args+=(--bench "$out/bench.json")
else
	echo "model: no $out/bench.json: predictions without validation" >&2
fi
if [ -s "$out/app.json" ]; then
	args+=(--app "$out/app.json")
else
	echo "model: no $out/app.json: no application-workload prediction" >&2
fi
[ -f "$here/counts.txt" ] && cp "$here/counts.txt" "$out/counts.txt"
python3 "$here/model.py" "${args[@]}" > /dev/null || skip "model.py failed (see above)"
cat "$out/model_summary.txt"
exit 0
