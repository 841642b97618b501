#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
# Builds the two programs against this tree's lib/ (into a temporary
# directory) and runs them, interleaved, as the README describes.
# Usage: run.sh [ROUNDS] (default 6); output on stdout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../../../.." && pwd)
rounds=${1:-6}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc=${CC:-cc}
$cc -O2 -pthread "$here/alu_cas.c" -o "$tmp/alu_cas"
$cc -O2 -std=gnu11 -D_GNU_SOURCE -I"$root/include" -I"$root/lib" \
	"$here/defer_levels.c" "$root"/lib/*.c -o "$tmp/defer_levels" -lpthread
echo "# $(date -u +%FT%TZ), load average $(cut -d' ' -f1-3 /proc/loadavg), commit $(git -C "$root" rev-parse --short HEAD)"
for r in $(seq "$rounds"); do
	echo "## round $r"
	"$tmp/alu_cas" alu
	"$tmp/alu_cas" alu 2
	"$tmp/alu_cas" cas
	"$tmp/alu_cas" cas 2
	"$tmp/alu_cas" stream
	"$tmp/alu_cas" stream 2
	"$tmp/defer_levels" 1
	"$tmp/defer_levels" 2
	"$tmp/defer_levels" 1 tb
	"$tmp/defer_levels" 2 tb
	if command -v setarch >/dev/null; then
		echo -n "(no ASLR) "; setarch "$(uname -m)" -R "$tmp/defer_levels" 2
	fi
done
