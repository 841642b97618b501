#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Regenerate the kernel patch from the real v6.19 files, so that its hunks,
# line numbers and index lines are those of v6.19:
#
#  1. copy mm/pgtable-generic.c and include/linux/mm_types.h from
#     ../shared/linux-6.19 (unmodified v6.19) into a scratch git tree under
#     $TMPDIR and commit them;
#  2. replace the file's section from "#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE"
#     to its end with the section below the marker of pgtable-generic.c (the
#     copy the shim test compiles), and add pt_llist to struct ptdesc;
#  3. commit that with commit-message.txt, attach notes.txt as a git note
#     (format-patch puts it below the "---" line), and `git format-patch` it.
#
# Author, dates and configuration are fixed and the commit id is zeroed, so
# the output depends only on the inputs and git's diff.  The author is a
# placeholder and there is no Signed-off-by: README.md says what a submitter
# must add.
#
#   make-patch.sh            write 0001-*.patch here (replacing the old one)
#   make-patch.sh --stdout   print the patch
#   make-patch.sh --check    exit 1 unless the committed patch is identical
#
# Exit code 77 (skip) when ../shared/linux-6.19 or git is missing.
# Environment: PGFREE_LINUX_619, the directory of the v6.19 files.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
mode=${1:-write}
case "$mode" in
write | --stdout | --check) ;;
*)
	echo "usage: $0 [--stdout | --check]" >&2
	exit 2
	;;
esac

if ! v619_have_files; then
	echo "make-patch.sh: SKIP: no v6.19 files at $shared (../shared is absent)" >&2
	exit 77
fi
if ! command -v git >/dev/null 2>&1; then
	echo "make-patch.sh: SKIP: git not found" >&2
	exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgfree-make-patch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# No user or system configuration (format.*, diff.*, core.abbrev ...).
GIT_CONFIG_NOSYSTEM=1
GIT_CONFIG_GLOBAL=/dev/null
HOME=$tmp
GIT_AUTHOR_NAME='PLACEHOLDER Submitter'
GIT_AUTHOR_EMAIL='placeholder.submitter@example.invalid'
GIT_AUTHOR_DATE='2026-01-01T00:00:00+00:00'
GIT_COMMITTER_NAME=$GIT_AUTHOR_NAME
GIT_COMMITTER_EMAIL=$GIT_AUTHOR_EMAIL
GIT_COMMITTER_DATE=$GIT_AUTHOR_DATE
export GIT_CONFIG_NOSYSTEM GIT_CONFIG_GLOBAL HOME GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL \
	GIT_AUTHOR_DATE GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL GIT_COMMITTER_DATE

tree=$tmp/linux
v619_tree "$tree"
git -C "$tree" -c init.defaultBranch=v6.19 init -q
# The kernel's .gitattributes: C function names in the hunk headers.
printf '*.c diff=cpp\n*.h diff=cpp\n' >"$tree/.git/info/attributes"
git -C "$tree" add mm/pgtable-generic.c include/linux/mm_types.h
git -C "$tree" commit -q -m "Linux 6.19: mm/pgtable-generic.c, include/linux/mm_types.h"

f=$tree/mm/pgtable-generic.c
n=$(grep -c -x '#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE' "$f" || true)
if [ "$n" != 1 ]; then
	echo "make-patch.sh: v6.19 mm/pgtable-generic.c has $n '#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE' lines, expected 1" >&2
	exit 1
fi
at=$(grep -n -x '#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE' "$f" | cut -d: -f1)
section "$here/pgtable-generic.c" yes >"$tmp/new-section"
if [ ! -s "$tmp/new-section" ]; then
	echo "make-patch.sh: no kernel section below the marker in pgtable-generic.c" >&2
	exit 1
fi
head -n "$((at - 1))" "$f" >"$tmp/new"
cat "$tmp/new-section" >>"$tmp/new"
cp "$tmp/new" "$f"

# struct ptdesc: the doc line, the member in pt_list's union, the layout
# check.  Each anchor must occur exactly once.
awk '
$0 ~ /^ \* @_pt_pad_1:/ {
	print " * @pt_llist:         Per-CPU list of kernel page tables waiting to be freed."
	a++
}
{ print }
$0 == "\t\tstruct list_head pt_list;" { print "\t\tstruct llist_node pt_llist;"; b++ }
$0 == "TABLE_MATCH(compound_head, pt_list);" { print "TABLE_MATCH(compound_head, pt_llist);"; c++ }
END {
	if (a != 1 || b != 1 || c != 1) {
		printf "make-patch.sh: mm_types.h anchors found %d, %d, %d times, expected once each\n", a, b, c > "/dev/stderr"
		exit 1
	}
}
' "$tree/include/linux/mm_types.h" >"$tmp/mm_types.h"
cp "$tmp/mm_types.h" "$tree/include/linux/mm_types.h"

git -C "$tree" commit -q -a -F "$here/commit-message.txt"
git -C "$tree" notes add -F "$here/notes.txt" HEAD
mkdir "$tmp/out"
git -C "$tree" -c core.abbrev=12 -c diff.algorithm=myers format-patch -q -1 \
	--zero-commit --no-signature --notes --filename-max-length=100 \
	-o "$tmp/out" HEAD
set -- "$tmp"/out/0001-*.patch
[ $# -eq 1 ] && [ -f "$1" ] || { echo "make-patch.sh: format-patch wrote no patch" >&2; exit 1; }
out=$1
name=$(basename "$out")

case "$mode" in
--stdout)
	cat "$out"
	;;
--check)
	if ! cmp -s "$out" "$here/$name"; then
		echo "make-patch.sh: $name is not what make-patch.sh generates:" >&2
		diff -u "$here/$name" "$out" >&2 || true
		exit 1
	fi
	echo "make-patch.sh: $name is reproducible"
	;;
write)
	for old in "$here"/0001-*.patch; do
		[ -f "$old" ] && [ "$(basename "$old")" != "$name" ] && rm -f "$old"
	done
	cp "$out" "$here/$name"
	echo "make-patch.sh: wrote $name"
	;;
esac
