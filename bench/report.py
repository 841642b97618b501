#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Turn pgfree_bench's output into bench.json, summary.txt, results.csv and
gnuplot PNGs.

usage: report.py GBENCH.json ENQUEUE.json OUTDIR [--lockstat LOCKSTAT.json]
                 [--info RUN_INFO.json]

  GBENCH.json    Google Benchmark's JSON (end_to_end, latency, memory), with
                 every repetition (not only aggregates)
  ENQUEUE.json   the enqueue runner's JSON (pgfree_bench --enqueue-out)
  LOCKSTAT.json  the same runner from pgfree_bench_lockstat (v5/v3 lock
                 wait and hold histograms), optional
  RUN_INFO.json  written by scripts/bench.sh: machine name, load averages at
                 start and end, topology, durations; optional

Every figure is the median over repetitions, with its interquartile range
(IQR = q3 - q1, quartiles by linear interpolation).  Ratios are between rows
of the same run, never across runs.

bench.json (OUTDIR/bench.json): the format other tools read.  KEEP THESE
KEYS STABLE (bench/model/ and docs/benchmarks.md depend on them):

  {
    "format": "pgfree-bench/2",
    "valid": true | false,          # the floor sanity check (see below)
    "validity": "text",
    "context": {...},               # Google Benchmark's context + ours
                                    # (pgfree_cpu_model, pgfree_cpus_online,
                                    # pgfree_pinning, load_avg_start, ...)
    "run_info": {...},              # RUN_INFO.json as given
    "enqueue_config": {...},        # repetitions, window_ns, warmup_ns, ...
    "rows": [ ROW, ... ],
    "gbench": [...]                 # Google Benchmark's raw entries
  }

  ROW, enqueue (one per design x policy x producer count):
    name            "enqueue/<design>/policy:<policy>/threads:<n>"
    workload        "enqueue"
    design          "percpu", "v5", "v5_kernel", "v3", "global_llist",
                    "percpu_mark", "percpu_bounded", "call_rcu",
                    "call_rcu_rt", "lfs_percpu", "lfs_global", "wfcq",
                    "ao_stack", "floor" (and variants added later)
    policy          "delay"   pgfree's default: gather 50 us after a wake-up
                    "nodelay" drain at once
                    "kernel"  v5_kernel only: the kernel's worker (no delay)
                    "own"     call_rcu*: liburcu's own worker loop
                    "none"    the floor (no consumer)
    threads         producer threads
    oversubscribed  true when threads > the CPUs producers may use; such
                    rows are never judged by a target
    pinned          producers pinned one per CPU
    items_per_second  {"median", "q1", "q3", "iqr", "min", "max"}:
                    sustained: aggregate descriptors deferred per second (all
                    producers), waits for a descriptor to come back included
    producer_items_per_second {...}: producer side: the same over each
                    window less its stall time (what the defer call costs;
                    the headline tables and the targets use this one)
    stall_share     {...}: mean share of a window spent waiting for a
                    descriptor to be released (the consumer's lag)
    ns_per_op_per_thread {"median", "q1", "q3"}: threads / aggregate
                    sustained rate
    samples, producer_samples  the per-repetition aggregate rates
    stalls_per_run, flushes_per_1000, repetitions, flush_hook
    peer            true for another library (the targets compare with these)
  ROW, end_to_end:  name "end_to_end/<design>/policy:<p>/flush_ns:<F>",
    workload, design, policy, threads, flush_ns, oversubscribed (false),
    items_per_second {...}, flushes_per_1000 {...}, batch {...}
  ROW, latency:     name "latency/<design>/policy:<p>", p50_us, p99_us,
    max_us (each {"median", "q1", "q3", "iqr"})
  ROW, memory:      name "memory/<design>/policy:<p>", peak_backlog,
    peak_rss_MiB (each {"median", "q1", "q3", "iqr"})
  ROW, lockstat:    name "lockstat/<design>/policy:<p>/threads:<n>",
    oversubscribed, lock_wait_ns_log2_hist, lock_hold_ns_log2_hist
    (bucket i counts [2^i, 2^(i+1)) ns), lock_wait_max_ns,
    lock_hold_max_ns, and p50/p99 of each (bucket upper bounds, ns)

The floor sanity check: with 2 or more CPUs, the floor's (one private
atomic per item) median aggregate rate at 2 threads must be at least 1.6x
its 1-thread rate, or the run is marked INVALID: a floor that does not
scale means the timed windows hold something besides the work, or the
machine was busy.
"""
import argparse
import csv
import json
import math
import os
import shutil
import subprocess
import sys

# Report order; designs not listed here (new variants) follow in JSON order.
ORDER = ["floor", "percpu", "percpu_takeback", "percpu_rseq", "percpu_mark", "percpu_bounded", "v5_kernel", "v5", "v3",
         "v5_kernel_tas", "v5_tas", "v3_tas",
         "global_llist", "call_rcu", "call_rcu_rt", "lfs_percpu", "lfs_global", "wfcq",
         "ao_stack", "ck_epoch"]
PGFREE = {"percpu", "percpu_takeback", "percpu_rseq", "percpu_mark", "percpu_bounded", "v5", "v5_kernel", "v3",
          "v5_kernel_tas", "v5_tas", "v3_tas",
          "global_llist"}
PEERS = ["call_rcu", "call_rcu_rt", "lfs_percpu", "lfs_global", "wfcq", "ao_stack", "ck_epoch"]
# Rows that appear in both policy tables: their policy is fixed.
FIXED = {"none", "kernel", "own"}
TABLE_POLICIES = ["delay", "nodelay"]


def quart(vals):
    v = sorted(vals)
    n = len(v)
    if not n:
        return None

    def q(p):
        pos = p * (n - 1)
        i = int(pos)
        if i + 1 >= n:
            return v[-1]
        return v[i] + (pos - i) * (v[i + 1] - v[i])
    q1, med, q3 = q(0.25), q(0.5), q(0.75)
    return {"median": med, "q1": q1, "q3": q3, "iqr": q3 - q1, "min": v[0], "max": v[-1]}


def parse_name(name):
    """latency/percpu/policy:delay/real_time/threads:1 ->
    ('latency', 'percpu', {'policy': 'delay', 'threads': '1'})"""
    parts = name.split("/")
    kv = {}
    for p in parts[2:]:
        if ":" in p:
            k, v = p.split(":", 1)
            kv[k] = v
    return parts[0], parts[1], kv


def gbench_rows(doc, ncpu):
    """Group Google Benchmark's per-repetition entries by run_name."""
    groups = {}
    for b in doc.get("benchmarks", []):
        if b.get("error_occurred") or b.get("run_type") == "aggregate":
            continue
        groups.setdefault(b.get("run_name", b["name"]), []).append(b)
    rows = []
    for run_name, bs in groups.items():
        kind, design, kv = parse_name(run_name)
        threads = int(kv.get("threads", bs[0].get("threads", 1)))
        # Stable name: without Google Benchmark's decorations.
        name = "%s/%s/policy:%s" % (kind, design, kv.get("policy", "?"))
        if kind == "end_to_end":
            name += "/flush_ns:%s" % kv.get("flush_ns", "0")
        row = {"name": name, "workload": kind, "design": design,
               "policy": kv.get("policy", "?"), "threads": threads,
               "oversubscribed": threads > ncpu, "repetitions": len(bs)}
        if kind == "end_to_end":
            row["flush_ns"] = int(kv.get("flush_ns", 0))
        keys = {"end_to_end": ["items_per_second", "flushes_per_1000", "batch"],
                "latency": ["p50_us", "p99_us", "max_us"],
                "memory": ["peak_backlog", "peak_rss_MiB"]}.get(kind, [])
        for k in keys:
            vals = [b[k] for b in bs if k in b]
            if vals:
                row[k] = quart(vals)
        rows.append(row)
    return rows


def hist_pct(hist, p):
    total = sum(hist)
    if not total:
        return 0
    acc = 0
    for i, c in enumerate(hist):
        acc += c
        if acc >= p * total:
            return 2 ** (i + 1)
    return 2 ** len(hist)


def fmt_ns(ns):
    if ns >= 1e9:
        return "%.1fs" % (ns / 1e9)
    if ns >= 1e6:
        return "%.1fms" % (ns / 1e6)
    if ns >= 1e3:
        return "%.1fus" % (ns / 1e3)
    return "%dns" % ns


def design_order(names):
    known = [d for d in ORDER if d in names]
    return known + [d for d in names if d not in ORDER]


PROD = "producer_items_per_second"


def prod(r):
    """The producer-side rate dict of an enqueue row (older JSON: sustained)."""
    return r.get(PROD, r["items_per_second"])


def prod_ns(r):
    """ns per defer per producer thread, producer side (median)."""
    return r["threads"] * 1e9 / prod(r)["median"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("gbench")
    ap.add_argument("enqueue")
    ap.add_argument("outdir")
    ap.add_argument("--lockstat")
    ap.add_argument("--info")
    a = ap.parse_args()
    out = a.outdir
    os.makedirs(out, exist_ok=True)

    with open(a.gbench) as f:
        gdoc = json.load(f)
    with open(a.enqueue) as f:
        edoc = json.load(f)
    info = {}
    if a.info and os.path.exists(a.info):
        with open(a.info) as f:
            info = json.load(f)
    ctx = gdoc.get("context", {})
    ncpu = int(ctx.get("pgfree_cpus_online", ctx.get("num_cpus", 2)))
    # The CPUs producers may use: the enqueue rows know (oversubscribed flag).
    enq_rows = edoc["rows"]
    npin = max([r["threads"] for r in enq_rows if not r["oversubscribed"]] or [ncpu])

    rows = list(enq_rows) + gbench_rows(gdoc, npin)
    if a.lockstat and os.path.exists(a.lockstat):
        with open(a.lockstat) as f:
            ldoc = json.load(f)
        for r in ldoc["rows"]:
            if "lock_wait_ns_log2_hist" not in r:
                continue
            lr = {"name": r["name"].replace("enqueue/", "lockstat/", 1), "workload": "lockstat",
                  "design": r["design"], "policy": r["policy"], "threads": r["threads"],
                  "oversubscribed": r["oversubscribed"],
                  "items_per_second_instrumented": r["items_per_second"]}
            for k in ("lock_wait_ns_log2_hist", "lock_hold_ns_log2_hist",
                      "lock_wait_max_ns", "lock_hold_max_ns"):
                lr[k] = r[k]
            for w in ("wait", "hold"):
                h = r["lock_%s_ns_log2_hist" % w]
                lr["lock_%s_p50_ns" % w] = hist_pct(h, 0.5)
                lr["lock_%s_p99_ns" % w] = hist_pct(h, 0.99)
                lr["lock_%s_over_100us" % w] = sum(h[17:])  # >= 2^17 ns = 131 us
            rows.append(lr)

    enq = {(r["design"], r["policy"], r["threads"]): r for r in enq_rows}
    threads = sorted({r["threads"] for r in enq_rows})
    designs = design_order(list(dict.fromkeys(r["design"] for r in enq_rows)))

    def rate(d, p, t, key=PROD):
        r = enq.get((d, p, t))
        return r.get(key, r["items_per_second"])["median"] if r else None

    def pol_of(d, p):
        """The policy a design's row has in table p (fixed ones keep theirs)."""
        for fp in FIXED:
            if (d, fp, threads[0]) in enq or any((d, fp, t) in enq for t in threads):
                return fp
        return p

    # ---- the floor sanity check ----
    f1, f2 = rate("floor", "none", 1), rate("floor", "none", 2)
    if npin < 2:
        valid, validity = True, "floor check not applicable (fewer than 2 CPUs)"
    elif f1 is None or f2 is None:
        valid, validity = False, "INVALID: no floor rows at 1 and 2 threads"
    else:
        ok = f2 >= 1.6 * f1
        valid = ok
        validity = "%s: floor aggregate at 2 threads %.1f M/s = %.2fx its 1-thread %.1f M/s " \
                   "(needs >= 1.6x)" % ("valid" if ok else "INVALID", f2 / 1e6, f2 / f1, f1 / 1e6)

    lines = []
    p = lines.append
    p("pgfree benchmark summary")
    p("=" * 24)
    if not valid:
        p("*** THIS RUN IS INVALID -- %s ***" % validity.split(": ", 1)[-1])
    p("machine: %s (%s), %s CPUs online, %s NUMA node(s), kernel %s" % (
        info.get("machine", "?"), ctx.get("pgfree_cpu_model", "?"),
        ctx.get("pgfree_cpus_online", "?"), ctx.get("pgfree_numa_nodes", "?"),
        ctx.get("pgfree_kernel", "?")))
    p("compiler: %s; mode: %s; producers pinned to CPUs %s while producers <= %d" % (
        ctx.get("pgfree_compiler", "?"), ctx.get("pgfree_mode", "?"),
        ctx.get("pgfree_pinning", "none"), npin))
    p("load average at start: %s; at end: %s; date: %s" % (
        info.get("load_avg_start", "?"), info.get("load_avg_end", "?"), ctx.get("date", "?")))
    ec = edoc.get("enqueue_config", {})
    p("enqueue: %s repetitions (+1 warm-up pass), cells shuffled in each; each producer times "
      "its own %.0f ms window after %.0f ms of warm-up" % (
          ec.get("repetitions", "?"), ec.get("window_ns", 0) / 1e6, ec.get("warmup_ns", 0) / 1e6))
    p("batching: policy delay = gather %s us after a wake-up (batch_max 4096), nodelay = none;"
      % ctx.get("pgfree_batch_delay_us", "50"))
    p("  the same for pgfree's drain and the peers' (bench/bdrain.c)")
    p("harness sanity: " + validity)
    # Only the load before the run says whether other work shared the CPUs:
    # the load at the end counts the benchmark's own threads (up to 16
    # producers per cell plus consumers), so it is recorded, not judged.
    busy = []
    for k in ("load_avg_start",):
        try:
            la = float(str(info.get(k, "")).split()[0])
        except (ValueError, IndexError):
            continue
        if la > max(0.5, npin / 2.0):
            busy.append("%s %.2f" % (k, la))
    if busy:
        p("WARNING: the machine was not idle (%s, %d CPUs): other work shared the CPUs, so the"
          % (", ".join(busy), npin))
        p("  figures are the designs' under load, not the designs' alone; rerun when idle")
    p("")
    p("How to read: every cell is the median over repetitions with its IQR (q3-q1) in [];")
    p("columns marked (oversubscribed) have more producers than CPUs: they measure")
    p("user-space lock-holder preemption, which a kernel spinlock cannot suffer, and no")
    p("target is judged on them.  Fixed-policy rows (floor: none, v5_kernel: kernel,")
    p("call_rcu*: own) appear in both policy tables.")
    p("")

    def tcol(t):
        ov = any(r["oversubscribed"] for (d, pp, tt), r in enq.items() if tt == t)
        return ("threads=%d (oversubscribed)" if ov else "threads=%d") % t

    p("Two rates per cell.  PRODUCER SIDE (the headline, and what the targets judge):")
    p("defers per second of each producer's window less the time it waited for a")
    p("descriptor to come back from the consumer, i.e. what pgfree_defer() (or the")
    p("peer's enqueue) costs its caller under contention; a kernel caller never waits")
    p("for the worker to hand its page back.  SUSTAINED: the same with those waits")
    p("included, bounded by how fast the consumer releases (it shares the CPUs with")
    p("the producers); stall = median share of a window spent waiting.  In")
    p("oversubscribed columns the producer-side rate over-counts (a stalled producer")
    p("yields its CPU to another producer, whose window counts that time too), so")
    p("those cells show only the sustained rate, in the plots too.")
    p("")
    for key, what in ((PROD, "producer side"), ("items_per_second", "sustained")):
        for pol in TABLE_POLICIES:
            p("enqueue, %s, policy %s: aggregate M descriptors/s, median [IQR]; x percpu "
              "(higher is better)%s" % (what, pol, "; stall share" if key != PROD else ""))
            p("%-24s" % "design" + "".join("%28s" % tcol(t) for t in threads))
            for d in designs:
                dp = pol_of(d, pol)
                if not any((d, dp, t) in enq for t in threads):
                    continue
                row = "%-24s" % (d + ("" if dp == pol else " (%s)" % dp))[:24]
                for t in threads:
                    r = enq.get((d, dp, t))
                    if not r:
                        row += "%28s" % "-"
                        continue
                    if key == PROD and r["oversubscribed"]:
                        row += "%28s" % "(see sustained)"
                        continue
                    ips = r.get(key, r["items_per_second"])
                    pc = rate("percpu", pol, t, key)
                    cell = "%.1f [%.1f] %.2fx" % (ips["median"] / 1e6, ips["iqr"] / 1e6,
                                                  ips["median"] / pc if pc else float("nan"))
                    if key != PROD and "stall_share" in r:
                        cell += " s%.2f" % r["stall_share"]["median"]
                    row += "%28s" % cell
                p(row)
            p("")
    p("enqueue cost, producer side: ns per defer per producer thread (median; lower is "
      "better), x floor")
    p("%-24s" % "design/policy" + "".join("%28s" % tcol(t) for t in threads))
    for d in designs:
        for pol in sorted({pp for (dd, pp, tt) in enq if dd == d}):
            row = "%-24s" % ("%s/%s" % (d, pol))[:24]
            for t in threads:
                r = enq.get((d, pol, t))
                fl = enq.get(("floor", "none", t))
                if not r:
                    row += "%28s" % "-"
                    continue
                ns = prod_ns(r)
                row += "%28s" % ("%.2f (%.1fx f)" % (
                    ns, ns / prod_ns(fl) if fl else float("nan")))
            p(row)
    p("")

    # ---- lock statistics ----
    ls = [r for r in rows if r["workload"] == "lockstat"]
    if ls:
        p("lock statistics of the locked ports (instrumented build, its own runs): wait and")
        p("hold per acquisition, p50 / p99 / max; 'waits>131us' counts waits no running holder")
        p("explains (a preempted holder: user space only)")
        p("%-34s %24s %24s %12s %12s" % ("row", "wait p50/p99/max", "hold p50/p99/max",
                                          "acquisitions", "waits>131us"))
        for r in sorted(ls, key=lambda r: (r["design"], r["policy"], r["threads"])):
            p("%-34s %24s %24s %12d %12d" % (
                "%s/%s/%d%s" % (r["design"], r["policy"], r["threads"],
                                " (oversub.)" if r["oversubscribed"] else ""),
                "%s/%s/%s" % (fmt_ns(r["lock_wait_p50_ns"]), fmt_ns(r["lock_wait_p99_ns"]),
                              fmt_ns(r["lock_wait_max_ns"])),
                "%s/%s/%s" % (fmt_ns(r["lock_hold_p50_ns"]), fmt_ns(r["lock_hold_p99_ns"]),
                              fmt_ns(r["lock_hold_max_ns"])),
                sum(r["lock_wait_ns_log2_hist"]), r["lock_wait_over_100us"]))
        p("")

    g = {r["name"]: r for r in rows if r["workload"] in ("end_to_end", "latency", "memory")}
    gd = design_order(list(dict.fromkeys(r["design"] for r in g.values())))
    e2e = [r for r in g.values() if r["workload"] == "end_to_end"]
    if e2e:
        flushes = sorted({r["flush_ns"] for r in e2e})
        p("end_to_end (%d producers): M descriptors deferred+released/s, median [IQR]; "
          "flushes per 1000" % e2e[0]["threads"])
        p("%-24s" % "design/policy" + "".join("%28s" % ("flush=%dns" % f) for f in flushes))
        for d in gd:
            for pol in sorted({r["policy"] for r in e2e if r["design"] == d}):
                row = "%-24s" % ("%s/%s" % (d, pol))[:24]
                for fl in flushes:
                    r = g.get("end_to_end/%s/policy:%s/flush_ns:%d" % (d, pol, fl))
                    if r and "items_per_second" in r:
                        ips = r["items_per_second"]
                        fpk = r.get("flushes_per_1000", {}).get("median", 0)
                        row += "%28s" % ("%.2f [%.2f], %.3f" % (ips["median"] / 1e6,
                                                               ips["iqr"] / 1e6, fpk))
                    else:
                        row += "%28s" % "-"
                p(row)
        p("  (call_rcu has no once-per-batch flush hook: no flush runs for it, so its")
        p("   figures are not safe for this use; a correct use needs a flush per callback)")
        p("")
    lat = [r for r in g.values() if r["workload"] == "latency"]
    if lat:
        p("latency (defer -> release, one producer at 50k/s, after a warm-up): "
          "us, median [IQR]")
        p("%-24s %20s %20s %20s" % ("design/policy", "p50", "p99", "max"))
        for d in gd:
            for r in sorted([r for r in lat if r["design"] == d], key=lambda r: r["policy"]):
                if "p50_us" not in r:
                    continue
                p("%-24s %20s %20s %20s" % (("%s/%s" % (d, r["policy"]),) + tuple(
                    "%.1f [%.1f]" % (r[k]["median"], r[k]["iqr"])
                    for k in ("p50_us", "p99_us", "max_us"))))
        p("")
    mem = [r for r in g.values() if r["workload"] == "memory"]
    if mem:
        p("memory (burst of 20000 descriptors per producer, each with a 4 KiB page, 100 us "
          "flush): median [IQR]")
        p("%-24s %20s %20s" % ("design/policy", "peak backlog [IQR]", "peak RSS MiB [IQR]"))
        for d in gd:
            for r in sorted([r for r in mem if r["design"] == d], key=lambda r: r["policy"]):
                if "peak_backlog" not in r:
                    continue
                p("%-24s %20s %20s" % ("%s/%s" % (d, r["policy"]),
                                       "%d [%d]" % (r["peak_backlog"]["median"],
                                                    r["peak_backlog"]["iqr"]),
                                       "%.1f [%.1f]" % (r["peak_rss_MiB"]["median"],
                                                        r["peak_rss_MiB"]["iqr"])))
        p("")

    # ---- the lock's share: the locked ports on the queued lock and on TAS ----
    lock_pairs = [("v5_kernel", "v5_kernel_tas", "kernel"), ("v5", "v5_tas", "delay"),
                  ("v3", "v3_tas", "delay")]
    ts = sorted({t for (d, pp, t) in enq if d in ("v5_kernel", "v5_kernel_tas")})
    if any(enq.get((q, pol, t)) and enq.get((tas, pol, t))
           for q, tas, pol in lock_pairs for t in ts):
        p("the lock's share (producer side, medians): each locked port on the queued lock")
        p("(qspinlock's algorithm, the default) over the same port on pthread_spin_lock()")
        p("(test-and-set, the *_tas rows), and percpu/delay over each; >1 = the queued lock")
        p("is faster; oversubscribed columns are marked *")
        p("%-28s" % "" + "".join("%14s" % ("threads=%d%s" % (t, "*" if any(
            r["oversubscribed"] for (d, pp, tt), r in enq.items() if tt == t) else ""))
            for t in ts))
        for q, tas, pol in lock_pairs:
            cells = []
            for t in ts:
                a_, b_ = enq.get((q, pol, t)), enq.get((tas, pol, t))
                cells.append("%13.2fx" % (prod(a_)["median"] / prod(b_)["median"])
                             if a_ and b_ else "%14s" % "-")
            p("%-28s" % ("%s / %s" % (q, tas)) + "".join(cells))
        for q in ("v5_kernel", "v5_kernel_tas"):
            cells = []
            for t in ts:
                a_, b_ = enq.get(("percpu", "delay", t)), enq.get((q, "kernel", t))
                cells.append("%13.1fx" % (prod(a_)["median"] / prod(b_)["median"])
                             if a_ and b_ else "%14s" % "-")
            p("%-28s" % ("percpu/delay / %s" % q) + "".join(cells))
        p("")

    # ---- targets: medians, non-oversubscribed rows only ----
    p("targets (medians of the producer-side rate; oversubscribed rows never judged;")
    p("the sustained ratio is shown beside each, for information):")
    targets = []

    def check(ok, text):
        if ok is None:
            p("  n/a   %s" % text)
            targets.append({"target": text, "result": "n/a"})
            return
        p("  %s  %s" % ("PASS" if ok else "MISS", text))
        targets.append({"target": text, "result": "PASS" if ok else "MISS"})

    def usable(d, pol, t):
        r = enq.get((d, pol, t))
        return r if r and not r["oversubscribed"] else None

    for pol in TABLE_POLICIES:
        a_, b_ = usable("percpu", pol, 2), usable("v5_kernel", "kernel", 2)
        if a_ and b_:
            r = prod(a_)["median"] / prod(b_)["median"]
            rs = a_["items_per_second"]["median"] / b_["items_per_second"]["median"]
            check(r >= 5.0, "percpu/%s >= 5x v5_kernel at 2 threads: %.2fx (sustained %.2fx)"
                  % (pol, r, rs))
        else:
            check(None, "percpu/%s >= 5x v5_kernel at 2 threads: rows missing or "
                  "oversubscribed" % pol)
    def floor_cost(d, pol, limit):
        # One producer's cost per defer against the floor's, both producer-side.
        what = "%s/%s 1-thread cost <= %.1fx the floor" % (d, pol, limit)
        a_, f_ = usable(d, pol, 1), usable("floor", "none", 1)
        if not (a_ and f_):
            check(None, what + ": rows missing")
            return
        r = prod_ns(a_) / prod_ns(f_)
        rs = a_["ns_per_op_per_thread"]["median"] / f_["ns_per_op_per_thread"]["median"]
        check(r <= limit, "%s: %.2fx (sustained %.2fx)" % (what, r, rs))

    for pol in TABLE_POLICIES:
        floor_cost("percpu", pol, 1.5)
    peers = [d for d in designs
             if any(r.get("peer", d in PEERS) for (dd, pp, tt), r in enq.items() if dd == d)]
    for pol in TABLE_POLICIES:
        losses, judged = [], 0
        for t in (1, 2):
            pc = usable("percpu", pol, t)
            if not pc:
                continue
            for d in peers:
                r = usable(d, pol_of(d, pol), t)
                if not r:
                    continue
                judged += 1
                if prod(r)["median"] > prod(pc)["median"]:
                    losses.append("%s@%d (%.2fx)" % (d, t, prod(r)["median"] /
                                                     prod(pc)["median"]))
        if judged:
            check(not losses, "percpu/%s >= every peer at 1 and 2 threads (same policy; "
                  "call_rcu* under its own)%s" % (pol, "" if not losses else
                                                  ": beaten by " + ", ".join(losses)))
        else:
            check(None, "percpu/%s >= every peer at 1 and 2 threads: no rows" % pol)

    # The rseq push (issue 11): cheaper than the floor's private locked add,
    # and no worse end to end than the CAS push it would replace.
    for pol in TABLE_POLICIES:
        floor_cost("percpu_rseq", pol, 1.0)
    e2e_by = {(r["design"], r["policy"], r.get("flush_ns")): r for r in rows
              if r.get("workload") == "end_to_end" and "items_per_second" in r}
    for pol in TABLE_POLICIES:
        a_, b_ = e2e_by.get(("percpu_rseq", pol, 10000)), e2e_by.get(("percpu", pol, 10000))
        if a_ and b_:
            r = a_["items_per_second"]["median"] / b_["items_per_second"]["median"]
            check(r >= 1.0, "end_to_end, 10 us flush: percpu_rseq/%s >= percpu (CAS): %.2fx"
                  % (pol, r))
        else:
            check(None, "end_to_end, 10 us flush: percpu_rseq/%s >= percpu: rows missing" % pol)

    # Take-back (issue 18): the consumer keeps up with its own producers, and
    # end to end it beats the drain that releases every descriptor itself.
    for pol in TABLE_POLICIES:
        a_ = usable("percpu_takeback", pol, 2)
        if a_:
            r = a_["items_per_second"]["median"] / prod(a_)["median"]
            check(r >= 0.9, "percpu_takeback/%s sustained >= 0.9x its producer side at 2 "
                  "threads: %.2fx" % (pol, r))
        else:
            check(None, "percpu_takeback/%s sustained >= 0.9x its producer side at 2 threads: "
                  "row missing or oversubscribed" % pol)
    for pol in TABLE_POLICIES:
        a_, b_ = e2e_by.get(("percpu_takeback", pol, 10000)), e2e_by.get(("percpu", pol, 10000))
        if a_ and b_:
            r = a_["items_per_second"]["median"] / b_["items_per_second"]["median"]
            check(r >= 1.5, "end_to_end, 10 us flush: percpu_takeback/%s >= 1.5x percpu: %.2fx"
                  % (pol, r))
        else:
            check(None, "end_to_end, 10 us flush: percpu_takeback/%s >= 1.5x percpu: rows "
                  "missing" % pol)

    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)

    doc = {"format": "pgfree-bench/2", "valid": valid, "validity": validity,
           "context": ctx, "run_info": info, "enqueue_config": ec, "targets": targets,
           "rows": rows, "gbench": gdoc.get("benchmarks", [])}
    with open(os.path.join(out, "bench.json"), "w") as f:
        json.dump(doc, f, indent=1)

    with open(os.path.join(out, "machine.md"), "w") as f:
        f.write("# Machine of this run\n\n")
        f.write("Recorded by pgfree_bench in bench.json's context and by scripts/bench.sh in\n"
                "run_info (topology.txt holds lscpu and the NUMA/SMT layout).  pgfree and the\n"
                "benchmark are built with CMAKE_BUILD_TYPE=Release by scripts/bench.sh.\n\n")
        f.write("| key | value |\n|---|---|\n")
        for k in ("pgfree_cpu_model", "pgfree_cpus_online", "num_cpus", "mhz_per_cpu",
                  "pgfree_caches_cpu0", "pgfree_numa_nodes", "pgfree_kernel",
                  "pgfree_compiler", "pgfree_pinning", "pgfree_mode", "library_build_type",
                  "host_name", "date"):
            if k in ctx:
                f.write("| %s | %s |\n" % (k, ctx[k]))
        for k, v in info.items():
            if isinstance(v, (str, int, float)):
                f.write("| %s | %s |\n" % (k, v))

    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["name", "workload", "design", "policy", "threads", "oversubscribed",
                    "flush_ns", "items_per_second_median", "items_per_second_iqr",
                    "ns_per_op_per_thread_median", "flushes_per_1000", "p50_us", "p99_us",
                    "max_us", "peak_backlog", "peak_rss_mib",
                    "producer_items_per_second_median", "producer_items_per_second_iqr",
                    "stall_share_median"])

        def med(r, k):
            v = r.get(k)
            if isinstance(v, dict):
                return "%.4g" % v["median"]
            return "" if v is None else v
        for r in rows:
            if r["workload"] == "lockstat":
                continue
            ips = r.get("items_per_second")
            w.writerow([r["name"], r["workload"], r["design"], r["policy"], r["threads"],
                        "oversubscribed" if r["oversubscribed"] else "",
                        r.get("flush_ns", ""),
                        "%.0f" % ips["median"] if ips else "",
                        "%.0f" % ips["iqr"] if ips else "",
                        med(r, "ns_per_op_per_thread"),
                        med(r, "flushes_per_1000") if r["workload"] != "enqueue"
                        else "%.4f" % r.get("flushes_per_1000", 0),
                        med(r, "p50_us"), med(r, "p99_us"), med(r, "max_us"),
                        med(r, "peak_backlog"), med(r, "peak_rss_MiB"),
                        "%.0f" % r[PROD]["median"] if PROD in r else "",
                        "%.0f" % r[PROD]["iqr"] if PROD in r else "",
                        "%.3f" % r["stall_share"]["median"] if "stall_share" in r else ""])

    plots(out, threads, designs, enq, npin, pol_of, e2e, gd, g)


def plots(out, threads, designs, enq, npin, pol_of, e2e, gd, g):
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no plots (install gnuplot-nox)")
        return
    gp = ["set terminal pngcairo size 1100,650 noenhanced font ',10'",
          "set key outside right", "set grid"]
    # Distinct colours, then the same colours dashed: up to 32 rows stay apart.
    colours = ["#000000", "#d62728", "#1f77b4", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b",
               "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#aec7e8", "#98df8a", "#ff9896",
               "#c5b0d5", "#c49c94"]
    for i in range(32):
        gp.append("set linetype %d lc rgb '%s' lw 2 dt %d pt %d" % (
            i + 1, colours[i % 16], 1 if i < 16 else 2, i % 13 + 1))
    for pol in TABLE_POLICIES:
        ds = [d for d in designs if any((d, pol_of(d, pol), t) in enq for t in threads)]
        dat = os.path.join(out, "enqueue_%s.dat" % pol)
        with open(dat, "w") as f:
            f.write("threads " + " ".join(
                d if pol_of(d, pol) == pol else "%s(%s)" % (d, pol_of(d, pol)) for d in ds) + "\n")
            for t in threads:
                f.write("%d " % t + " ".join(
                    "%.4f" % ((enq[(d, pol_of(d, pol), t)]["items_per_second"]
                               if enq[(d, pol_of(d, pol), t)]["oversubscribed"]
                               else prod(enq[(d, pol_of(d, pol), t)]))["median"] / 1e6)
                    if (d, pol_of(d, pol), t) in enq else "NaN" for d in ds) + "\n")
        xmax = max(threads) * 1.5
        gp += ["set output '%s/enqueue_%s.png'" % (out, pol),
               "set title 'enqueue, policy %s: producer-side rate (median; shaded, oversubscribed: sustained) "
               "(more producers than CPUs; not judged)'" % pol,
               "set xlabel 'producer threads'", "set ylabel 'M descriptors / s'",
               "set logscale xy 2",
               "set xrange [0.8:%g]" % xmax,
               "unset object",
               "set object 1 rect from %g, graph 0 to %g, graph 1 fc rgb '#eeeeee' "
               "fs solid 1.0 behind" % (npin + 0.5 if npin > 1 else 1.5, xmax),
               "set label 1 'oversubscribed' at %g, graph 0.95" % (npin * 1.2 + 0.3),
               "plot for [i=2:%d] '%s' using 1:i with linespoints lt (i-1) title columnheader(i)"
               % (len(ds) + 1, dat),
               "unset label 1", "unset object 1", "unset logscale", "set autoscale x"]
    if e2e:
        flushes = sorted({r["flush_ns"] for r in e2e})
        cols = []
        for d in gd:
            for pol in sorted({r["policy"] for r in e2e if r["design"] == d}):
                cols.append((d, pol))
        dat = os.path.join(out, "end_to_end.dat")
        with open(dat, "w") as f:
            f.write("flush_ns " + " ".join("%s/%s" % c for c in cols) + "\n")
            for fl in flushes:
                vals = []
                for d, pol in cols:
                    r = g.get("end_to_end/%s/policy:%s/flush_ns:%d" % (d, pol, fl))
                    vals.append("%.4f" % (r["items_per_second"]["median"] / 1e6)
                                if r and "items_per_second" in r else "NaN")
                f.write("%d " % fl + " ".join(vals) + "\n")
        gp += ["set output '%s/end_to_end.png'" % out,
               "set title 'end to end (one producer per CPU, not oversubscribed): M descriptors "
               "deferred and released / s (median)'",
               "set xlabel 'simulated flush cost (ns)'", "set ylabel 'M descriptors / s'",
               "set logscale y", "set xtics (%s)" % ", ".join(str(f) for f in flushes),
               "plot for [i=2:%d] '%s' using 1:i with linespoints lt (i-1) title columnheader(i)"
               % (len(cols) + 1, dat),
               "unset logscale", "set xtics autofreq"]
    lat = [r for r in g.values() if r["workload"] == "latency" and "p99_us" in r]
    if lat:
        dat = os.path.join(out, "latency.dat")
        with open(dat, "w") as f:
            f.write("row p50 p99 max\n")
            for d in gd:
                for r in sorted([r for r in lat if r["design"] == d], key=lambda r: r["policy"]):
                    f.write("%s/%s %.3f %.3f %.3f\n" % (d, r["policy"], r["p50_us"]["median"],
                                                        r["p99_us"]["median"],
                                                        r["max_us"]["median"]))
        gp += ["set output '%s/latency.png'" % out,
               "set title 'defer-to-release latency at a steady 50k/s (one producer; medians)'",
               "set xlabel ''", "set ylabel 'microseconds'", "set logscale y",
               "set style data histograms", "set style histogram clustered gap 1",
               "set style fill solid 0.8", "set xtics rotate by -45",
               "plot '%s' using 2:xtic(1) title 'p50', '' using 3 title 'p99', "
               "'' using 4 title 'max'" % dat]
    with open(os.path.join(out, "plots.gp"), "w") as f:
        f.write("\n".join(gp) + "\n")
    r = subprocess.run(["gnuplot", os.path.join(out, "plots.gp")], capture_output=True, text=True)
    if r.returncode:
        print("gnuplot failed:\n" + r.stderr)
    else:
        print("plots: %s/{enqueue_delay,enqueue_nodelay,end_to_end,latency}.png" % out)


if __name__ == "__main__":
    main()
