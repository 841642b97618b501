#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Regenerate the kernel patches from the real v6.19 files, so that their
# hunks, line numbers and index lines are those of v6.19.  Two series, each
# made in a scratch git tree under $TMPDIR that starts from v6.19's
# mm/pgtable-generic.c, include/linux/mm_types.h (../shared/linux-6.19),
# mm/Kconfig.debug and mm/Makefile (v6.19/ here):
#
#   0001-*.patch          per-CPU llists: the section of mm/pgtable-generic.c
#                         from "#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE" to
#                         the end becomes the one below the marker of
#                         pgtable-generic.c, and struct ptdesc gets pt_llist;
#                         commit-message.txt, notes below "---" from
#                         notes.txt
#   0002-*.patch          the KUnit suite (kunit/)
#   0003-*.patch          the boot-time test (boot-test/), which applies to
#                         v6.19 alone too
#   global-llist/0001-*.patch, global-llist/0002-*.patch
#                         the alternative the changelog weighs: one global
#                         llist (global-llist/), and the same KUnit suite
#                         on it; its 0003 is the series' 0003
#
# commit-message.txt and notes.txt (and global-llist's) are templates: their
# {{...}} placeholders are benchmark figures that figures.sh reads from the
# committed bench/results/*/summary.txt by table, row and column label.
# After a new benchmark run, rerun this script.
#
# Author, dates and configuration are fixed and the commit ids are zeroed,
# so the output depends only on the inputs and git's diff.  The author is a
# placeholder and there is no Signed-off-by: README.md says what a submitter
# must add.
#
#   make-patch.sh            write the patches (replacing the old ones)
#   make-patch.sh --stdout   print them
#   make-patch.sh --check    exit 1 unless the committed patches are identical
#
# Exit code 77 (skip) when ../shared/linux-6.19 or git is missing.
# Environment: PGFREE_LINUX_619, the directory of the v6.19 files.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/figures.sh"
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

die() {
	echo "make-patch.sh: $*" >&2
	exit 1
}

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

# The templates, filled once for both series.
for t in commit-message notes global-llist/commit-message global-llist/notes; do
	mkdir -p "$tmp/text/$(dirname "$t")"
	figures_fill "$here/$t.txt" >"$tmp/text/$t.txt" || die "cannot fill $t.txt"
done

# edit FILE MODE ANCHOR SNIPPET: put SNIPPET's lines into FILE after (MODE
# "after") or before ("before") the line equal to ANCHOR, which must occur
# exactly once, or before its last line ("before-last"), which must be
# ANCHOR, or at its end ("append").
edit() {
	awk -v mode="$2" -v anchor="$3" -v snippet="$4" '
	function put(   line) {
		while ((getline line < snippet) > 0)
			print line
		close(snippet)
	}
	{ lines[++n] = $0 }
	END {
		for (i = 1; i <= n; i++)
			if (lines[i] == anchor)
				hits++
		if (mode == "before-last" && lines[n] != anchor) {
			printf "make-patch.sh: the last line of %s is not \"%s\"\n", FILENAME, anchor > "/dev/stderr"
			exit 1
		}
		if ((mode == "after" || mode == "before") && hits != 1) {
			printf "make-patch.sh: \"%s\" occurs %d times in %s, expected once\n", anchor, hits, FILENAME > "/dev/stderr"
			exit 1
		}
		for (i = 1; i <= n; i++) {
			if (mode == "before" && lines[i] == anchor)
				put()
			if (mode == "before-last" && i == n)
				put()
			print lines[i]
			if (mode == "after" && lines[i] == anchor)
				put()
		}
		if (mode == "append")
			put()
	}
	' "$1" >"$1.new"
	mv "$1.new" "$1"
}

# series DESIGN OUT: make the series with the 0001 of DESIGN (. or
# global-llist) in the scratch tree, and write its patches to OUT.
series() {
	design=$1
	out=$2
	tree=$tmp/tree-$(basename "$out")
	rm -rf "$tree"
	v619_tree "$tree"
	git -C "$tree" -c init.defaultBranch=v6.19 init -q
	# The kernel's .gitattributes: C function names in the hunk headers.
	printf '*.c diff=cpp\n*.h diff=cpp\n' >"$tree/.git/info/attributes"
	git -C "$tree" add -A
	git -C "$tree" commit -q -m "Linux 6.19: the files the series touches"

	# 0001: the design.
	f=$tree/mm/pgtable-generic.c
	n=$(grep -c -x '#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE' "$f" || true)
	[ "$n" = 1 ] ||
		die "v6.19 mm/pgtable-generic.c has $n '#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE' lines, expected 1"
	at=$(grep -n -x '#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE' "$f" | cut -d: -f1)
	section "$here/$design/pgtable-generic.c" yes >"$tmp/new-section"
	[ -s "$tmp/new-section" ] || die "no kernel section below the marker in $design/pgtable-generic.c"
	head -n "$((at - 1))" "$f" >"$tmp/new"
	cat "$tmp/new-section" >>"$tmp/new"
	cp "$tmp/new" "$f"

	# struct ptdesc: the doc line, the member in pt_list's union, the
	# layout check.  Each anchor must occur exactly once.
	awk '
	$0 ~ /^ \* @_pt_pad_1:/ {
		print " * @pt_llist:         List of kernel page tables waiting to be freed."
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
	git -C "$tree" commit -q -a -F "$tmp/text/$design/commit-message.txt"
	git -C "$tree" notes add -F "$tmp/text/$design/notes.txt" HEAD

	# 0002: the KUnit suite, included at the end of the file.
	edit "$f" after '#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE' "$here/kunit/hook.c"
	edit "$f" before-last '#endif' "$here/kunit/include.c"
	edit "$tree/mm/Kconfig.debug" append '' "$here/kunit/Kconfig.debug"
	mkdir -p "$tree/mm/tests"
	cp "$here/kunit/kernel_pgtable_free_kunit.c" "$tree/mm/tests/"
	git -C "$tree" add mm/tests/kernel_pgtable_free_kunit.c
	git -C "$tree" commit -q -a -F "$here/kunit/commit-message.txt"

	# 0003: the boot-time test, above 0002's Kconfig entry so that it
	# applies to v6.19 alone with the same line numbers.
	edit "$tree/mm/Kconfig.debug" before 'config ARCH_HAS_DEBUG_WX' "$here/boot-test/Kconfig.debug"
	edit "$tree/mm/Makefile" after 'obj-$(CONFIG_DEBUG_RODATA_TEST) += rodata_test.o' \
		"$here/boot-test/Makefile"
	cp "$here/boot-test/pgtable_free_test.c" "$tree/mm/"
	git -C "$tree" add mm/pgtable_free_test.c
	git -C "$tree" commit -q -a -F "$here/boot-test/commit-message.txt"

	mkdir -p "$out"
	git -C "$tree" -c core.abbrev=12 -c diff.algorithm=myers format-patch -q -3 \
		--zero-commit --no-signature --notes --filename-max-length=100 \
		-o "$out" HEAD
}

series . "$tmp/out"
series global-llist "$tmp/out/global-llist"

# The alternative series shares 0003 with the main one.
set -- "$tmp"/out/0003-*.patch
main3=$1
set -- "$tmp"/out/global-llist/0003-*.patch
cmp -s "$main3" "$1" ||
	die "the global-llist series' 0003 differs from the main series' (kunit/Kconfig.debug?)"
rm -f "$1"

# The generated files, relative to here.
(cd "$tmp/out" && find . -name '*.patch' | sed 's|^\./||' | sort) >"$tmp/list"
[ "$(wc -l <"$tmp/list")" = 5 ] || die "format-patch wrote $(wc -l <"$tmp/list") patches, expected 5"

case "$mode" in
--stdout)
	while read -r p; do
		cat "$tmp/out/$p"
	done <"$tmp/list"
	;;
--check)
	bad=0
	while read -r p; do
		if ! cmp -s "$tmp/out/$p" "$here/$p"; then
			echo "make-patch.sh: $p is not what make-patch.sh generates:" >&2
			diff -u "$here/$p" "$tmp/out/$p" >&2 || true
			bad=1
		fi
	done <"$tmp/list"
	# No stale patch beside the generated ones.
	(cd "$here" && find . -maxdepth 2 -name '[0-9][0-9][0-9][0-9]-*.patch' | sed 's|^\./||' | sort) \
		>"$tmp/have"
	if ! cmp -s "$tmp/list" "$tmp/have"; then
		echo "make-patch.sh: the committed patches are not the generated set:" >&2
		diff "$tmp/have" "$tmp/list" >&2 || true
		bad=1
	fi
	[ "$bad" = 0 ] || exit 1
	echo "make-patch.sh: the $(wc -l <"$tmp/list") patches are reproducible"
	;;
write)
	for old in "$here"/[0-9][0-9][0-9][0-9]-*.patch "$here"/global-llist/[0-9][0-9][0-9][0-9]-*.patch; do
		[ -f "$old" ] && rm -f "$old"
	done
	while read -r p; do
		mkdir -p "$(dirname "$here/$p")"
		cp "$tmp/out/$p" "$here/$p"
		echo "make-patch.sh: wrote $p"
	done <"$tmp/list"
	;;
esac
