#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Count coherence transactions in a valgrind lackey trace of trace.c.

Reads the ranges trace.c printed (--ranges) and lackey's --trace-mem=yes
log (stdin or --trace), attributes each data access to the thread whose
marker load came last (trace.c runs whole operations by turns), and replays
the accesses to the tracked ranges (the domain, its lists or locked list,
the descriptors) through a MESI model with one private cache per thread,
infinite capacity, 64-byte lines.  Per operation it counts:

  transfer  the line's data comes from another thread's cache: a read or
            write miss on a line another cache holds (modified, exclusive
            or shared);
  upgrade   a write to a line this cache holds shared while others do too
            (invalidations, no data);
  cold      first touch of a line by anyone (not a sharing cost).

The first WARMUP operations (trace.c's warm-up: 2 x 8 defers and a drain)
are replayed but not counted.
"""
import argparse
import collections
import sys

LINE = 64


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranges", required=True)
    ap.add_argument("--trace", default="-")
    ap.add_argument("--warmup-ops", type=int, default=17)
    args = ap.parse_args()

    markers = {}
    tracked = []
    meta = ""
    for line in open(args.ranges):
        f = line.split()
        if f and f[0] == "design":
            meta = line.strip()
        if len(f) != 4 or f[0] != "range":
            continue
        name, start, length = f[1], int(f[2], 16), int(f[3])
        if name.startswith("marker_"):
            markers[start] = name[len("marker_"):]
        else:
            tracked.append((start, start + length, name))

    def label(addr):
        for lo, hi, name in tracked:
            if lo <= addr < hi:
                if name.startswith("desc"):
                    return name
                return "%s+%d" % (name, (addr - lo) // LINE * LINE)
        return None

    owner = {}			# line -> thread holding it M/E
    sharers = collections.defaultdict(set)
    cur = None
    nops = collections.Counter()
    counts = collections.defaultdict(collections.Counter)	# (who, kind) -> label counter
    seen_ops = 0
    counting = False

    src = sys.stdin if args.trace == "-" else open(args.trace)
    for line in src:
        if len(line) < 4 or line[0] != " " or line[1] not in "LSM":
            continue
        kind = line[1]
        addr = int(line[3:line.index(",")], 16)
        if addr in markers:
            m = markers[addr]
            if m in ("p0", "p1", "d"):
                cur = m
                seen_ops += 1
                counting = seen_ops > args.warmup_ops
                if counting:
                    nops[m] += 1
            elif m == "idle":
                cur = None
            continue
        if cur is None:
            continue
        lab = label(addr)
        if lab is None:
            continue
        ln = addr // LINE
        who = cur
        ev = None
        if kind == "L":
            if owner.get(ln) == who or who in sharers[ln]:
                pass
            elif ln not in owner and not sharers[ln]:
                ev = "cold"
                owner[ln] = who
            else:
                ev = "transfer"
                if ln in owner:
                    sharers[ln].add(owner.pop(ln))
                sharers[ln].add(who)
        else:				# S, M: a write (M = read-modify-write)
            if owner.get(ln) == who:
                pass
            elif ln not in owner and not sharers[ln]:
                ev = "cold"
                owner[ln] = who
            else:
                others = (sharers[ln] | ({owner[ln]} if ln in owner else set())) - {who}
                if who in sharers[ln] and ln not in owner:
                    ev = "upgrade" if others else None
                else:
                    ev = "transfer"
                owner[ln] = who
                sharers[ln] = set()
        if ev and counting:
            counts[(who, ev)][lab] += 1

    print(meta)
    role = {"p0": "producer P0 (CPU 0)", "p1": "producer P1 (CPU 1)", "d": "drain"}
    for who in ("p0", "p1", "d"):
        n = nops[who]
        if not n:
            continue
        parts = []
        for ev in ("transfer", "upgrade", "cold"):
            c = counts[(who, ev)]
            tot = sum(c.values())
            shared = sum(v for k, v in c.items() if not k.startswith("desc"))
            detail = ", ".join("%s %d" % kv for kv in sorted(c.items()) if not kv[0].startswith("desc"))
            parts.append("%s %.2f/op (shared lines %.2f/op%s; descriptors %.2f/op)"
                         % (ev, tot / n, shared / n, (": " + detail) if detail else "",
                            (tot - shared) / n))
        print("  %-20s %4d ops: %s" % (role[who], n, "; ".join(parts)))


if __name__ == "__main__":
    main()
