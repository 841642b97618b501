#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Turn pgfree_bench's Google Benchmark JSON into the summary table, CSV
files, the target checks and gnuplot PNGs.

usage: report.py BENCH.json OUTDIR

Where a benchmark was repeated, the median of the repetitions is used
(Google Benchmark's own "median" aggregate); otherwise the single run.
Ratios are between designs measured in the same run, never across runs.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys

DESIGNS = ["percpu", "v5", "v3", "global_llist", "call_rcu", "lfs_percpu",
           "lfs_global", "wfcq", "ao_stack"]


def load(path):
    with open(path) as f:
        doc = json.load(f)
    runs = {}
    for b in doc["benchmarks"]:
        if b.get("error_occurred"):
            continue
        name = b.get("run_name", b["name"])
        agg = b.get("aggregate_name")
        if b.get("run_type") == "aggregate" and agg != "median":
            continue
        # A median replaces the single iterations it summarizes.
        if agg == "median" or name not in runs:
            runs[name] = b
    return doc["context"], runs


def parse_name(name):
    """enqueue/percpu/min_time:0.300/repeats:3/real_time/threads:2 ->
    ('enqueue', 'percpu', {'threads': '2', ...})"""
    parts = name.split("/")
    kv = {}
    for p in parts[2:]:
        if ":" in p:
            k, v = p.split(":", 1)
            kv[k] = v
    return parts[0], parts[1], kv


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    ctx, runs = load(sys.argv[1])
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)

    enq = {}     # (design, threads) -> (ns per op per thread, items/s, stalls)
    e2e = {}     # (design, flush_ns) -> (items/s, flushes/1000, batch)
    lat = {}     # design -> (p50, p99, max) us
    mem = {}     # design -> (peak backlog, peak rss MiB)
    for name, b in runs.items():
        kind, design, kv = parse_name(name)
        ips = b.get("items_per_second", 0.0)
        if kind == "enqueue":
            t = int(kv.get("threads", b.get("threads", 1)))
            nsop = t * 1e9 / ips if ips else float("nan")
            enq[(design, t)] = (nsop, ips, b.get("waits", 0.0))
        elif kind == "end_to_end":
            e2e[(design, int(kv["flush_ns"]))] = (ips, b.get("flushes_per_1000", 0.0),
                                                 b.get("batch", 0.0))
        elif kind == "latency":
            lat[design] = (b.get("p50_us", 0), b.get("p99_us", 0), b.get("max_us", 0))
        elif kind == "memory":
            mem[design] = (b.get("peak_backlog", 0), b.get("peak_rss_MiB", 0))

    threads = sorted({t for (_, t) in enq})
    designs = [d for d in DESIGNS if any((d, t) in enq for t in threads)]
    lines = []
    p = lines.append

    p("pgfree benchmark summary")
    p("machine: %s, %s CPUs online, %s NUMA node(s), kernel %s, %s" % (
        ctx.get("pgfree_cpu_model", "?"), ctx.get("pgfree_cpus_online", "?"),
        ctx.get("pgfree_numa_nodes", "?"), ctx.get("pgfree_kernel", "?"),
        ctx.get("pgfree_compiler", "?")))
    p("caches (cpu0): %s; mode: %s; pinning: %s; date: %s" % (
        ctx.get("pgfree_caches_cpu0", "?"), ctx.get("pgfree_mode", "?"),
        ctx.get("pgfree_pinning", "none"), ctx.get("date", "?")))
    p("")
    p("enqueue: ns per defer per producer thread = threads / aggregate wall-clock rate (lower is better);")
    p("  x percpu = this design's cost / percpu's; x floor = cost / floor's (one private RMW)")
    hdr = "%-13s" % "design" + "".join("%22s" % ("threads=%d" % t) for t in threads)
    p(hdr)
    for d in ["floor"] + designs:
        row = "%-13s" % d
        for t in threads:
            if (d, t) not in enq:
                row += "%22s" % "-"
                continue
            ns = enq[(d, t)][0]
            pc = enq.get(("percpu", t), (float("nan"),))[0]
            fl = enq.get(("floor", t), (float("nan"),))[0]
            row += "%22s" % ("%.2f (%.1fx p, %.1fx f)" % (ns, ns / pc, ns / fl))
        p(row)
    p("")

    flushes = sorted({f for (_, f) in e2e})
    if flushes:
        p("end_to_end: million descriptors deferred+released per second; flushes per 1000")
        p("%-13s" % "design" + "".join("%26s" % ("flush=%dns" % f) for f in flushes))
        for d in designs:
            row = "%-13s" % d
            for f in flushes:
                if (d, f) in e2e:
                    ips, fpk, _ = e2e[(d, f)]
                    row += "%26s" % ("%.2f M/s, %.3f/1000" % (ips / 1e6, fpk))
                else:
                    row += "%26s" % "-"
            p(row)
        p("  (call_rcu has no once-per-batch flush hook: no flush runs for it, so its")
        p("   figures are not safe for this use; a correct use needs a flush per callback)")
        p("")
    if lat:
        p("latency (defer -> release, one producer at 50k/s): p50 / p99 / max, us")
        for d in designs:
            if d in lat:
                p("%-13s %10.1f %10.1f %10.1f" % ((d,) + tuple(lat[d])))
        p("")
    if mem:
        p("memory (burst of 20000 descriptors per CPU, each with a 4 KiB page, 100 us flush)")
        p("%-13s %14s %14s" % ("design", "peak backlog", "peak RSS MiB"))
        for d in designs:
            if d in mem:
                p("%-13s %14d %14.1f" % (d, mem[d][0], mem[d][1]))
        p("")

    # Targets of the benchmark issue.
    p("targets:")
    ncpu = int(ctx.get("pgfree_cpus_online", ctx.get("num_cpus", 2)))

    def check(ok, text):
        p("  %s  %s" % ("PASS" if ok else "MISS", text))

    if ("percpu", 1) in enq and ("floor", 1) in enq:
        r = enq[("percpu", 1)][0] / enq[("floor", 1)][0]
        check(r <= 1.5, "percpu enqueue at 1 thread within 1.5x of the floor: %.2fx" % r)
    if ("percpu", 1) in enq:
        base = enq[("percpu", 1)][0]
        worst = max((enq[("percpu", t)][0] / base, t) for t in threads
                    if t <= ncpu and ("percpu", t) in enq)
        check(worst[0] <= 1.5, "percpu per-thread cost flat up to %d CPUs: worst %.2fx of "
              "1-thread cost (threads=%d)" % (ncpu, worst[0], worst[1]))
    for t, need in ((2, 5.0), (16, 20.0)):
        if ("percpu", t) in enq and ("v5", t) in enq:
            r = enq[("percpu", t)][1] / enq[("v5", t)][1]
            check(r >= need, "percpu throughput >= %gx v5 at %d threads: %.1fx" % (need, t, r))
    losses = []
    for t in threads:
        if ("percpu", t) not in enq:
            continue
        for d in designs:
            if d != "percpu" and (d, t) in enq and enq[(d, t)][1] > enq[("percpu", t)][1]:
                losses.append("%s@%d (%.2fx)" % (d, t, enq[(d, t)][1] / enq[("percpu", t)][1]))
    check(not losses, "percpu throughput >= every other design at every thread count" +
          ("" if not losses else ": beaten by " + ", ".join(losses)))
    if ("percpu", 10000) in e2e:
        fpk = e2e[("percpu", 10000)][1]
        check(fpk <= 1.0, "10 us flush under full load: %.3f flushes per 1000 (<= 1)" % fpk)

    with open(os.path.join(out, "machine.md"), "w") as f:
        f.write("# Machine of this run\n\n")
        f.write("Recorded by pgfree_bench in bench.json's context.  pgfree and the benchmark\n"
                "are built with CMAKE_BUILD_TYPE=Release by scripts/bench.sh; the\n"
                "library_build_type key is that of Debian's Google Benchmark library.\n\n")
        f.write("| key | value |\n|---|---|\n")
        for k in ("pgfree_cpu_model", "pgfree_cpus_online", "num_cpus", "mhz_per_cpu",
                  "pgfree_caches_cpu0", "pgfree_numa_nodes", "pgfree_kernel",
                  "pgfree_compiler", "pgfree_pinning", "pgfree_mode", "library_build_type",
                  "host_name", "date", "load_avg"):
            if k in ctx:
                f.write("| %s | %s |\n" % (k, ctx[k]))

    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.txt"), "w") as f:
        f.write(text)
    sys.stdout.write(text)

    # CSV: one row per result.
    with open(os.path.join(out, "results.csv"), "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["workload", "design", "threads", "flush_ns", "ns_per_op_per_thread",
                    "items_per_second", "stalls", "flushes_per_1000", "batch",
                    "p50_us", "p99_us", "max_us", "peak_backlog", "peak_rss_mib"])
        for (d, t), (ns, ips, st) in sorted(enq.items()):
            w.writerow(["enqueue", d, t, "", "%.3f" % ns, "%.0f" % ips, "%.0f" % st,
                        "", "", "", "", "", "", ""])
        for (d, fl), (ips, fpk, bt) in sorted(e2e.items()):
            w.writerow(["end_to_end", d, ncpu, fl, "", "%.0f" % ips, "", "%.4f" % fpk,
                        "%.1f" % bt, "", "", "", "", ""])
        for d, (a, b_, c) in sorted(lat.items()):
            w.writerow(["latency", d, 1, "", "", "", "", "", "", a, b_, c, "", ""])
        for d, (bk, rss) in sorted(mem.items()):
            w.writerow(["memory", d, ncpu, 100000, "", "", "", "", "", "", "", "",
                        "%.0f" % bk, "%.1f" % rss])

    plots(out, threads, designs, enq, flushes, e2e, lat)


def plots(out, threads, designs, enq, flushes, e2e, lat):
    if not shutil.which("gnuplot"):
        print("gnuplot not found: no plots (install gnuplot-nox)")
        return
    with open(os.path.join(out, "enqueue.dat"), "w") as f:
        f.write("threads " + " ".join(["floor"] + designs) + "\n")
        for t in threads:
            f.write("%d " % t + " ".join(
                "%.4f" % enq[(d, t)][0] if (d, t) in enq else "NaN"
                for d in ["floor"] + designs) + "\n")
    with open(os.path.join(out, "end_to_end.dat"), "w") as f:
        f.write("flush_ns " + " ".join(designs) + "\n")
        for fl in flushes:
            f.write("%d " % fl + " ".join(
                "%.4f" % (e2e[(d, fl)][0] / 1e6) if (d, fl) in e2e else "NaN"
                for d in designs) + "\n")
    with open(os.path.join(out, "latency.dat"), "w") as f:
        f.write("design p50 p99 max\n")
        for d in designs:
            if d in lat:
                f.write("%s %.3f %.3f %.3f\n" % ((d,) + tuple(lat[d])))
    n = len(designs)
    gp = """
set terminal pngcairo size 1000,650 noenhanced font ",10"
set linetype 1 lc rgb '#888888' lw 2 dt 2
set linetype 2 lc rgb '#000000' lw 3
set linetype 3 lc rgb '#d62728' lw 2
set linetype 4 lc rgb '#ff7f0e' lw 2
set linetype 5 lc rgb '#bcbd22' lw 2
set linetype 6 lc rgb '#1f77b4' lw 2
set linetype 7 lc rgb '#2ca02c' lw 2
set linetype 8 lc rgb '#17becf' lw 2
set linetype 9 lc rgb '#9467bd' lw 2
set linetype 10 lc rgb '#8c564b' lw 2
set key outside right
set grid
set output '{o}/enqueue.png'
set title 'enqueue: ns per defer per producer thread (median; lower is better)'
set xlabel 'producer threads'
set ylabel 'ns per defer per thread'
set logscale xy 2
plot for [i=2:{n2}] '{o}/enqueue.dat' using 1:i with linespoints lt (i-1) title columnheader(i)
unset logscale
set output '{o}/end_to_end.png'
set title 'end to end: descriptors deferred and released per second vs flush cost'
set xlabel 'simulated flush cost (ns)'
set ylabel 'million descriptors per second'
set logscale y
set xtics (0, 1000, 10000)
plot for [i=2:{n1}] '{o}/end_to_end.dat' using 1:i with linespoints lt (i) title columnheader(i)
unset logscale
set xtics autofreq
set output '{o}/latency.png'
set title 'defer-to-release latency at a steady 50k/s (one producer)'
set ylabel 'microseconds'
set logscale y
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8
set xtics rotate by -30
plot '{o}/latency.dat' using 2:xtic(1) title 'p50', '' using 3 title 'p99', '' using 4 title 'max'
""".format(o=out, n1=n + 1, n2=n + 2)
    with open(os.path.join(out, "plots.gp"), "w") as f:
        f.write(gp)
    r = subprocess.run(["gnuplot", os.path.join(out, "plots.gp")], capture_output=True, text=True)
    if r.returncode:
        print("gnuplot failed:\n" + r.stderr)
    else:
        print("plots: %s/{enqueue,end_to_end,latency}.png" % out)


if __name__ == "__main__":
    main()
