#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Install the Debian packages pgfree needs, when missing.
#
#   scripts/deps.sh test    compilers, CMake, test framework and peers
#   scripts/deps.sh bench   the above, plus Google Benchmark and gnuplot
#
# As root, installs what is missing with apt-get (non-interactive; works
# without a terminal and with CI=true).  Otherwise prints the apt-get command
# to run and exits 1.  Does nothing, successfully, when all is installed.
set -euo pipefail

usage() {
	echo "usage: $0 {test|bench}" >&2
	exit 2
}

[ $# -eq 1 ] || usage

# The normal test build also builds the benchmark and runs its smoke test.
# clang + libclang-rt-dev: the asan build and its libFuzzer API fuzzer.
test_pkgs=(cmake gcc g++ clang libclang-rt-dev make pkg-config python3 libcriterion-dev
	liburcu-dev libatomic-ops-dev libck-dev libbenchmark-dev spin)
bench_pkgs=("${test_pkgs[@]}" gnuplot-nox)

case "$1" in
test) pkgs=("${test_pkgs[@]}") ;;
bench) pkgs=("${bench_pkgs[@]}") ;;
*) usage ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps.sh: dpkg-query not found (not a Debian system); not checking." >&2
	echo "deps.sh: make sure the equivalents of these are installed: ${pkgs[*]}" >&2
	exit 0
fi

missing=()
for pkg in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "Missing Debian packages: ${missing[*]}"
	echo "Install them with: sudo apt-get install -y ${missing[*]}"
	exit 1
fi

echo "deps.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null
