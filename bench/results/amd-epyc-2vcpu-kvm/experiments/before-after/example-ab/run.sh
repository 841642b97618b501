#!/usr/bin/env bash
# A/B of the example: pgfree on main's lib (before: /tmp/app-before = this branch with lib/drain.c and lib/domain.h of 68b1678, no lib/batch.c) vs this branch (after), and v5, interleaved, 7 reps of 2 s, 1 and 2 threads.
# Usage: run.sh OUT (paths inside).  Load average 9-10 during the run (other jobs): rates spread 2k-285k, see ratios.
# A/B of the example: pgfree with main's lib (before) vs this branch's (after), and v5.
# BEFORE, AFTER: the two binaries (defaults: where they were built then).
B=${BEFORE:-/tmp/app-before/build/examples/iommu_sva/pgfree_iommu_sva}
A=${AFTER:-/work/wt-app/build/app/examples/iommu_sva/pgfree_iommu_sva}
out=$1
: > $out
for r in 1 2 3 4 5 6 7; do for t in 1 2; do
  for m in before after v5; do
    case $m in before) x="$B --mode=pgfree";; after) x="$A --mode=pgfree";; v5) x="$A --mode=v5";; esac
    echo "$m $($x --threads=$t --seconds=2 --json)" >> $out
  done
done; done
