#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""The many-core model of pgfree's producer side and consumer side
(bench/model/README.md).

Producer side: n producers, one per CPU.  For the designs with a shared
line on the defer path (v5, v3 and global_llist) a closed network of the n
producers and one station, that line (with its lock): a birth-death chain
whose service time depends on how many producers are at the station, so
that a lock whose hand-off degrades with its spinners (test-and-set) and
one whose hand-off does not (the queued lock, the kernel's qspinlock) are
told apart.  percpu and percpu_takeback have no shared line per defer;
take-back adds the producer's own take-back per descriptor.

Consumer side: one drain thread, cycling through gather (the batching
delay's polls), detach, flush, hand-over.  Its CPU time per cycle (fixed,
per list, per descriptor) shares the n CPUs with the producers; the rings
of the benchmark bound the descriptors in flight.  That gives the
sustained rate (enqueue, flush 0) and end_to_end (a flush of F ns).

Inputs: calib.json (calib.c, measured in the same run), transfers.json (the
counted transfers), bench.json (rows to validate against; optional) and
app.json (the application workload's per-free costs; optional).  Standard
library only; gnuplot for the plot.

Usage: model.py --calib C --transfers T [--bench B] [--app A] --out DIR
       [--xsocket-ns 200] [--socket-cpus 64] [--handoff-ns L]
       [--tas-spinner-cost G] [--qlock-e2-ratio R]
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
# The test-and-set lock's extra cost per hand-off for each spinner beyond
# the first, in hand-off latencies: not measurable with two CPUs.  Fitted
# to ONE row of the only many-core run the project has (16-vCPU Intel Xeon,
# bench/results/intel-xeon-16vcpu-kvm: enqueue/v5/policy:delay/threads:16,
# on the TAS lock, with that run's calibration); its other TAS rows (4 and
# 8 producers, v3, v5_kernel) stay out of sample.  README, "Parameters".
TAS_SPINNER_COST = 0.32
# The drain thread's batching (lib/drain.c, gather(); pgfree.h defaults).
DELAY_NS = 50000.0
SLICE_NS = 20000.0
BATCH_MAX = 4096.0
# The benchmark's rings and take-back cadence (bench/enqueue.c, workloads.c).
ENQ_RING = 32768.0
E2E_RING = 16384.0
CHUNK = 256.0
POLICY_DELAY = {"delay": DELAY_NS, "none": DELAY_NS, "nodelay": 0.0, "kernel": 0.0}
DESIGNS = ("percpu", "percpu_takeback", "v5", "v5_tas", "v3", "v3_tas", "global_llist")
LOCKS = {"v5": "q", "v3": "q", "v5_tas": "t", "v3_tas": "t", "global_llist": "c"}
SHOWN = ("percpu", "percpu_takeback", "v5", "v5_tas", "global_llist")
CPU_POINTS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
SUMMARY_POINTS = (1, 2, 16, 64, 256)
E2E_FLUSHES = (0.0, 1000.0, 10000.0)


def warn(msg):
    print("model: " + msg, file=sys.stderr)


def med(calib, key, default=None, quiet=False):
    v = calib.get(key)
    if isinstance(v, dict):
        v = v.get("median")
    if v is None or (isinstance(v, (int, float)) and v < 0):
        if default is None:
            raise KeyError(key)
        if not quiet:
            warn("calibration lacks %s; using %g" % (key, default))
        return float(default)
    return float(v)


# ---------------------------------------------------------------- bench.json

ROW = re.compile(r"^(enqueue|end_to_end)/([A-Za-z0-9_]+)/(.*?)(?:threads:(\d+))?$")
# Which batching policy each design is validated on, best first.
POLICY_PREF = ("delay", "none", "kernel", "nodelay", "own")


def row_model(design, queued_era):
    """The model design a bench row's design is predicted with.  A run
    without *_tas rows predates the queued lock (commit 7e7e902): its
    v5/v3/v5_kernel rows ran on the test-and-set lock."""
    base = {"v5_kernel": "v5", "v5_kernel_tas": "v5_tas"}.get(design, design)
    if not queued_era and base in ("v5", "v3"):
        return base + "_tas"
    return base


def load_bench(path):
    """Rows of bench.json (pgfree-bench/2 from bench/report.py, or Google
    Benchmark JSON): {(workload, design, threads, flush_ns): row}, the
    preferred policy per cell, row = dict(value, sustained, name, over,
    spread, policy).  Also the context and whether the run had *_tas rows."""
    try:
        with open(path) as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        warn("no usable bench.json (%s): no validation" % e)
        return {}, {}, True
    rows = data.get("rows") if isinstance(data.get("rows"), list) else None
    if rows is None:
        rows = gbench_rows(data)
    out = {}
    designs = set()
    for r in rows:
        wl = r.get("workload")
        name = str(r.get("name", ""))
        m = ROW.match(name)
        if wl is None and m:
            wl = m.group(1)
        if wl not in ("enqueue", "end_to_end"):
            continue
        design = r.get("design") or (m.group(2) if m else None)
        n = r.get("threads") or (int(m.group(4)) if m and m.group(4) else None)
        if design is None or n is None:
            continue
        designs.add(design)

        def val(k):
            v = r.get(k)
            return v.get("median") if isinstance(v, dict) else v
        ips = val("items_per_second")
        if ips is None:
            continue
        prod = val("producer_items_per_second")
        pol = r.get("policy", "")
        score = POLICY_PREF.index(pol) if pol in POLICY_PREF else len(POLICY_PREF)
        q = r.get("producer_items_per_second") if wl == "enqueue" else r.get("items_per_second")
        spread = (q.get("q1"), q.get("q3")) if isinstance(q, dict) and q.get("q1") else None
        key = (wl, design, int(n), float(r.get("flush_ns") or 0.0))
        prev = out.get(key)
        if prev is None or score < prev["score"]:
            out[key] = dict(value=float(prod or ips), sustained=float(ips), name=name,
                            over=bool(r.get("oversubscribed")), spread=spread, policy=pol,
                            score=score)
    queued_era = any(d.endswith("_tas") for d in designs) or not designs
    return out, data.get("context", {}), queued_era


def gbench_rows(data):
    """Google Benchmark JSON (older runs): the median aggregate, else the
    median of the repetitions, as pgfree-bench/2-like rows."""
    cells = {}
    for b in data.get("benchmarks", []):
        name = b.get("run_name") or b.get("name", "")
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        if "items_per_second" not in b or b.get("error_occurred"):
            continue
        c = cells.setdefault(name, {"reps": [], "median": None})
        if b.get("run_type") == "aggregate":
            c["median"] = float(b["items_per_second"])
        else:
            c["reps"].append(float(b["items_per_second"]))
    rows = []
    for name, c in cells.items():
        v = c["median"] if c["median"] is not None else (
            statistics.median(c["reps"]) if c["reps"] else None)
        m = ROW.match(name)
        if v is None or not m:
            continue
        pol = re.search(r"policy:([a-z]+)", name)
        fl = re.search(r"flush_ns:(\d+)", name)
        rows.append({"name": name, "workload": m.group(1), "design": m.group(2),
                     "threads": int(m.group(4)) if m.group(4) else 2,
                     "policy": pol.group(1) if pol else "", "items_per_second": v,
                     "flush_ns": int(fl.group(1)) if fl else 0,
                     "oversubscribed": "oversub" in name})
    return rows


# ---------------------------------------------------------------- inputs

def build_inputs(calib, transfers, args):
    """Every input of the model, from calib.json (and transfers.json), with
    the fallbacks an older calibration needs said on stderr and kept in
    inp['notes']."""
    inp = {"handoff_ns": med(calib, "handoff_ns"), "xsocket_ns": args.xsocket_ns,
           "socket_cpus": args.socket_cpus, "gamma": args.tas_spinner_cost,
           "defer_ns": {}, "drain_ns": {}, "release_ns": {}, "hold_ns": {}, "e2_ns": {},
           "handoffs_per_op": {}, "u": {}, "k_list": {}, "k_prod": {}, "notes": []}
    notes = inp["notes"]
    old = "qlock_hold_ns" not in calib
    like = None
    if old and args.qlock_like:
        with open(args.qlock_like) as f:
            like = json.load(f)
        # The queued lock relative to the TAS lock, as measured on another host.
        args.qlock_e2_ratio = (med(like, "qlock_contended_ns") - med(like, "qlock_hold_ns")) / \
            (med(like, "lock_contended_ns") - med(like, "lock_hold_ns"))
        calib = dict(calib, qlock_handoffs_per_op=like.get("qlock_handoffs_per_op"))
        inp["qlock_hold_ratio"] = med(like, "qlock_hold_ns") / med(like, "lock_hold_ns")
    if old:
        notes.append("calibration predates the queued lock (no qlock_*): its lock_* and "
                     "defer_ns.v5/v3 are the test-and-set lock's; the queued lock's hold is "
                     "taken as the TAS hold x %.2f and its contended cost per visit as the TAS one "
                     "x %.2f%s" % (inp.get("qlock_hold_ratio", 1.0), args.qlock_e2_ratio,
                                   (", both ratios (and the share of visits that hand off) "
                                    "measured by %s" % args.qlock_like) if like else
                                   " (--qlock-e2-ratio; --qlock-like CALIB takes them from "
                                   "another host's calibration)"))
    L = inp["handoff_ns"]
    inp["floor_ns"] = med(calib, "floor_ns")
    # Holds and contended costs per visit (2 CPUs, both at the line: e2 = S2 - s).
    s_t = med(calib, "lock_hold_ns")
    s2_t = med(calib, "lock_contended_ns", s_t + 2 * L)
    s_q = med(calib, "qlock_hold_ns", s_t * inp.get("qlock_hold_ratio", 1.0), quiet=old)
    if old:
        s2_q = s_q + (s2_t - s_t) * args.qlock_e2_ratio
    else:
        s2_q = med(calib, "qlock_contended_ns", s_q + 2 * L)
    s_c = med(calib, "cas_local_ns")
    s2_c = med(calib, "cas_contended_ns", s_c + 2 * L)
    for d in ("v5", "v3"):
        inp["hold_ns"][d], inp["e2_ns"][d] = s_q, max(0.0, s2_q - s_q)
        inp["hold_ns"][d + "_tas"], inp["e2_ns"][d + "_tas"] = s_t, max(0.0, s2_t - s_t)
    inp["hold_ns"]["global_llist"], inp["e2_ns"]["global_llist"] = s_c, max(0.0, s2_c - s_c)
    for k, d in (("lock", "tas"), ("qlock", "queued"), ("cas", "llist")):
        if k + "_handoffs_per_op" in calib:
            inp["handoffs_per_op"][d] = med(calib, k + "_handoffs_per_op")
    # The queued lock's hand-off: its contended cost per owner change.
    f_q = inp["handoffs_per_op"].get("queued")
    if not f_q or f_q <= 0:
        f_q = 1.0
        notes.append("no qlock_handoffs_per_op: the queued lock's hand-off is taken as its "
                     "per-visit contended cost (every visit a hand-off)")
    inp["handoff_cost_ns"] = {d: inp["e2_ns"][d] / f_q for d in ("v5", "v3")}
    # Per design: the defer's local cost, the drain's CPU per descriptor.
    for d in DESIGNS:
        alias = d
        if old and d.endswith("_tas"):
            alias = d[:-4]				# the old calib's v5 was TAS
        elif old and d in ("v5", "v3"):
            alias = d				# TAS cost stands in (stated)
        if d == "percpu_takeback" and "defer_ns.percpu_takeback" not in calib:
            continue
        inp["defer_ns"][d] = med(calib, "defer_ns." + alias)
        inp["drain_ns"][d] = med(calib, "drain_ns." + alias)
        inp["release_ns"][d] = med(calib, "release_ns." + alias, 0.0, quiet=True)
    if "percpu_takeback" in inp["defer_ns"]:
        inp["takeback_ns"] = med(calib, "takeback_ns")
        inp["takeback_empty_ns"] = med(calib, "takeback_empty_ns", 0.0)
        # The take-back drain touches no descriptor: no per-descriptor term.
        inp["drain_ns"]["percpu_takeback"] = 0.0
    else:
        notes.append("calibration has no take-back figures: no percpu_takeback lines")
    # Counted transactions (transfers.json): an uncontended visit to a shared
    # line from another CPU (per defer), and the drain's per list.
    counted = transfers.get("counted", {})
    for d in DESIGNS:
        c = counted.get(d, {})
        pd = c.get("per_defer_shared", {})
        inp["u"][d] = float(pd.get("transfer", 1.0)) + float(pd.get("upgrade", 1.0)) \
            if d in LOCKS else 0.0
        # Per drain and list: the drain's own transactions, and the rest
        # (the list's CPU taking its lines back), for the lock-less designs.
        own = c.get("drain_shared_per_list")
        per_list = c.get("shared_per_drain_per_list", {})
        every = sum(float(v.get("transfer", 0)) + float(v.get("upgrade", 0))
                    for v in per_list.values()) if per_list else 4.0
        inp["k_list"][d] = float(own["transfer"]) + float(own["upgrade"]) if own else 2.0
        inp["k_prod"][d] = max(0.0, every - inp["k_list"][d]) if d not in LOCKS else 0.0
    # The drain's fixed cost per pass: the take-back pass (one list, no
    # descriptor touched) less its counted line transactions.
    pass_tb = med(calib, "drain_pass_ns.percpu_takeback", -1.0, quiet=True)
    inp["drain_fixed_ns"] = max(0.0, pass_tb - inp["k_list"].get("percpu_takeback", 4.0) * L) \
        if pass_tb > 0 else 0.0
    # A batching poll's sleep: its CPU cost to the drain thread.
    if "sleep_cpu_ns" in calib:
        inp["sleep_cpu_ns"] = med(calib, "sleep_cpu_ns")
    else:
        inp["sleep_cpu_ns"] = med(calib, "wake_ns", 5000.0)
        notes.append("calibration lacks sleep_cpu_ns: a poll's sleep costs wake_ns (%.0f ns), "
                     "a stand-in" % inp["sleep_cpu_ns"])
    # ... and its wall time: a 20 us sleep lasts longer (timer slack: 50 us
    # by default for a normal thread, prctl(2) PR_SET_TIMERSLACK; wake-up).
    if "sleep_wall_ns" in calib:
        inp["sleep_over_ns"] = max(0.0, med(calib, "sleep_wall_ns") - SLICE_NS)
    else:
        inp["sleep_over_ns"] = 50000.0
        notes.append("calibration lacks sleep_wall_ns: a poll's sleep overruns by the default "
                     "timer slack, 50 us")
    inp["wake_ns"] = med(calib, "wake_ns", 0.0, quiet=True)
    return inp


def handoff_ns(n, inp):
    """Mean hand-off latency among n producers placed socket by socket: a
    hand-off goes to another producer chosen uniformly, so it crosses
    sockets with the share of producer pairs on different sockets."""
    l_intra, l_x, sc = inp["handoff_ns"], inp["xsocket_ns"], inp["socket_cpus"]
    if n <= 1:
        return l_intra
    sockets = max(1, math.ceil(n / sc))
    sizes = [sc] * (sockets - 1) + [n - sc * (sockets - 1)]
    same = sum(s * (s - 1) for s in sizes)
    p_x = 1.0 - same / (n * (n - 1))
    return l_intra + p_x * (l_x - l_intra)


# ---------------------------------------------------------------- producer side

def station_service(design, n, j, inp, hold=None):
    """Service time per visit of the shared line with j producers at it
    (holder and waiters) among n.

    j = 1: nobody waits; the line was last used by another CPU with
    probability (n-1)/n, and then the visit pays the counted transactions
    of an uncontended visit (u); at most what a contended visit costs (e2:
    a holder that comes back before anyone else keeps the line, and with
    short private work that is the rule, as the 2-CPU measurement shows).  j = 2: the per-visit contended cost
    measured with two CPUs (e2: a mix of hand-offs and visits the holder
    makes again before the other asks).  j >= 3, the queued lock: every
    release finds a waiter queued (FIFO), so every visit pays one hand-off
    (H = e2 / the share of visits that changed owner at 2 CPUs), and a
    hand-off moves one line whatever j.  j >= 3, the test-and-set lock:
    e2 plus gamma hand-off latencies per spinner beyond the first (each
    release invalidates every spinner, whose reads and exchanges the next
    holder's transfer queues behind).  The CAS loop: e2 whatever j.  Every
    latency term scales with the hand-off latency at n (cross-socket)."""
    s = inp["hold_ns"][design] if hold is None else hold
    lat = handoff_ns(n, inp)
    scale = lat / inp["handoff_ns"]
    if j <= 1:
        return s + min(inp["u"][design] * lat * (n - 1) / n, inp["e2_ns"][design] * scale)
    e = inp["e2_ns"][design]
    if j >= 3 and LOCKS[design] == "q":
        e = inp["handoff_cost_ns"][design]
    elif LOCKS[design] == "t":
        e += inp["gamma"] * inp["handoff_ns"] * (j - 2)
    return s + e * scale


def station_throughput(design, n, z, inp, hold=None):
    """Visits per ns of n producers, each thinking z ns between visits, to
    the single station (exact for exponential times): the birth-death
    chain with arrival rate (n - j)/z and service rate 1/S(j) in state j,
    solved in logarithms (n up to 256)."""
    if n < 1:
        return 0.0
    z = max(z, 1e-3)
    logp = [0.0]
    for j in range(1, n + 1):
        logp.append(logp[-1] + math.log((n - j + 1) / z) +
                    math.log(station_service(design, n, j, inp, hold)))
    mx = max(logp)
    p = [math.exp(v - mx) for v in logp]
    tot = sum(p)
    return sum(p[j] / station_service(design, n, j, inp, hold) for j in range(1, n + 1)) / tot


def producer_rate(design, n, inp, h):
    """Producer-side aggregate items/s of n producers on n CPUs (what the
    enqueue rows' producer_items_per_second times); h: harness per item."""
    c = inp["defer_ns"][design]
    lat = handoff_ns(n, inp)
    if design in ("percpu", "percpu_takeback"):
        per_item = c + h
        if design == "percpu_takeback":
            # The take-back per descriptor (measured with a chain of 4096 a
            # drain on the other CPU handed back: the take-back line's and
            # the list line's transfers are in it), a take-back call that
            # finds nothing once per chunk, and the lines' latency at n.
            per_item += inp["takeback_ns"] + inp["takeback_empty_ns"] / CHUNK
        items_per_cycle = max(1.0, SLICE_NS / per_item)
        # The list head (and take-back line) back from the drain, per cycle.
        per_item += inp["k_prod"][design] * (lat - (inp["handoff_ns"]
                                                    if design == "percpu_takeback" else 0.0)) \
            / items_per_cycle
        return n * 1e9 / per_item
    s = min(inp["hold_ns"][design], c)		# the hold is part of the defer
    z = max(0.0, c - s + h)
    if n == 1:
        return 1e9 / (z + s)
    return station_throughput(design, n, z, inp) * 1e9


# ---------------------------------------------------------------- consumer side

def drain_cycle(design, n, x, inp, flush_ns, delay_ns):
    """One drain thread at an offered x items/ns: (cycle period T_c,
    busy time T_d, CPU per cycle) in ns, or None when it cannot keep up.

    T_d = fixed + lists x per-list line transactions + flush + d x B, with
    B = x T_c descriptors per drain.  Without a delay the next drain starts
    when this one ends (T_c = T_d); with one, gather() polls every slice
    from the detach on until batch_max are queued or the delay is over,
    each poll a timed sleep (calib's CPU and wall time of one: the wall
    time overruns the request) and a look at every list; the take-back
    drain, which does not walk, sleeps the rest at once when the rate
    cannot reach batch_max within the delay."""
    lat = handoff_ns(n, inp)
    lists = n if design in ("percpu", "percpu_takeback") else 1
    d = inp["drain_ns"][design]
    t_fix = inp["drain_fixed_ns"] + lists * inp["k_list"][design] * lat + flush_ns
    if d * x >= 1.0:
        return None
    if delay_ns <= 0:
        t_c = t_fix / (1.0 - d * x)
        return t_c, t_c, t_c
    t_c = delay_ns
    polls = 0
    for _ in range(200):
        b = x * t_c
        t_d = t_fix + d * b
        t, polls = t_d, 0
        while t < delay_ns and x * t < BATCH_MAX:
            # A drain that does not walk sleeps the rest at once when the
            # rate cannot reach batch_max before the delay ends
            # (lib/drain_thread.c, gather_sleep_ns()); others poll a slice.
            step = delay_ns - t if design == "percpu_takeback" and x * delay_ns < BATCH_MAX \
                else SLICE_NS
            t += min(step, delay_ns - t) + inp["sleep_over_ns"] + lists * lat
            polls += 1
        new = max(t, t_d)
        if abs(new - t_c) < 1e-6 * new:
            break
        # Damped: the polls make T_c jump by a poll; the mean is what is wanted.
        t_c = (t_c + new) / 2
    t_d = t_fix + d * x * t_c
    cpu = t_d + polls * (inp["sleep_cpu_ns"] + lists * lat)
    return t_c, t_d, cpu


def consumer_rate(design, n, inp, xp, flush_ns=0.0, ring=ENQ_RING, delay_ns=DELAY_NS, spare=0):
    """Sustained items/s: the largest rate x (<= the producer side xp) at
    which (1) the drain keeps up, (2) producers and the drain fit on the n
    CPUs (plus `spare` idle ones the drain may use), and (3) no producer's
    ring runs out: its descriptors in flight, x/n (T_c + T_d + lag), stay
    below the ring (lag: a take-back producer takes back once per chunk)."""
    if xp <= 0:
        return 0.0
    xp_ns = xp * 1e-9

    def ok(x):
        cyc = drain_cycle(design, n, x, inp, flush_ns, delay_ns)
        if cyc is None:
            return False
        t_c, t_d, cpu = cyc
        u_d = cpu / t_c
        if u_d > 1.0 + 1e-6:
            return False
        if x * n / xp_ns + max(0.0, u_d - spare) > n * (1 + 1e-9):
            return False
        lag = CHUNK / (x / n) if design == "percpu_takeback" else 0.0
        return (x / n) * (t_c + t_d + lag) <= ring
    if ok(xp_ns):
        return xp
    lo, hi = 0.0, xp_ns
    for _ in range(60):
        mid = (lo + hi) / 2
        if ok(mid):
            lo = mid
        else:
            hi = mid
    return lo * 1e9


def producer_rate_beside_drain(design, n, inp, h, flush_ns=0.0, ring=ENQ_RING,
                               delay_ns=DELAY_NS, spare=0):
    """Producer side of n producers sharing their n CPUs (plus `spare`) with
    the drain thread, as the benchmark runs them.  A producer whose ring
    is empty yields its CPU (bench/enqueue.c: sched_yield() while it
    waits) and that wait is left out of its window; the drain thread's
    busy share u = T_d / T_c of a CPU (less the spare CPUs) is such time.
    While it runs, n - 1 producers are at the shared line, so the line's
    rate is the (n - 1)-producer one: producer side =
    ((1 - u) X(n) + u X(n - 1)) / (1 - u / n).  A per-CPU design's
    X(n) = n r makes this n r again (no change); a design with a shared
    line gains, the more the fewer producers (on 2 CPUs: one producer
    alone while the other waits).  u depends on the sustained rate, which
    depends on this one: a fixed point.  calib's defer2_ns has no drain
    thread: plain producer_rate() is validated against it.

    Left out, with the plain rate returned: the test-and-set lock (its
    waiters never give up their CPU, so a drain that preempts the lock's
    holder leaves the other producer spinning rather than alone at the
    line; how often is the scheduler's, which the model does not have:
    the measured TAS rows fall below even the plain rate), and a policy
    without a batching delay (the model's drain then cycles without
    sleeping, T_d = T_c, while the real one sleeps until woken: u = 1
    would say nothing)."""
    x_n = producer_rate(design, n, inp, h)
    if n <= 1 or design in ("percpu", "percpu_takeback") or LOCKS.get(design) == "t" \
            or delay_ns <= 0:
        return x_n
    x_m = producer_rate(design, n - 1, inp, h)
    xp = x_n
    for _ in range(50):
        xs = consumer_rate(design, n, inp, xp, flush_ns, ring, delay_ns, spare)
        cyc = drain_cycle(design, n, xs * 1e-9, inp, flush_ns, delay_ns)
        if cyc is None:
            break
        t_c, t_d, _ = cyc
        u = min(1.0, max(0.0, t_d / t_c - spare))
        new = ((1.0 - u) * x_n + u * x_m) / (1.0 - u / n)
        if abs(new - xp) < 1e-6 * new:
            return new
        xp = (xp + new) / 2
    return xp


# ---------------------------------------------------------------- the application

def app_predictions(app_path, inp, ncpu_points):
    """The application workload's pgfree/v5 ratio from its per-free costs
    (examples/iommu_sva's v5 mode locks with pthread_spin_lock: the TAS
    lock's model)."""
    lines, rows_out = [], []
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
        t_op = 1e9 / float(r1["map_unmap_per_s"])
        f = r1.get("frees_per_op")
        if f is None and r1.get("tables_freed_per_s"):
            f = float(r1["tables_freed_per_s"]) / float(r1["map_unmap_per_s"])
        f = float(f or 0.0)
        flush = float(r1.get("flushes_per_1000") or 0.0) / 1000.0
        worker = r1.get("worker_cpu_ns_per_free")
        if worker is None:
            worker = flush * float(r1.get("flush_ns") or 0.0)
            lines.append("app: %s: worker_cpu_ns_per_free missing; using flushes x flush_ns = %.0f ns"
                         % (mode, worker))
        hold = r1.get("lock_hold_ns_per_free")
        if mode == "v5" and hold is None:
            hold = inp["hold_ns"]["v5_tas"]
            lines.append("app: v5: lock_hold_ns_per_free missing; using calib lock_hold_ns %.1f" % hold)
        per_mode[mode] = dict(t_op=t_op, f=f, worker=float(worker), hold=float(hold or 0.0))
    for mode, p in per_mode.items():
        lines.append("app: %s inputs (1-thread row): %.0f ns per map+unmap, %.3f frees/op, "
                     "worker %.0f ns/free, lock hold %.1f ns/free"
                     % (mode, p["t_op"], p["f"], p["worker"], p["hold"]))
    res = {}
    for n in ncpu_points:
        for mode, p in per_mode.items():
            x, u = 0.0, 1.0
            for _ in range(30):
                z = p["t_op"] / u
                if mode == "v5" and p["f"] > 0 and n > 1:
                    zv = max(1.0, z / p["f"] - p["hold"])
                    x_new = station_throughput("v5_tas", n, zv, inp, hold=p["hold"]) * 1e9 / p["f"]
                else:
                    x_new = n * 1e9 / z
                if p["f"] > 0 and p["worker"] > 0:
                    x_new = min(x_new, 1e9 / (p["worker"] * p["f"]))
                busy = min(1.0, x_new * p["f"] * p["worker"] * 1e-9)
                u_new = max(0.05, (n - busy) / n) if n > 1 else 1.0
                if abs(x_new - x) < 1e-6 * max(x_new, 1.0) and abs(u_new - u) < 1e-9:
                    x = x_new
                    break
                x, u = x_new, u_new
            res[(mode, n)] = x
        rows_out.append(("app_v5", n, res[("v5", n)]))
        rows_out.append(("app_pgfree", n, res[("pgfree", n)]))
        rows_out.append(("app_ratio_pgfree_over_v5", n, res[("pgfree", n)] / res[("v5", n)]))
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
    lines.append("app: the model leaves out the pool's recycling latency and the device threads "
                 "(README, 'How far to trust it'); its pgfree mode is the ->release() path")
    return lines, rows_out


# ---------------------------------------------------------------- the plot

def plot(out, preds, sus, e2e, bench, inp, designs):
    """model.png with gnuplot (the project's plotting tool, deps.sh bench)."""
    import shutil
    import subprocess
    colours = {"percpu": "#1b9e77", "percpu_takeback": "#e7298a", "v5": "#d95f02",
               "v5_tas": "#a6761d", "global_llist": "#7570b3"}
    dat = os.path.join(out, "model_plot.dat")
    blocks = []
    with open(dat, "w") as f:
        def block(title, pts):
            f.write("# %s\n" % title)
            for n, v in pts or [(1, float("nan"))]:
                f.write("%d %g\n" % (n, v / 1e6))
            f.write("\n\n")
            blocks.append(title)
            return len(blocks) - 1
        lines = []
        for d in designs:
            i = block(d + " producer side (model)", [(n, preds[(d, n)]) for n in CPU_POINTS])
            lines.append("'%s' index %d w lp lw 2 pt 7 ps 0.5 lc rgb '%s' t '%s, producer side'"
                         % (dat, i, colours.get(d, "#000000"), d))
            if d in ("percpu", "percpu_takeback", "v5"):
                i = block(d + " sustained (model)", [(n, sus[(d, n)]) for n in CPU_POINTS])
                lines.append("'%s' index %d w l dt 2 lw 2 lc rgb '%s' t '%s, sustained'"
                             % (dat, i, colours.get(d, "#000000"), d))
            if d == "percpu_takeback":
                i = block(d + " end_to_end 10 us (model)",
                          [(n, e2e[(d, n, 10000.0)]) for n in CPU_POINTS])
                lines.append("'%s' index %d w l dt 3 lw 2 lc rgb '%s' t '%s, end_to_end 10 us flush'"
                             % (dat, i, colours.get(d, "#000000"), d))
        for d in designs:
            pts = sorted((n, r["value"]) for (wl, bd, n, fl), r in bench.items()
                         if wl == "enqueue" and r["model"] == d and r["design"] == d
                         and not r["over"])
            if pts:
                i = block(d + " measured producer side", pts)
                lines.append("'%s' index %d w p pt 5 ps 1.4 lc rgb '%s' t '%s, measured'"
                             % (dat, i, colours.get(d, "#000000"), d))
            pts = sorted((n, r["sustained"]) for (wl, bd, n, fl), r in bench.items()
                         if wl == "enqueue" and r["model"] == d and r["design"] == d
                         and not r["over"])
            if pts and d in ("percpu", "percpu_takeback", "v5"):
                i = block(d + " measured sustained", pts)
                lines.append("'%s' index %d w p pt 4 ps 1.4 lc rgb '%s' t '%s, measured sustained'"
                             % (dat, i, colours.get(d, "#000000"), d))
    gp = shutil.which("gnuplot")
    if not gp:
        return "plot: gnuplot not found (scripts/deps.sh bench installs gnuplot-nox); data in model_plot.dat"
    script = """
set terminal pngcairo size 1100,800 noenhanced font ",10"
set output '{png}'
set logscale xy 2
set xlabel 'CPUs (one producer per CPU)'
set ylabel 'aggregate rate, M descriptors/s'
set title 'many-core model (lines) and measured enqueue rows (points); cross-socket hand-off {xs:.0f} ns, {sc} CPUs/socket'
set key outside below horizontal maxcols 3
set grid
plot {lines}
""".format(png=os.path.join(out, "model.png"), xs=inp["xsocket_ns"], sc=inp["socket_cpus"],
           lines=", \\\n     ".join(lines))
    r = subprocess.run([gp], input=script, text=True, capture_output=True)
    if r.returncode:
        return "plot: gnuplot failed: " + r.stderr.strip()[:300]
    return "plot: " + os.path.join(out, "model.png")


# ---------------------------------------------------------------- main

def harness_overhead(bench, inp, n):
    """Per-item time the benchmark harness adds to a producer at n threads,
    from its floor row (one private atomic per item): n/X_floor - floor."""
    row = bench.get(("enqueue", "floor", n, 0.0))
    if not row or row["value"] <= 0:
        return 0.0, None
    return max(0.0, n * 1e9 / row["value"] - inp["floor_ns"]), row["value"]


def enqueue_row_rates(d, n, r, inp, h, ncpu):
    """The model's producer-side and sustained rates for enqueue row r of
    design d at n producers (its batching policy, the harness's h ns per
    item, the CPUs left over for the drain)."""
    delay = POLICY_DELAY.get(r["policy"], DELAY_NS)
    xp = producer_rate_beside_drain(d, n, inp, h, 0.0, ENQ_RING, delay, spare=max(0, ncpu - n))
    xs = consumer_rate(d, n, inp, xp, 0.0, ENQ_RING, delay, spare=max(0, ncpu - n))
    return xp, xs


def paired_validation(pairs_dir, transfers, args, ncpu):
    """The model against rows measured beside its own calibration.

    On a shared machine, a calibration and benchmark rows taken minutes
    apart may meet different moments (the same defer code calibrated at
    5.1 and 7.4 ns in two runs).  bench/model/stage.sh therefore
    alternates, N times, a calibration (calibI.json) with the 1-2 CPU
    enqueue rows the model is validated on (enqueueI.json), each a few
    seconds long; here each pair's rows are predicted from that pair's
    calibration, and the errors are summed up per row as their median and
    range over the pairs.  The range says how much of an error is the
    machine's: on the project's 2-vCPU guest the calibrations of one run
    agree within 7% while the lock-less rows beside them move by 1.7x
    (bench/results/amd-epyc-2vcpu-kvm/experiments/defer-levels).
    Returns (lines, errors), errors as (kind, design, n, median)."""
    pairs = []
    i = 1
    while True:
        c = os.path.join(pairs_dir, "calib%d.json" % i)
        e = os.path.join(pairs_dir, "enqueue%d.json" % i)
        if not (os.path.exists(c) and os.path.exists(e)):
            break
        pairs.append((c, e))
        i += 1
    if not pairs:
        return ["validation, paired: no calibI.json/enqueueI.json pairs in %s" % pairs_dir], []
    cells = {}
    for c, e in pairs:
        with open(c) as f:
            cal = json.load(f)
        inp = build_inputs(cal, transfers, args)
        bench, _, queued_era = load_bench(e)
        for (wl, bd, n, fl), r in bench.items():
            d = row_model(bd, queued_era)
            if wl != "enqueue" or d not in inp["defer_ns"] or r["over"]:
                continue
            h, _ = harness_overhead(bench, inp, n)
            xp, xs = enqueue_row_rates(d, n, r, inp, h, ncpu)
            cells.setdefault((bd, n), []).append((r["value"], xp, r["sustained"], xs))
    lines = ["validation, paired (%d times: a calibration, then the 1-2 CPU enqueue rows beside "
             "it, %s; each pair's rows against the model of its own calibration; error median "
             "[min..max] over the pairs; rates: medians over the pairs):"
             % (len(pairs), os.path.basename(os.path.normpath(pairs_dir)))]
    errs = []
    order = lambda k: (DESIGNS.index(k[0]) if k[0] in DESIGNS else 99, k[0], k[1])
    for n in sorted({k[1] for k in cells}):
        for key in sorted((k for k in cells if k[1] == n), key=order):
            v = cells[key]
            for kind, mi, xi in (("producer", 0, 1), ("sustained", 2, 3)):
                e = [100.0 * (x[xi] - x[mi]) / x[mi] for x in v]
                em = statistics.median(e)
                errs.append(("paired " + kind, key[0], n, em))
                meas = statistics.median(x[mi] for x in v)
                model = statistics.median(x[xi] for x in v)
                # scripts/figures.py reads these lines (PAIRED_RE).
                lines.append("  paired %-15s %2d CPU%s %-9s measured %8.2f M/s, model %8.2f M/s, "
                             "error %+5.0f%% [%+.0f%%..%+.0f%%] over %d pairs"
                             % (key[0], n, "s" if n > 1 else "", kind + ":", meas / 1e6,
                                model / 1e6, em, min(e), max(e), len(v)))
    return lines, errs


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calib", required=True)
    ap.add_argument("--transfers", required=True)
    ap.add_argument("--bench")
    ap.add_argument("--app")
    ap.add_argument("--out", required=True)
    ap.add_argument("--pairs", help="a directory of calibI.json/enqueueI.json pairs "
                    "(bench/model/stage.sh): the paired validation")
    ap.add_argument("--xsocket-ns", type=float, default=XSOCKET_NS)
    ap.add_argument("--socket-cpus", type=int, default=SOCKET_CPUS)
    ap.add_argument("--handoff-ns", type=float,
                    help="in-socket hand-off latency instead of calib's (sensitivity)")
    ap.add_argument("--tas-spinner-cost", type=float, default=TAS_SPINNER_COST,
                    help="TAS lock: extra cost per hand-off per spinner beyond the first, in "
                         "hand-off latencies (default %g, README)" % TAS_SPINNER_COST)
    ap.add_argument("--qlock-e2-ratio", type=float, default=1.0,
                    help="a calibration without the queued lock: its contended cost per visit "
                         "= the TAS lock's x this (default 1)")
    ap.add_argument("--qlock-like",
                    help="a calibration without the queued lock: take the queued lock's hold, "
                         "contended cost and hand-off share relative to the TAS lock's from this "
                         "calib.json (another host's)")
    args = ap.parse_args()

    with open(args.calib) as f:
        calib = json.load(f)
    with open(args.transfers) as f:
        transfers = json.load(f)
    if args.handoff_ns:
        calib = dict(calib, handoff_ns={"median": args.handoff_ns, "override": True})
    inp = build_inputs(calib, transfers, args)
    bench, ctx, queued_era = load_bench(args.bench) if args.bench else ({}, {}, True)
    for (wl, d, n, fl), r in bench.items():
        r["design"] = d
        r["model"] = row_model(d, queued_era)
    ncpu = int(ctx.get("num_cpus") or ctx.get("pgfree_cpus_online") or os.cpu_count() or 2)
    designs = [d for d in DESIGNS if d in inp["defer_ns"]]
    shown = [d for d in SHOWN if d in designs]
    L = inp["handoff_ns"]

    S = []
    S.append("many-core model (bench/model/README.md): producers at a shared line as a birth-death "
             "chain, the drain thread's cycle on the same CPUs")
    S.append("inputs (calib, medians, ns): hand-off %.1f; floor %.2f; holds: queued lock %.2f, "
             "TAS %.2f, local CAS %.2f" % (L, inp["floor_ns"], inp["hold_ns"]["v5"],
                                           inp["hold_ns"]["v5_tas"], inp["hold_ns"]["global_llist"]))
    hp = inp["handoffs_per_op"]
    S.append("  contended, 2 CPUs, per visit beyond the hold (e2): queued lock %.1f, TAS %.1f, "
             "llist CAS %.1f%s" % (inp["e2_ns"]["v5"], inp["e2_ns"]["v5_tas"],
                                   inp["e2_ns"]["global_llist"],
                                   ("; owner changed on %.0f%% / %.0f%% / %.0f%% of visits: the "
                                    "queued lock's hand-off %.0f ns, TAS %.0f ns"
                                    % (100 * hp["queued"], 100 * hp["tas"], 100 * hp.get("llist", 0),
                                       inp["e2_ns"]["v5"] / max(hp["queued"], 1e-3),
                                       inp["e2_ns"]["v5_tas"] / max(hp["tas"], 1e-3)))
                                   if "queued" in hp and "tas" in hp else ""))
    S.append("  defer (1 producer): " + ", ".join(
        "%s %.2f" % (d, inp["defer_ns"][d]) for d in designs))
    S.append("  drain CPU per descriptor (walk + ->release(); the callback's share): " + ", ".join(
        "%s %.2f (%.2f)" % (d, inp["drain_ns"][d], inp["release_ns"][d]) for d in designs))
    if "takeback_ns" in inp:
        S.append("  take-back: %.2f ns per descriptor taken back, %.1f ns per empty call; "
                 "drain fixed %.0f ns per pass; a poll's 20 us sleep: %.0f ns of CPU, "
                 "overruns by %.0f ns"
                 % (inp["takeback_ns"], inp["takeback_empty_ns"], inp["drain_fixed_ns"],
                    inp["sleep_cpu_ns"], inp["sleep_over_ns"]))
    S.append("parameters: cross-socket hand-off %.0f ns (cited), %d CPUs per socket; TAS: %.2f "
             "hand-off latencies per extra spinner (fitted, README); drain delay %.0f us, poll "
             "%.0f us, batch_max %.0f; rings %d (enqueue), %d (end_to_end)"
             % (inp["xsocket_ns"], inp["socket_cpus"], inp["gamma"], DELAY_NS / 1e3,
                SLICE_NS / 1e3, BATCH_MAX, ENQ_RING, E2E_RING))
    for n_ in inp["notes"]:
        S.append("note: " + n_)
    if bench and not queued_era:
        S.append("note: this bench.json has no *_tas rows: it predates the queued lock, so its "
                 "v5/v3/v5_kernel rows are validated as the TAS lock (v5_tas)")

    # The library alone, two producers (calib defer2_ns: no harness, no drain thread).
    lib2 = []
    for d in designs:
        m2 = med(calib, "defer2_ns." + d, -1.0, quiet=True)
        if m2 > 0:
            x2, p2 = 1e9 / m2, producer_rate(d, 2, inp, 0.0)
            lib2.append("%s %.0f M/s, model %.0f (%+.0f%%)" % (d, x2 / 1e6, p2 / 1e6,
                                                              100.0 * (p2 - x2) / x2))
    if lib2:
        S.append("validation, the library alone on 2 CPUs (calib defer2_ns): " + "; ".join(lib2))

    # Validation against the benchmark.
    val, errs = [], []
    counts = sorted({k[2] for k in bench if k[0] == "enqueue"} | ({1, 2} if bench else set()))
    for n in counts:
        h, floor_rate = harness_overhead(bench, inp, n)
        shown_any = False
        for (wl, bd, nn, fl), r in sorted(bench.items(), key=lambda kv: (DESIGNS.index(
                kv[1]["model"]) if kv[1]["model"] in DESIGNS else 99, kv[0][1])):
            if wl != "enqueue" or nn != n or r["model"] not in designs or r["over"]:
                continue
            d = r["model"]
            xp, xs = enqueue_row_rates(d, n, r, inp, h, ncpu)
            e_p = 100.0 * (xp - r["value"]) / r["value"]
            e_s = 100.0 * (xs - r["sustained"]) / r["sustained"]
            errs.append(("producer", bd, n, e_p))
            errs.append(("sustained", bd, n, e_s))
            shown_any = True
            # The producer-side line keeps the format scripts/figures.py reads
            # (VALID_RE: design, n CPU: measured, [spread], model, error, [row]).
            sp = (" [%.3g-%.3g]" % (r["spread"][0] / 1e6, r["spread"][1] / 1e6)) \
                if r["spread"] else " [-]"
            val.append("  %-15s %2d CPU: measured %8.2f M/s%s, model %8.2f M/s, error %+5.0f%%%s [%s]"
                       % (bd, n, r["value"] / 1e6, sp, xp / 1e6, e_p,
                          (" (as %s)" % d) if d != bd else "", r["name"]))
            val.append("  %-15s %2d CPU sustained: measured %8.2f M/s, model %8.2f M/s, error %+5.0f%%"
                       % (bd, n, r["sustained"] / 1e6, xs / 1e6, e_s))
        if floor_rate and shown_any:
            val.append("  (harness overhead from the floor row at %d: %.2f ns per item per producer)"
                       % (n, h))
    paired, paired_errs = paired_validation(args.pairs, transfers, args, ncpu) \
        if args.pairs else ([], [])
    errs += paired_errs
    e2e_val = []
    for (wl, bd, n, fl), r in sorted(bench.items()):
        if wl != "end_to_end" or r["model"] not in designs:
            continue
        d = r["model"]
        h, _ = harness_overhead(bench, inp, n)
        xp = producer_rate_beside_drain(d, n, inp, h, fl, E2E_RING,
                                        POLICY_DELAY.get(r["policy"], DELAY_NS),
                                        spare=max(0, ncpu - n))
        xe = consumer_rate(d, n, inp, xp, fl, E2E_RING, POLICY_DELAY.get(r["policy"], DELAY_NS),
                           spare=max(0, ncpu - n))
        e = 100.0 * (xe - r["sustained"]) / r["sustained"]
        errs.append(("end_to_end", bd, n, e))
        e2e_val.append("  %-15s %2d CPU flush %5.0f ns: measured %7.2f M/s, model %7.2f (%+5.0f%%)%s [%s]"
                       % (bd, n, fl, r["sustained"] / 1e6, xe / 1e6, e,
                          (" as " + d) if d != bd else "", r["name"]))
    if val:
        S.append("validation against bench.json, enqueue (median rows, the default batching "
                 "policy; 'measured' = producer side, the window less stalls, [IQR]; 'sustained' "
                 "= the whole window):")
        S += val
    elif bench:
        S.append("validation: no enqueue rows in bench.json")
    if e2e_val:
        S.append("validation against bench.json, end_to_end (items/s of wall time, the row's policy):")
        S += e2e_val
    S += paired

    # Predictions, with the 1-thread floor row's harness overhead.
    h1, _ = harness_overhead(bench, inp, 1)
    preds, sus, e2e = {}, {}, {}
    for d in designs:
        for n in CPU_POINTS:
            preds[(d, n)] = producer_rate_beside_drain(d, n, inp, h1)
            sus[(d, n)] = consumer_rate(d, n, inp, preds[(d, n)])
            for fl in E2E_FLUSHES:
                e2e[(d, n, fl)] = consumer_rate(
                    d, n, inp, producer_rate_beside_drain(d, n, inp, h1, fl, E2E_RING), fl,
                    E2E_RING)
    os.makedirs(args.out, exist_ok=True)
    app_lines, app_rows = app_predictions(args.app, inp, CPU_POINTS) if args.app else \
        (["app: no app.json given: no application prediction"], [])
    with open(os.path.join(args.out, "model_prediction.csv"), "w") as f:
        f.write("design,cpus,predicted_items_per_s\n")
        for d in designs:
            for n in CPU_POINTS:
                f.write("%s,%d,%.0f\n" % (d, n, preds[(d, n)]))
        for d in designs:
            for n in CPU_POINTS:
                f.write("%s_sustained,%d,%.0f\n" % (d, n, sus[(d, n)]))
        for name, n, v in app_rows:
            f.write("%s,%d,%.6g\n" % (name, n, v))
    # end_to_end apart: model_prediction.csv keeps the rows scripts/figures.py reads.
    with open(os.path.join(args.out, "model_end_to_end.csv"), "w") as f:
        f.write("design,cpus,flush_ns,predicted_items_per_s\n")
        for d in designs:
            for fl in E2E_FLUSHES:
                for n in CPU_POINTS:
                    f.write("%s,%d,%d,%.0f\n" % (d, n, fl, e2e[(d, n, fl)]))
    S.append("predicted, M descriptors/s: producer side / sustained (enqueue, no flush) / "
             "end_to_end with a 10 us flush; sustained/producer side in brackets:")
    for n in SUMMARY_POINTS:
        S.append("  %3d CPUs: " % n + "; ".join(
            "%s %.1f / %.1f / %.1f [%.2f]" % (d, preds[(d, n)] / 1e6, sus[(d, n)] / 1e6,
                                             e2e[(d, n, 10000.0)] / 1e6,
                                             sus[(d, n)] / preds[(d, n)])
            for d in shown))
    if "percpu_takeback" in designs:
        S.append("  take-back's sustained/producer side at 16, 64, 256 CPUs: %s; end_to_end "
                 "(10 us flush) take-back/percpu: %s"
                 % (", ".join("%.2f" % (sus[("percpu_takeback", n)] / preds[("percpu_takeback", n)])
                              for n in (16, 64, 256)),
                    ", ".join("%.2fx" % (e2e[("percpu_takeback", n, 10000.0)] /
                                         e2e[("percpu", n, 10000.0)]) for n in (16, 64, 256))))
    S += app_lines
    S.append(plot(args.out, preds, sus, e2e, bench, inp, shown))
    if errs:
        for kind in ("producer", "sustained", "end_to_end", "paired producer",
                     "paired sustained"):
            ek = [e for e in errs if e[0] == kind]
            if ek:
                w = max(ek, key=lambda e: abs(e[3]))
                S.append("validation error, %s: worst %s at %d CPU %+.0f%%" % (kind, w[1], w[2], w[3]))
    S.append("trust: shapes, yes (a shared line's rate is flat or falling from 2 CPUs; percpu's "
             "producer side is linear; the ->release() drain caps percpu's sustained rate at "
             "1/drain_ns, the take-back drain has no per-descriptor term); levels less: one "
             "2-CPU calibration, one cited cross-socket latency, the TAS spinner cost fitted to "
             "one 16-vCPU row, no scheduler but the drain's busy share (README, 'How far to trust it').")
    with open(os.path.join(args.out, "model_inputs.json"), "w") as f:
        json.dump({"calib": calib, "transfers_counted": transfers.get("counted", {}),
                   "derived": {k: v for k, v in inp.items()},
                   "harness_overhead_ns_1thread": h1, "queued_era_bench": queued_era,
                   "bench_rows_used": {"%s/%s/%d/%g" % k: v["name"] for k, v in bench.items()}},
                  f, indent=1)
    text = "\n".join(S) + "\n"
    with open(os.path.join(args.out, "model_summary.txt"), "w") as f:
        f.write(text)
    with open(os.path.join(args.out, "model_validation.txt"), "w") as f:
        f.write("\n".join(s for s in S if "CPU:" in s or "CPU flush" in s or "CPU sustained" in s
                          or "validation" in s or "paired" in s
                          or "harness overhead" in s or "measured pgfree/v5" in s
                          or s.startswith("note:")) + "\n")
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
