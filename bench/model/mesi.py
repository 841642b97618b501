#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Count coherence transactions in a valgrind lackey trace of trace.c.

Reads the ranges trace.c printed (--ranges) and lackey's --trace-mem=yes
log (--trace), attributes each data access to the cache (thread) and role
of the marker loaded last (trace.c: "p0.defer", "d.release", ...), and
replays the accesses to the tracked ranges (the domain, its lists, its
take-back lines or locked list, the descriptors) through a MESI model with
one private cache per thread, infinite capacity, 64-byte lines.  It counts:

  transfer  the line's data comes from another thread's cache: a read or
            write miss on a line another cache holds (modified, exclusive
            or shared);
  upgrade   a write to a line this cache holds shared while others do too
            (invalidations, no data);
  cold      first touch of a line by anyone (not a sharing cost).

Counting starts at trace.c's "start" marker (after its warm-up rounds).

Output, per design: one line per cache and role (ops, then transfers,
upgrades and cold misses per op, shared lines apart from descriptors), and
a per-descriptor summary: the descriptor transfers and upgrades each role
costs per deferred descriptor, the whole cycle (every role), and what the
shared lines cost per drain and list.  With --json FILE the same figures
are written as JSON (count.sh collects them into counts.json).
"""
import argparse
import collections
import json
import sys

LINE = 64
ROLE_ORDER = ("defer", "user", "takeback", "drain", "release")
ROLE_TEXT = {
    "defer": "pgfree_defer() (library, producer CPU)",
    "user": "reuse and hand-out to the allocator (user, producer CPU)",
    "takeback": "pgfree_take_back() (library, producer CPU)",
    "drain": "pgfree_drain() less the callbacks (library, drain CPU)",
    "release": "->release() callback (user, drain CPU)",
}
CACHE_TEXT = {"p0": "producer P0 (CPU 0)", "p1": "producer P1 (CPU 1)", "d": "drainer D"}
EVENTS = ("transfer", "upgrade", "cold")


def parse_ranges(path):
    markers, tracked, meta = {}, [], {}
    head = ""
    for line in open(path):
        f = line.split()
        if f and f[0] == "design":
            head = line.strip()
            meta = dict(zip(f[0::2], f[1::2]))
        if len(f) != 4 or f[0] != "range":
            continue
        name, start, length = f[1], int(f[2], 16), int(f[3])
        if name.startswith("marker_"):
            markers[start] = name[len("marker_"):]
        else:
            tracked.append((start, start + length, name))
    return head, meta, markers, tracked


def replay(markers, tracked, trace):
    """MESI replay; returns (ops, counts): ops[(cache, role)] = operations
    begun, counts[(cache, role, event)][label] = transactions."""

    def label(addr):
        for lo, hi, name in tracked:
            if lo <= addr < hi:
                if name.startswith("desc"):
                    return "desc"
                return "%s+%d" % (name, (addr - lo) // LINE * LINE)
        return None

    owner = {}			# line -> cache holding it M/E
    sharers = collections.defaultdict(set)
    cur = None
    counting = False
    ops = collections.Counter()
    counts = collections.defaultdict(collections.Counter)
    for line in trace:
        if len(line) < 4 or line[0] != " " or line[1] not in "LSM":
            continue
        kind = line[1]
        addr = int(line[3:line.index(",")], 16)
        if addr in markers:
            m = markers[addr]
            if m == "start":
                counting = True
            elif m == "idle":
                cur = None
            else:
                cache, role = m.split(".")
                # "drain+": the drain resumes after ->release(), no new op.
                if role.endswith("+"):
                    role = role[:-1]
                elif counting:
                    ops[(cache, role)] += 1
                cur = (cache, role)
            continue
        if cur is None:
            continue
        lab = label(addr)
        if lab is None:
            continue
        ln = addr // LINE
        who = cur[0]
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
            counts[(cur[0], cur[1], ev)][lab] += 1
    return ops, counts


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ranges", required=True)
    ap.add_argument("--trace", default="-")
    ap.add_argument("--json", help="also write the figures as JSON here")
    args = ap.parse_args()

    head, meta, markers, tracked = parse_ranges(args.ranges)
    src = sys.stdin if args.trace == "-" else open(args.trace)
    ops, counts = replay(markers, tracked, src)

    def total(cache, role, ev, desc):
        c = counts.get((cache, role, ev), {})
        return sum(v for k, v in c.items() if (k == "desc") == desc)

    print(head)
    for cache in ("p0", "p1", "d"):
        for role in ROLE_ORDER:
            n = ops[(cache, role)]
            if not n:
                continue
            parts = []
            for ev in EVENTS:
                c = counts.get((cache, role, ev), {})
                shared = total(cache, role, ev, False)
                detail = ", ".join("%s %d" % kv for kv in sorted(c.items()) if kv[0] != "desc")
                parts.append("%s %.2f/op (shared lines %.2f%s; descriptors %.2f)"
                             % (ev, (shared + c.get("desc", 0)) / n, shared / n,
                                (": " + detail) if detail else "", c.get("desc", 0) / n))
            print("  %-19s %-8s %4d ops: %s" % (CACHE_TEXT[cache], role, n, "; ".join(parts)))

    # Per deferred descriptor, by role (both producers together).
    ndesc = ops[("p0", "defer")] + ops[("p1", "defer")]
    drains = ops[("d", "drain")]
    lists = int(meta.get("lists", 2))
    out = {"design": meta.get("design"), "descriptors": ndesc, "drains": drains,
           "lists": lists, "per_descriptor": {}, "shared_per_drain_per_list": {},
           "drain_shared_per_list": {}, "per_defer_shared": {}}
    if not ndesc:
        return
    cyc = collections.Counter()
    row = []
    for role in ROLE_ORDER:
        if not any(ops[(c, role)] for c in ("p0", "p1", "d")):
            continue
        t = sum(total(c, role, "transfer", True) for c in ("p0", "p1", "d"))
        u = sum(total(c, role, "upgrade", True) for c in ("p0", "p1", "d"))
        cyc["transfer"] += t
        cyc["upgrade"] += u
        out["per_descriptor"][role] = {"transfer": t / ndesc, "upgrade": u / ndesc}
        row.append("%s %.2f+%.2f" % (role, t / ndesc, u / ndesc))
    out["per_descriptor"]["cycle"] = {"transfer": cyc["transfer"] / ndesc,
                                      "upgrade": cyc["upgrade"] / ndesc}
    print("  per descriptor, on descriptor lines (transfers+upgrades): %s; whole cycle %.2f+%.2f"
          % ("; ".join(row), cyc["transfer"] / ndesc, cyc["upgrade"] / ndesc))
    # The shared lines: per defer (producers' defer role) and per drain and list (all roles).
    sh = collections.Counter()
    for c in ("p0", "p1"):
        for ev in ("transfer", "upgrade"):
            sh[ev] += total(c, "defer", ev, False)
    out["per_defer_shared"] = {ev: sh[ev] / ndesc for ev in ("transfer", "upgrade")}
    if drains:
        per = collections.Counter()
        for (c, role, ev), lab in counts.items():
            if ev == "cold":
                continue
            for k, v in lab.items():
                if k != "desc":
                    per[(k.split("+")[0], ev)] += v
        shared_txt = []
        for name in sorted({k[0] for k in per}):
            t = per[(name, "transfer")] / (drains * lists)
            u = per[(name, "upgrade")] / (drains * lists)
            out["shared_per_drain_per_list"][name] = {"transfer": t, "upgrade": u}
            shared_txt.append("%s %.2f+%.2f" % (name, t, u))
        # The drain's own share: what one drain pays per list it empties.
        own = {ev: sum(total("d", r, ev, False) for r in ("drain", "release")) / (drains * lists)
               for ev in ("transfer", "upgrade")}
        out["drain_shared_per_list"] = own
        print("  shared lines, every role, per drain and list (transfers+upgrades): %s; the "
              "drain's own %.2f+%.2f" % (", ".join(shared_txt), own["transfer"], own["upgrade"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
