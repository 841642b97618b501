#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""The many-core model of pgfree_defer() throughput (bench/model/README.md).

A closed queueing network per design: n producers (one per CPU), each
cycling through a delay station (its private work per descriptor, Z) and,
for the designs with a shared cache line on the defer path (v5, v3,
global_llist), one single-server station: that line (with the lock on it).
Solved exactly by mean-value analysis.  The server's service time per
visit is the local hold of the line plus its transfers: calibrated from a
two-CPU contended micro-benchmark and scaled by the hand-off latency at n
(default), or, as a bound, the counted transfers of a hand-off at full
latency on every visit (a fair lock).  percpu has no shared station; its
producers pay one hand-off of their own list head per drain poll.  A
"sustained" rate adds the single drain thread's CPU time per descriptor
on the producers' CPUs and caps it at what one drain thread can do.

Inputs: calib.json (calib.c, measured in the same run), transfers.json (the
counted transfers, README table), bench.json (the 1- and 2-CPU rows it is
validated against; optional) and app.json (the application workload's
per-free costs; optional).  Standard library only; gnuplot for the plot.

Usage: model.py --calib C --transfers T [--bench B] [--app A] --out DIR
       [--xsocket-ns 200] [--socket-cpus 64] [--handoff-ns L]
"""
import argparse
import json
import math
import os
import re
import statistics
import sys

# Cross-socket hand-off latency, ns: a stated, cited parameter (README,
# "Parameters"): AnandTech's EPYC Milan review (2021, inter-core bounce test)
# and Chips and Cheese, "Core to Core Latency Data on Large Systems"
# (2023-11-07) show cross-socket bounces of roughly 150-250 ns on current
# two-socket servers against tens of ns within a die.
XSOCKET_NS = 200.0
SOCKET_CPUS = 64
# The drain thread's gather poll period with the default 50 us delay
# (lib/drain.c: slice = delay / 8, at least 20 us).
POLL_NS = 20000.0
DESIGNS = ("percpu", "v5", "global_llist")
CPU_POINTS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def warn(msg):
    print("model: " + msg, file=sys.stderr)


def med(calib, key, default=None):
    v = calib.get(key)
    if isinstance(v, dict):
        v = v.get("median")
    if v is None:
        if default is None:
            raise KeyError(key)
        warn("calibration lacks %s; using %g" % (key, default))
        return default
    return float(v)


# ---------------------------------------------------------------- bench.json

ROW = re.compile(r"^enqueue/([A-Za-z0-9_]+)/(.*?)threads:(\d+)")


def load_bench(path):
    """{(design, threads): (items_per_s, name, oversubscribed)}: the medians.

    Google Benchmark JSON: uses the 'median' aggregate when present, else the
    median of the repetitions.  Among variants of one cell (batching
    policies), prefers the one named with the default policy."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        warn("no usable bench.json (%s): no validation" % e)
        return {}, {}
    if isinstance(data.get("rows"), list):
        return load_rows_v2(data), data.get("context", {})
    cells = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name") or b.get("name", "")
        m = ROW.match(name)
        if not m or "items_per_second" not in b:
            continue
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if b.get("error_occurred"):
            continue
        key = (m.group(1), int(m.group(3)), name)
        agg = b.get("run_type") == "aggregate"
        c = cells.setdefault(key, {"reps": [], "median": None, "over": False, "cpu": []})
        unit = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}.get(b.get("time_unit", "ns"))
        if unit and b.get("cpu_time") and b.get("iterations"):
            # Per item: Google Benchmark's cpu_time is per iteration (all threads'
            # CPU time); items per iteration = items/s x real time per iteration.
            per_iter = float(b["items_per_second"]) * float(b["real_time"]) * unit * 1e-9
            if per_iter > 0:
                c["cpu"].append(float(b["cpu_time"]) * unit / per_iter)
        c["over"] = c["over"] or bool(b.get("oversubscribed")) or "oversub" in b.get("name", "")
        if agg:
            c["median"] = float(b["items_per_second"])
        else:
            c["reps"].append(float(b["items_per_second"]))
    out = {}
    for (design, n, name), c in cells.items():
        v = c["median"] if c["median"] is not None else (
            statistics.median(c["reps"]) if c["reps"] else None)
        if v is None:
            continue
        spread = (min(c["reps"]), max(c["reps"])) if c["reps"] else None
        prev = out.get((design, n))
        score = variant_score(name)
        cpu = statistics.median(c["cpu"]) if c["cpu"] else None
        if prev is None or score < prev[3]:
            out[(design, n)] = (v, name, c["over"], score, spread, cpu)
    return out, data.get("context", {})


# Which batching policy each design is validated on, best first (the
# calibration's defers are the same under every policy; the policy moves
# wake-ups, which the enqueue model leaves out).
POLICY_PREF = ("delay", "none", "kernel", "nodelay", "own")


def load_rows_v2(data):
    """pgfree-bench/2 (bench/report.py): rows with design, policy, threads,
    producer_items_per_second / items_per_second {median, q1, q3, ...},
    oversubscribed."""
    out = {}
    for r in data["rows"]:
        if r.get("workload") != "enqueue" and not str(r.get("name", "")).startswith("enqueue/"):
            continue
        design, n = r.get("design"), r.get("threads")
        # The producer-side rate (stall time excluded) when present: the
        # model predicts what producers can defer, not the consumer's pace.
        ips = r.get("producer_items_per_second") or r.get("items_per_second")
        if design is None or n is None or ips is None:
            m = ROW.match(str(r.get("name", "")))
            if not m:
                continue
            design, n = design or m.group(1), n or int(m.group(3))
        v = ips.get("median") if isinstance(ips, dict) else ips
        if v is None:
            continue
        pol = r.get("policy", "")
        score = POLICY_PREF.index(pol) if pol in POLICY_PREF else len(POLICY_PREF)
        spread = (ips.get("q1"), ips.get("q3")) if isinstance(ips, dict) and ips.get("q1") else None
        prev = out.get((design, int(n)))
        if prev is None or score < prev[3]:
            out[(design, int(n))] = (float(v), r.get("name", ""), bool(r.get("oversubscribed")),
                                     score, spread, None)
    return out


def variant_score(name):
    """Lower is preferred: the default batching policy, the plain name."""
    s = 0
    low = name.lower()
    for bad in ("nodelay", "no_delay", "delay:0", "kernel", "wakelocked", "oversub"):
        if bad in low:
            s += 10
    return s + len(name) / 1000.0


# ---------------------------------------------------------------- the model

def handoff_ns(n, l_intra, l_x, socket_cpus):
    """Mean hand-off latency among n producers placed socket by socket.

    A hand-off goes to another producer chosen uniformly: the chance that it
    crosses sockets is the fraction of producer pairs on different sockets."""
    if n <= 1:
        return l_intra
    sockets = max(1, math.ceil(n / socket_cpus))
    sizes = [socket_cpus] * (sockets - 1) + [n - socket_cpus * (sockets - 1)]
    same = sum(s * (s - 1) for s in sizes)
    p_x = 1.0 - same / (n * (n - 1))
    return l_intra + p_x * (l_x - l_intra)


def mva(n, z, d):
    """Exact MVA: n customers, delay z, one queueing station with demand d.
    Returns (throughput, residence time at the station)."""
    q = 0.0
    x = r = 0.0
    for k in range(1, n + 1):
        r = d * (1.0 + q)
        x = k / (z + r)
        q = x * r
    return x, r


def server_time(design, n, inp, z, pessimistic=False):
    """Service time of one visit to the shared line among n producers whose
    private work between visits takes z ns.

    The hold s of the line plus e transfers of hand-off latency L(n).  The
    counted transfers of a hand-off are k (transfers.json), but an owner
    that comes back to the line sooner than another CPU's request can take
    it keeps it (glibc's test-and-set spinlock and a CAS loop are unfair),
    so one hand-off covers b visits and e = k / b, with
        b = 1 + rho * L(n) / (z + s):
    more retention when the hand-off is slow against the owner's cycle.
    rho is fitted to the two-CPU contended micro-benchmark (z = 0, L = the
    measured hand-off), so the model reproduces it exactly there; with long
    private work (the application) b -> 1 and every visit pays k.
    pessimistic: b = 1 always, as with a FIFO lock such as the kernel's
    qspinlock, which passes the lock to the next waiter at every contended
    release."""
    s = inp["hold_ns"][design]
    k = inp["k"][design]
    lat = handoff_ns(n, inp["handoff_ns"], inp["xsocket_ns"], inp["socket_cpus"])
    if pessimistic or k <= 0:
        return s + k * lat
    return s + k / (1.0 + inp["rho"][design] * lat / (z + s)) * lat


def predict(design, n, inp, h, pessimistic=False):
    """Producer-side aggregate items/s of n producers on n CPUs (what the
    benchmark's enqueue rows time); h: harness overhead per item."""
    c = inp["defer_ns"][design]
    lat = handoff_ns(n, inp["handoff_ns"], inp["xsocket_ns"], inp["socket_cpus"])
    if design == "percpu":
        # No shared line per defer; one hand-off of each list's head per
        # drain poll (the drain's exchange, then the producer's next CAS).
        per_item = c + h
        items_per_poll = max(1.0, POLL_NS / per_item)
        per_item += 2.0 * lat / items_per_poll
        return n * 1e9 / per_item
    s = min(inp["hold_ns"][design], c)	# the hold is part of the defer
    z = max(0.0, c - s + h)
    if n == 1:
        return 1e9 / (z + s)
    x, _ = mva(n, z, server_time(design, n, inp, z, pessimistic))
    return x * 1e9


def sustained(design, n, inp, x):
    """The rate the single drain can keep up with when it shares the n
    producers' CPUs: CPU time per item = n/x (producers) + drain_ns, and the
    drain is one thread (at most 1e9/drain_ns)."""
    d = inp["drain_ns"][design]
    return min(n * 1e9 / (n * 1e9 / x + d), 1e9 / d)


# ---------------------------------------------------------------- main

def build_inputs(calib, transfers, args):
    inp = {"handoff_ns": med(calib, "handoff_ns"),
           "xsocket_ns": args.xsocket_ns, "socket_cpus": args.socket_cpus,
           "defer_ns": {}, "drain_ns": {}, "hold_ns": {}, "k": {}, "eff_xfer": {},
           "contended_ns": {}}
    for d in ("percpu", "v5", "v3", "global_llist"):
        inp["defer_ns"][d] = med(calib, "defer_ns." + d)
        inp["drain_ns"][d] = med(calib, "drain_ns." + d)
        t = transfers.get("designs", {}).get(d, {})
        inp["k"][d] = float(t.get("per_handoff_contended", 1.0))
    inp["hold_ns"]["v5"] = med(calib, "lock_hold_ns")
    inp["hold_ns"]["v3"] = med(calib, "lock_hold_ns")
    inp["hold_ns"]["global_llist"] = med(calib, "cas_local_ns")
    inp["hold_ns"]["percpu"] = 0.0
    inp["floor_ns"] = med(calib, "floor_ns")
    # Effective transfers per visit under contention, from the two-thread
    # micro-benchmarks: (S2 - s) / hand-off latency.
    for d, key in (("v5", "lock_contended_ns"), ("v3", "lock_contended_ns"),
                   ("global_llist", "cas_contended_ns")):
        s2 = med(calib, key, -1.0)
        if s2 <= 0:
            warn("%s missing or invalid: assuming the counted transfers at full latency" % key)
            s2 = inp["hold_ns"][d] + inp["k"][d] * inp["handoff_ns"]
        inp["contended_ns"][d] = s2
        e = max(1e-3, s2 - inp["hold_ns"][d]) / inp["handoff_ns"]
        inp["eff_xfer"][d] = e
        # server_time(): e = k / (1 + rho * L / s) at z = 0, L = measured.
        inp.setdefault("rho", {})[d] = max(0.0, inp["k"][d] / e - 1.0) * \
            inp["hold_ns"][d] / inp["handoff_ns"]
    inp["eff_xfer"]["percpu"] = 0.0
    inp["rho"]["percpu"] = 0.0
    return inp


def harness_overhead(bench, inp, n):
    """Per-item time the benchmark harness adds to a producer at n threads,
    from its floor row (one private atomic per item): n/X_floor - floor."""
    row = bench.get(("floor", n))
    if not row or row[0] <= 0:
        return 0.0, None
    return max(0.0, n * 1e9 / row[0] - inp["floor_ns"]), row[0]


def app_predictions(app_path, inp, ncpu_points):
    """The application workload's pgfree/v5 ratio from its per-free costs."""
    lines = []
    rows_out = []
    try:
        with open(app_path) as f:
            app = json.load(f)
    except (OSError, ValueError) as e:
        return ["app: no usable app.json (%s): no application prediction" % e], rows_out
    rows = app.get("rows") if isinstance(app, dict) else app
    if not isinstance(rows, list):
        return ["app: app.json has no 'rows' list: no application prediction"], rows_out

    def row(mode, n):
        for r in rows:
            if r.get("mode") == mode and int(r.get("threads", 0)) == n:
                return r
        return None

    per_mode = {}
    for mode in ("v5", "pgfree"):
        r1 = row(mode, 1)
        if not r1 or not r1.get("map_unmap_per_s"):
            return ["app: no 1-thread %s row with map_unmap_per_s: no prediction" % mode], rows_out
        t_op = 1e9 / float(r1["map_unmap_per_s"])		# ns per op, one thread
        f = r1.get("frees_per_op")
        if f is None and r1.get("tables_freed_per_s"):
            f = float(r1["tables_freed_per_s"]) / float(r1["map_unmap_per_s"])
        f = float(f or 0.0)
        wake = float(r1.get("wakeups_per_1000") or 0.0) / 1000.0
        flush = float(r1.get("flushes_per_1000") or 0.0) / 1000.0
        worker = r1.get("worker_cpu_ns_per_free")
        flush_ns = float(r1.get("flush_ns") or 0.0)
        if worker is None:
            worker = flush * flush_ns
            lines.append("app: %s: worker_cpu_ns_per_free missing; using flushes x flush_ns = %.0f ns"
                         % (mode, worker))
        hold = r1.get("lock_hold_ns_per_free")
        if mode == "v5" and hold is None:
            hold = inp["hold_ns"]["v5"]
            lines.append("app: v5: lock_hold_ns_per_free missing; using calib lock_hold_ns %.1f" % hold)
        per_mode[mode] = dict(t_op=t_op, f=f, wake=wake, worker=float(worker),
                              hold=float(hold or 0.0))
    for mode, p in per_mode.items():
        lines.append("app: %s inputs (1-thread row): %.0f ns per map+unmap, %.3f frees/op, "
                     "%.3f wake-ups/free, worker %.0f ns/free, lock hold %.1f ns/free"
                     % (mode, p["t_op"], p["f"], p["wake"], p["worker"], p["hold"]))
    res = {}
    for n in ncpu_points:
        lat = handoff_ns(n, inp["handoff_ns"], inp["xsocket_ns"], inp["socket_cpus"])
        for mode, p in per_mode.items():
            # The freeing threads have n CPUs less the worker's share.
            x = 0.0
            u = 1.0
            for _ in range(30):
                z = p["t_op"] / u
                if mode == "v5" and p["f"] > 0 and n > 1:
                    # Visits to the lock: f per op; demand per op f*S.
                    zv = max(1.0, z - p["f"] * p["hold"])
                    app_inp = dict(inp, hold_ns=dict(inp["hold_ns"], v5=p["hold"]))
                    s = server_time("v5", n, app_inp, zv / p["f"])
                    xo, _ = mva(n, zv, p["f"] * s)
                    x_new = xo * 1e9
                else:
                    x_new = n * 1e9 / z
                # The single worker/drain: at most 1/worker frees per second.
                if p["f"] > 0 and p["worker"] > 0:
                    x_new = min(x_new, 1e9 / (p["worker"] * p["f"]))
                busy = min(1.0, x_new * p["f"] * p["worker"] * 1e-9)
                u_new = max(0.05, (n - busy) / n) if n > 1 else 1.0
                if abs(x_new - x) < 1e-6 * max(x_new, 1.0) and abs(u_new - u) < 1e-9:
                    x = x_new
                    break
                x, u = x_new, u_new
            res[(mode, n)] = x
        ratio = res[("pgfree", n)] / res[("v5", n)]
        rows_out.append(("app_v5", n, res[("v5", n)]))
        rows_out.append(("app_pgfree", n, res[("pgfree", n)]))
        rows_out.append(("app_ratio_pgfree_over_v5", n, ratio))
    for n in (1, 2):
        mv, mp = row("v5", n), row("pgfree", n)
        if mv and mp and mv.get("map_unmap_per_s") and mp.get("map_unmap_per_s"):
            meas = float(mp["map_unmap_per_s"]) / float(mv["map_unmap_per_s"])
            lines.append("app: %d thread(s): measured pgfree/v5 %.2f, model %.2f"
                         % (n, meas, res[("pgfree", n)] / res[("v5", n)]))
    for n in (16, 64):
        if ("v5", n) in res:
            lines.append("app: predicted pgfree/v5 map+unmap/s at %d CPUs: %.2f "
                         "(v5 %.3g/s, pgfree %.3g/s)"
                         % (n, res[("pgfree", n)] / res[("v5", n)], res[("v5", n)], res[("pgfree", n)]))
    return lines, rows_out


def plot(out, preds, pess, sus, bench, inp):
    """model.png with gnuplot (the project's plotting tool, deps.sh bench)."""
    import shutil
    import subprocess
    gp = shutil.which("gnuplot")
    dat = os.path.join(out, "model_plot.dat")
    with open(dat, "w") as f:
        for tab in (preds, pess):
            for d in DESIGNS:
                f.write("# %s\n" % d)
                for n in CPU_POINTS:
                    f.write("%d %g\n" % (n, tab[(d, n)] / 1e6))
                f.write("\n\n")
        for d in DESIGNS:
            f.write("# %s measured\n" % d)
            # One producer per CPU only: an oversubscribed row (more producers
            # than this machine's CPUs) is not a point at n CPUs.
            pts = sorted((n, v[0]) for (dd, n), v in bench.items() if dd == d and not v[2])
            for n, v in pts or [(1, float("nan"))]:
                f.write("%d %g\n" % (n, v / 1e6))
            f.write("\n\n")
        f.write("# percpu sustained (single drain on the same CPUs)\n")
        for n in CPU_POINTS:
            f.write("%d %g\n" % (n, sus[("percpu", n)] / 1e6))
        f.write("\n\n")
    if not gp:
        return "plot: gnuplot not found (scripts/deps.sh bench installs gnuplot-nox); data in model_plot.dat"
    script = """
set terminal pngcairo size 1000,760 noenhanced font ",10"
set output '{png}'
set logscale xy 2
set xlabel 'CPUs (one producer per CPU)'
set ylabel 'aggregate pgfree_defer() rate, M items/s'
set title 'many-core model (lines) and measured benchmark rows (points); cross-socket hand-off {xs:.0f} ns, {sc} CPUs/socket'
set key outside below horizontal maxcols 3
set grid
plot '{dat}' index 0 w lp lw 2 pt 7 ps 0.6 lc rgb '#1b9e77' t 'percpu (model)', \\
     '{dat}' index 1 w lp lw 2 pt 7 ps 0.6 lc rgb '#d95f02' t 'v5 (model)', \\
     '{dat}' index 2 w lp lw 2 pt 7 ps 0.6 lc rgb '#7570b3' t 'global_llist (model)', \\
     '{dat}' index 4 w l dt 3 lw 2 lc rgb '#d95f02' t 'v5, fair hand-off bound', \\
     '{dat}' index 5 w l dt 3 lw 2 lc rgb '#7570b3' t 'global_llist, fair hand-off bound', \\
     '{dat}' index 6 w p pt 5 ps 1.5 lc rgb '#1b9e77' t 'percpu (measured)', \\
     '{dat}' index 7 w p pt 5 ps 1.5 lc rgb '#d95f02' t 'v5 (measured)', \\
     '{dat}' index 8 w p pt 5 ps 1.5 lc rgb '#7570b3' t 'global_llist (measured)', \\
     '{dat}' index 9 w l dt 2 lc rgb '#666666' t 'percpu sustained: single drain on the same CPUs'
""".format(png=os.path.join(out, "model.png"), dat=dat, xs=inp["xsocket_ns"], sc=inp["socket_cpus"])
    r = subprocess.run([gp], input=script, text=True, capture_output=True)
    if r.returncode:
        return "plot: gnuplot failed: " + r.stderr.strip()[:300]
    return "plot: " + os.path.join(out, "model.png")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calib", required=True)
    ap.add_argument("--transfers", required=True)
    ap.add_argument("--bench")
    ap.add_argument("--app")
    ap.add_argument("--out", required=True)
    ap.add_argument("--xsocket-ns", type=float, default=XSOCKET_NS)
    ap.add_argument("--socket-cpus", type=int, default=SOCKET_CPUS)
    ap.add_argument("--handoff-ns", type=float,
                    help="in-socket hand-off latency instead of calib's (sensitivity: a big "
                         "socket's far cores are slower than two neighbouring vCPUs)")
    args = ap.parse_args()

    with open(args.calib) as f:
        calib = json.load(f)
    with open(args.transfers) as f:
        transfers = json.load(f)
    if args.handoff_ns:
        calib = dict(calib, handoff_ns={"median": args.handoff_ns, "override": True})
    inp = build_inputs(calib, transfers, args)
    bench, ctx = load_bench(args.bench) if args.bench else ({}, {})
    ncpu = int(ctx.get("num_cpus") or ctx.get("pgfree_cpus_online") or os.cpu_count() or 2)

    summary = []
    summary.append("many-core model (bench/model/README.md): closed MVA, one producer per CPU")
    summary.append("inputs (calib, medians, ns): hand-off %.1f; floor %.2f; lock hold %.2f; "
                   "local CAS %.2f; contended (2 CPUs): lock %.2f, llist push %.2f"
                   % (inp["handoff_ns"], inp["floor_ns"], inp["hold_ns"]["v5"],
                      inp["hold_ns"]["global_llist"], inp["contended_ns"]["v5"],
                      inp["contended_ns"]["global_llist"]))
    summary.append("  defer (1 producer): " + ", ".join(
        "%s %.2f" % (d, inp["defer_ns"][d]) for d in ("percpu", "v5", "v3", "global_llist")))
    summary.append("  drain per item: " + ", ".join(
        "%s %.2f" % (d, inp["drain_ns"][d]) for d in ("percpu", "v5", "v3", "global_llist")))
    summary.append("  transfers per hand-off, counted (transfers.json) / effective per visit "
                   "under contention (calib): " + ", ".join(
                       "%s %g/%.2f" % (d, inp["k"][d], inp["eff_xfer"][d])
                       for d in ("percpu", "v5", "global_llist")))
    summary.append("parameters: cross-socket hand-off %.0f ns (cited, README), %d CPUs per socket; "
                   "drain poll %.0f us" % (inp["xsocket_ns"], inp["socket_cpus"], POLL_NS / 1e3))

    # The library's own two-CPU check (calib defer2_ns: no harness, h = 0).
    lib2 = []
    for d in ("percpu", "v5", "global_llist", "v3"):
        m2 = med(calib, "defer2_ns." + d, -1.0)
        if m2 > 0:
            x2 = 1e9 / m2
            p2 = predict(d, 2, inp, 0.0)
            lib2.append("%s %.0f M/s, model %.0f (%+.0f%%)" % (d, x2 / 1e6, p2 / 1e6,
                                                              100.0 * (p2 - x2) / x2))
    if lib2:
        summary.append("validation, the library alone on 2 CPUs (calib defer2_ns, two producers "
                       "deferring at once): " + "; ".join(lib2))

    # Validation against the benchmark's rows: 1 and 2 CPUs (what the
    # calibration saw), and on a larger host every other count with no more
    # producers than CPUs (out of sample: the model never saw them).
    val = []
    errs = []
    for n in sorted({k[1] for k in bench} | {1, 2}):
        h, floor_rate = harness_overhead(bench, inp, n)
        shown = False
        for d in ("percpu", "v5", "v5_kernel", "v3", "global_llist"):
            row = bench.get((d, n))
            if not row or (n > 2 and row[2]):
                continue
            shown = True
            pred = predict("v5" if d == "v5_kernel" else d, n, inp, h)
            err = 100.0 * (pred - row[0]) / row[0]
            if d in DESIGNS:
                errs.append((d, n, err))
            sp = (" [%.3g-%.3g]" % (row[4][0] / 1e6, row[4][1] / 1e6)) if row[4] else ""
            cpu = ""
            if row[5]:
                xc = n * 1e9 / row[5]
                cpu = "; on-CPU rate %.2f M/s (model %+.0f%%)" % (xc / 1e6, 100.0 * (pred - xc) / xc)
            val.append("  %-13s %d CPU: measured %8.2f M/s%s, model %8.2f M/s, error %+5.0f%%%s%s%s"
                       % (d, n, row[0] / 1e6, sp, pred / 1e6, err, cpu,
                          (" [" + row[1] + "]") if "policy:" in row[1] else "",
                          " (oversubscribed row)" if row[2] else ""))
        if floor_rate and shown:
            val.append("  (harness overhead from the floor row at %d: %.2f ns per item per producer)"
                       % (n, h))
    if val:
        summary.append("validation against bench.json (median rows, wall clock, [spread: reps "
                       "min-max or IQR]; on-CPU rate, where the JSON has cpu_time: n / CPU time "
                       "per item, i.e. without the time producers were descheduled):")
        summary += val
    else:
        summary.append("validation: no bench.json rows enqueue/<design>/threads:1|2 found")

    # Predictions: harness overhead of the 1-thread floor row (none without it).
    h1, _ = harness_overhead(bench, inp, 1)
    preds, pess, sus = {}, {}, {}
    for d in DESIGNS + ("v3",):
        for n in CPU_POINTS:
            preds[(d, n)] = predict(d, n, inp, h1)
            pess[(d, n)] = predict(d, n, inp, h1, pessimistic=True)
            sus[(d, n)] = sustained(d, n, inp, preds[(d, n)])
    os.makedirs(args.out, exist_ok=True)
    app_lines, app_rows = ([], [])
    if args.app:
        app_lines, app_rows = app_predictions(args.app, inp, CPU_POINTS)
    else:
        app_lines = ["app: no app.json given: no application prediction"]
    with open(os.path.join(args.out, "model_prediction.csv"), "w") as f:
        f.write("design,cpus,predicted_items_per_s\n")
        for d in DESIGNS + ("v3",):
            for n in CPU_POINTS:
                f.write("%s,%d,%.0f\n" % (d, n, preds[(d, n)]))
        for d in DESIGNS + ("v3",):
            for n in CPU_POINTS:
                f.write("%s_fair_handoff,%d,%.0f\n" % (d, n, pess[(d, n)]))
        for d in DESIGNS:
            for n in CPU_POINTS:
                f.write("%s_sustained,%d,%.0f\n" % (d, n, sus[(d, n)]))
        for name, n, v in app_rows:
            f.write("%s,%d,%.6g\n" % (name, n, v))
    summary.append("predicted producer-side rate, M items/s [fair hand-off bound] "
                   "(ratio percpu/v5); sustained = the single drain keeps up on the same CPUs:")
    for n in (1, 2, 16, 64, 256):
        summary.append("  %3d CPUs: percpu %8.1f  v5 %6.2f [%5.2f]  global_llist %6.2f [%5.2f]"
                       "  (%.0fx [%.0fx]); sustained percpu %.0f, v5 %.1f"
                       % (n, preds[("percpu", n)] / 1e6, preds[("v5", n)] / 1e6,
                          pess[("v5", n)] / 1e6, preds[("global_llist", n)] / 1e6,
                          pess[("global_llist", n)] / 1e6,
                          preds[("percpu", n)] / preds[("v5", n)],
                          preds[("percpu", n)] / pess[("v5", n)],
                          sus[("percpu", n)] / 1e6, sus[("v5", n)] / 1e6))
    summary += app_lines
    summary.append(plot(args.out, preds, pess, sus, bench, inp))
    if errs:
        worst = max(errs, key=lambda e: abs(e[2]))
        summary.append("validation error (wall clock, percpu/v5/global_llist rows): worst %s at %d "
                       "CPU %+.0f%%" % worst)
    summary.append("trust: the shapes (v5 and global_llist flat from 2 CPUs, percpu linear until "
                   "the single drain) follow from the counted transfers and hold for any latency; "
                   "the many-core levels rest on one cited cross-socket latency and on contention "
                   "measured with 2 CPUs only (README, Limits).")
    with open(os.path.join(args.out, "model_inputs.json"), "w") as f:
        json.dump({"calib": calib, "transfers": transfers, "derived": inp,
                   "harness_overhead_ns_1thread": h1, "poll_ns": POLL_NS,
                   "bench_rows_used": {"%s/%d" % k: v[1] for k, v in bench.items()}},
                  f, indent=1)
    text = "\n".join(summary) + "\n"
    with open(os.path.join(args.out, "model_summary.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "model_validation.txt"), "w") as f:
        f.write("\n".join(s for s in summary if (s.startswith("  ") and "CPU:" in s)
                          or "validation" in s or "calib defer2" in s or "harness overhead" in s
                          or "measured pgfree/v5" in s) + "\n")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
