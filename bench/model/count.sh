#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Check the transfer table (README.md, transfers.json) by counting: run the
# real library's defers, drains and take-backs in a fixed interleaving
# (trace.c) under valgrind's lackey (Debian package valgrind), replay the
# memory trace through a MESI model (mesi.py), and write the counts to
# bench/model/counts.txt (committed; stage.sh copies it into results) and
# into the "counted" object of bench/model/transfers.json (the rest of that
# file, the derivation from the code, is written by hand).
#
#   bench/model/count.sh [ROUNDS] [DRAIN_EVERY]     (default 64 8; ~30 s)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
rounds=${1:-64}
every=${2:-8}
designs="v5 v5_tas v3 v3_tas global_llist percpu percpu_takeback"
command -v valgrind >/dev/null || { echo "count.sh: valgrind not found (apt-get install valgrind)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# -O2 as the library is built; -g only for reading the trace by hand.
nice -n 10 "${CC:-cc}" -O2 -g -std=gnu11 -Wall -Wextra -D_GNU_SOURCE -I"$root/include" -I"$root/lib" \
	"$here/trace.c" "$root"/lib/*.c -o "$tmp/trace" -lpthread
{
	echo "# bench/model/count.sh $rounds $every: coherence transactions, counted from valgrind lackey"
	echo "# traces of trace.c replayed through mesi.py (MESI, one cache per thread, infinite"
	echo "# capacity, 64-byte lines).  Producers P0 and P1 alternate one defer each, recycling a"
	echo "# ring of $((2 * every)) descriptors; the drainer D drains every $every rounds; on the take-back"
	echo "# domain P0 and P1 then take back on their own CPUs.  $(valgrind --version), $(${CC:-cc} --version | head -1)."
	echo "# Roles: defer, takeback, drain = the library; release (the ->release() callback, on D) and"
	echo "# user (reuse of a descriptor, hand-out of what was taken back, on P) = the user's code."
	echo "# 'shared lines' = the domain, its lists, take-back lines or locked list; descriptors apart."
	for d in $designs; do
		nice -n 10 valgrind --tool=lackey --trace-mem=yes --log-file="$tmp/lk.$d" \
			"$tmp/trace" "$d" "$rounds" "$every" > "$tmp/ranges.$d"
		python3 "$here/mesi.py" --ranges "$tmp/ranges.$d" --trace "$tmp/lk.$d" --json "$tmp/c.$d.json"
		rm -f "$tmp/lk.$d"
	done
} > "$here/counts.txt.tmp"
mv "$here/counts.txt.tmp" "$here/counts.txt"
# The counted figures into transfers.json, beside the hand-written derivation.
python3 - "$here/transfers.json" "$tmp" $designs <<'EOF'
import json, sys
path, tmp, designs = sys.argv[1], sys.argv[2], sys.argv[3:]
with open(path) as f:
    t = json.load(f)
t["counted"] = {d: json.load(open("%s/c.%s.json" % (tmp, d))) for d in designs}
with open(path + ".tmp", "w") as f:
    json.dump(t, f, indent=1)
    f.write("\n")
EOF
mv "$here/transfers.json.tmp" "$here/transfers.json"
cat "$here/counts.txt"
