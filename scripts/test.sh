#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Build pgfree and run its tests, in up to three configurations:
#
#   normal   no sanitizer, warnings are errors (PGFREE_WERROR=ON)
#   asan     Clang, AddressSanitizer + UndefinedBehaviorSanitizer
#            (PGFREE_SANITIZE=address), the misuse checks (PGFREE_DEBUG),
#            the libFuzzer API fuzzer (PGFREE_FUZZ_REQUIRED), and every PERCPU
#            domain on the rseq push (PGFREE_RSEQ_DEFAULT: the normal build
#            runs the default CAS push)
#   tsan     ThreadSanitizer (PGFREE_SANITIZE=thread) with random yields
#            between protocol steps (PGFREE_DEBUG_YIELD)
#
# Usage: scripts/test.sh [normal] [asan] [tsan]     (default: all three)
#        scripts/test.sh --loaded[=N] [builds...]
#
# --loaded[=N] runs the whole thing N times (default 5) while busy loops
# keep every CPU busy, and reports how many runs passed (scripts/loaded.sh):
# the check that no test depends on how fast a thread runs.
#
# Each configuration builds out of source in build/test-<name> (kept and
# reused by the next run), then runs ctest.  The script goes on after a
# failing configuration, prints a summary, and exits 1 if any failed.
#
# Environment:
#   CC                    the C compiler (as for CMake) of the normal and tsan builds
#   CC_ASAN, CXX_ASAN     the asan build's compilers (default clang, clang++)
#   PGFREE_TEST_JOBS      parallel build jobs (default: nproc)
#   PGFREE_CTEST_JOBS     parallel tests (default: 1; the tests are
#                         multi-threaded stress tests and want the CPUs)
#   PGFREE_TEST_TIMEOUT   ctest's default per-test timeout in seconds, for
#                         tests that set none (default: 600)
#   PGFREE_CTEST_ARGS     extra ctest arguments, e.g. "-R llist"
#   ASAN_OPTIONS, UBSAN_OPTIONS, TSAN_OPTIONS   override the defaults below
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$(pwd)

all_builds=(normal asan tsan)

usage() {
	echo "usage: $0 [${all_builds[*]}]..." >&2
	exit 2
}

builds=()
loaded=
for arg in "$@"; do
	case "$arg" in
	normal | asan | tsan) builds+=("$arg") ;;
	--loaded) loaded=5 ;;
	--loaded=*) loaded=${arg#--loaded=} ;;
	-h | --help) usage ;;
	*)
		echo "test.sh: unknown build '$arg'" >&2
		usage
		;;
	esac
done
[ ${#builds[@]} -gt 0 ] || builds=("${all_builds[@]}")
if [ -n "$loaded" ]; then
	exec scripts/loaded.sh "$loaded" "${builds[@]}"
fi

scripts/deps.sh test

jobs=${PGFREE_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
ctest_jobs=${PGFREE_CTEST_JOBS:-1}
test_timeout=${PGFREE_TEST_TIMEOUT:-600}
read -r -a ctest_extra <<<"${PGFREE_CTEST_ARGS:-}"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

banner() {
	echo
	echo "=================================================================="
	echo "== $*"
	echo "=================================================================="
}

# ThreadSanitizer maps its shadow memory at fixed addresses.  With a large
# mmap randomization (vm.mmap_rnd_bits=32 on some recent kernels) a program
# may be loaded where the shadow goes and die with "FATAL: ThreadSanitizer:
# unexpected memory mapping".  Probe with a tiny program; if it fails and
# works with ASLR disabled, run the TSan tests under `setarch -R`.
tsan_prefix=()
tsan_probe() {
	local dir cc rc=0 _
	dir=$(mktemp -d "${TMPDIR:-/tmp}/pgfree-tsan-probe.XXXXXX")
	cc=${CC:-cc}
	cat >"$dir/probe.c" <<'PROBE'
#include <pthread.h>
static int counter;
static void *work(void *arg)
{
	(void)arg;
	__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	return NULL;
}
int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, work, NULL))
		return 1;
	work(NULL);
	pthread_join(t, NULL);
	return counter == 2 ? 0 : 1;
}
PROBE
	if ! "$cc" -fsanitize=thread -g -O1 -pthread "$dir/probe.c" -o "$dir/probe" \
		>"$dir/cc.log" 2>&1; then
		echo "test.sh: cannot build a ThreadSanitizer program with $cc:" >&2
		cat "$dir/cc.log" >&2
		rm -rf "$dir"
		return 0 # let the real build report the problem
	fi
	# The failure depends on where the loader puts things: try a few times.
	for _ in 1 2 3 4 5; do
		if ! "$dir/probe" >"$dir/run.log" 2>&1; then
			rc=1
			break
		fi
	done
	if [ $rc -ne 0 ]; then
		echo "test.sh: ThreadSanitizer program fails with ASLR on:" >&2
		sed 's/^/    /' "$dir/run.log" >&2
		if setarch "$(uname -m)" -R "$dir/probe" >"$dir/run.log" 2>&1; then
			echo "test.sh: it works with ASLR off: running the TSan tests under 'setarch $(uname -m) -R'" >&2
			tsan_prefix=(setarch "$(uname -m)" -R)
		else
			echo "test.sh: it fails with ASLR off too; running the TSan tests anyway" >&2
		fi
	fi
	rm -rf "$dir"
}

declare -A result elapsed

run_build() {
	local name=$1 dir="build/test-$1" start
	local -a cmake_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGFREE_BUILD_TESTS=ON
		-DPGFREE_BUILD_EXAMPLES=ON)
	local -a prefix=()

	case "$name" in
	normal) cmake_args+=(-DPGFREE_SANITIZE= -DPGFREE_WERROR=ON -DPGFREE_BUILD_BENCH=ON) ;;
	asan)
		# Clang: libFuzzer comes with it (Debian's libclang-rt-dev).
		cmake_args+=(-DPGFREE_SANITIZE=address -DPGFREE_WERROR=OFF -DPGFREE_BUILD_BENCH=OFF
			-DPGFREE_DEBUG=ON -DPGFREE_FUZZ_REQUIRED=ON -DPGFREE_RSEQ_DEFAULT=ON
			-DCMAKE_C_COMPILER="${CC_ASAN:-clang}" -DCMAKE_CXX_COMPILER="${CXX_ASAN:-clang++}")
		;;
	tsan)
		cmake_args+=(-DPGFREE_SANITIZE=thread -DPGFREE_WERROR=OFF -DPGFREE_DEBUG_YIELD=ON)
		prefix=(${tsan_prefix[@]+"${tsan_prefix[@]}"})
		;;
	esac

	banner "pgfree test build '$name' in $dir"
	start=$(date +%s)
	result[$name]=passed
	if ! cmake -S . -B "$dir" "${cmake_args[@]}"; then
		result[$name]="FAILED (configure)"
	elif ! cmake --build "$dir" -j "$jobs"; then
		result[$name]="FAILED (build)"
	elif ! (cd "$dir" && ${prefix[@]+"${prefix[@]}"} ctest --output-on-failure \
		-j "$ctest_jobs" --timeout "$test_timeout" \
		${ctest_extra[@]+"${ctest_extra[@]}"}); then
		result[$name]="FAILED (tests)"
	fi
	elapsed[$name]=$(($(date +%s) - start))
	echo "== $name: ${result[$name]} in ${elapsed[$name]} s"
}

for b in "${builds[@]}"; do
	if [ "$b" = tsan ]; then
		tsan_probe
	fi
	run_build "$b"
done

banner "pgfree test summary ($root)"
status=0
for b in "${builds[@]}"; do
	printf '%-8s %-20s %5s s\n' "$b" "${result[$b]}" "${elapsed[$b]}"
	[ "${result[$b]}" = passed ] || status=1
done
if [ $status -eq 0 ]; then
	echo "all ${#builds[@]} build(s) passed"
else
	echo "some builds FAILED"
fi
exit $status
