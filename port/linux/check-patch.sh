#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The mm/pgtable-generic.c part of 0001-*.patch is the diff between
# v5/pgtable-generic.c and pgtable-generic.c, from three lines above the
# marker line on, renumbered to the kernel file's lines (the marker's next
# line is line 410 of mm/pgtable-generic.c in 6.19) and with the three
# context lines above the marker replaced by the kernel's (the end of
# __pte_offset_map_lock(), which the user-space files cannot hold).
#
#   check-patch.sh           print that diff
#   check-patch.sh --check   exit 1 unless the patch holds exactly that diff
#                            (ctest pgfree.port_linux_patch_sync)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
marker='---- mm/pgtable-generic.c, from line 410 ----'
patch="$here/0001-mm-pgtable-use-per-cpu-llists-for-deferred-kernel-page-table-freeing.patch"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

tail_of() {
	n=$(grep -n -F -- "$marker" "$1" | cut -d: -f1)
	[ -n "$n" ] || { echo "check-patch.sh: no marker in $1" >&2; exit 2; }
	tail -n +"$((n - 2))" "$1"
}

tail_of "$here/v5/pgtable-generic.c" >"$tmp/old"
tail_of "$here/pgtable-generic.c" >"$tmp/new"

# diff exits 1 when the files differ: that is the expected case.
diff -U3 -F '^[[:alpha:]$_]' "$tmp/old" "$tmp/new" >"$tmp/raw" || [ $? -eq 1 ]

# Tail line 4 is kernel line 410: add 406.  Tail lines 1-3 are kernel lines
# 407-409.
awk -v off=406 '
BEGIN {
	k[1] = "\tpte_unmap_unlock(pte, ptl);"
	k[2] = "\tgoto again;"
	k[3] = "}"
	print "--- a/mm/pgtable-generic.c"
	print "+++ b/mm/pgtable-generic.c"
}
NR <= 2 { next }
/^@@ / {
	match($0, /^@@ -[0-9]+(,[0-9]+)? \+[0-9]+(,[0-9]+)? @@/)
	hdr = substr($0, 1, RLENGTH); rest = substr($0, RLENGTH + 1)
	split(hdr, f, /[ ,]/)
	o = substr(f[2], 2) + 0; ol = f[3]; n = substr(f[4], 2) + 0; nl = f[5]
	if (rest == "" && o <= 3)
		rest = " pte_t *__pte_offset_map_lock(struct mm_struct *mm, pmd_t *pmd,"
	printf "@@ -%d,%s +%d,%s @@%s\n", o + off, ol, n + off, nl, rest
	line = o
	next
}
/^ / {
	if (line <= 3) { print " " k[line] } else print
	line++
	next
}
/^-/ { line++; print; next }
{ print }
' "$tmp/raw" >"$tmp/hunk"

if [ "${1:-}" != "--check" ]; then
	cat "$tmp/hunk"
	exit 0
fi

# The patch's section: from its "--- a/mm/pgtable-generic.c" to the line
# before the next "diff --git" or the "-- " signature separator.
awk '
/^--- a\/mm\/pgtable-generic.c$/ { on = 1 }
on && (/^diff --git / || /^-- $/) { exit }
on { print }
' "$patch" >"$tmp/inpatch"

if ! cmp -s "$tmp/hunk" "$tmp/inpatch"; then
	echo "check-patch.sh: the patch's mm/pgtable-generic.c diff is stale; expected:" >&2
	diff -u "$tmp/inpatch" "$tmp/hunk" >&2 || true
	exit 1
fi

# The diffstat line for the file must count the same lines.
plus=$(grep -c '^+' "$tmp/hunk"); plus=$((plus - 1))
minus=$(grep -c '^-' "$tmp/hunk"); minus=$((minus - 1))
stat=$(grep -E '^ mm/pgtable-generic.c +\| +[0-9]+ ' "$patch" | awk '{ print $3 }')
if [ "$stat" != "$((plus + minus))" ]; then
	echo "check-patch.sh: diffstat says $stat changed lines, the diff has $((plus + minus))" >&2
	exit 1
fi
echo "check-patch.sh: patch in sync (+$plus -$minus in mm/pgtable-generic.c)"
