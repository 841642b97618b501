#!/usr/bin/env bash
# Second A/B (pgfree only, before = main's lib, after = this branch), 10
# repetitions of 2 s at 1 and 2 threads, order alternating; paired ratios.
# Paths: BEFORE/AFTER binaries as in run.sh.  Usage: run2.sh OUT
# BEFORE, AFTER: the two binaries (defaults: where they were built then).
B=${BEFORE:-/tmp/app-before/build/examples/iommu_sva/pgfree_iommu_sva}
A=${AFTER:-/work/wt-app/build/app/examples/iommu_sva/pgfree_iommu_sva}
out=$1
: >"$out"
for r in $(seq 1 10); do for t in 1 2; do
	if [ $((r % 2)) = 0 ]; then order="before after"; else order="after before"; fi
	for m in $order; do
		x=$A; [ $m = before ] && x=$B
		echo "$m $r $($x --mode=pgfree --threads=$t --seconds=2 --json)" >>"$out"
	done
done; done
