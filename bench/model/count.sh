#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Check the transfer table (README.md, transfers.json) by counting: run the
# real library's defers and drains in a fixed interleaving (trace.c) under
# valgrind's lackey (Debian package valgrind), replay the memory trace
# through a MESI model (mesi.py), and write the counts to
# bench/model/counts.txt (committed; stage.sh copies it into results).
#
#   bench/model/count.sh [ROUNDS] [DRAIN_EVERY]     (default 64 8; ~10 s)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-64}
every=${2:-8}
command -v valgrind >/dev/null || { echo "count.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# -O2 as the library is built; -g only for reading the trace by hand.
nice -n 10 "${CC:-cc}" -O2 -g -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -I"$root/include" -I"$root/lib" \
	"$here/trace.c" "$root"/lib/*.c -o "$tmp/trace" -lpthread
{
	echo "# bench/model/count.sh $rounds $every: coherence transactions per operation, counted"
	echo "# from valgrind lackey traces of trace.c replayed through mesi.py (MESI, one cache"
	echo "# per thread, infinite capacity, 64-byte lines).  Producers P0 and P1 alternate one"
	echo "# defer each; the drain runs every $every rounds.  $(valgrind --version), $(${CC:-cc} --version | head -1)."
	echo "# 'shared lines' = the domain and its lists/locked list; descriptors counted apart."
	for d in v5 v3 global_llist percpu; do
		valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/lk.$d" \
			"$tmp/trace" "$d" "$rounds" "$every" > "$tmp/ranges.$d"
		python3 "$here/mesi.py" --ranges "$tmp/ranges.$d" --trace "$tmp/lk.$d"
	done
} > "$here/counts.txt.tmp"
mv "$here/counts.txt.tmp" "$here/counts.txt"
cat "$here/counts.txt"
