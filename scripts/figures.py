#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Generate the figures the Markdown documents quote from the committed runs.

Every benchmark figure in the documents lives in a *generated region*, a
block between two marker lines, rewritten from the files under
bench/results/<machine>/ (bench.json, app.json, app_detail.csv,
app_summary.txt, calib.json, model_prediction.csv, model_validation.txt,
model_summary.txt, run_info.json).  Nothing outside a region may quote a
figure of a run: the prose says what the figures mean, the regions say what
they are.

    <!-- BEGIN GENERATED: enqueue machine=amd-epyc-2vcpu-kvm policy=delay -->
    (the generator's output: do not edit by hand)
    <!-- END GENERATED: enqueue -->

A marker line is exactly that, alone on its line, outside fenced code
blocks.  The BEGIN line names a region kind (the list: `--list`) and its
parameters, `key=value` with no spaces (lists are comma-separated); the END
line repeats the kind.  The first line of every region is an HTML comment
naming the files it was made from.  Links inside a region are relative to
the file that holds it, so a region works in any directory.

Usage:
  scripts/figures.py [FILE...]          rewrite the regions (default: every
                                        Markdown file git tracks that has
                                        one; name a new file to include it)
  scripts/figures.py --check [FILE...]  change nothing; exit 1 and print a
                                        diff when a region differs from what
                                        its sources give (the drift test)
  scripts/figures.py --links [FILE...]  check that every relative Markdown
                                        link points to a file that exists
  scripts/figures.py --render 'KIND key=value ...' [--in DIR]
                                        print one region's body (links
                                        relative to DIR, default the root)
  scripts/figures.py --list             the region kinds and their parameters
  scripts/figures.py --self-test        show that the check fails when it
                                        must (a hand-edited figure, a missing
                                        file or row)

Exit status: 0 fine; 1 a region differs (--check) or a link is broken
(--links); 2 a region cannot be generated (a missing file, row or column:
the message names it), a malformed marker, or bad usage.  In write mode
nothing is written unless every region could be generated.

Missing data.  Tables list the rows of every committed run (the union over
bench/results/*/), so a design that one machine's run lacks is shown as
"—" (not in that run), never silently dropped.  A row or file that a
region's text depends on (percpu, v5_kernel, the floor, the 2-thread cell
of a target...) is required: its absence stops the generator with a message
naming the file and the row.

Output is deterministic: no dates, rows in a fixed order (then in the order
the data gives), fixed rounding (3 significant figures for rates).

Python 3 standard library only.
"""
import argparse
import csv
import difflib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
RESULTS = "bench/results"

BEGIN_RE = re.compile(r"^<!-- BEGIN GENERATED: (?P<kind>[a-z0-9-]+)(?P<args>(?: [a-z_]+=[^ ]+)*) -->$")
END_RE = re.compile(r"^<!-- END GENERATED: (?P<kind>[a-z0-9-]+) -->$")
MARKERISH_RE = re.compile(r"^\s*<!--\s*(BEGIN|END) GENERATED")
FENCE_RE = re.compile(r"^\s*(```|~~~)")

# Report order of the designs (as bench/report.py's, with the rows the
# queued-lock, ck_epoch and take-back work adds); designs not listed follow
# in the order the runs give them.
ORDER = ["floor", "percpu", "percpu_rseq", "percpu_takeback", "percpu_mark", "percpu_bounded",
         "v5_kernel", "v5_kernel_tas", "v5", "v5_tas", "v3", "v3_tas", "global_llist",
         "call_rcu", "call_rcu_rt", "ck_epoch", "lfs_percpu", "lfs_global", "wfcq", "ao_stack"]
# Policies a design may have as its only one; such rows appear under every
# table policy (bench/report.py's FIXED).
FIXED = ("none", "kernel", "own")
BOLD = {"percpu", "v5_kernel"}
MISSING = "—"


class FigureError(Exception):
    """A region cannot be generated: the message names what is missing."""


# ---------------------------------------------------------------------------
# Formatting: one rule per kind of figure, so that a figure reads the same
# in every region.
# ---------------------------------------------------------------------------

def _dp(v):
    """Decimals for 3 significant figures (at least 0)."""
    a = abs(v)
    if a >= 100 or a == 0:
        return 0
    if a >= 10:
        return 1
    if a >= 1:
        return 2
    return 3


def num(v, dp=None):
    s = "%.*f" % (_dp(v) if dp is None else dp, v)
    return "0" if re.fullmatch(r"-0(\.0*)?", s) else s


def med_iqr(v, iqr, scale=1.0):
    """'281 [20]': the median to 3 significant figures, its IQR to as many
    decimals."""
    v, iqr = v / scale, iqr / scale
    d = _dp(v)
    return "%s [%s]" % (num(v, d), num(iqr, d))


def times(r):
    if r >= 100:
        return "%.0f×" % r
    if r >= 10:
        return "%.1f×" % r
    return "%.2f×" % r


def pct(share):
    p = 100.0 * share
    return ("%.1f%%" % p) if p < 10 else ("%.0f%%" % p)


def kilo(v):
    return "%.0fk" % (v / 1e3)


def count(n):
    return "{:,}".format(int(n))


def us(v):
    """A time in microseconds, in µs or ms."""
    if v >= 1000:
        return "%s ms" % num(v / 1000.0)
    return "%s µs" % num(v)


def ns(v):
    """A time in nanoseconds, in ns, µs or ms."""
    if v >= 1e6:
        return "%s ms" % num(v / 1e6)
    if v >= 1000:
        return "%s µs" % num(v / 1000.0)
    return "%s ns" % num(v)


def bucket(v):
    """A power-of-two histogram bound in ns, as summary.txt prints it."""
    v = float(v)
    if v < 1000:
        return "%.0f ns" % v
    if v < 1e6:
        return "%.1f µs" % (v / 1e3) if v < 1e5 else "%.0f µs" % (v / 1e3)
    return "%.1f ms" % (v / 1e6)


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for r in rows:
        out.append("| " + " | ".join(r) + " |")
    return out


def design_order(names):
    """Known designs in ORDER, the others after them in the order given."""
    names = list(dict.fromkeys(names))
    known = [d for d in ORDER if d in names]
    return known + [d for d in names if d not in ORDER]


# ---------------------------------------------------------------------------
# The committed runs.
# ---------------------------------------------------------------------------

class Results:
    """bench/results/*/ under a root, loaded on demand; every file read is
    recorded, so a region can name its sources."""

    def __init__(self, root):
        self.root = root
        self.cache = {}
        self.used = set()

    def machines(self):
        d = os.path.join(self.root, RESULTS)
        if not os.path.isdir(d):
            raise FigureError("%s: no such directory" % RESULTS)
        return sorted(m for m in os.listdir(d)
                      if os.path.isfile(os.path.join(d, m, "bench.json")))

    def rel(self, machine, name):
        return "%s/%s/%s" % (RESULTS, machine, name)

    def exists(self, machine, name):
        return os.path.isfile(os.path.join(self.root, self.rel(machine, name)))

    def _read(self, machine, name, parse):
        rel = self.rel(machine, name)
        key = (rel, parse.__name__)
        if key not in self.cache:
            path = os.path.join(self.root, rel)
            if not os.path.isfile(path):
                known = ", ".join(self.machines()) or "none"
                raise FigureError("%s: no such file (machines with a bench.json: %s)"
                                  % (rel, known))
            with open(path, encoding="utf-8") as f:
                try:
                    self.cache[key] = parse(f)
                except ValueError as e:
                    raise FigureError("%s: cannot parse: %s" % (rel, e))
        self.used.add(rel)
        return self.cache[key]

    def json(self, machine, name):
        return self._read(machine, name, json.load)

    def csv(self, machine, name):
        def csv_rows(f):
            return list(csv.DictReader(f))
        return self._read(machine, name, csv_rows)

    def text(self, machine, name):
        def text_lines(f):
            return f.read().splitlines()
        return self._read(machine, name, text_lines)

    def bench(self, machine):
        key = ("bench", machine)
        if key not in self.cache:
            self.cache[key] = Bench(machine, self.json(machine, "bench.json"),
                                    self.rel(machine, "bench.json"))
        self.used.add(self.rel(machine, "bench.json"))
        return self.cache[key]

    def all_benches(self):
        return [self.bench(m) for m in self.machines()]


class Bench:
    """One machine's bench.json (format documented at the top of
    bench/report.py), indexed by row name."""

    def __init__(self, machine, doc, rel):
        self.machine, self.doc, self.rel = machine, doc, rel
        self.rows = {}
        self.enq = {}
        self.enq_designs = []
        for r in doc.get("rows", []):
            self.rows[r["name"]] = r
            if r.get("workload") == "enqueue":
                self.enq[(r["design"], r["policy"], r["threads"])] = r
                self.enq_designs.append(r["design"])
        self.enq_designs = list(dict.fromkeys(self.enq_designs))

    def info(self, key):
        ri = self.doc.get("run_info") or {}
        if key not in ri:
            raise FigureError("%s: run_info has no %r" % (self.rel, key))
        return ri[key]

    def context(self, key):
        c = self.doc.get("context") or {}
        if key not in c:
            raise FigureError("%s: context has no %r" % (self.rel, key))
        return c[key]

    def cpus(self):
        return int(self.info("cpus"))

    def cpu_model(self):
        m = str(self.context("pgfree_cpu_model"))
        m = re.sub(r"\((R|TM)\)", "", m)
        m = re.sub(r"\s+(Processor|CPU)\s*$", "", m)
        return re.sub(r"\s+", " ", m).strip()

    def label(self):
        return "%d vCPUs (%s)" % (self.cpus(), self.cpu_model())

    def repetitions(self):
        return (self.doc.get("enqueue_config") or {}).get("repetitions")

    def threads(self):
        return sorted({t for (_, _, t) in self.enq})

    def oversubscribed(self, threads):
        rows = [r for (_, _, t), r in self.enq.items() if t == threads]
        return bool(rows) and any(r.get("oversubscribed") for r in rows)

    def policies(self, design):
        return sorted({p for (d, p, _) in self.enq if d == design})

    def policy_for(self, design, policy):
        """The policy of `design`'s row in a table of `policy`: the same
        one, or the design's fixed one (floor: none, v5_kernel: kernel,
        call_rcu*: own).  None when the run has no such row."""
        pols = self.policies(design)
        if policy in pols:
            return policy
        fixed = [p for p in pols if p in FIXED]
        if len(pols) == 1 and fixed:
            return fixed[0]
        return None

    def enqueue(self, design, policy, threads):
        p = self.policy_for(design, policy)
        return self.enq.get((design, p, threads)) if p else None

    def need(self, design, policy, threads):
        r = self.enqueue(design, policy, threads)
        if r is None:
            raise FigureError("%s: no row enqueue/%s/policy:%s/threads:%d (the text depends on it)"
                              % (self.rel, design, policy, threads))
        return r

    def row(self, name, required=True):
        r = self.rows.get(name)
        if r is None and required:
            raise FigureError("%s: no row %s (the text depends on it)" % (self.rel, name))
        return r

    def is_peer(self, design):
        return any(r.get("peer") for (d, _, _), r in self.enq.items() if d == design)

    def has_flush_hook(self, design):
        return all(r.get("flush_hook", True) for (d, _, _), r in self.enq.items() if d == design)

    def workload_rows(self, workload):
        return [r for r in self.doc.get("rows", []) if r.get("workload") == workload]


def stat(row, key, field="median", rel="bench.json"):
    v = row.get(key)
    if isinstance(v, dict):
        v = v.get(field)
    if v is None:
        raise FigureError("%s: row %s has no %s.%s" % (rel, row.get("name"), key, field))
    return float(v)


def producer(row, bench):
    return stat(row, "producer_items_per_second", "median", bench.rel)


def cost_ns(row, bench):
    """Producer-side ns per defer per producer thread."""
    return row["threads"] * 1e9 / producer(row, bench)


# ---------------------------------------------------------------------------
# Regions.  Each kind is a function of the context and its parameters that
# returns the region's lines (without the markers and the sources comment).
# ---------------------------------------------------------------------------

KINDS = {}


def kind(name, params, doc):
    def reg(fn):
        KINDS[name] = (fn, params, doc)
        return fn
    return reg


class Ctx:
    def __init__(self, results, file_dir):
        self.results = results
        self.file_dir = file_dir  # relative to the root, '' for the root

    def link(self, rel):
        """A link target for `rel` (relative to the root) from this file."""
        r = os.path.relpath(rel, self.file_dir or ".")
        return r.replace(os.sep, "/")

    def bench(self, machine):
        return self.results.bench(machine)


def split_list(v):
    return [x for x in v.split(",") if x]


def machine_list(ctx, machines):
    """machines=all: every committed run; else the list given."""
    return ctx.results.machines() if machines == "all" else split_list(machines)


def int_list(v, what):
    try:
        return [int(x) for x in split_list(v)]
    except ValueError:
        raise FigureError("%s=%s: not a list of numbers" % (what, v))


def all_rows_for(ctx, policy):
    """Every design that some committed run has under `policy` (or a fixed
    policy), in report order."""
    names = []
    for b in ctx.results.all_benches():
        names += [d for d in b.enq_designs if b.policy_for(d, policy)]
    return design_order(names)


def parse_row_spec(spec, policy):
    """'v5' -> ('v5', policy); 'percpu/nodelay' -> ('percpu', 'nodelay')."""
    if "/" in spec:
        d, p = spec.split("/", 1)
        return d, p
    return spec, policy


def row_label(bench_list, design, policy, table_policy):
    b = next((b for b in bench_list if b.policy_for(design, policy)), None)
    p = b.policy_for(design, policy) if b else policy
    name = "**%s**" % design if design in BOLD else design
    if p != table_policy:
        return "%s (%s)" % (name, p)
    return name


@kind("enqueue", {"machine": None, "policy": "delay", "sustained": "each", "rows": "all",
                  "threads": "all", "ratio": ""},
      "the enqueue workload of one run: aggregate M descriptors/s, median [IQR], producer side "
      "(and sustained: each = beside every cell, last = one column at the largest "
      "non-oversubscribed count, none); oversubscribed counts sustained only; rows=all "
      "(every design of every committed run, '—' where this run lacks it) or a list of "
      "design[/policy]; ratio=N adds percpu ÷ row at N producers")
def r_enqueue(ctx, machine, policy, sustained, rows, threads, ratio):
    b = ctx.bench(machine)
    if sustained not in ("each", "last", "none"):
        raise FigureError("sustained=%s: each, last or none" % sustained)
    ts = b.threads() if threads == "all" else int_list(threads, "threads")
    for t in ts:
        if t not in b.threads():
            raise FigureError("%s: no enqueue rows at threads:%d" % (b.rel, t))
    plain = [t for t in ts if not b.oversubscribed(t)]
    over = [t for t in ts if b.oversubscribed(t)]
    specs = ([(d, policy) for d in all_rows_for(ctx, policy)] if rows == "all"
             else [parse_row_spec(s, policy) for s in split_list(rows)])
    # What the caption and the ratio column depend on.
    for t in plain:
        b.need("percpu", policy, t)
    rt = int(ratio) if ratio else None
    if rt is not None:
        if rt not in plain:
            raise FigureError("ratio=%s: not a non-oversubscribed producer count of %s"
                              % (ratio, b.rel))
        pc = producer(b.need("percpu", policy, rt), b)
    hdr = ["design (policy)"]
    for t in plain:
        hdr.append("%d%s" % (t, " (producer / sustained)" if sustained == "each" else ""))
    last = max(plain) if plain and sustained == "last" else None
    if last is not None:
        hdr.append("%d, sustained" % last)
    for t in over:
        hdr.append("%d (oversubscribed, sustained)" % t)
    if rt is not None:
        hdr.append("percpu ÷ this row, %d producers" % rt)
    out_rows = []
    benches = ctx.results.all_benches()
    for d, p in specs:
        cells = [row_label(benches, d, p, policy)]
        anyrow = False
        for t in plain:
            r = b.enqueue(d, p, t)
            if r is None:
                cells.append(MISSING)
                continue
            anyrow = True
            c = med_iqr(producer(r, b), stat(r, "producer_items_per_second", "iqr", b.rel), 1e6)
            if sustained == "each":
                c += " / " + med_iqr(stat(r, "items_per_second"), stat(r, "items_per_second", "iqr"), 1e6)
            if d in BOLD:
                c = "**%s**" % c
            cells.append(c)
        if last is not None:
            r = b.enqueue(d, p, last)
            cells.append(med_iqr(stat(r, "items_per_second"), stat(r, "items_per_second", "iqr"), 1e6)
                         if r else MISSING)
        for t in over:
            r = b.enqueue(d, p, t)
            anyrow = anyrow or r is not None
            cells.append(med_iqr(stat(r, "items_per_second"), stat(r, "items_per_second", "iqr"), 1e6)
                         if r else MISSING)
        if rt is not None:
            r = b.enqueue(d, p, rt)
            cells.append(times(pc / producer(r, b)) if r else MISSING)
        if rows != "all" and not anyrow and not any(x.enqueue(d, p, t) for x in benches
                                                    for t in x.threads()):
            raise FigureError("no committed run has enqueue/%s/policy:%s (rows=%s)" % (d, p, rows))
        out_rows.append(cells)
    reps = b.repetitions()
    what = ("each cell producer side / sustained" if sustained == "each" else
            "producer side, but for the columns marked sustained")
    lines = ["Aggregate M descriptors/s, median [IQR] over %s repetitions, %s; policy `%s` "
             "(a row with another policy in parentheses has that one fixed); %s: not in this run."
             % (reps, what, policy, MISSING), ""]
    return lines + table(hdr, out_rows)


@kind("headline", {"cells": None, "policy": "delay"},
      "the README's table: producer side at chosen (machine:producers) cells, the Linux "
      "6.19 design's ports beside percpu, the fastest other library, and percpu ÷ v5_kernel")
def r_headline(ctx, cells, policy):
    spec = []
    for c in split_list(cells):
        m, _, t = c.partition(":")
        if not t:
            raise FigureError("cells=%s: each cell is MACHINE:PRODUCERS" % cells)
        b = ctx.bench(m)
        t = int(t)
        if b.oversubscribed(t):
            raise FigureError("%s: threads:%d is oversubscribed: no producer-side figure" % (b.rel, t))
        b.need("percpu", policy, t)
        b.need("v5_kernel", policy, t)
        spec.append((b, t))
    benches = ctx.results.all_benches()
    present = set()
    for x in benches:
        present.update(x.enq_designs)
    designs = [d for d in ["percpu", "percpu_rseq", "percpu_takeback", "v5_kernel",
                           "v5_kernel_tas", "v5", "v5_tas", "v3", "v3_tas", "global_llist"]
               if d in present]
    hdr = ["M descriptors/s, producer side"] + ["%s, %d producers" % (b.label(), t) for b, t in spec]
    rows = []
    for d in designs:
        cells_ = [row_label(benches, d, policy, policy)]
        for b, t in spec:
            r = b.enqueue(d, policy, t)
            c = med_iqr(producer(r, b), stat(r, "producer_items_per_second", "iqr", b.rel), 1e6) \
                if r else MISSING
            cells_.append("**%s**" % c if r and d in BOLD else c)
        rows.append(cells_)
    best = ["fastest other library"]
    for b, t in spec:
        peers = [(producer(r, b), d, r) for d in b.enq_designs if b.is_peer(d)
                 for r in [b.enqueue(d, policy, t)] if r]
        if not peers:
            best.append(MISSING)
            continue
        v, d, r = max(peers, key=lambda x: (x[0], x[1]))
        best.append("%s (%s)" % (med_iqr(v, stat(r, "producer_items_per_second", "iqr"), 1e6), d))
    rows.append(best)
    for base in ("v5_kernel", "v5_kernel_tas"):
        if base not in designs:
            continue
        line = ["**percpu ÷ %s**" % base]
        for b, t in spec:
            r = b.enqueue(base, policy, t)
            line.append("**%s**" % times(producer(b.need("percpu", policy, t), b) / producer(r, b))
                        if r else MISSING)
        rows.append(line)
    reps = sorted({str(b.repetitions()) for b, _ in spec})
    lines = table(hdr, rows)
    lines += ["", "Median [IQR] of %s shuffled repetitions, policy `%s` (v5_kernel: the kernel's "
              "own worker); %s: not in that run.  Machines and load: [docs/results.md](%s)."
              % (" and ".join(reps), policy, MISSING, ctx.link("docs/results.md"))]
    return lines


@kind("run-info", {"machines": "all"},
      "one line per committed run: CPUs, CPU, kernel, compiler, load average, pgfree_bench's "
      "duration, with links to its summary.txt and RUN.md")
def r_run_info(ctx, machines):
    ms = machine_list(ctx, machines)
    rows = []
    for m in ms:
        b = ctx.bench(m)
        name = "[`%s`](%s)" % (m, ctx.link(ctx.results.rel(m, "summary.txt")))
        if ctx.results.exists(m, "RUN.md"):
            name += " ([how it was run](%s))" % ctx.link(ctx.results.rel(m, "RUN.md"))
        rows.append([name, str(b.cpus()), b.cpu_model(),
                     str(b.context("pgfree_kernel")), str(b.context("pgfree_compiler")),
                     "%s / %s" % (b.info("load_avg_start"), b.info("load_avg_end")),
                     "%s s" % b.info("pgfree_bench_seconds"), str(b.info("mode")),
                     str(b.repetitions())])
    return table(["run", "CPUs", "CPU", "kernel", "compiler", "load average at start / end",
                  "pgfree_bench", "mode", "enqueue repetitions"], rows)


@kind("targets", {"machine": None},
      "the targets bench/report.py judged in that run, PASS or MISS, as bench.json states them")
def r_targets(ctx, machine):
    b = ctx.bench(machine)
    ts = b.doc.get("targets")
    if not ts:
        raise FigureError("%s: no targets" % b.rel)
    return ["- **%s** %s" % (t["result"], t["target"]) for t in ts]


@kind("end-to-end", {"machine": None, "flush_ns": "all", "rows": "all"},
      "the end_to_end workload (deferred and released per second, flush every batch): "
      "M/s median [IQR] and flushes per 1000 descriptors, per design/policy and flush length")
def r_end_to_end(ctx, machine, flush_ns, rows):
    b = ctx.bench(machine)
    e2e = b.workload_rows("end_to_end")
    if not e2e:
        raise FigureError("%s: no end_to_end rows" % b.rel)
    idx = {(r["design"], r["policy"], int(r["flush_ns"])): r for r in e2e}
    fl = sorted({k[2] for k in idx}) if flush_ns == "all" else int_list(flush_ns, "flush_ns")
    for f in fl:
        if not any(k[2] == f for k in idx):
            raise FigureError("%s: no end_to_end rows with flush_ns:%d" % (b.rel, f))
    threads = sorted({r["threads"] for r in e2e})
    names = []
    for x in ctx.results.all_benches():
        names += [r["design"] for r in x.workload_rows("end_to_end")]
    pols = {}
    for x in ctx.results.all_benches():
        for r in x.workload_rows("end_to_end"):
            pols.setdefault(r["design"], set()).add(r["policy"])
    if rows == "all":
        specs = [(d, p) for d in design_order(names) for p in sorted(pols[d], key=policy_key)]
    else:
        specs = [parse_row_spec(s, "delay") for s in split_list(rows)]
    hdr = ["design/policy"]
    for f in fl:
        hdr += ["flush %g µs: M/s [IQR]" % (f / 1e3) if f else "no flush: M/s [IQR]", "flushes/1000"]
    out = []
    for d, p in specs:
        line = ["%s/%s" % ("**%s**" % d if d in BOLD else d, p)]
        for f in fl:
            r = idx.get((d, p, f))
            if r is None:
                line += [MISSING, MISSING]
                continue
            line += [med_iqr(stat(r, "items_per_second"), stat(r, "items_per_second", "iqr"), 1e6),
                     num(stat(r, "flushes_per_1000")) if "flushes_per_1000" in r else "no flush hook"]
        out.append(line)
    return (["%s producer(s), each flush lasting as given; M descriptors deferred *and released* "
             "per second, median [IQR]; flushes per 1000 descriptors (median); %s: not in this run."
             % ("/".join(str(t) for t in threads), MISSING), ""] + table(hdr, out))


def policy_key(p):
    return (["delay", "nodelay", "kernel", "own", "none"] + [p]).index(p), p


@kind("latency", {"machine": None},
      "the latency workload (defer to release, one producer at 50k/s): p50, p99 and max per "
      "design/policy, and the ranges the text quotes")
def r_latency(ctx, machine):
    b = ctx.bench(machine)
    lat = b.workload_rows("latency")
    if not lat:
        raise FigureError("%s: no latency rows" % b.rel)
    order = design_order([r["design"] for r in lat])
    lat.sort(key=lambda r: (order.index(r["design"]), policy_key(r["policy"])))
    rows = []
    for r in lat:
        rows.append(["%s/%s" % ("**%s**" % r["design"] if r["design"] in BOLD else r["design"], r["policy"])]
                    + [us(stat(r, k)) for k in ("p50_us", "p99_us", "max_us")])
    hooked = [r for r in lat if b.has_flush_hook(r["design"])]
    other = [r for r in lat if not b.has_flush_hook(r["design"])]

    def rng(rs, k):
        v = [stat(r, k) for r in rs]
        lo, hi = min(v), max(v)
        return us(lo) if us(lo) == us(hi) else "%s to %s" % (us(lo), us(hi))
    summary = []
    for p in ("delay", "nodelay"):
        rs = [r for r in hooked if r["policy"] == p]
        if rs:
            summary.append("policy `%s`: p50 %s" % (p, rng(rs, "p50_us")))
    fixed = [r for r in hooked if r["policy"] in FIXED]
    if fixed:
        summary.append("%s: p50 %s" % (", ".join(sorted({r["design"] for r in fixed})),
                                       rng(fixed, "p50_us")))
    if hooked:
        summary.append("p99 %s" % rng(hooked, "p99_us"))
    lines = ["Designs with a flush hook: %s." % "; ".join(summary)]
    if other:
        lines[0] += "  Without one (%s): p50 %s, p99 %s." % (
            ", ".join(sorted({r["design"] for r in other})), rng(other, "p50_us"),
            rng(other, "p99_us"))
    lines += ["", "Microseconds from defer to release, median over repetitions:", ""]
    return lines + table(["design/policy", "p50", "p99", "max"], rows)


@kind("lockstat", {"machine": None, "rows": "all", "threads": "all"},
      "the locked ports' spinlock, instrumented build: wait p50 / p99 and hold p50 per "
      "acquisition, per producer count (oversubscribed counts marked)")
def r_lockstat(ctx, machine, rows, threads):
    b = ctx.bench(machine)
    ls = b.workload_rows("lockstat")
    if not ls:
        raise FigureError("%s: no lockstat rows" % b.rel)
    idx = {(r["design"], r["policy"], r["threads"]): r for r in ls}
    ts = sorted({k[2] for k in idx}) if threads == "all" else int_list(threads, "threads")
    dp = []
    for r in ls:
        if (r["design"], r["policy"]) not in dp:
            dp.append((r["design"], r["policy"]))
    order = design_order([d for d, _ in dp])
    dp.sort(key=lambda x: (order.index(x[0]), policy_key(x[1])))
    if rows != "all":
        want = [parse_row_spec(s, "delay") for s in split_list(rows)]
        for w in want:
            if w not in dp:
                raise FigureError("%s: no lockstat/%s/policy:%s rows" % (b.rel, w[0], w[1]))
        dp = want
    hdr = ["design/policy"] + ["%d%s" % (t, " (oversubscribed)" if any(
        idx.get((d, p, t), {}).get("oversubscribed") for d, p in dp) else "") for t in ts]
    out = []
    for d, p in dp:
        line = ["%s/%s" % ("**%s**" % d if d in BOLD else d, p)]
        for t in ts:
            r = idx.get((d, p, t))
            if r is None:
                line.append(MISSING)
                continue
            line.append("%s / %s, hold %s" % (bucket(r["lock_wait_p50_ns"]), bucket(r["lock_wait_p99_ns"]),
                                              bucket(r["lock_hold_p50_ns"])))
        out.append(line)
    return (["Lock wait p50 / p99, and hold p50, per acquisition (power-of-two buckets: "
             "each figure is its bucket's upper bound); %s: not in this run." % MISSING, ""]
            + table(hdr, out))


@kind("many-producers", {"machine": None, "policy": "delay"},
      "what the run says at its largest non-oversubscribed producer count: the lock's and the "
      "shared line's fall, percpu's ratio, the sustained rate and end to end")
def r_many(ctx, machine, policy):
    b = ctx.bench(machine)
    plain = [t for t in b.threads() if not b.oversubscribed(t)]
    n = max(plain)
    if n < 4:
        raise FigureError("%s: many-producers needs a run with 4 or more CPUs (largest: %d)"
                          % (b.rel, n))
    out = []
    pc1, pcn = (producer(b.need("percpu", policy, t), b) for t in (1, n))
    vk1, vkn = (producer(b.need("v5_kernel", policy, t), b) for t in (1, n))
    locked = [d for d in design_order(b.enq_designs)
              if d.startswith(("v5", "v3")) and b.enqueue(d, policy, 1) and b.enqueue(d, policy, n)]
    falls = []
    for d in locked:
        a, z = (producer(b.enqueue(d, policy, t), b) for t in (1, n))
        falls.append("`%s` %s → %s" % (d, num(a / 1e6), num(z / 1e6)))
    out.append("- **The locked ports, 1 → %d producers** (M/s, producer side): %s."
               % (n, "; ".join(falls)))
    lk = b.row("lockstat/v5_kernel/policy:kernel/threads:%d" % n, required=False)
    if lk:
        out[-1] += ("  `v5_kernel`'s lock at %d producers: wait %s at the median and %s at p99, "
                    "hold %s (instrumented build)." % (n, bucket(lk["lock_wait_p50_ns"]),
                                                       bucket(lk["lock_wait_p99_ns"]),
                                                       bucket(lk["lock_hold_p50_ns"])))
    shared = [d for d in ("global_llist", "lfs_global", "wfcq") if all(
        b.enqueue(d, policy, t) for t in plain if t >= 2)]
    if shared:
        v = [producer(b.enqueue(d, policy, t), b) / 1e6 for d in shared for t in plain if t >= 2]
        out.append("- **One shared line** (%s), 2 to %d producers: %s to %s M/s."
                   % (", ".join("`%s`" % d for d in shared), n, num(min(v)), num(max(v))))
    rs = [("percpu", pcn)]
    r = b.enqueue("percpu_rseq", policy, n)
    if r:
        rs.append(("percpu_rseq", producer(r, b)))
    out.append("- **percpu, 1 → %d producers**: %s → %s M/s (%s); at %d, %s."
               % (n, num(pc1 / 1e6), num(pcn / 1e6), times(pcn / pc1), n,
                  "; ".join("`%s` ÷ `%s` %s" % (d, base, times(v / producer(b.enqueue(base, policy, n), b)))
                            for d, v in rs for base in ("v5_kernel", "v5_kernel_tas", "v5", "v5_tas")
                            if b.enqueue(base, policy, n))))
    s2 = stat(b.need("percpu", policy, 2), "items_per_second")
    sn = stat(b.need("percpu", policy, n), "items_per_second")
    skn = stat(b.need("v5_kernel", policy, n), "items_per_second")
    out.append("- **Sustained** (producers waiting for recycled descriptors): percpu %s M/s at 2 "
               "producers, %s at %d; `v5_kernel` %s at %d (percpu ÷ v5_kernel %s)."
               % (num(s2 / 1e6), num(sn / 1e6), n, num(skn / 1e6), n, times(sn / skn)))
    e = b.row("end_to_end/percpu/policy:%s/flush_ns:10000" % policy, required=False)
    ek = b.row("end_to_end/v5_kernel/policy:kernel/flush_ns:10000", required=False)
    if e and ek:
        out.append("- **End to end** (%d producers, 10 µs flush, deferred and released per second): "
                   "percpu %s M/s with %s flushes per 1000 descriptors; `v5_kernel` %s M/s with %s."
                   % (e["threads"],
                      med_iqr(stat(e, "items_per_second"), stat(e, "items_per_second", "iqr"), 1e6),
                      num(stat(e, "flushes_per_1000")), med_iqr(stat(ek, "items_per_second"),
                                                                stat(ek, "items_per_second", "iqr"), 1e6),
                      num(stat(ek, "flushes_per_1000"))))
    return out


@kind("delay-default", {"machine": None},
      "why the 50 µs batching delay is the default: percpu at one producer with and without "
      "it (cost per defer, flushes), end to end without a flush, latency")
def r_delay(ctx, machine):
    b = ctx.bench(machine)
    d1, n1 = b.need("percpu", "delay", 1), b.need("percpu", "nodelay", 1)
    delay = b.context("pgfree_batch_delay_us")
    out = ["- One producer, percpu: %s per `pgfree_defer()` with the %s µs delay, %s without "
           "(producer side); the drain flushed %s and %s times per 1000 descriptors."
           % (ns(cost_ns(d1, b)), delay, ns(cost_ns(n1, b)),
              num(stat(d1, "flushes_per_1000")), num(stat(n1, "flushes_per_1000")))]
    ed = b.row("end_to_end/percpu/policy:delay/flush_ns:0", required=False)
    en = b.row("end_to_end/percpu/policy:nodelay/flush_ns:0", required=False)
    if ed and en:
        out.append("- End to end (%d producers, an empty flush): %s M/s with the delay and %s "
                   "flushes per 1000, %s M/s and %s without."
                   % (ed["threads"], num(stat(ed, "items_per_second") / 1e6),
                      num(stat(ed, "flushes_per_1000")), num(stat(en, "items_per_second") / 1e6),
                      num(stat(en, "flushes_per_1000"))))
    ld = b.row("latency/percpu/policy:delay", required=False)
    ln = b.row("latency/percpu/policy:nodelay", required=False)
    if ld and ln:
        out.append("- Latency, defer to release (one producer at 50k/s): p50 %s with the delay, "
                   "%s without." % (us(stat(ld, "p50_us")), us(stat(ln, "p50_us"))))
    out.append("- From [`%s`](%s), %s." % (b.rel.rsplit("/", 1)[0] + "/summary.txt",
                                           ctx.link(ctx.results.rel(machine, "summary.txt")), b.label()))
    return out


@kind("rseq", {"machines": "all"},
      "the rseq push against the CAS push in every committed run: 1-producer cost ÷ the floor, "
      "2 producers against the floor, end to end with a 10 µs flush")
def r_rseq(ctx, machines):
    ms = machine_list(ctx, machines)
    rows = []
    for m in ms:
        b = ctx.bench(m)
        line = [b.label()]
        if machines == "all" and not b.policies("percpu_rseq"):
            rows.append(line + [MISSING] * 4)    # a run without the rseq rows
            continue
        f1 = cost_ns(b.need("floor", "delay", 1), b)
        for d in ("percpu_rseq", "percpu"):
            line.append(" / ".join(times(cost_ns(b.need(d, p, 1), b) / f1) for p in ("delay", "nodelay")))
        line.append("%s / %s (floor %s)" % tuple(
            num(producer(b.need(d, p, 2), b) / 1e6) for d, p in
            (("percpu_rseq", "delay"), ("percpu_rseq", "nodelay"), ("floor", "delay"))))
        e2e = []
        for p in ("delay", "nodelay"):
            r = b.row("end_to_end/percpu_rseq/policy:%s/flush_ns:10000" % p, required=False)
            c = b.row("end_to_end/percpu/policy:%s/flush_ns:10000" % p, required=False)
            e2e.append(times(stat(r, "items_per_second") / stat(c, "items_per_second"))
                       if r and c else MISSING)
        line.append(" / ".join(e2e))
        rows.append(line)
    return (["Policies `delay` / `nodelay`; producer side; cost = ns per defer per producer.", ""]
            + table(["run", "rseq push, 1-producer cost ÷ floor", "CAS push, 1-producer cost ÷ floor",
                     "rseq push, 2 producers, M/s", "end to end, 10 µs flush: rseq ÷ CAS"], rows))


# --- the application stage -------------------------------------------------

class App:
    """One machine's application stage: app.json (full precision), then
    app_detail.csv for the columns app.json does not keep."""

    def __init__(self, results, machine):
        self.rel_json = results.rel(machine, "app.json")
        self.rel_csv = results.rel(machine, "app_detail.csv")
        self.doc = results.json(machine, "app.json")
        self.jrows = {(r["mode"], int(r["threads"])): r for r in self.doc.get("rows", [])}
        self.drows = {(r["mode"], int(r["threads"])): r
                      for r in results.csv(machine, "app_detail.csv")}

    def threads(self):
        return sorted({t for (_, t) in self.drows} | {t for (_, t) in self.jrows})

    def has(self, mode, t):
        return (mode, t) in self.drows or (mode, t) in self.jrows

    def get(self, mode, t, key):
        j, d = self.jrows.get((mode, t)), self.drows.get((mode, t))
        if j is None and d is None:
            raise FigureError("%s: no row mode=%s threads=%d (the text depends on it)"
                              % (self.rel_csv, mode, t))
        if j is not None and j.get(key) is not None:
            return j[key]
        if d is not None and d.get(key) not in (None, ""):
            return float(d[key])
        raise FigureError("%s and %s: row mode=%s threads=%d has no %s"
                          % (self.rel_json, self.rel_csv, mode, t, key))

    def oversubscribed(self, t):
        for m in ("v5", "pgfree", "none"):
            j, d = self.jrows.get((m, t)), self.drows.get((m, t))
            if j is not None and "oversubscribed" in j:
                return bool(j["oversubscribed"])
            if d is not None and "oversubscribed" in d:
                return d["oversubscribed"] == "yes"
        raise FigureError("%s: no oversubscribed mark at threads=%d" % (self.rel_csv, t))


def app_rate(a, m, t):
    v = a.get(m, t, "map_unmap_per_s")
    q = a.get(m, t, "map_unmap_per_s_iqr")
    return "%s [%s–%s]" % (kilo(v), kilo(q[0]).rstrip("k"), kilo(q[1]))


def app_ratio(a, t):
    return times(a.get("pgfree", t, "map_unmap_per_s") / a.get("v5", t, "map_unmap_per_s"))


def app_pair(a, t, key, unit="", scale=1.0):
    """'v5 / pgfree' of one figure, in one unit."""
    return "%s / %s%s" % (num(a.get("v5", t, key) / scale), num(a.get("pgfree", t, key) / scale),
                          " " + unit if unit else "")


APP_COLUMNS = {
    "rate": (["v5 map+unmap/s", "pgfree map+unmap/s"],
             lambda a, t: [app_rate(a, "v5", t), app_rate(a, "pgfree", t)]),
    "ratio": (["pgfree/v5"], lambda a, t: [app_ratio(a, t)]),
    "flushes": (["flushes/1000 tables v5 / pgfree"], lambda a, t: [app_pair(a, t, "flushes_per_1000")]),
    "free": (["free call, wall, v5 / pgfree"], lambda a, t: [app_pair(a, t, "free_ns_per_free", "ns")]),
    "cpu_op": (["CPU per map+unmap v5 / pgfree"],
               lambda a, t: [app_pair(a, t, "producer_cpu_ns_per_op", "ns")]),
    "on_cpu": (["CPU thread on a CPU v5 / pgfree"], lambda a, t: ["%s / %s" % tuple(
        pct(a.get(m, t, "producer_cpu_share")) for m in ("v5", "pgfree"))]),
    "frames": (["waiting for frames v5 / pgfree"], lambda a, t: ["%s / %s" % tuple(
        pct(a.get(m, t, "pool_dry_wait_share")) for m in ("v5", "pgfree"))]),
    "slow_flush": (["flushes that waited out a preempted walk v5 / pgfree"], lambda a, t: ["%s / %s" % tuple(
        "%s (%s)" % (pct(a.get(m, t, "flush_slow_share")), ns(a.get(m, t, "flush_slow_ns")))
        for m in ("v5", "pgfree"))]),
    "reuse_p99": (["reuse p99 v5 / pgfree"], lambda a, t: [app_pair(a, t, "reuse_p99_us", "ms", 1e3)]),
    "wakeups": (["wake-ups/1000 v5 / pgfree"], lambda a, t: [app_pair(a, t, "wakeups_per_1000")]),
    "stale": (["stale walks v5 / pgfree / none"], lambda a, t: [" / ".join(
        count(a.get(m, t, "stale_walks")) if a.has(m, t) else MISSING for m in ("v5", "pgfree", "none"))]),
}
APP_DEFAULT = "rate,ratio,flushes,free,cpu_op,on_cpu,frames,slow_flush,stale"


@kind("app", {"machine": None, "columns": APP_DEFAULT},
      "the application stage (examples/iommu_sva): per CPU-thread count, v5 against pgfree; "
      "columns: " + ", ".join(APP_COLUMNS))
def r_app(ctx, machine, columns):
    a = App(ctx.results, machine)
    cols = split_list(columns)
    for c in cols:
        if c not in APP_COLUMNS:
            raise FigureError("columns: unknown %r (known: %s)" % (c, ", ".join(APP_COLUMNS)))
    hdr = ["CPU threads"]
    for c in cols:
        hdr += APP_COLUMNS[c][0]
    rows = []
    for t in a.threads():
        if not (a.has("v5", t) and a.has("pgfree", t)):
            continue
        line = ["%d%s" % (t, " (oversubscribed)" if a.oversubscribed(t) else "")]
        for c in cols:
            line += APP_COLUMNS[c][1](a, t)
        rows.append(line)
    if not rows:
        raise FigureError("%s: no thread count with both v5 and pgfree rows" % a.rel_csv)
    doc = a.doc
    lines = ["Medians of %s run(s) of %s s per cell, v5 and pgfree interleaved; map+unmap/s with "
             "[q1–q3]; times per free call and per operation in ns.  Oversubscribed, as the stage "
             "counts it: %s." % (doc.get("runs"), "%g" % float(doc.get("seconds")),
                                 doc.get("oversubscribed_rule", "(app.json states no rule)")), ""]
    return lines + table(hdr, rows)


@kind("app-targets", {"machine": None},
      "the application stage's targets, PASS or MISS, as app_summary.txt states them")
def r_app_targets(ctx, machine):
    lines = ctx.results.text(machine, "app_summary.txt")
    out, on = [], False
    for ln in lines:
        if ln.startswith("Targets"):
            on = True
            continue
        m = re.match(r"^\s+(PASS|MISS)\s+(.*)$", ln) if on else None
        if m:
            out.append("- **%s** %s" % (m.group(1), m.group(2)))
    if not out:
        raise FigureError("%s: no 'Targets' lines" % ctx.results.rel(machine, "app_summary.txt"))
    return out


def model_csv(ctx, machine):
    rows = ctx.results.csv(machine, "model_prediction.csv")
    out = {}
    for r in rows:
        try:
            out[(r["design"], int(r["cpus"]))] = float(r["predicted_items_per_s"])
        except (KeyError, ValueError):
            raise FigureError("%s: unexpected row %r" % (ctx.results.rel(machine, "model_prediction.csv"), r))
    return out


def model_need(ctx, machine, pred, name, n):
    if (name, n) not in pred:
        raise FigureError("%s: no row %s,%d (the text depends on it)"
                          % (ctx.results.rel(machine, "model_prediction.csv"), name, n))
    return pred[(name, n)]


@kind("app-model", {"machines": "all", "cpus": "16,64"},
      "the many-core model's pgfree/v5 for the application, fed with each run's 1-thread costs, "
      "beside what each run measured")
def r_app_model(ctx, machines, cpus):
    ms = machine_list(ctx, machines)
    ns_ = int_list(cpus, "cpus")
    rows = []
    for m in ms:
        if machines == "all" and not (ctx.results.exists(m, "model_prediction.csv")
                                      and ctx.results.exists(m, "app.json")):
            rows.append([ctx.bench(m).label()] + [MISSING] * (len(ns_) + 1))
            continue
        pred = model_csv(ctx, m)
        a = App(ctx.results, m)
        meas = ", ".join("%d: %s" % (t, app_ratio(a, t))
                         for t in a.threads() if a.has("v5", t) and a.has("pgfree", t))
        rows.append([ctx.bench(m).label()] +
                    [times(model_need(ctx, m, pred, "app_ratio_pgfree_over_v5", n)) for n in ns_] + [meas])
    return table(["run (its calibration and 1-thread costs)"] +
                 ["model pgfree/v5, %d CPUs" % n for n in ns_] +
                 ["measured pgfree/v5, per CPU-thread count"], rows)


# --- the many-core model ----------------------------------------------------

VALID_RE = re.compile(r"^\s+(?P<design>\S+)\s+(?P<cpus>\d+) CPU: measured\s+(?P<meas>[\d.e+]+) M/s "
                      r"\[[^\]]*\], model\s+(?P<model>[\d.e+]+) M/s, error\s+(?P<err>[+-]?\d+)%"
                      r".*\[(?P<row>enqueue/[^\]]+)\]\s*$")
PAIRED_RE = re.compile(r"^\s+paired\s+(?P<design>\S+)\s+(?P<cpus>\d+) CPUs?\s+(?P<kind>producer|sustained):"
                       r"\s+measured\s+(?P<meas>[\d.e+]+) M/s, model\s+(?P<model>[\d.e+]+) M/s, "
                       r"error\s+(?P<err>[+-]?\d+)% \[(?P<lo>[+-]?\d+)%\.\.(?P<hi>[+-]?\d+)%\] "
                       r"over (?P<pairs>\d+) pairs\s*$")
ALONE_RE = re.compile(r"(?P<design>\w+) (?P<meas>[\d.]+) M/s, model (?P<model>[\d.]+) \((?P<err>[+-]?\d+)%\)")


@kind("model-validation", {"machine": None},
      "the model against the run it was calibrated on (model_validation.txt): error per design "
      "and producer count, and the library alone on 2 CPUs")
def r_model_validation(ctx, machine):
    rel = ctx.results.rel(machine, "model_validation.txt")
    lines = ctx.results.text(machine, "model_validation.txt")
    b = ctx.bench(machine)
    cells, designs, cpus = {}, [], []
    alone = None
    paired = {}
    for ln in lines:
        m = VALID_RE.match(ln)
        if m:
            d, n = m.group("design"), int(m.group("cpus"))
            cells[(d, n)] = m
            designs.append(d)
            cpus.append(n)
        elif ln.startswith("validation, the library alone"):
            alone = ALONE_RE.findall(ln)
        elif PAIRED_RE.match(ln):
            pm = PAIRED_RE.match(ln)
            paired[(pm.group("design"), int(pm.group("cpus")), pm.group("kind"))] = pm
    if not cells:
        raise FigureError("%s: no '<design> <n> CPU: measured ... model ... error' lines" % rel)
    designs, cpus = list(dict.fromkeys(designs)), sorted(set(cpus))
    rows = []
    for d in designs:
        line = ["**%s**" % d if d in BOLD else d]
        for n in cpus:
            m = cells.get((d, n))
            if m is None:
                line.append(MISSING)
                continue
            # The measured rate from bench.json, so that it reads as in
            # the enqueue tables; the model's and the error as model.py
            # printed them.
            meas = producer(b.row(m.group("row")), b)
            line.append("%s / %s (%s%%)" % (num(meas / 1e6), num(float(m.group("model"))), m.group("err")))
        rows.append(line)
    out = ["Producer side, M descriptors/s, measured / model (error of the model); rows of "
           "the benchmark run at one producer per CPU; %s: not validated." % MISSING, ""]
    out += table(["design"] + ["%d CPU%s" % (n, "s" if n > 1 else "") for n in cpus], rows)
    if alone:
        out += ["", "The library alone on 2 CPUs (two producers deferring at once, no harness), "
                "measured / model: %s." % "; ".join("%s %s / %s (%s%%)" % x for x in alone)]
    if paired:
        pd = list(dict.fromkeys(k[0] for k in paired))
        pn = sorted({k[1] for k in paired})
        npairs = max(int(m.group("pairs")) for m in paired.values())
        prow = []
        for d in pd:
            line = ["**%s**" % d if d in BOLD else d]
            for n in pn:
                for kind in ("producer", "sustained"):
                    m = paired.get((d, n, kind))
                    line.append(MISSING if m is None else "%s / %s (%s%% [%s%%..%s%%])" % (
                        num(float(m.group("meas"))), num(float(m.group("model"))),
                        m.group("err"), m.group("lo"), m.group("hi")))
            prow.append(line)
        out += ["", "Paired: %d times in the model stage, a calibration and then these rows "
                "beside it (%s/model_pairs/); each pair's rows against the model of its own "
                "calibration. M descriptors/s, measured / model (the pairs' medians), and the "
                "median error [min..max] over the pairs:" % (npairs, os.path.dirname(rel)), ""]
        out += table(["design"] + ["%d CPU%s, %s" % (n, "s" if n > 1 else "", k)
                                   for n in pn for k in ("producer side", "sustained")], prow)
    return out


@kind("model-inputs", {"machine": None},
      "the model's calibration (calib.json: median [q1–q3] of every quantity) and its "
      "parameters line (model_summary.txt)")
def r_model_inputs(ctx, machine):
    cal = ctx.results.json(machine, "calib.json")
    rows = []
    for k, v in cal.items():
        if isinstance(v, dict) and "median" in v:
            rows.append(["`%s`" % k, "%s [%s–%s]" % (num(v["median"]), num(v.get("q1", v["median"])),
                                                     num(v.get("q3", v["median"])))])
    if not rows:
        raise FigureError("%s: no quantity with a median" % ctx.results.rel(machine, "calib.json"))
    summ = ctx.results.text(machine, "model_summary.txt")
    par = [ln for ln in summ if ln.startswith("parameters:")]
    if not par:
        raise FigureError("%s: no 'parameters:' line" % ctx.results.rel(machine, "model_summary.txt"))
    return (["Model parameters: %s." % par[0][len("parameters:"):].strip(), "",
             "Calibration on CPUs %s, ns, median [q1–q3]:" % ",".join(str(c) for c in cal.get("cpus", [])),
             ""] + table(["quantity", "ns"], rows))


@kind("model-prediction", {"machine": None, "cpus": "1,2,16,64,256"},
      "the model's predictions from one run's calibration (model_prediction.csv): producer "
      "side per design, percpu ÷ v5, v5's fair hand-off bound, the single drain's sustained rate")
def r_model_prediction(ctx, machine, cpus):
    pred = model_csv(ctx, machine)
    ns_ = int_list(cpus, "cpus")
    base = [d for d in dict.fromkeys(k[0] for k in pred)
            if not d.startswith("app_") and not d.endswith(("_fair_handoff", "_sustained"))]
    base = design_order(base)
    hdr = ["CPUs"] + base + ["percpu ÷ v5", "v5, fair hand-off bound", "percpu sustained"]
    rows = []
    for n in ns_:
        p, v = model_need(ctx, machine, pred, "percpu", n), model_need(ctx, machine, pred, "v5", n)
        line = [str(n)] + [num(pred[(d, n)] / 1e6) if (d, n) in pred else MISSING for d in base]
        line += [times(p / v),
                 num(pred[("v5_fair_handoff", n)] / 1e6) if ("v5_fair_handoff", n) in pred else MISSING,
                 num(model_need(ctx, machine, pred, "percpu_sustained", n) / 1e6)]
        rows.append(line)
    return ["Predicted M descriptors/s, one producer per CPU:", ""] + table(hdr, rows)


@kind("model-vs-measured", {"machine": None, "threads": "16"},
      "the model's percpu ÷ v5 at N CPUs from every run's calibration, beside what the run on "
      "`machine` measured at N producers")
def r_model_vs(ctx, machine, threads):
    n = int(threads)
    b = ctx.bench(machine)
    pcn = producer(b.need("percpu", "delay", n), b)
    model = []
    for m in ctx.results.machines():
        if not ctx.results.exists(m, "model_prediction.csv"):
            continue
        pred = model_csv(ctx, m)
        model.append("%s from the %s run's calibration" % (
            times(model_need(ctx, m, pred, "percpu", n) / model_need(ctx, m, pred, "v5", n)),
            ctx.bench(m).label()))
    meas = ["÷ `%s` %s" % (d, times(pcn / producer(b.enqueue(d, "delay", n), b)))
            for d in ("v5_kernel", "v5_kernel_tas", "v5", "v5_tas") if b.enqueue(d, "delay", n)]
    return ["- The model's percpu ÷ v5 at %d CPUs: %s." % (n, "; ".join(model)),
            "- Measured on %s at %d producers (producer side, policy `delay`): percpu %s."
            % (b.label(), n, ", ".join(meas))]


# ---------------------------------------------------------------------------
# Finding, checking and rewriting regions.
# ---------------------------------------------------------------------------

class Region:
    def __init__(self, path, begin, end, kind_, args, text):
        self.path, self.begin, self.end = path, begin, end  # line indexes of the markers
        self.kind, self.args, self.text = kind_, args, text

    def where(self):
        return "%s:%d: region %s" % (self.path, self.begin + 1, self.kind)


def parse_args(kind_, argtext, where):
    if kind_ not in KINDS:
        raise FigureError("%s: unknown region kind %r (known: %s)" % (where, kind_, ", ".join(sorted(KINDS))))
    _, params, _ = KINDS[kind_]
    args = {}
    for tok in argtext.split():
        k, _, v = tok.partition("=")
        if k not in params:
            raise FigureError("%s: %s takes no parameter %r (it takes: %s)"
                              % (where, kind_, k, ", ".join(params) or "none"))
        args[k] = v
    for k, default in params.items():
        if k not in args:
            if default is None:
                raise FigureError("%s: %s needs %s=" % (where, kind_, k))
            args[k] = default
    return args


def find_regions(path, lines):
    """The regions of one file; malformed markers are errors."""
    regions, fence, open_ = [], None, None
    for i, ln in enumerate(lines):
        f = FENCE_RE.match(ln)
        if f and open_ is None:
            if fence is None:
                fence = f.group(1)
            elif f.group(1) == fence:
                fence = None
            continue
        if fence is not None or not MARKERISH_RE.match(ln):
            continue
        b, e = BEGIN_RE.match(ln), END_RE.match(ln)
        if b:
            if open_ is not None:
                raise FigureError("%s:%d: BEGIN GENERATED inside the region opened at line %d"
                                  % (path, i + 1, open_[0] + 1))
            open_ = (i, b.group("kind"), b.group("args"))
        elif e:
            if open_ is None:
                raise FigureError("%s:%d: END GENERATED without a BEGIN" % (path, i + 1))
            if e.group("kind") != open_[1]:
                raise FigureError("%s:%d: END GENERATED: %s closes the region %s opened at line %d"
                                  % (path, i + 1, e.group("kind"), open_[1], open_[0] + 1))
            regions.append(Region(path, open_[0], i, open_[1], open_[2],
                                  "\n".join(lines[open_[0] + 1:i])))
            open_ = None
        else:
            raise FigureError("%s:%d: malformed marker (expected '<!-- BEGIN GENERATED: kind "
                              "key=value ... -->' or '<!-- END GENERATED: kind -->'): %s"
                              % (path, i + 1, ln.strip()))
    if open_ is not None:
        raise FigureError("%s:%d: region %s is never closed" % (path, open_[0] + 1, open_[1]))
    return regions


def render(results, kind_, argtext, file_dir, where="--render"):
    args = parse_args(kind_, argtext, where)
    fn = KINDS[kind_][0]
    results.used = set()
    try:
        body = fn(Ctx(results, file_dir), **args)
    except FigureError as e:
        raise FigureError("%s: %s" % (where, e))
    src = sorted(results.used)
    head = ("<!-- generated by scripts/figures.py from %s: do not edit by hand; "
            "rerun `python3 scripts/figures.py` -->" % ", ".join(src))
    return "\n".join([head] + body)


def md_files(root):
    """The Markdown files git tracks under root (what a clean clone has:
    no build trees, nothing beside the project); outside a git checkout,
    every *.md below root but build trees and hidden directories."""
    try:
        r = subprocess.run(["git", "-C", root, "ls-files", "-z", "--", "*.md"],
                           capture_output=True, text=True, check=True)
        return sorted(p for p in r.stdout.split("\0")
                      if p and os.path.isfile(os.path.join(root, p)))
    except (OSError, subprocess.CalledProcessError):
        pass
    out = []
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        dirs[:] = sorted(x for x in dirs if not x.startswith(".") and not x.startswith("build")
                         and not (rel == "." and x in ("out", "Testing")))
        out += [os.path.normpath(os.path.join(rel, f)) for f in sorted(files) if f.endswith(".md")]
    return out


def process(root, files, check):
    """Render every region of `files` (paths relative to root).  Returns
    (new texts by file, [(region, old, new)] that differ)."""
    results = Results(root)
    changed, differ = {}, []
    for rel in files:
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            text = f.read()
        lines = text.split("\n")
        regions = find_regions(rel, lines)
        if not regions:
            continue
        out, pos = [], 0
        for r in regions:
            new = render(results, r.kind, r.args, os.path.dirname(rel), r.where())
            out += lines[pos:r.begin + 1] + new.split("\n")
            pos = r.end
            if new != r.text:
                differ.append((r, r.text, new))
        out += lines[pos:]
        new_text = "\n".join(out)
        if new_text != text:
            changed[rel] = new_text
    return changed, differ


def with_markers(root, paths):
    if paths:
        return [os.path.relpath(os.path.abspath(p), root) for p in paths]
    out = []
    for rel in md_files(root):
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            if any(MARKERISH_RE.match(ln) for ln in f):
                out.append(rel)
    return out


def cmd_generate(root, paths, check, out=sys.stdout):
    files = with_markers(root, paths)
    changed, differ = process(root, files, check)
    if check:
        for r, old, new in differ:
            out.write("%s differs from what its sources give:\n" % r.where())
            out.writelines(difflib.unified_diff(
                [x + "\n" for x in old.split("\n")], [x + "\n" for x in new.split("\n")],
                "%s (committed)" % r.path, "%s (generated)" % r.path, n=1))
        if differ:
            out.write("figures: %d region(s) differ from the committed runs: a figure was edited "
                      "by hand, or bench/results/ changed; run `python3 scripts/figures.py` and "
                      "review the diff\n" % len(differ))
            return 1
        out.write("figures: %d file(s), every generated region matches bench/results/\n" % len(files))
        return 0
    for rel in sorted(changed):
        with open(os.path.join(root, rel), "w", encoding="utf-8") as f:
            f.write(changed[rel])
    for r, _, _ in differ:
        out.write("rewrote %s\n" % r.where())
    out.write("figures: %d region(s) rewritten in %d file(s)\n" % (len(differ), len(changed)))
    return 0


LINK_RE = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
CODE_RE = re.compile(r"`+[^`]*`+")


def anchors(path):
    """The heading anchors of a Markdown file, as GitHub makes them:
    lower case, punctuation dropped, spaces to hyphens, -1, -2... for
    repeats."""
    out, seen, fence = set(), {}, None
    with open(path, encoding="utf-8") as f:
        for ln in f:
            m = FENCE_RE.match(ln)
            if m:
                fence = m.group(1) if fence is None else (None if m.group(1) == fence else fence)
                continue
            h = None if fence else re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", ln)
            if not h:
                continue
            t = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", h.group(1)).lower()
            slug = "".join(c for c in t if c.isalnum() or c in " -_").replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            out.add(slug if n == 0 else "%s-%d" % (slug, n))
    return out


def cmd_links(root, paths, out=sys.stdout):
    files = [os.path.relpath(os.path.abspath(p), root) for p in paths] if paths else md_files(root)
    bad = 0
    for rel in files:
        fence = None
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            for i, ln in enumerate(f, 1):
                m = FENCE_RE.match(ln)
                if m:
                    fence = m.group(1) if fence is None else (None if m.group(1) == fence else fence)
                    continue
                if fence:
                    continue
                for t in LINK_RE.findall(CODE_RE.sub("", ln)):
                    if re.match(r"^[a-z][a-z0-9+.-]*:", t):
                        continue
                    target, _, frag = t.partition("#")
                    p = os.path.normpath(os.path.join(root, os.path.dirname(rel), target or
                                                      os.path.basename(rel)))
                    if not os.path.exists(p):
                        out.write("%s:%d: broken link: %s\n" % (rel, i, t))
                        bad += 1
                    elif frag and p.endswith(".md") and frag not in anchors(p):
                        out.write("%s:%d: broken link: %s (no heading makes #%s)\n"
                                  % (rel, i, t, frag))
                        bad += 1
    if bad:
        out.write("links: %d broken link(s)\n" % bad)
        return 1
    out.write("links: %d file(s), every relative link resolves\n" % len(files))
    return 0


# ---------------------------------------------------------------------------
# The self-test: the drift check fails when it must.
# ---------------------------------------------------------------------------

def self_test(root):
    failures = []

    def expect(cond, what):
        print("  %s %s" % ("ok  " if cond else "FAIL", what))
        if not cond:
            failures.append(what)

    def expect_error(fn, needle, what):
        try:
            fn()
        except FigureError as e:
            expect(needle in str(e), "%s (%s)" % (what, e))
            return
        expect(False, what + ": no error")

    tmp = tempfile.mkdtemp(prefix="pgfree-figures-")
    try:
        shutil.copytree(os.path.join(root, RESULTS), os.path.join(tmp, RESULTS))
        results = Results(tmp)
        machines = results.machines()
        expect(len(machines) >= 1, "at least one committed run: %s" % ", ".join(machines))
        m = machines[0]
        doc = "\n".join(["# t", "before",
                         "<!-- BEGIN GENERATED: enqueue machine=%s -->" % m,
                         "<!-- END GENERATED: enqueue -->",
                         "between", "```", "<!-- BEGIN GENERATED: not-a-kind -->", "```",
                         "<!-- BEGIN GENERATED: targets machine=%s -->" % m, "stale",
                         "<!-- END GENERATED: targets -->", "after", ""])
        os.makedirs(os.path.join(tmp, "docs"))
        path = os.path.join(tmp, "docs", "t.md")
        with open(path, "w") as f:
            f.write(doc)
        sink = open(os.devnull, "w")
        expect(cmd_generate(tmp, [], True, sink) == 1, "a stale region fails the check")
        expect(cmd_generate(tmp, [], False, sink) == 0, "write mode regenerates it")
        expect(cmd_generate(tmp, [], True, sink) == 0, "then the check passes")
        with open(path) as f:
            good = f.read()
        expect(good.count("\n") > doc.count("\n") + 10 and "before\n" in good
               and "\nbetween\n" in good and good.endswith("after\n"),
               "text outside the regions (and the fenced marker) is kept")
        # A hand edit of one figure inside a region.
        m_ = re.search(r"\| \*\*percpu\*\* \| \*\*(\d)", good)
        edited = good[:m_.start(1)] + str((int(m_.group(1)) + 1) % 10) + good[m_.end(1):]
        with open(path, "w") as f:
            f.write(edited)
        buf = io.StringIO()
        expect(cmd_generate(tmp, [], True, buf) == 1 and "-| **percpu**" in buf.getvalue()
               and "region enqueue" in buf.getvalue(),
               "a figure edited by hand inside a region fails the check, with a diff")
        # An edit outside the regions is not the check's business.
        with open(path, "w") as f:
            f.write(good.replace("between", "between, edited"))
        expect(cmd_generate(tmp, [], True, sink) == 0, "an edit outside the regions passes")
        with open(path, "w") as f:
            f.write(good)
        # Determinism.
        a = render(Results(tmp), "enqueue", " machine=%s" % m, "docs")
        expect(a == render(Results(tmp), "enqueue", " machine=%s" % m, "docs"), "output is deterministic")
        # Missing file, row, column; malformed markers.
        expect_error(lambda: render(Results(tmp), "enqueue", " machine=no-such-run", ""),
                     "bench/results/no-such-run/bench.json: no such file",
                     "a missing run names its file")
        bj = os.path.join(tmp, RESULTS, m, "bench.json")
        with open(bj) as f:
            bdoc = json.load(f)
        kept = [r for r in bdoc["rows"] if not r["name"].startswith("enqueue/v5_kernel/")]
        t2 = sorted({r["threads"] for r in bdoc["rows"] if r.get("workload") == "enqueue"})[1]
        with open(bj, "w") as f:
            json.dump(dict(bdoc, rows=kept), f)
        expect_error(lambda: render(Results(tmp), "headline", " cells=%s:%d" % (m, t2), ""),
                     "no row enqueue/v5_kernel/policy:delay/threads:%d" % t2,
                     "a row the text depends on, absent, stops the generator and is named")
        if len(machines) > 1:
            body = render(Results(tmp), "enqueue", " machine=%s" % m, "")
            row = [ln for ln in body.split("\n") if ln.startswith("| **v5_kernel**")]
            expect(len(row) == 1 and MISSING in row[0],
                   "a row another run has is shown as missing (%s), not dropped" % MISSING)
        kept = [r for r in bdoc["rows"] if not r["name"].startswith("enqueue/percpu/")]
        with open(bj, "w") as f:
            json.dump(dict(bdoc, rows=kept), f)
        expect_error(lambda: render(Results(tmp), "enqueue", " machine=%s" % m, ""),
                     "no row enqueue/percpu/policy:delay", "percpu absent: the tables refuse")
        with open(bj, "w") as f:
            json.dump(bdoc, f)
        ad = os.path.join(tmp, RESULTS, m, "app_detail.csv")
        if os.path.isfile(ad):
            with open(ad) as f:
                csvt = f.read()
            with open(ad, "w") as f:
                f.write(csvt.replace("pool_dry_wait_share", "renamed_column", 1))
            # app.json may keep the field too (schema pgfree-app/2): rename it there as well.
            aj = os.path.join(tmp, RESULTS, m, "app.json")
            with open(aj) as f:
                ajt = f.read()
            with open(aj, "w") as f:
                f.write(ajt.replace('"pool_dry_wait_share"', '"renamed_column"'))
            expect_error(lambda: render(Results(tmp), "app", " machine=%s" % m, ""),
                         "has no pool_dry_wait_share", "a missing column is named")
        for bad, needle in (("<!-- BEGIN GENERATED: enqueue machine=x -->\n", "never closed"),
                            ("<!-- BEGIN GENERATED: nope -->\n<!-- END GENERATED: nope -->\n",
                             "unknown region kind"),
                            ("<!-- BEGIN GENERATED: targets machin=x -->\n<!-- END GENERATED: targets -->\n",
                             "takes no parameter"),
                            ("<!-- BEGIN GENERATED: targets -->\n<!-- END GENERATED: rseq -->\n",
                             "closes the region"),
                            ("<!-- BEGIN GENERATED targets -->\n", "malformed marker")):
            with open(path, "w") as f:
                f.write(bad)
            expect_error(lambda: process(tmp, ["docs/t.md"], True), needle,
                         "a malformed marker is an error: %r" % bad.split("\n")[0])
        sink.close()
    finally:
        shutil.rmtree(tmp)
    print("self-test: %s" % ("%d failure(s)" % len(failures) if failures else "passed"))
    return 1 if failures else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("files", nargs="*", help="Markdown files (default: every one with a region)")
    ap.add_argument("--root", default=ROOT, help="the source tree (default: this script's)")
    ap.add_argument("--check", action="store_true", help="exit 1 if a region differs")
    ap.add_argument("--links", action="store_true", help="check relative links")
    ap.add_argument("--render", metavar="'KIND key=value ...'")
    ap.add_argument("--in", dest="in_dir", default="", help="with --render: links relative to this directory")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("--self-test", action="store_true")
    a = ap.parse_args(argv)
    root = os.path.abspath(a.root)
    try:
        if a.list:
            for k in sorted(KINDS):
                _, params, doc = KINDS[k]
                print("%s %s\n    %s" % (k, " ".join("%s=%s" % (p, "REQUIRED" if d is None else d or "''")
                                                     for p, d in params.items()), doc))
            return 0
        if a.self_test:
            return self_test(root)
        if a.render:
            k, _, args = a.render.strip().partition(" ")
            print(render(Results(root), k, " " + args, a.in_dir))
            return 0
        status = 0
        if a.check or not a.links:
            status = cmd_generate(root, a.files, a.check)
        if a.links:
            status = max(status, cmd_links(root, a.files))
        return status
    except FigureError as e:
        sys.stderr.write("figures: %s\n" % e)
        return 2


if __name__ == "__main__":
    sys.exit(main())
