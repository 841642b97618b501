#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Aggregate the app stage's runs (OUTDIR/app_raw.jsonl, one JSON object per
run of examples/iommu_sva --json) into app.csv, app_detail.csv,
app_summary.txt, app.json and app.png.  Called by bench/app/stage.sh; the
columns and the labels are described in bench/app/README.md.

Labels (issue 17), per thread count:
  oversubscribed  in v5 or pgfree mode the row's runnable threads exceed the
                  CPUs.  Runnable threads = the CPU threads (1 each: they
                  never sleep) + each device thread's and the worker's or
                  drain thread's share of the run spent runnable (on a CPU
                  or waiting for one, /proc schedstat), medians over runs.
  frame-bound     in v5 or pgfree mode the CPU threads waited for free
                  frames more than FRAME_WAIT_MAX of their time.
  judged          neither: the only rows a performance target is judged on.
Raw files from before the devices were paced lack some of these figures;
there every device and the worker count 1 (they never slept then).

Modes (issue 18): "pgfree" takes the flushed tables back on the CPU threads
(PGFREE_F_TAKE_BACK: the drain touches no table), "pgfree_release" is the
drain-side release of before, run beside it for the comparison; the labels
and the targets use v5 and pgfree only.
"""
import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess

MODES = ["none", "v5", "pgfree", "pgfree_release"]
CONSUMER = {"v5": "v5 worker", "pgfree": "pgfree drain", "pgfree_release": "pgfree_release drain"}
FRAME_WAIT_MAX = 0.05		# issue 17: judge no row that waits more
DRAIN_RATIO_MAX = 0.5		# issue 18: drain CPU per free <= 0.5x v5's worker's
SATURATED = 0.95		# a consumer runnable this share of the run never idles


def quartiles(v):
    if len(v) < 2:
        return (v[0], v[0]) if v else (0.0, 0.0)
    q = statistics.quantiles(v, n=4, method="inclusive")
    return (q[0], q[2])


def per_run(r):
    """The derived figures of one run."""
    s = r["seconds"]
    tf = max(r["tables_freed"], 1)
    ops = max(r["map_unmap"], 1)
    wall = s * 1e9
    # Devices: the example measures each over its own window; older raw
    # files (before the devices were paced) have only the summed times,
    # and the oldest none: then every device and the worker count 1 (they
    # never slept then), as a runnable thread.
    dev_cpu = r.get("dev_cpu_share", r.get("dev_run_ns", 0) / wall)
    if "dev_runnable_share" in r:
        dev_runnable = r["dev_runnable_share"]
    elif "dev_runq_ns" in r:
        dev_runnable = (r["dev_run_ns"] + r["dev_runq_ns"]) / wall
    else:
        dev_runnable = float(r.get("devices", 2))
    if "worker_runq_wait_ns" in r:
        worker_runnable = (r["worker_run_ns"] + r["worker_runq_wait_ns"]) / wall
    else:
        worker_runnable = 1.0
    taken = r.get("taken_back", 0)
    return {
        "map_unmap_per_s": r["map_unmap"] / s,
        "tables_freed_per_s": r["tables_freed"] / s,
        "flushes_per_1000": 1000.0 * r["flushes"] / tf,
        "wakeups_per_1000": 1000.0 * r["wakeups"] / tf,
        "reuse_p50_us": r["reuse_p50_us"],
        "reuse_p99_us": r["reuse_p99_us"],
        "frees_per_op": r["tables_freed"] / ops,
        "lock_wait_ns_per_free": r["lock_wait_ns_per_free"],
        "lock_hold_ns_per_free": r["lock_hold_ns_per_free"],
        "free_ns_per_free": r["free_ns_per_free"],
        # The v5 worker's or the drain thread's CPU time (its clock).
        "worker_cpu_ns_per_free": r["worker_cpu_ns"] / tf,
        "worker_cpu_share": r["worker_cpu_ns"] / wall,
        # The same per flush (a drain cycle: wake-ups, sleeps, the flush,
        # and whatever it does per table), and the tables a flush covered.
        "worker_cpu_ns_per_flush": r["worker_cpu_ns"] / max(r["flushes"], 1),
        "frees_per_flush": r["tables_freed"] / max(r["flushes"], 1),
        # Take-back (mode pgfree): the share of the tables freed that the
        # CPU threads took back, of those the share another thread had
        # freed (a CPU's list shared by threads), the share the drain
        # released because nobody took it back within take_back_us, and
        # the CPU threads' wall time in the take-back (sampled, poisoning
        # included; its CPU is inside their CPU per op, and on an
        # oversubscribed row preemption inflates the wall time), per free
        # and per op.
        "taken_back_share": taken / tf,
        "taken_foreign_share": r.get("taken_foreign", 0) / max(taken, 1),
        "take_back_expired_share": r.get("take_back_expired", 0) / tf,
        "take_back_ns_per_free": r.get("take_back_ns_per_free", 0.0),
        "take_back_ns_per_op": r.get("take_back_ns_per_free", 0.0) * r["tables_freed"] / ops,
        "flush_ns": r["flush_ns_total"] / max(r["flushes"], 1),
        "producer_cpu_ns_per_op": r["producer_cpu_ns"] / ops,
        "preempted_per_s": r["producer_nivcsw"] / s,
        "pool_waits_per_s": r["pool_waits"] / s,
        # /proc schedstat of the flusher since it started (it sleeps until
        # the first free): runnable but waiting for a CPU, share of the run.
        "worker_runq_wait_share": r.get("worker_runq_wait_ns", 0) / wall,
        "worker_runnable_share": worker_runnable,
        # Where the time goes (examples/iommu_sva/README.md): flushes that
        # had to wait out a device thread preempted in its walk, and how
        # long those took; the share of a CPU thread's time spent waiting
        # for frames (pool dry) and runnable without a CPU.
        "flush_slow_share": r.get("flush_slow", 0) / max(r["flushes"], 1),
        "flush_slow_ns": r.get("flush_slow_ns", 0) / max(r.get("flush_slow", 0), 1),
        "pool_dry_wait_share": r.get("pool_wait_ns", 0) / (wall * r["threads"]),
        "producer_runq_share": r.get("producer_runq_ns", 0) / (wall * r["threads"]),
        "producer_cpu_share": r["producer_cpu_ns"] / (wall * r["threads"]),
        # The simulated devices: CPU (in CPUs) and runnable share, summed
        # over the device threads; their translations and the bursts a
        # paced device dropped because it woke a burst late or more.
        "device_cpu_s_per_s": dev_cpu,
        "device_runnable_share": dev_runnable,
        "translations_per_s": r.get("translations", 0) / s,
        "device_dropped_share": r.get("dev_dropped", 0)
        / max(r.get("dev_bursts", 0) + r.get("dev_dropped", 0), 1),
        # The row's runnable threads (see the module's docstring), and the
        # same count with each sleeping thread's CPU time alone, a lower
        # bound: what it ran, not what it waited to run.
        "runnable_threads": r["threads"] + dev_runnable
        + (worker_runnable if r["mode"] != "none" else 0.0),
        "runnable_threads_cpu": r["threads"] + dev_cpu
        + (r["worker_cpu_ns"] / wall if r["mode"] != "none" else 0.0),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--cpus", type=int, default=os.cpu_count())
    ap.add_argument("--load0", default="")
    ap.add_argument("--load1", default="")
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--command", default="bench/app/stage.sh OUTDIR")
    a = ap.parse_args()
    out = a.out

    runs = collections.defaultdict(list)
    with open(os.path.join(out, "app_raw.jsonl")) as f:
        for line in f:
            line = line.strip()
            if line:
                r = json.loads(line)
                runs[(r["mode"], r["threads"])].append(r)
    threads = sorted({t for (_, t) in runs})
    any_run = next(iter(runs.values()))[0]
    pacing = (any_run.get("walk_rate"), any_run.get("walk_burst"), any_run.get("devices", 2),
              any_run.get("pool_pages"))
    # The pgfree modes' settings, as the runs printed them (absent before issue 18).
    pg_run = next((rs[0] for (m, _), rs in runs.items() if m == "pgfree"), {})
    pr_run = next((rs[0] for (m, _), rs in runs.items() if m == "pgfree_release"), {})

    cells = {}
    for (m, t), rs in runs.items():
        d = [per_run(r) for r in rs]
        c = {"mode": m, "threads": t, "n": len(rs),
             "stale_walks": sum(r["stale_walks"] for r in rs),
             "pool_low_water": min(r["pool_low_water"] for r in rs)}
        for k in d[0]:
            v = [x[k] for x in d]
            c[k] = statistics.median(v)
            c[k + "_iqr"] = list(quartiles(v))
        cells[(m, t)] = c

    # The labels, per thread count, from the compared modes (v5, pgfree);
    # a thread count run in mode none only is labelled from that.
    label = {}
    for t in threads:
        comp = [cells[(m, t)] for m in ("v5", "pgfree") if (m, t) in cells] or \
            [cells[(m, t)] for m in MODES if (m, t) in cells]
        over = max(c["runnable_threads"] for c in comp) > a.cpus
        bound = max(c["pool_dry_wait_share"] for c in comp) > FRAME_WAIT_MAX
        why = []
        if over:
            why.append("oversubscribed")
        if bound:
            why.append("frame-bound")
        label[t] = {"oversubscribed": over, "frame_bound": bound, "judged": not why,
                    "why": " and ".join(why)}
        for m in MODES:
            if (m, t) in cells:
                cells[(m, t)].update(label[t])

    def rows():
        for t in threads:
            for m in MODES:
                if (m, t) in cells:
                    yield cells[(m, t)]

    def yn(b):
        return "yes" if b else "no"

    with open(os.path.join(out, "app.csv"), "w") as f:
        f.write("mode,threads,map_unmap_per_s,tables_freed_per_s,flushes_per_1000,"
                "stale_walks,reuse_p99_us,runnable_threads,oversubscribed,frame_wait_share,"
                "judged\n")
        for c in rows():
            f.write("%s,%d,%.0f,%.0f,%.2f,%d,%.1f,%.2f,%s,%.4f,%s\n" % (
                c["mode"], c["threads"], c["map_unmap_per_s"], c["tables_freed_per_s"],
                c["flushes_per_1000"], c["stale_walks"], c["reuse_p99_us"],
                c["runnable_threads"], yn(c["oversubscribed"]), c["pool_dry_wait_share"],
                yn(c["judged"])))

    dcols = ["map_unmap_per_s", "tables_freed_per_s", "flushes_per_1000", "reuse_p50_us",
             "reuse_p99_us", "wakeups_per_1000", "lock_wait_ns_per_free",
             "lock_hold_ns_per_free", "free_ns_per_free", "worker_cpu_ns_per_free",
             "worker_cpu_share", "flush_ns", "producer_cpu_ns_per_op", "preempted_per_s",
             "pool_waits_per_s", "frees_per_op", "worker_runq_wait_share",
             "flush_slow_share", "flush_slow_ns", "pool_dry_wait_share",
             "producer_runq_share", "producer_cpu_share", "device_cpu_s_per_s",
             "runnable_threads", "runnable_threads_cpu", "device_runnable_share",
             "worker_runnable_share", "translations_per_s", "device_dropped_share",
             "worker_cpu_ns_per_flush", "frees_per_flush", "taken_back_share",
             "taken_foreign_share", "take_back_expired_share", "take_back_ns_per_free",
             "take_back_ns_per_op"]
    with open(os.path.join(out, "app_detail.csv"), "w") as f:
        f.write("mode,threads,oversubscribed,frame_bound,judged,runs,stale_walks,"
                "pool_low_water," + ",".join(dcols) +
                ",map_unmap_per_s_q1,map_unmap_per_s_q3,runnable_threads_q1,"
                "runnable_threads_q3\n")
        for c in rows():
            f.write("%s,%d,%s,%s,%s,%d,%d,%d," % (
                c["mode"], c["threads"], yn(c["oversubscribed"]), yn(c["frame_bound"]),
                yn(c["judged"]), c["n"], c["stale_walks"], c["pool_low_water"]))
            f.write(",".join("%.4g" % c[k] for k in dcols))
            f.write(",%.0f,%.0f" % tuple(c["map_unmap_per_s_iqr"]))
            f.write(",%.3f,%.3f\n" % tuple(c["runnable_threads_iqr"]))

    # ---- targets -----------------------------------------------------------
    # (status, name, detail): status PASS, MISS or SKIP (no row to judge).
    def ratio(t, key="map_unmap_per_s"):
        v, p = cells.get(("v5", t)), cells.get(("pgfree", t))
        if not v or not p or not v[key]:
            return None
        return p[key] / v[key]

    def at(t, want, name):
        r = ratio(t)
        if r is None:
            return ("SKIP", name, "no %d-thread row" % t)
        if not label[t]["judged"]:
            return ("SKIP", name, "%.2fx, not judged: %s" % (r, label[t]["why"]))
        return ("PASS" if r >= want else "MISS", name, "%.2fx" % r)

    def every(name, fig, ok):
        """A target over every judged thread count."""
        judged = [t for t in threads if label[t]["judged"] and ratio(t) is not None]
        skipped = [t for t in threads if t not in judged and ratio(t) is not None]
        tail = ("; not judged: %s" % " ".join(str(t) for t in skipped)) if skipped else ""
        if not judged:
            return ("SKIP", name, "no row is neither oversubscribed nor frame-bound" + tail)
        return ("PASS" if all(ok(t) for t in judged) else "MISS", name,
                " ".join("%d:%s" % (t, fig(t)) for t in judged) + tail)

    t13 = [at(1, 1.0, "pgfree map+unmap/s >= 1.00x v5 at 1 thread"),
           at(2, 1.25, "pgfree map+unmap/s >= 1.25x v5 at 2 threads"),
           every("pgfree flushes/1000 <= v5's at every judged thread count",
                 lambda t: "%.1f/%.1f" % (cells[("pgfree", t)]["flushes_per_1000"],
                                          cells[("v5", t)]["flushes_per_1000"]),
                 lambda t: cells[("pgfree", t)]["flushes_per_1000"]
                 <= cells[("v5", t)]["flushes_per_1000"])]
    st = [cells[(m, t)]["stale_walks"] for t in threads for m in ("v5", "pgfree")
          if (m, t) in cells]
    t13.append(("PASS" if all(s == 0 for s in st) else "MISS",
                "0 stale walks for v5 and pgfree at every thread count (every row)",
                "total %d" % sum(st)))
    nn = [cells[("none", t)]["stale_walks"] for t in threads if ("none", t) in cells]
    t13.append(("PASS" if nn and all(s > 0 for s in nn) else "MISS",
                "none shows stale walks at every thread count (same run, every row)",
                " ".join(str(s) for s in nn)))

    t18 = [every("pgfree map+unmap/s >= v5's in every judged row",
                 lambda t: "%.2fx" % ratio(t), lambda t: ratio(t) >= 1.0)]
    # The drain's CPU per free: each thread count is judged on its own
    # (the target names two), on judged rows only, as the rates are: on 2
    # CPUs the 2-thread row is oversubscribed and this half prints SKIP.
    for t in (1, 2):
        name = ("pgfree's drain CPU per free <= %.1fx v5's worker's at %d CPU thread%s"
                % (DRAIN_RATIO_MAX, t, "" if t == 1 else "s"))
        r = ratio(t, "worker_cpu_ns_per_free")
        if r is None:
            t18.append(("SKIP", name, "no %d-thread row" % t))
            continue
        fig = "%.2fx: %.0f / %.0f ns" % (r, cells[("pgfree", t)]["worker_cpu_ns_per_free"],
                                         cells[("v5", t)]["worker_cpu_ns_per_free"])
        if not label[t]["judged"]:
            t18.append(("SKIP", name, "%s, not judged: %s" % (fig, label[t]["why"])))
        else:
            t18.append(("PASS" if r <= DRAIN_RATIO_MAX else "MISS", name, fig))

    # ---- summary -----------------------------------------------------------
    with open(os.path.join(out, "app_summary.txt"), "w") as f:
        f.write("app stage (examples/iommu_sva, issues 13, 17, 18): %s\n" % a.command)
        compared = [m for m in MODES[1:] if any(mm == m for (mm, _) in runs)]
        f.write("cpus %d, load average at start %s, at end %s; %d run(s) of %.1f s per "
                "%s cell, modes interleaved (order rotating), medians "
                "[interquartile range]; none once per thread count, short.\n"
                % (a.cpus, a.load0, a.load1, a.runs, a.seconds, "/".join(compared)))
        rate, burst, ndev, pool = pacing
        if rate:
            f.write("%s device threads, paced: %s translations/s each in bursts of %s; "
                    % (ndev, rate, burst))
        else:
            f.write("%s device threads, walking without pause; " % ndev)
        f.write("pool: %s frames per CPU thread.\n" % (pool if pool else "4096"))
        if "take_back_every" in pg_run:
            every = pg_run["take_back_every"]
            f.write("pgfree: take-back (PGFREE_F_TAKE_BACK): the drain hands each CPU's flushed "
                    "tables back to its list, and a CPU thread takes back (poisons and puts "
                    "them in the pool) %s and when its part is dry; take_back_us %s; batch "
                    "delay %s.  %s\n" % (
                        "after every free" if every == 1 else
                        "after every %d frees" % every if every else "only",
                        pg_run.get("take_back_us"),
                        "%s us" % pg_run["batch_delay_us"] if pg_run.get("batch_delay_us")
                        else "none (PGFREE_F_NO_DELAY)" if "batch_delay_us" in pg_run
                        else "the default",
                        "pgfree_release: the drain thread poisons and gives back every table "
                        "(->release(), the pgfree mode before issue 18), same batch delay "
                        "%s." % ("%s us" % pr_run["batch_delay_us"]
                                 if pr_run.get("batch_delay_us") else "(none)")
                        if pr_run else "(pgfree_release not run.)"))
        f.write("Runnable threads of a row: its CPU threads (1 each, they never sleep) + "
                "the share of the run each device thread and the v5 worker or pgfree drain "
                "thread was runnable (on a CPU or waiting for one: /proc schedstat).  A "
                "thread count is OVERSUBSCRIBED when, in v5 or pgfree mode, that exceeds "
                "the CPUs, FRAME-BOUND when, in v5 or pgfree mode, its CPU threads waited "
                "for free frames more than %.0f%% of their time; performance targets are "
                "judged only on rows that are neither.  On a shared machine the waits "
                "include other jobs': the label then errs toward oversubscribed (the "
                "count by CPU time alone, a lower bound, is printed beside it).\n"
                % (100 * FRAME_WAIT_MAX))
        f.write("stale walks: the total over the cell's runs.  reuse: unlink of a table to "
                "its frame back in the pool.  pool low: fewest free frames a CPU thread "
                "found when its private list ran dry (min over runs; -1: never ran dry).\n"
                "Per free: lock wait/hold and free = wall time in the free call (sampled "
                "1 in 16); wake/1000 = wake-ups of the worker/drain per 1000 frees; "
                "worker = its CPU time per free and its share of one CPU; flush = mean "
                "duration of one flush (waits for walks in flight).  Consumer CPU: the v5 "
                "worker's or the drain thread's own clock (pthread_getcpuclockid) from "
                "the first free to the CPU threads' join, per table freed and per flush; "
                "what mode pgfree moved onto the CPU threads (the take-back, poisoning "
                "included) is in their CPU per op, and printed apart.\n\n")
        for t in threads:
            lb = label[t]
            rn = " ".join("%s %.2f" % (m, cells[(m, t)]["runnable_threads"])
                          for m in ("v5", "pgfree") if (m, t) in cells)
            rc = "/".join("%.2f" % cells[(m, t)]["runnable_threads_cpu"]
                          for m in ("v5", "pgfree") if (m, t) in cells)
            fw = " ".join("%s %.1f%%" % (m, 100 * cells[(m, t)]["pool_dry_wait_share"])
                          for m in ("v5", "pgfree") if (m, t) in cells)
            f.write("== %d CPU thread(s): runnable threads %s (by CPU time alone %s; %d "
                    "CPUs); waiting for frames %s: %s\n" % (
                        t, rn, rc, a.cpus, fw,
                        "judged" if lb["judged"] else "NOT JUDGED: " + lb["why"].upper()))
            sat = [m for m in ("v5", "pgfree") if (m, t) in cells
                   and cells[(m, t)]["worker_runnable_share"] >= SATURATED]
            if sat:
                f.write("   (%s: the worker/drain thread was runnable >= %.0f%% of the run: "
                        "it cannot keep up, its backlog grows through the run, and the "
                        "frame waits depend on the run's length and the pool's size)\n"
                        % (" and ".join(sat), 100 * SATURATED))
            f.write("%-14s %18s %9s %8s %6s %9s %9s %5s %6s %6s %6s %7s %6s %6s %8s\n" % (
                "mode", "map+unmap/s [iqr]", "freed/s", "fl/1000", "stale", "reuse p50",
                "p99 us", "pool", "wait", "hold", "free", "wk/1000", "wrk ns", "wrk %",
                "flush us"))
            for m in MODES:
                c = cells.get((m, t))
                if not c:
                    continue
                q = c["map_unmap_per_s_iqr"]
                f.write("%-14s %7.0fk [%3.0f-%3.0fk] %8.0fk %8.2f %6d %9.0f %9.0f %5d %6.0f "
                        "%6.0f %6.0f %7.1f %6.0f %5.0f%% %8.0f\n" % (
                            m, c["map_unmap_per_s"] / 1e3, q[0] / 1e3, q[1] / 1e3,
                            c["tables_freed_per_s"] / 1e3, c["flushes_per_1000"],
                            c["stale_walks"], c["reuse_p50_us"], c["reuse_p99_us"],
                            c["pool_low_water"], c["lock_wait_ns_per_free"],
                            c["lock_hold_ns_per_free"], c["free_ns_per_free"],
                            c["wakeups_per_1000"], c["worker_cpu_ns_per_free"],
                            100 * c["worker_cpu_share"], c["flush_ns"] / 1e3))
            r = ratio(t)
            if r is not None:
                f.write("pgfree / v5 map+unmap/s: %.2fx%s\n"
                        % (r, "" if lb["judged"] else "  (not judged: %s)" % lb["why"]))
            for m in MODES:
                c = cells.get((m, t))
                if not c:
                    continue
                who = {"v5": "worker", "pgfree": "drain", "pgfree_release": "drain"}.get(m)
                f.write("  %-6s runnable %.2f = %d CPU thread(s) + devices %.2f (CPU %.1f%% "
                        "of one, %.0fk translations/s, %.0f%% of bursts dropped)%s\n" % (
                            m, c["runnable_threads"], t, c["device_runnable_share"],
                            100 * c["device_cpu_s_per_s"], c["translations_per_s"] / 1e3,
                            100 * c["device_dropped_share"],
                            " + %s %.2f (CPU %.1f%% of one)" % (
                                who, c["worker_runnable_share"], 100 * c["worker_cpu_share"])
                            if who else ""))
                if m == "none":
                    continue
                f.write("         time: CPU thread on CPU %2.0f%%, runnable without a CPU "
                        "%2.0f%%, waiting for frames %4.1f%%; flushes that waited out a "
                        "preempted walk %2.0f%% (%.1f ms each), the rest < 1 us\n" % (
                            100 * c["producer_cpu_share"], 100 * c["producer_runq_share"],
                            100 * c["pool_dry_wait_share"], 100 * c["flush_slow_share"],
                            c["flush_slow_ns"] / 1e6))
            v, p = cells.get(("v5", t)), cells.get(("pgfree", t))
            pr, n = cells.get(("pgfree_release", t)), cells.get(("none", t))
            if v and p:
                # What the free path can buy: the CPU threads' CPU time
                # per operation in each mode, measured; at an equal CPU
                # share their ratio bounds pgfree/v5.  The free call's
                # wall time (sampled) also counts preemption inside the
                # call (v5's wake-up of its worker preempts the waker), so
                # it overstates the CPU the free path takes.  pgfree's
                # includes the take-back (the poisoning moved off the
                # drain), as none's includes its poisoning.
                others = "".join(", %s %.0f ns" % (c["mode"], c["producer_cpu_ns_per_op"])
                                 for c in (pr, n) if c)
                f.write("  CPU per op: v5 %.0f ns, pgfree %.0f ns%s: at an equal CPU share "
                        "pgfree/v5 would be %.2fx; free call (wall, sampled): v5 %.0f ns, "
                        "pgfree %.0f ns, %.3f frees per op\n" % (
                            v["producer_cpu_ns_per_op"], p["producer_cpu_ns_per_op"], others,
                            v["producer_cpu_ns_per_op"] / max(p["producer_cpu_ns_per_op"], 1),
                            v["free_ns_per_free"], p["free_ns_per_free"], v["frees_per_op"]))
                f.write("  take-back on the CPU threads (wall, sampled): %.0f ns per free, "
                        "%.0f ns per op (its CPU is in their CPU per op); %.1f%% of the "
                        "tables taken back (%.0f%% of those another thread's), %.1f%% "
                        "released by the drain after take_back_us\n" % (
                            p["take_back_ns_per_free"], p["take_back_ns_per_op"],
                            100 * p["taken_back_share"], 100 * p["taken_foreign_share"],
                            100 * p["take_back_expired_share"]))
                cons = [c for c in (v, p, pr) if c]
                f.write("  consumer CPU per free: %s (pgfree/v5 %.2fx%s)\n" % (
                    ", ".join("%s %.0f ns" % (CONSUMER[c["mode"]], c["worker_cpu_ns_per_free"])
                              for c in cons),
                    p["worker_cpu_ns_per_free"] / max(v["worker_cpu_ns_per_free"], 1),
                    ", pgfree_release/v5 %.2fx" % (pr["worker_cpu_ns_per_free"]
                                                   / max(v["worker_cpu_ns_per_free"], 1))
                    if pr else ""))
                f.write("  consumer CPU per flush: %s; tables per flush: %s\n" % (
                    ", ".join("%s %.1f us" % (c["mode"], c["worker_cpu_ns_per_flush"] / 1e3)
                              for c in cons),
                    ", ".join("%s %.1f" % (c["mode"], c["frees_per_flush"]) for c in cons)))
            f.write("\n")
        judged = [t for t in threads if label[t]["judged"]]
        f.write("Judged rows (neither oversubscribed nor frame-bound): %s\n"
                % (" ".join(str(t) for t in judged) if judged else "none"))
        never = [t for t in threads if t >= a.cpus]
        if never:
            f.write("(On %d CPUs a row of %d CPU threads or more is oversubscribed whatever "
                    "it measures: its CPU threads alone fill the CPUs and the devices and "
                    "the worker or drain add to them.  Rows that can be judged here: %s.)\n"
                    % (a.cpus, a.cpus, " ".join(str(t) for t in threads if t < a.cpus)
                       or "none"))
        f.write("Targets (issue 13; rates judged on judged rows only, stale walks on every "
                "row):\n")
        for status, name, detail in t13:
            f.write("  %-4s %s (%s)\n" % (status, name, detail))
        f.write("Targets (issue 18, for its later run; judged likewise):\n")
        for status, name, detail in t18:
            f.write("  %-4s %s (%s)\n" % (status, name, detail))

    # ---- app.json: the per-free costs for the many-core model ---------------
    keep = ["map_unmap_per_s", "tables_freed_per_s", "frees_per_op", "flushes_per_1000",
            "wakeups_per_1000", "lock_hold_ns_per_free", "lock_wait_ns_per_free",
            "free_ns_per_free", "worker_cpu_ns_per_free", "flush_ns",
            "producer_cpu_ns_per_op", "reuse_p50_us", "reuse_p99_us",
            "worker_runq_wait_share", "runnable_threads", "pool_dry_wait_share",
            "device_cpu_s_per_s", "worker_cpu_share", "runnable_threads_cpu",
            "worker_cpu_ns_per_flush", "frees_per_flush", "taken_back_share",
            "taken_foreign_share", "take_back_expired_share", "take_back_ns_per_free",
            "take_back_ns_per_op"]
    jrows = []
    for c in rows():
        j = {"mode": c["mode"], "threads": c["threads"],
             "oversubscribed": c["oversubscribed"], "frame_bound": c["frame_bound"],
             "judged": c["judged"],
             "stale_walks": c["stale_walks"], "pool_low_water": c["pool_low_water"]}
        for k in keep:
            j[k] = c[k]
            j[k + "_iqr"] = c[k + "_iqr"]
        if c["mode"] != "pgfree":
            for k in ("taken_back_share", "taken_foreign_share", "take_back_expired_share",
                      "take_back_ns_per_free", "take_back_ns_per_op"):
                j[k] = j[k + "_iqr"] = None
        if c["mode"] != "v5":
            j["lock_hold_ns_per_free"] = None
            j["lock_wait_ns_per_free"] = None
        jrows.append(j)
    doc = {"schema": "pgfree-app/2", "cpus": a.cpus,
           "loadavg": [float(x) for x in a.load0.split()] if a.load0 else None,
           "seconds": a.seconds, "runs": a.runs,
           "walk_rate": pacing[0], "walk_burst": pacing[1], "devices": pacing[2],
           "pool_pages": pacing[3],
           "take_back_every": pg_run.get("take_back_every"),
           "take_back_us": pg_run.get("take_back_us"),
           "batch_delay_us": pg_run.get("batch_delay_us"),
           "modes": {"pgfree": "PGFREE_F_TAKE_BACK: the CPU threads take the flushed tables "
                               "back; the drain touches none",
                     "pgfree_release": "the drain thread's ->release() gives every table "
                                       "back (before issue 18)"},
           "oversubscribed_rule": "runnable threads (CPU threads + the runnable share of the "
                                  "device threads and of the worker/drain thread) > online "
                                  "CPUs, in v5 or pgfree mode",
           "frame_bound_rule": "CPU threads waiting for free frames > %.0f%% of their time, "
                               "in v5 or pgfree mode" % (100 * FRAME_WAIT_MAX),
           "command": a.command, "rows": jrows}
    with open(os.path.join(out, "app.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")

    plot(out, threads, cells, a.cpus)
    print(open(os.path.join(out, "app_summary.txt")).read())


def plot(out, threads, cells, cpus):
    """app.png (gnuplot): rates with the unjudged rows marked, the labels'
    inputs (runnable threads, frame waits), flushes, reuse, consumer CPU."""
    if not shutil.which("gnuplot"):
        print("app stage: gnuplot not found: no app.png (install gnuplot-nox)")
        return
    dat = os.path.join(out, "app_plot.dat")
    nan = "NaN"
    with open(dat, "w") as f:
        f.write("# threads v5_ops v5_q1 v5_q3 pg_ops pg_q1 pg_q3 none_ops v5_fl pg_fl "
                "v5_p99 pg_p99 v5_runnable pg_runnable v5_framewait% pg_framewait% "
                "v5_worker_ns pg_drain_ns over_v5 over_pg bound_v5 bound_pg pr_ops pr_drain_ns "
                "pg_take_back_ns\n")
        for t in threads:
            v, p, n = cells.get(("v5", t)), cells.get(("pgfree", t)), cells.get(("none", t))
            if not v or not p:
                continue
            over = v["oversubscribed"]
            bound = v["frame_bound"]
            pr = cells.get(("pgfree_release", t))
            f.write("%d %g %g %g %g %g %g %g %g %g %g %g %g %g %g %g %g %g %s %s %s %s "
                    "%s %s %g\n" % (
                t, v["map_unmap_per_s"], *v["map_unmap_per_s_iqr"],
                p["map_unmap_per_s"], *p["map_unmap_per_s_iqr"],
                n["map_unmap_per_s"] if n else 0, v["flushes_per_1000"],
                p["flushes_per_1000"], v["reuse_p99_us"], p["reuse_p99_us"],
                v["runnable_threads"], p["runnable_threads"],
                100 * v["pool_dry_wait_share"], 100 * p["pool_dry_wait_share"],
                v["worker_cpu_ns_per_free"], p["worker_cpu_ns_per_free"],
                "%g" % v["map_unmap_per_s"] if over else nan,
                "%g" % p["map_unmap_per_s"] if over else nan,
                "%g" % v["map_unmap_per_s"] if bound else nan,
                "%g" % p["map_unmap_per_s"] if bound else nan,
                "%g" % pr["map_unmap_per_s"] if pr else nan,
                "%g" % pr["worker_cpu_ns_per_free"] if pr else nan,
                p["take_back_ns_per_free"]))
    gp = os.path.join(out, "app_plot.gp")
    with open(gp, "w") as f:
        f.write("""set terminal pngcairo size 1500,820 noenhanced font ",10"
set output 'app.png'
set multiplot layout 2,3 title "iommu_sva: N CPU threads freeing page tables under SVA ({cpus} CPUs; medians, bars = IQR; circles: oversubscribed, squares: frame-bound; targets judged only on unmarked rows)"
set logscale x 2
set xrange [0.7:40]
set xlabel "CPU threads"
set key top left
set grid
set title "map+unmap per second (all threads)"
plot '{d}' u 1:2:3:4 w yerrorlines t 'v5', '' u 1:5:6:7 w yerrorlines t 'pgfree (take-back)', '' u 1:23 w lp dt 3 t 'pgfree_release', '' u 1:8 w lp t 'none (the bug)', '' u 1:19 w p pt 6 ps 3 lc rgb 'black' t 'oversubscribed', '' u 1:20 w p pt 6 ps 3 lc rgb 'black' notitle, '' u 1:21 w p pt 4 ps 2.5 lc rgb 'red' t 'frame-bound', '' u 1:22 w p pt 4 ps 2.5 lc rgb 'red' notitle
set title "runnable threads (CPU threads + devices + worker/drain)"
plot '{d}' u 1:13 w lp t 'v5', '' u 1:14 w lp t 'pgfree', {cpus} w l dt 2 lc rgb 'black' t '{cpus} CPUs'
set title "CPU threads waiting for free frames (% of their time)"
plot '{d}' u 1:15 w lp t 'v5', '' u 1:16 w lp t 'pgfree', 5 w l dt 2 lc rgb 'black' t '5%'
set title "flushes per 1000 tables freed"
plot '{d}' u 1:9 w lp t 'v5', '' u 1:10 w lp t 'pgfree'
set title "unlink-to-reuse p99 (ms)"
set logscale y
plot '{d}' u 1:($11/1000) w lp t 'v5', '' u 1:($12/1000) w lp t 'pgfree'
unset logscale y
set title "per free (ns): worker/drain CPU; take-back wall"
plot '{d}' u 1:17 w lp t 'v5 worker', '' u 1:18 w lp t 'pgfree drain', '' u 1:24 w lp dt 3 t 'pgfree_release drain', '' u 1:25 w lp dt 2 t 'pgfree take-back (CPU threads)'
unset multiplot
""".format(d=os.path.basename(dat), cpus=cpus))
    # Relative names, run in OUTDIR: the committed script works anywhere.
    r = subprocess.run(["gnuplot", "app_plot.gp"], capture_output=True, text=True, cwd=out)
    if r.returncode:
        print("app stage: gnuplot failed:\n" + r.stderr)


if __name__ == "__main__":
    main()
