#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Summarize raw.jsonl (by default the one beside this script: examples/iommu_sva --json,
modes v5 and pgfree, each with the default yielding flush wait and with
--sleep-wait, 1 and 2 CPU threads, interleaved): medians [IQR] of where the
time goes, and the paired pgfree/v5 ratio per repetition."""
import collections
import json
import os
import statistics as st
import sys

path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "raw.jsonl")
rows = collections.defaultdict(list)
for line in open(path):
    d = json.loads(line)
    rows[(d["threads"], d["mode"])].append(d)


def med(v):
    v = sorted(v)
    q = st.quantiles(v, n=4, method="inclusive") if len(v) > 1 else [v[0]] * 3
    return "%.4g [%.3g-%.3g]" % (st.median(v), q[0], q[2])


def pos(x):
    return max(x, 1)


FIG = [
    ("map+unmap/s", lambda d: d["map_unmap"] / d["seconds"]),
    ("flushes/1000 frees", lambda d: 1000 * d["flushes"] / pos(d["tables_freed"])),
    ("flush mean us", lambda d: d["flush_ns_total"] / pos(d["flushes"]) / 1e3),
    ("slow flushes %", lambda d: 100 * d["flush_slow"] / pos(d["flushes"])),
    ("slow flush us", lambda d: d["flush_slow_ns"] / pos(d["flush_slow"]) / 1e3),
    ("fast flush us", lambda d: (d["flush_ns_total"] - d["flush_slow_ns"])
     / pos(d["flushes"] - d["flush_slow"]) / 1e3),
    ("flusher in flush %", lambda d: 100 * d["flush_ns_total"] / d["seconds"] / 1e9),
    ("CPU thr on CPU %", lambda d: 100 * d["producer_cpu_ns"] / d["seconds"] / 1e9 / d["threads"]),
    ("CPU thr runnable %", lambda d: 100 * d["producer_runq_ns"] / d["seconds"] / 1e9 / d["threads"]),
    ("CPU thr pool-dry %", lambda d: 100 * d["pool_wait_ns"] / d["seconds"] / 1e9 / d["threads"]),
    ("pool-dry episodes/s", lambda d: d["pool_dry"] / d["seconds"]),
    ("CPU ns per op", lambda d: d["producer_cpu_ns"] / pos(d["map_unmap"])),
    ("frees per op", lambda d: d["tables_freed"] / pos(d["map_unmap"])),
    ("free call ns", lambda d: d["free_ns_per_free"]),
    ("lock wait ns/free", lambda d: d["lock_wait_ns_per_free"]),
    ("wake-ups/1000 frees", lambda d: 1000 * d["wakeups"] / pos(d["tables_freed"])),
    ("devices CPU s/s", lambda d: d["dev_run_ns"] / d["seconds"] / 1e9),
    ("device off-CPU us", lambda d: d["dev_runq_ns"] / pos(d["dev_slices"]) / 1e3),
    ("flusher CPU s/s", lambda d: d["worker_run_ns"] / d["seconds"] / 1e9),
    ("flusher CPU ns/free", lambda d: d["worker_run_ns"] / pos(d["tables_freed"])),
    ("flusher runnable s/s", lambda d: d["worker_runq_wait_ns"] / d["seconds"] / 1e9),
    ("reuse p50 us", lambda d: d["reuse_p50_us"]),
    ("stale walks", lambda d: d["stale_walks"]),
]
MODES = ["v5", "pgfree", "v5-sleepwait", "pgfree-sleepwait", "none"]
for t in sorted({k[0] for k in rows}):
    modes = [m for m in MODES if (t, m) in rows]
    print("== %d CPU thread(s), 2 device threads, 2 CPUs; runs per cell: %s" %
          (t, " ".join("%s=%d" % (m, len(rows[(t, m)])) for m in modes)))
    print("%-22s" % "" + "".join("%-27s" % m for m in modes))
    for name, f in FIG:
        print("%-22s" % name + "".join("%-27s" % med([f(d) for d in rows[(t, m)]]) for m in modes))
    for suf in ("", "-sleepwait"):
        p, v = rows.get((t, "pgfree" + suf)), rows.get((t, "v5" + suf))
        if p and v:
            r = [a["map_unmap"] / a["seconds"] / (b["map_unmap"] / b["seconds"])
                 for a, b in zip(p, v)]
            print("pgfree%s / v5%s map+unmap/s, paired by repetition: %s" % (suf, suf, med(r)))
    print()
