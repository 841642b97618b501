#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The committed kernel patches against the real v6.19 files (ctest
# pgfree.port_linux_patch): the series 0001-0003 and the global-llist
# alternative (global-llist/0001, global-llist/0002, then 0003).
#
#  1. v5/pgtable-generic.c's section (below its marker) is v6.19's
#     "#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE" to the end, byte for byte;
#  2. each series applies patch by patch to copies of the v6.19 files
#     (lib.sh: ../shared/linux-6.19 and v6.19/ here) with `git apply`, no
#     hunk placed at an offset, every pre-image and post-image index line
#     the blob id of the file before and after; after its 0001 the section
#     is exactly the design's pgtable-generic.c's; and 0003 also applies
#     to v6.19 alone (the boot-time test measures an unpatched kernel);
#  3. make-patch.sh --check: the patches are what make-patch.sh generates;
#  4. v6.19's checkpatch.pl --strict --no-tree reports no check, and no
#     error but "Missing Signed-off-by" (the placeholder README.md tells a
#     submitter to replace); no warning, except in a patch that adds files
#     the one "does MAINTAINERS need updating?" (MAINTAINERS' MEMORY
#     MANAGEMENT entry has "F: mm/", which covers them);
#  5. every number below a patch's "---" (its notes), and every figure of
#     its changelog (a number with decimals, a unit or an "x"; figures.sh),
#     appears in a committed bench/results/*/summary.txt: no figure is
#     copied by hand.
#
# Exit 0 pass, 1 fail, 77 skip (no ../shared, which a plain clone of the
# project lacks, or no git/perl).  Environment: PGFREE_LINUX_619, the
# directory of the v6.19 files (default ../shared/linux-6.19 from the root).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
. "$here/figures.sh"

skip() {
	echo "check-patch.sh: SKIP: $*"
	exit 77
}
fail() {
	echo "check-patch.sh: FAIL: $*" >&2
	exit 1
}

v619_have_files ||
	skip "no v6.19 files at $shared (../shared is absent); nothing to check the patch against"
command -v git >/dev/null 2>&1 || skip "git not found"
command -v perl >/dev/null 2>&1 || skip "perl not found (checkpatch.pl needs it)"
[ -f "$shared/scripts/checkpatch.pl" ] || skip "no checkpatch.pl in $shared/scripts"

# one GLOB: the one file GLOB names, relative to here.
one() {
	# shellcheck disable=SC2086  # $1 is a glob
	set -- "$here"/$1
	[ $# -eq 1 ] && [ -f "$1" ] || fail "expected exactly one $1"
	echo "${1#"$here"/}"
}
p1=$(one '0001-*.patch')
p2=$(one '0002-*.patch')
p3=$(one '0003-*.patch')
g1=$(one 'global-llist/0001-*.patch')
g2=$(one 'global-llist/0002-*.patch')

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgfree-check-patch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# 1. The baseline the shim test runs is v6.19's text.
section "$shared/mm/pgtable-generic.c" no >"$tmp/v619-section"
section "$here/v5/pgtable-generic.c" yes >"$tmp/v5-section"
[ -s "$tmp/v619-section" ] || fail "v6.19 mm/pgtable-generic.c has no CONFIG_ASYNC_KERNEL_PGTABLE_FREE section"
if ! cmp -s "$tmp/v619-section" "$tmp/v5-section"; then
	diff -u "$tmp/v619-section" "$tmp/v5-section" >&2 || true
	fail "v5/pgtable-generic.c is not v6.19's section"
fi
echo "check-patch.sh: v5/pgtable-generic.c is v6.19's section ($(wc -l <"$tmp/v5-section") lines)"

# The index lines are "index <pre>..<post> <mode>" (or "new file mode" then
# "index 000..<post>") per file, in diff order.
index_of() { # $1 = patch, $2 = path, $3 = 1 (pre) or 2 (post)
	awk -v f="$2" -v w="$3" '
	/^diff --git / { cur = ($3 == "a/" f) }
	cur && /^index / { split($2, ab, /\.\./); print ab[w]; exit }
	' "$1"
}
paths_of() { # $1 = patch: the paths it touches
	awk '/^diff --git / { sub(/^a\//, "", $3); print $3 }' "$1"
}
blob_ok() { # $1 = file or "" (absent), $2 = abbreviated id from the patch
	case "$2" in
	"") false ;;
	0000000*) [ ! -e "$1" ] ;;
	*) [ -f "$1" ] && case $(git hash-object "$1") in "$2"*) true ;; *) false ;; esac ;;
	esac
}

# apply TREE PATCH: apply PATCH (relative to here) to TREE, checking it.
apply() {
	tree=$1
	p=$2
	if ! (cd "$tree" && git apply --check -v "$here/$p") >"$tmp/apply" 2>&1; then
		cat "$tmp/apply" >&2
		fail "$p: git apply --check failed"
	fi
	sed 's/^/  /' "$tmp/apply"
	grep -qi 'offset\|fuzz\|skipped' "$tmp/apply" && fail "$p: a hunk applies only at an offset, or not at all"
	for f in $(paths_of "$here/$p"); do
		blob_ok "$tree/$f" "$(index_of "$here/$p" "$f" 1)" ||
			fail "$p: $f: the pre-image index $(index_of "$here/$p" "$f" 1) is not the file's blob"
	done
	(cd "$tree" && git apply "$here/$p") || fail "$p: git apply failed after --check passed"
	for f in $(paths_of "$here/$p"); do
		blob_ok "$tree/$f" "$(index_of "$here/$p" "$f" 2)" ||
			fail "$p: $f: the post-image index $(index_of "$here/$p" "$f" 2) is not the result's blob"
	done
}

# 2. Each series applies in order to v6.19, and its 0001 gives its design.
# series NAME DESIGN PATCH...: DESIGN is the directory of the design's
# pgtable-generic.c (. or global-llist).
series() {
	name=$1
	design=$2
	shift 2
	tree=$tmp/$name
	v619_tree "$tree"
	# Its own repository: git apply in a subdirectory of an enclosing
	# one would skip every path.
	git init -q "$tree"
	first=yes
	for p in "$@"; do
		apply "$tree" "$p"
		if [ $first = yes ]; then
			section "$tree/mm/pgtable-generic.c" no >"$tmp/patched-section"
			section "$here/$design/pgtable-generic.c" yes >"$tmp/port-section"
			if ! cmp -s "$tmp/patched-section" "$tmp/port-section"; then
				diff -u "$tmp/patched-section" "$tmp/port-section" >&2 || true
				fail "$p: the patched section differs from $design/pgtable-generic.c (run make-patch.sh)"
			fi
			echo "check-patch.sh: $p gives $design/pgtable-generic.c's section ($(wc -l <"$tmp/port-section") lines)"
			first=no
		fi
	done
	echo "check-patch.sh: the $name series applies to v6.19 with no offset"
}
series per-cpu . "$p1" "$p2" "$p3"
series global-llist global-llist "$g1" "$g2" "$p3"
v619_tree "$tmp/alone"
git init -q "$tmp/alone"
(cd "$tmp/alone" && git apply --check -v "$here/$p3") >"$tmp/apply" 2>&1 ||
	{ cat "$tmp/apply" >&2; fail "$p3 does not apply to v6.19 alone"; }
grep -qi 'offset\|fuzz\|skipped' "$tmp/apply" && fail "$p3: a hunk applies to v6.19 alone only at an offset, or not at all"
echo "check-patch.sh: $p3 applies to v6.19 alone with no offset"

# 3. Reproducible from the files here.
sh "$here/make-patch.sh" --check || fail "the committed patches are stale: run port/linux/make-patch.sh"

# 4. checkpatch: only the missing sign-off (and the MAINTAINERS question).
for p in "$p1" "$p2" "$p3" "$g1" "$g2"; do
	echo "check-patch.sh: checkpatch.pl --strict $p"
	perl "$shared/scripts/checkpatch.pl" --strict --no-tree --no-color "$here/$p" >"$tmp/cp" 2>&1 || true
	sed -n '/^\(ERROR\|WARNING\|CHECK\|total\):/s/^/  /p' "$tmp/cp"
	total=$(grep -E '^total: ' "$tmp/cp" || true)
	[ "$total" ] || fail "$p: checkpatch.pl printed no total line"
	warnings=0
	if grep -q '^new file mode' "$here/$p"; then
		warnings=1
		grep -qx 'WARNING: added, moved or deleted file(s), does MAINTAINERS need updating?' "$tmp/cp" ||
			fail "$p: adds files, but checkpatch.pl's one warning is not the MAINTAINERS question"
	fi
	case "$total" in
	"total: 1 errors, $warnings warnings, 0 checks,"*) ;;
	*)
		sed 's/^/  /' "$tmp/cp" >&2
		fail "$p: checkpatch.pl: expected 1 error (the sign-off), $warnings warnings, 0 checks; got: $total"
		;;
	esac
	grep -qx 'ERROR: Missing Signed-off-by: line(s)' "$tmp/cp" ||
		fail "$p: checkpatch.pl's one error is not the missing Signed-off-by"
done
echo "check-patch.sh: checkpatch.pl --strict: only the missing Signed-off-by (the placeholder), and the MAINTAINERS question for new files under mm/"

# 5. Every number in the notes and the changelog is a committed figure.
for p in "$p1" "$p2" "$p3" "$g1" "$g2"; do
	# The changelog: from the blank line after the headers to "---",
	# without the trailers.
	awk 'body && /^---$/ { exit } body && !/^Link: / { print } /^$/ { body = 1 }' \
		"$here/$p" >"$tmp/changelog"
	# The notes: below "---", before the diffstat (" path | n +-").
	awk '/^---$/ { notes = 1; next } notes && /^ [^ ].* \| / { exit } notes { print }' \
		"$here/$p" >"$tmp/notes"
	figures_check "$tmp/changelog" "$p's changelog" figures || fail "$p: a number in the changelog is not a committed figure"
	figures_check "$tmp/notes" "$p's notes" || fail "$p: a number below --- is not a committed figure"
done
echo "check-patch.sh: every number of the notes and figure of the changelogs appears in a committed bench/results/*/summary.txt"
echo "check-patch.sh: PASS"
