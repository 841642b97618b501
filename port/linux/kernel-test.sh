#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# kernel-test.sh LINUX_SRC [--mutant NAME] [--design per-cpu|global-llist]
#                [--cpus "1 4 8"]
#
# The series in a kernel: apply it to a scratch copy of LINUX_SRC (a Linux
# v6.19 tree, never modified), build x86_64 tinyconfig plus
# kernel-test.config, boot it in QEMU (TCG) once per vCPU count, and read
# the KUnit suite's KTAP output and the boot-time test's verdict.
#
#   --design global-llist   the alternative series (global-llist/0001,
#                           global-llist/0002, 0003) instead of 0001-0003
#   --mutant NAME           put mutant.sh's bug NAME (flush_order,
#                           inverted_wake) into the patched
#                           mm/pgtable-generic.c: now the suite must fail
#                           in every boot
#   --cpus LIST             the vCPU counts to boot with (default "1 4 8")
#
# Exit 0: every boot passed (with --mutant: the suite failed in every boot,
# the bug was caught); 1: anything else; 77 (skip): no LINUX_SRC, or a
# tool is missing and this is not root (as root the script installs the
# Debian packages it needs).  LINUX_SRC may also come from the environment
# as PGFREE_LINUX_SRC (the ctest passes nothing else).
#
# A boot passes when QEMU exits by itself (kunit_shutdown=reboot), the
# kernel brought up as many CPUs as asked, the suite kernel_pgtable_free and
# each of its cases are "ok" (not skipped), the boot-time test printed
# "pgtable_free_test: PASS", and the log has no BUG, WARNING, Oops or
# panic.  Timings are printed for information: under TCG they say nothing
# about the code's speed.
#
# Environment:
#   PGFREE_KERNEL_WORK      the work directory (default build/kernel-test in
#                           the project): src/ (the scratch tree, hard links
#                           to LINUX_SRC but for the files the series
#                           touches), build/ (O=, reused, so a mutant or
#                           the other design rebuilds a few files only),
#                           logs/ (each boot's serial console)
#   PGFREE_KERNEL_JOBS      make -j (default 2); make runs under nice -n 10
#   PGFREE_KERNEL_BOOT_TIMEOUT  seconds per boot (default 1800)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

say() { echo "kernel-test.sh: $*"; }
die() {
	echo "kernel-test.sh: FAIL: $*" >&2
	exit 1
}
skip() {
	echo "kernel-test.sh: SKIP: $*"
	exit 77
}

src_arg=
mutant=
design=per-cpu
cpus="1 4 8"
while [ $# -gt 0 ]; do
	case "$1" in
	--mutant) mutant=${2:?--mutant needs a name}; shift ;;
	--design) design=${2:?--design needs per-cpu or global-llist}; shift ;;
	--cpus) cpus=${2:?--cpus needs a list}; shift ;;
	-h | --help) sed -n '3,/^set -eu/p' "$0" | sed 's/^# \{0,1\}//; /^set -eu/d'; exit 0 ;;
	-*) echo "kernel-test.sh: unknown option $1" >&2; exit 2 ;;
	*) src_arg=$1 ;;
	esac
	shift
done
case "$design" in
per-cpu) series="0001-*.patch 0002-*.patch 0003-*.patch" ;;
global-llist) series="global-llist/0001-*.patch global-llist/0002-*.patch 0003-*.patch" ;;
*) echo "kernel-test.sh: --design per-cpu or global-llist" >&2; exit 2 ;;
esac
case "$mutant" in
"" | flush_order | inverted_wake) ;;
*) echo "kernel-test.sh: --mutant flush_order or inverted_wake" >&2; exit 2 ;;
esac

linux=${src_arg:-${PGFREE_LINUX_SRC:-}}
[ -n "$linux" ] || skip "no kernel tree: give LINUX_SRC (a Linux v6.19 tree) or set PGFREE_LINUX_SRC"
[ -f "$linux/Makefile" ] && [ -f "$linux/mm/pgtable-generic.c" ] || die "$linux is not a kernel tree"
linux=$(cd "$linux" && pwd)
version=$(awk '$1 == "VERSION" { v = $3 } $1 == "PATCHLEVEL" { p = $3 } END { print v "." p }' "$linux/Makefile")
[ "$version" = 6.19 ] || die "$linux is Linux $version, not 6.19"

# The tools, installed when missing and this is root.
missing=
for t in make gcc flex bison bc perl git awk cpio qemu-system-x86_64; do
	command -v "$t" >/dev/null 2>&1 || missing="$missing $t"
done
[ -f /usr/include/gelf.h ] || missing="$missing libelf-dev"
[ -f /usr/include/openssl/ssl.h ] || missing="$missing libssl-dev"
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
		say "installing what is missing:$missing"
		apt-get update -q >/dev/null || true
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q make gcc flex bison bc perl git \
			mawk cpio qemu-system-x86 libelf-dev libssl-dev >/dev/null ||
			die "apt-get install failed"
	else
		skip "missing:$missing (run as root to install them, or apt-get install qemu-system-x86 flex bison bc libelf-dev libssl-dev cpio)"
	fi
fi

work=${PGFREE_KERNEL_WORK:-$root/build/kernel-test}
jobs=${PGFREE_KERNEL_JOBS:-2}
boot_timeout=${PGFREE_KERNEL_BOOT_TIMEOUT:-1800}
mkdir -p "$work/logs"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pgfree-kernel-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
export GIT_CONFIG_NOSYSTEM=1 GIT_CONFIG_GLOBAL=/dev/null

# The series' pre-images committed here must be the tree's.
for f in mm/Kconfig.debug mm/Makefile; do
	cmp -s "$here/v6.19/$f" "$linux/$f" ||
		die "$linux/$f differs from port/linux/v6.19/$f: not the v6.19 the patches are made on"
done

# 1. The files the series gives, in a mini tree of the touched files.
mini=$tmp/mini
# Its own repository, so that git apply does not take it for a subdirectory
# of an enclosing one (and skip every path).
git init -q "$mini"
set --
for g in $series; do
	# shellcheck disable=SC2086  # $g is a glob
	set -- "$@" "$(cd "$here" && echo $g)"
done
patches=$*
paths=$(cd "$here" && awk '/^diff --git / { sub(/^a\//, "", $3); print $3 }' "$@" | sort -u)
for f in $paths; do
	if [ -f "$linux/$f" ]; then
		mkdir -p "$(dirname "$mini/$f")"
		cp "$linux/$f" "$mini/$f"
	fi
done
for p in "$@"; do
	[ -f "$here/$p" ] || die "no patch $p"
	(cd "$mini" && git apply -v "$here/$p") >"$tmp/apply" 2>&1 ||
		{ cat "$tmp/apply" >&2; die "$p does not apply to $linux"; }
	if grep -qi 'offset\|fuzz\|skipped' "$tmp/apply"; then
		cat "$tmp/apply" >&2
		die "$p applies to $linux only at an offset, or not at all"
	fi
	say "applied $p"
done
if [ -n "$mutant" ]; then
	sh "$here/mutant.sh" "$mutant" "$mini/mm/pgtable-generic.c" "$tmp/mutant.c" ||
		die "cannot make the $mutant mutant"
	mv "$tmp/mutant.c" "$mini/mm/pgtable-generic.c"
	say "mutant $mutant in mm/pgtable-generic.c"
fi

# 2. The scratch tree: hard links to LINUX_SRC, but for the files the
# series touches, which are separate copies.  A file is rewritten (new
# inode, new mtime) only when its content changes, so make rebuilds only
# what a change touches.  Never write through a link.
src=$work/src
if [ ! -f "$work/src.tree" ] || [ "$(cat "$work/src.tree")" != "$linux" ] || [ ! -d "$src" ]; then
	say "making the scratch tree $src from $linux"
	rm -rf "$src" "$work/build" "$work/src.touched" "$work/src.tree"
	mkdir -p "$src"
	for e in "$linux"/* "$linux"/.[!.]*; do
		[ -e "$e" ] || continue
		[ "$(basename "$e")" = .git ] && continue
		cp -al "$e" "$src/" 2>/dev/null || cp -a "$e" "$src/"
	done
	echo "$linux" >"$work/src.tree"
fi
touched=$( (echo "$paths"; cat "$work/src.touched" 2>/dev/null || true) | sort -u)
for f in $touched; do
	if [ -f "$mini/$f" ]; then
		want=$mini/$f
	elif [ -f "$linux/$f" ]; then
		want=$linux/$f
	else
		want=
	fi
	if [ -z "$want" ]; then
		rm -f "$src/$f"
	elif ! cmp -s "$want" "$src/$f"; then
		rm -f "$src/$f"
		mkdir -p "$(dirname "$src/$f")"
		cp "$want" "$src/$f"
		say "updated $f in the scratch tree"
	fi
done
echo "$touched" >"$work/src.touched"

# New files of the series have a maintainer (checkpatch asks).
for f in $paths; do
	[ -f "$linux/$f" ] && continue
	(cd "$src" && perl scripts/get_maintainer.pl --no-git --no-rolestats -f "$f" 2>/dev/null) |
		grep -q 'linux-mm@kvack.org' || die "$f: scripts/get_maintainer.pl names no linux-mm for it"
done

# 3. The configuration: tinyconfig plus the fragment, made apart and
# copied over build/.config only when it changed.
build=$work/build
kmake() { nice -n 10 make -s -C "$src" ARCH=x86_64 "$@"; }
mkdir -p "$build" "$work/config"
kmake O="$work/config" tinyconfig >"$tmp/config.log" 2>&1 || { cat "$tmp/config.log" >&2; die "make tinyconfig failed"; }
sh "$src/scripts/kconfig/merge_config.sh" -m -O "$work/config" "$work/config/.config" \
	"$here/kernel-test.config" >"$tmp/config.log" 2>&1 || { cat "$tmp/config.log" >&2; die "merge_config.sh failed"; }
kmake O="$work/config" olddefconfig >"$tmp/config.log" 2>&1 || { cat "$tmp/config.log" >&2; die "make olddefconfig failed"; }
grep '^CONFIG_[A-Z0-9_]*=y$' "$here/kernel-test.config" | while read -r want; do
	grep -qx "$want" "$work/config/.config" || die "$want is not in the final .config: Kconfig dropped it"
done
cmp -s "$work/config/.config" "$build/.config" || cp "$work/config/.config" "$build/.config"

# 4. Build.
log=$work/logs/build.log
start=$(date +%s)
say "building (make -j$jobs under nice; $log)"
kmake O="$build" -j"$jobs" bzImage >"$log" 2>&1 || { tail -40 "$log" >&2; die "the build failed"; }
built=$(($(date +%s) - start))
say "built in $built s"
# The series' C files again at W=1 (the next build recompiles them with
# the normal flags).
kmake O="$build" -j"$jobs" W=1 mm/pgtable-generic.o mm/pgtable_free_test.o >>"$log" 2>&1 ||
	{ tail -40 "$log" >&2; die "the W=1 build of the series' files failed"; }
grep -E '(warning|error):' "$log" | grep -v '^make' >"$tmp/warnings" || true
if [ -s "$tmp/warnings" ]; then
	cat "$tmp/warnings" >&2
	die "the build printed warnings"
fi
say "no warning, mm/pgtable-generic.o and mm/pgtable_free_test.o at W=1 too"

# 5. Boot once per vCPU count, and read the console.
bios=
[ -f /usr/share/qemu/qboot.rom ] && bios="-bios /usr/share/qemu/qboot.rom"
name=$design${mutant:+-$mutant}
# The run's record: what ran, and per boot the lines that matter and the KTAP.
record=$work/logs/$name.log
{
	echo "# kernel-test.sh $linux --design $design${mutant:+ --mutant $mutant} --cpus \"$cpus\""
	echo "# $(date -u '+%Y-%m-%dT%H:%M:%SZ'), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
	for p in $patches; do
		echo "# series: $p"
	done
	echo "# built in $built s (make -j$jobs under nice); QEMU TCG: timings are not evidence of speed"
} >"$record"
# The boot-time test: 4096 frees per CPU; a mutant may strand its last
# pages, so do not wait a minute for them.
wait_secs=60
[ -z "$mutant" ] || wait_secs=10
bootargs="pgtable_free_test.nr_frees=4096 pgtable_free_test.timeout=$wait_secs"
fails=0
caught=0
for n in $cpus; do
	console=$work/logs/$name-${n}cpu.log
	rm -f "$console"
	start=$(date +%s)
	rc=0
	# shellcheck disable=SC2086  # $bios is zero or two words
	timeout "$boot_timeout" qemu-system-x86_64 -accel tcg,thread=multi -cpu max -smp "$n" \
		-m 1G $bios -display none -monitor none -no-reboot -serial "file:$console" \
		-kernel "$build/arch/x86/boot/bzImage" \
		-append "console=ttyS0 kunit_shutdown=reboot panic=-1 $bootargs" \
		</dev/null >"$tmp/qemu.log" 2>&1 || rc=$?
	secs=$(($(date +%s) - start))
	[ -f "$console" ] || : >"$console"
	# Without the carriage returns and printk's timestamps, if any.
	tr -d '\r' <"$console" | sed 's/^\[ *[0-9]*\.[0-9]*\] //' >"$tmp/console"
	# The KTAP lines (KUnit prints them at column 0 or indented).
	grep -E '^ *(KTAP version|[0-9]+\.\.[0-9]+|(not )?ok [0-9]+ |# )' "$tmp/console" >"$tmp/ktap" || true
	problems=
	[ "$rc" = 0 ] || problems="$problems; QEMU exited with $rc$([ "$rc" = 124 ] && echo " (timed out after $boot_timeout s)")"
	if grep -q 'invalid for parameter\|Unknown kernel command line parameters' "$tmp/console"; then
		problems="$problems; the kernel rejected a parameter: $(grep -m1 'invalid for parameter\|Unknown kernel command line' "$tmp/console")"
	fi
	grep -q "Brought up 1 node, $n CPU" "$tmp/console" ||
		problems="$problems; the kernel did not bring up $n CPUs"
	if grep -E -q '(BUG|WARNING):|Oops|Kernel panic|general protection fault|INFO: task' "$tmp/console"; then
		problems="$problems; the kernel reported: $(grep -E -m1 '(BUG|WARNING):|Oops|Kernel panic|general protection fault|INFO: task' "$tmp/console")"
	fi
	grep -q '^pgtable_free_test: PASS' "$tmp/console" ||
		problems="$problems; pgtable_free_test did not print PASS"
	suite=$(grep -E '^(not )?ok [0-9]+ kernel_pgtable_free( |$)' "$tmp/ktap" || true)
	cases=$(grep -E '^    (not )?ok [0-9]+ ' "$tmp/ktap" || true)
	ncases=$(printf '%s\n' "$cases" | grep -c 'ok' || true)
	nfailed=$(printf '%s\n' "$cases" | grep -c '^    not ok' || true)
	nskipped=$(printf '%s\n' "$cases" | grep -c '# SKIP' || true)
	say "$n vCPUs: ${suite:-no suite result}; $ncases cases, $nfailed failed, $nskipped skipped; $secs s; $console"
	grep -E '^    # kernel_pgtable_[a-z_]*: [0-9]+ (lone|rounds)' "$tmp/console" | sed 's/^ */  /' || true
	grep -E '^pgtable_free_test: (all|FAIL|pagetable_free)' "$tmp/console" | sed 's/^/  /' || true
	if [ -n "$mutant" ]; then
		# The bug must make the suite report a failure, and nothing else
		# go wrong.
		case "$suite" in
		"not ok "*)
			caught=$((caught + 1))
			grep -E 'stranded|with no flush|not freed|more than once' "$tmp/console" |
				grep -v '^pgtable_free_test:' |
				head -3 | sed 's/^ */  /'
			;;
		*) problems="$problems; the suite did not fail: the mutant $mutant survived" ;;
		esac
		# The boot-time test does not check the flush order, and the
		# inverted wake strands the last pages it frees: only a hang
		# or a crash counts here.
		problems=$(printf '%s' "$problems" | sed 's/; pgtable_free_test did not print PASS//')
	else
		case "$suite" in
		"ok "*) ;;
		*) problems="$problems; the suite did not pass" ;;
		esac
		[ "$ncases" -ge 2 ] && [ "$nfailed" = 0 ] && [ "$nskipped" = 0 ] ||
			problems="$problems; not every case passed"
	fi
	if [ -n "$problems" ]; then
		echo "kernel-test.sh: $n vCPUs: FAIL${problems}" >&2
		fails=$((fails + 1))
	fi
	{
		echo
		echo "# boot: $n vCPUs, $secs s, ${problems:+FAIL$problems}${problems:-as expected}"
		grep -E '^(Linux version|Command line:|smp: Brought up|pgtable_free_test:)' "$tmp/console" || true
		sed -n '/^KTAP version/,/^\(not \)\{0,1\}ok [0-9]* kernel_pgtable_free/p' "$tmp/console"
	} >>"$record"
done

say "record: $record"
if [ "$fails" != 0 ]; then
	die "$fails of the boots ($cpus vCPUs) went wrong; logs in $work/logs"
fi
if [ -n "$mutant" ]; then
	say "PASS: the suite caught the $mutant mutant in every boot ($cpus vCPUs)"
else
	say "PASS: $design, $cpus vCPUs"
fi
