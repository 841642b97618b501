# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Sourced by make-patch.sh, check-patch.sh and kernel-test.sh: where the
# real v6.19 files are, the section rule they apply, and the scratch tree
# they start from.
# The caller sets `here` (its own directory) and `set -eu` first.

# The directory of the unmodified v6.19 files (../shared/linux-6.19 beside
# the project's root unless PGFREE_LINUX_619 says otherwise).
shared=${PGFREE_LINUX_619:-$here/../../../shared/linux-6.19}

# v619_have_files: true when both files the patch touches are there.
v619_have_files() {
	[ -f "$shared/mm/pgtable-generic.c" ] && [ -f "$shared/include/linux/mm_types.h" ]
}

# section FILE yes|no: FILE from the line "#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE"
# to its end; with "yes", the first such line after the marker line that
# separates the shim's prologue from the kernel text (pgtable-generic.c here).
section() {
	awk -v marked="$2" '
	marked == "yes" && !past && /^\/\* ---- mm\/pgtable-generic\.c: / { past = 1; next }
	(marked != "yes" || past) && !on && $0 == "#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE" { on = 1 }
	on { print }
	' "$1"
}

# v619_tree DIR: the v6.19 files the series touches, copied into DIR: the
# two in $shared, and the two that ../shared lacks, committed unmodified in
# v6.19/ here (kernel-test.sh checks them against a whole v6.19 tree).
v619_tree() {
	mkdir -p "$1/mm" "$1/include/linux"
	cp "$shared/mm/pgtable-generic.c" "$1/mm/pgtable-generic.c"
	cp "$shared/include/linux/mm_types.h" "$1/include/linux/mm_types.h"
	cp "$here/v6.19/mm/Kconfig.debug" "$1/mm/Kconfig.debug"
	cp "$here/v6.19/mm/Makefile" "$1/mm/Makefile"
}
