#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# mutant.sh NAME IN OUT: write OUT, the kernel file IN (a pgtable-generic.c
# of this directory, or the patched mm/pgtable-generic.c of a kernel tree)
# with the bug NAME put in.  The shim test (CMakeLists.txt) and the kernel
# test (kernel-test.sh) take their mutants from here, so both catch the
# same bugs.  It fails, and writes nothing, unless the text it edits occurs
# exactly once in IN.
#
#   flush_order     the IOMMU flush moved after the frees: the line
#                   "<tab>iommu_sva_invalidate_kva_range(PAGE_OFFSET, TLB_FLUSH_ALL);"
#                   goes from before the free loop to after each
#                   "<tab><tab>__pagetable_free(pt);"
#   inverted_wake   the work queued only when llist_add() returns false:
#                   "<tab>if (llist_add(" becomes "<tab>if (!llist_add(",
#                   so the add that makes a list non-empty queues nothing
set -eu

[ $# -eq 3 ] || { echo "usage: $0 flush_order|inverted_wake IN OUT" >&2; exit 2; }
name=$1 in=$2 out=$3
case "$name" in
flush_order | inverted_wake) ;;
*) echo "mutant.sh: unknown mutant '$name' (flush_order, inverted_wake)" >&2; exit 2 ;;
esac

tmp="$out.tmp.$$"
trap 'rm -f "$tmp"' EXIT
awk -v name="$name" '
BEGIN {
	flush = "\tiommu_sva_invalidate_kva_range(PAGE_OFFSET, TLB_FLUSH_ALL);"
	free = "\t\t__pagetable_free(pt);"
	wake = "\tif (llist_add("
}
name == "flush_order" && $0 == flush { nflush++; next }
name == "flush_order" && $0 == free { nfree++; print; print flush; next }
name == "inverted_wake" && index($0, wake) == 1 {
	nwake++
	print "\tif (!llist_add(" substr($0, length(wake) + 1)
	next
}
{ print }
END {
	if (name == "flush_order" && (nflush != 1 || nfree != 1)) {
		printf "mutant.sh: flush_order: the flush line occurs %d times and the free line %d times, expected once each\n", nflush, nfree > "/dev/stderr"
		exit 1
	}
	if (name == "inverted_wake" && nwake != 1) {
		printf "mutant.sh: inverted_wake: \"\\tif (llist_add(\" begins %d lines, expected 1\n", nwake > "/dev/stderr"
		exit 1
	}
}
' "$in" >"$tmp"
mv "$tmp" "$out"
trap - EXIT
