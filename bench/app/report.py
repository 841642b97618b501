#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Aggregate the app stage's runs (OUTDIR/app_raw.jsonl, one JSON object per
run of examples/iommu_sva --json) into app.csv, app_detail.csv,
app_summary.txt, app.json and app.png.  Called by bench/app/stage.sh."""
import argparse
import collections
import json
import os
import shutil
import statistics
import subprocess

MODES = ["none", "v5", "pgfree"]


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
        "worker_cpu_ns_per_free": r["worker_cpu_ns"] / tf,
        "worker_cpu_share": r["worker_cpu_ns"] / (s * 1e9),
        "flush_ns": r["flush_ns_total"] / max(r["flushes"], 1),
        "producer_cpu_ns_per_op": r["producer_cpu_ns"] / ops,
        "preempted_per_s": r["producer_nivcsw"] / s,
        "pool_waits_per_s": r["pool_waits"] / s,
        # /proc schedstat of the flusher since it started (just before the
        # run): runnable but waiting for a CPU, as a share of the run.
        "worker_runq_wait_share": r.get("worker_runq_wait_ns", 0) / (s * 1e9),
        # Where the time goes (examples/iommu_sva/README.md, "Where the time
        # goes"): flushes that had to wait out a device thread preempted in
        # its walk, and how long those took; the share of a CPU thread's
        # time spent waiting for frames (pool dry) and runnable without a
        # CPU; the CPU the simulated devices take.
        "flush_slow_share": r.get("flush_slow", 0) / max(r["flushes"], 1),
        "flush_slow_ns": r.get("flush_slow_ns", 0) / max(r.get("flush_slow", 0), 1),
        "pool_dry_wait_share": r.get("pool_wait_ns", 0) / (s * 1e9 * r["threads"]),
        "producer_runq_share": r.get("producer_runq_ns", 0) / (s * 1e9 * r["threads"]),
        "producer_cpu_share": r["producer_cpu_ns"] / (s * 1e9 * r["threads"]),
        "device_cpu_s_per_s": r.get("dev_run_ns", 0) / (s * 1e9),
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

    cells = {}
    for (m, t), rs in runs.items():
        d = [per_run(r) for r in rs]
        c = {"mode": m, "threads": t, "n": len(rs),
             "oversubscribed": t > a.cpus,
             "stale_walks": sum(r["stale_walks"] for r in rs),
             "pool_low_water": min(r["pool_low_water"] for r in rs)}
        for k in d[0]:
            v = [x[k] for x in d]
            c[k] = statistics.median(v)
            c[k + "_iqr"] = list(quartiles(v))
        cells[(m, t)] = c

    def rows():
        for t in threads:
            for m in MODES:
                if (m, t) in cells:
                    yield cells[(m, t)]

    with open(os.path.join(out, "app.csv"), "w") as f:
        f.write("mode,threads,map_unmap_per_s,tables_freed_per_s,flushes_per_1000,"
                "stale_walks,reuse_p99_us\n")
        for c in rows():
            f.write("%s,%d,%.0f,%.0f,%.2f,%d,%.1f\n" % (
                c["mode"], c["threads"], c["map_unmap_per_s"], c["tables_freed_per_s"],
                c["flushes_per_1000"], c["stale_walks"], c["reuse_p99_us"]))

    dcols = ["map_unmap_per_s", "tables_freed_per_s", "flushes_per_1000", "reuse_p50_us",
             "reuse_p99_us", "wakeups_per_1000", "lock_wait_ns_per_free",
             "lock_hold_ns_per_free", "free_ns_per_free", "worker_cpu_ns_per_free",
             "worker_cpu_share", "flush_ns", "producer_cpu_ns_per_op", "preempted_per_s",
             "pool_waits_per_s", "frees_per_op", "worker_runq_wait_share",
             "flush_slow_share", "flush_slow_ns", "pool_dry_wait_share",
             "producer_runq_share", "producer_cpu_share", "device_cpu_s_per_s"]
    with open(os.path.join(out, "app_detail.csv"), "w") as f:
        f.write("mode,threads,oversubscribed,runs,stale_walks,pool_low_water,"
                + ",".join(dcols) + ",map_unmap_per_s_q1,map_unmap_per_s_q3\n")
        for c in rows():
            f.write("%s,%d,%s,%d,%d,%d," % (c["mode"], c["threads"],
                                            "yes" if c["oversubscribed"] else "no", c["n"],
                                            c["stale_walks"], c["pool_low_water"]))
            f.write(",".join("%.4g" % c[k] for k in dcols))
            f.write(",%.0f,%.0f\n" % tuple(c["map_unmap_per_s_iqr"]))

    # The targets of issue 13.
    targets = []

    def ratio(t):
        v, p = cells.get(("v5", t)), cells.get(("pgfree", t))
        return p["map_unmap_per_s"] / v["map_unmap_per_s"] if v and p else None

    for t, want in ((1, 1.0), (2, 1.25)):
        r = ratio(t)
        if r is not None:
            targets.append(("pgfree map+unmap/s >= %.2fx v5 at %d thread(s)" % (want, t),
                            r >= want, "%.2fx" % r))
    fl = [(t, cells[("pgfree", t)]["flushes_per_1000"], cells[("v5", t)]["flushes_per_1000"])
          for t in threads if ("pgfree", t) in cells and ("v5", t) in cells]
    targets.append(("pgfree flushes/1000 <= v5's at every thread count",
                    all(p <= v for _, p, v in fl),
                    " ".join("%d:%.1f/%.1f" % x for x in fl)))
    st = [(m, t, cells[(m, t)]["stale_walks"]) for t in threads for m in ("v5", "pgfree")
          if (m, t) in cells]
    targets.append(("0 stale walks for v5 and pgfree at every thread count",
                    all(s == 0 for _, _, s in st), "total %d" % sum(s for _, _, s in st)))
    nn = [cells[("none", t)]["stale_walks"] for t in threads if ("none", t) in cells]
    targets.append(("none shows stale walks at every thread count (same run)",
                    bool(nn) and all(s > 0 for s in nn), " ".join(str(s) for s in nn)))

    with open(os.path.join(out, "app_summary.txt"), "w") as f:
        f.write("app stage (examples/iommu_sva, issue 13): %s\n" % a.command)
        f.write("cpus %d, load average at start %s, at end %s; %d run(s) of %.1f s per "
                "v5/pgfree cell, modes interleaved (order alternating), medians "
                "[interquartile range]; none once per thread count, short.\n"
                % (a.cpus, a.load0, a.load1, a.runs, a.seconds))
        f.write("Every row also has 2 device threads and the v5 worker or pgfree drain "
                "thread; rows with more CPU threads than CPUs are OVERSUBSCRIBED.\n"
                "stale walks: the total over the cell's runs.  reuse: unlink of a table to "
                "its frame back in the pool.  pool low: fewest free frames a CPU thread "
                "found when its private list ran dry (min over runs; -1: never ran dry).\n"
                "Per free: lock wait/hold and free = wall time in the free call (sampled "
                "1 in 16); wake/1000 = wake-ups of the worker/drain per 1000 frees; "
                "worker = its CPU time per free and its share of one CPU; flush = mean "
                "duration of one flush (waits for walks in flight).\n\n")
        for t in threads:
            f.write("== %d CPU thread(s)%s\n" % (t, "  [OVERSUBSCRIBED: %d > %d CPUs]"
                                                 % (t, a.cpus) if t > a.cpus else ""))
            f.write("%-7s %18s %9s %8s %6s %9s %9s %5s %6s %6s %6s %7s %6s %6s %8s\n" % (
                "mode", "map+unmap/s [iqr]", "freed/s", "fl/1000", "stale", "reuse p50",
                "p99 us", "pool", "wait", "hold", "free", "wk/1000", "wrk ns", "wrk %",
                "flush us"))
            for m in MODES:
                c = cells.get((m, t))
                if not c:
                    continue
                q = c["map_unmap_per_s_iqr"]
                f.write("%-7s %7.0fk [%3.0f-%3.0fk] %8.0fk %8.2f %6d %9.0f %9.0f %5d %6.0f "
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
                f.write("pgfree / v5 map+unmap/s: %.2fx\n" % r)
            for m in ("v5", "pgfree"):
                c = cells.get((m, t))
                if c and "flush_slow_share" in c:
                    f.write("  %-6s time: CPU thread on CPU %2.0f%%, runnable without a CPU "
                            "%2.0f%%, waiting for frames %4.1f%%; devices %.2f CPU; "
                            "flushes that waited out a preempted walk %2.0f%% (%.1f ms "
                            "each), the rest < 1 us\n" % (
                                m, 100 * c["producer_cpu_share"],
                                100 * c["producer_runq_share"],
                                100 * c["pool_dry_wait_share"], c["device_cpu_s_per_s"],
                                100 * c["flush_slow_share"], c["flush_slow_ns"] / 1e6))
            v, p = cells.get(("v5", t)), cells.get(("pgfree", t))
            if v and p:
                # What the free path can buy: the CPU threads' CPU time
                # per operation in each mode, measured; at an equal CPU
                # share their ratio bounds pgfree/v5.  The free call's
                # wall time (sampled) also counts preemption inside the
                # call (v5's wake-up of its worker preempts the waker), so
                # it overstates the CPU the free path takes.
                f.write("  CPU per op: v5 %.0f ns, pgfree %.0f ns: at an equal CPU share "
                        "pgfree/v5 would be %.2fx; free call (wall, sampled): v5 %.0f ns, "
                        "pgfree %.0f ns, %.3f frees per op\n" % (
                            v["producer_cpu_ns_per_op"], p["producer_cpu_ns_per_op"],
                            v["producer_cpu_ns_per_op"] / max(p["producer_cpu_ns_per_op"], 1),
                            v["free_ns_per_free"], p["free_ns_per_free"], v["frees_per_op"]))
            f.write("\n")
        f.write("Targets (issue 13):\n")
        for name, ok, detail in targets:
            f.write("  %-4s %s (%s)\n" % ("PASS" if ok else "MISS", name, detail))

    keep = ["map_unmap_per_s", "tables_freed_per_s", "frees_per_op", "flushes_per_1000",
            "wakeups_per_1000", "lock_hold_ns_per_free", "lock_wait_ns_per_free",
            "free_ns_per_free", "worker_cpu_ns_per_free", "flush_ns",
            "producer_cpu_ns_per_op", "reuse_p50_us", "reuse_p99_us",
            "worker_runq_wait_share"]
    jrows = []
    for c in rows():
        j = {"mode": c["mode"], "threads": c["threads"],
             "oversubscribed": c["oversubscribed"],
             "stale_walks": c["stale_walks"], "pool_low_water": c["pool_low_water"]}
        for k in keep:
            j[k] = c[k]
            j[k + "_iqr"] = c[k + "_iqr"]
        if c["mode"] != "v5":
            j["lock_hold_ns_per_free"] = None
            j["lock_wait_ns_per_free"] = None
        jrows.append(j)
    doc = {"schema": "pgfree-app/1", "cpus": a.cpus,
           "loadavg": [float(x) for x in a.load0.split()] if a.load0 else None,
           "seconds": a.seconds, "runs": a.runs,
           "oversubscribed_rule": "CPU (freeing) threads > online CPUs; every row also "
                                  "runs 2 device threads and the worker/drain thread",
           "command": a.command, "rows": jrows}
    with open(os.path.join(out, "app.json"), "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")

    # The plot.
    if not shutil.which("gnuplot"):
        print("app stage: gnuplot not found: no app.png (install gnuplot-nox)")
    else:
        dat = os.path.join(out, "app_plot.dat")
        with open(dat, "w") as f:
            f.write("# threads v5_ops v5_q1 v5_q3 pg_ops pg_q1 pg_q3 none_ops v5_fl pg_fl "
                    "v5_p99 pg_p99\n")
            for t in threads:
                v, p, n = cells.get(("v5", t)), cells.get(("pgfree", t)), cells.get(("none", t))
                if not v or not p:
                    continue
                f.write("%d %g %g %g %g %g %g %g %g %g %g %g\n" % (
                    t, v["map_unmap_per_s"], *v["map_unmap_per_s_iqr"],
                    p["map_unmap_per_s"], *p["map_unmap_per_s_iqr"],
                    n["map_unmap_per_s"] if n else 0, v["flushes_per_1000"],
                    p["flushes_per_1000"], v["reuse_p99_us"], p["reuse_p99_us"]))
        gp = os.path.join(out, "app_plot.gp")
        with open(gp, "w") as f:
            f.write("""set terminal pngcairo size 1200,450 noenhanced font ",10"
set output 'app.png'
set multiplot layout 1,3 title "iommu_sva: N CPU threads freeing page tables under SVA ({cpus} CPUs; N > {cpus} oversubscribed; medians, bars = IQR)"
set logscale x 2
set xrange [0.7:23]
set xlabel "CPU threads"
set key top left
set grid
set title "map+unmap per second (all threads)"
set arrow from {cpus}.5,graph 0 to {cpus}.5,graph 1 nohead dt 2
plot '{d}' u 1:2:3:4 w yerrorlines t 'v5', '' u 1:5:6:7 w yerrorlines t 'pgfree', '' u 1:8 w lp t 'none (the bug)'
set title "flushes per 1000 tables freed"
plot '{d}' u 1:9 w lp t 'v5', '' u 1:10 w lp t 'pgfree'
set title "unlink-to-reuse p99 (us)"
plot '{d}' u 1:11 w lp t 'v5', '' u 1:12 w lp t 'pgfree'
unset multiplot
""".format(d=os.path.basename(dat), cpus=a.cpus))
        # Relative names, run in OUTDIR: the committed script works anywhere.
        r = subprocess.run(["gnuplot", "app_plot.gp"], capture_output=True, text=True, cwd=out)
        if r.returncode:
            print("app stage: gnuplot failed:\n" + r.stderr)
    print(open(os.path.join(out, "app_summary.txt")).read())


if __name__ == "__main__":
    main()
