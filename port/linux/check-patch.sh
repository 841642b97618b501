#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The committed kernel patch against the real v6.19 files in
# ../shared/linux-6.19 (ctest pgfree.port_linux_patch):
#
#  1. v5/pgtable-generic.c's section (below its marker) is v6.19's
#     "#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE" to the end, byte for byte;
#  2. `git apply --check -v` of 0001-*.patch on copies of the v6.19 files
#     succeeds, with no hunk placed at an offset; the pre-image index lines
#     are the v6.19 files' blob ids;
#  3. applied, the patch yields exactly pgtable-generic.c's section, and
#     post-image blob ids equal to the index lines;
#  4. make-patch.sh --check: the patch is what make-patch.sh generates;
#  5. v6.19's checkpatch.pl --strict --no-tree reports no warning, no check
#     and no error other than "Missing Signed-off-by" (the placeholder
#     README.md tells a submitter to replace).
#
# Exit 0 pass, 1 fail, 77 skip (no ../shared, which a plain clone of the
# project lacks, or no git/perl).  Environment: PGFREE_LINUX_619, the
# directory of the v6.19 files (default ../shared/linux-6.19 from the root).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

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

set -- "$here"/0001-*.patch
[ $# -eq 1 ] && [ -f "$1" ] || fail "expected exactly one 0001-*.patch in $here"
patch=$1

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

# 2. Applies to the real files, no offset (git apply never fuzzes).
tree=$tmp/linux
v619_tree "$tree"
if ! (cd "$tree" && git apply --check -v "$patch") >"$tmp/apply" 2>&1; then
	cat "$tmp/apply" >&2
	fail "git apply --check failed"
fi
sed 's/^/  /' "$tmp/apply"
if grep -qi 'offset\|fuzz' "$tmp/apply"; then
	fail "a hunk applies only at an offset"
fi

# The index lines are "index <pre>..<post> <mode>" per file, in diff order.
index_of() { # $1 = path, $2 = 1 (pre) or 2 (post)
	awk -v f="$1" -v w="$2" '
	/^diff --git / { cur = ($3 == "a/" f) }
	cur && /^index / { split($2, ab, /\.\./); print ab[w]; exit }
	' "$patch"
}
blob_ok() { # $1 = path in the tree, $2 = abbreviated id from the patch
	[ -n "$2" ] && case $(git hash-object "$tree/$1") in "$2"*) true ;; *) false ;; esac
}
for f in mm/pgtable-generic.c include/linux/mm_types.h; do
	blob_ok "$f" "$(index_of "$f" 1)" ||
		fail "$f: the patch's pre-image index $(index_of "$f" 1) is not v6.19's blob $(git hash-object "$tree/$f")"
done

# 3. Applied, it is the shim-tested text.
(cd "$tree" && git apply "$patch") || fail "git apply failed after --check passed"
for f in mm/pgtable-generic.c include/linux/mm_types.h; do
	blob_ok "$f" "$(index_of "$f" 2)" ||
		fail "$f: the patch's post-image index $(index_of "$f" 2) is not the result's blob"
done
section "$tree/mm/pgtable-generic.c" no >"$tmp/patched-section"
section "$here/pgtable-generic.c" yes >"$tmp/port-section"
if ! cmp -s "$tmp/patched-section" "$tmp/port-section"; then
	diff -u "$tmp/patched-section" "$tmp/port-section" >&2 || true
	fail "the patched file's section differs from pgtable-generic.c (run make-patch.sh)"
fi
echo "check-patch.sh: the patched section is pgtable-generic.c's ($(wc -l <"$tmp/port-section") lines)"

# 4. Reproducible from the files here.
sh "$here/make-patch.sh" --check || fail "the committed patch is stale: run port/linux/make-patch.sh"

# 5. checkpatch: only the missing sign-off.
perl "$shared/scripts/checkpatch.pl" --strict --no-tree --no-color "$patch" >"$tmp/cp" 2>&1 || true
sed 's/^/  /' "$tmp/cp"
total=$(grep -E '^total: ' "$tmp/cp" || true)
[ "$total" ] || fail "checkpatch.pl printed no total line"
case "$total" in
"total: 1 errors, 0 warnings, 0 checks,"*) ;;
*) fail "checkpatch.pl: expected 1 error (the sign-off), 0 warnings, 0 checks; got: $total" ;;
esac
grep -qx 'ERROR: Missing Signed-off-by: line(s)' "$tmp/cp" ||
	fail "checkpatch.pl's one error is not the missing Signed-off-by"
echo "check-patch.sh: checkpatch.pl --strict: only the missing Signed-off-by (the placeholder)"
echo "check-patch.sh: PASS"
