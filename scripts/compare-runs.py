#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Which rows of a benchmark run moved by more than their spread.

    scripts/compare-runs.py OLD.json NEW.json [--oversubscribed]
    scripts/compare-runs.py --self-test

OLD and NEW are two runs' bench.json (bench/report.py's format; an old
run's from git: `git show REV:bench/results/M/bench.json > old.json`).
For every row in both, not oversubscribed unless asked, it compares the
figure the targets judge (enqueue: the producer side; end_to_end and the
rest: items per second) and lists the rows whose median fell, or rose, by
more than the larger of the two runs' IQRs: "no existing row loses more
than its IQR" (issue 18's done-when) made countable.  Two runs of the
same code on a shared machine fail it for a few rows; run it on such a
pair first to see the machine's share.  Exit 0, or 2 on a usage error or
an unreadable file.  --self-test (the ctest pgfree.compare_runs_selftest)
checks the comparison on made-up runs and exits 1 if it is wrong.
"""
import argparse
import json
import sys


def rows(path):
    """{name: (median, iqr, oversubscribed)} of a bench.json."""
    with open(path) as f:
        return rows_of(json.load(f))


def rows_of(data):
    """rows() of a bench.json already read."""
    out = {}
    for r in data.get("rows", []):
        q = r.get("producer_items_per_second") if r.get("workload") == "enqueue" else None
        q = q or r.get("items_per_second")
        if not isinstance(q, dict) or q.get("median") is None:
            continue
        iqr = q.get("iqr")
        if iqr is None and q.get("q1") is not None and q.get("q3") is not None:
            iqr = q["q3"] - q["q1"]
        out[r["name"]] = (float(q["median"]), float(iqr or 0.0), bool(r.get("oversubscribed")))
    return out


def compare(old, new, oversubscribed=False):
    """(rows compared, lost, gained), lost and gained as lists of
    (name, old median, new median, old IQR, new IQR)."""
    lost, gained, n = [], [], 0
    for name in sorted(set(old) & set(new)):
        (om, oi, oo), (nm, ni, no) = old[name], new[name]
        if (oo or no) and not oversubscribed:
            continue
        n += 1
        spread = max(oi, ni)
        if nm < om - spread:
            lost.append((name, om, nm, oi, ni))
        elif nm > om + spread:
            gained.append((name, om, nm, oi, ni))
    return n, lost, gained


def self_test():
    """The comparison on made-up runs: identical, one row down by more and
    one by less than its IQR, one up, an oversubscribed row, a row in one
    run only."""
    def run(cells):
        return {"rows": [{"name": n, "workload": n.split("/")[0], "oversubscribed": o,
                          ("producer_items_per_second" if n.startswith("enqueue")
                           else "items_per_second"): {"median": m, "q1": m - i / 2,
                                                      "q3": m + i / 2}}
                         for n, m, i, o in cells]}
    base = [("enqueue/a/threads:1", 100.0, 10.0, False), ("end_to_end/b", 50.0, 4.0, False),
            ("enqueue/c/threads:16", 80.0, 5.0, True), ("enqueue/d/threads:2", 60.0, 6.0, False)]
    same = rows_of(run(base))
    moved = rows_of(run([("enqueue/a/threads:1", 85.0, 10.0, False),   # down 15 > 10
                         ("end_to_end/b", 47.0, 4.0, False),           # down 3 < 4
                         ("enqueue/c/threads:16", 10.0, 5.0, True),     # oversubscribed
                         ("enqueue/d/threads:2", 70.0, 6.0, False),     # up 10 > 6
                         ("enqueue/e/threads:1", 1.0, 0.1, False)]))    # new row
    checks = [(compare(same, same), (3, [], [])),
              ((lambda r: (r[0], [x[0] for x in r[1]], [x[0] for x in r[2]]))(
                  compare(same, moved)), (3, ["enqueue/a/threads:1"], ["enqueue/d/threads:2"])),
              ((lambda r: (r[0], [x[0] for x in r[1]]))(compare(same, moved, True)),
               (4, ["enqueue/a/threads:1", "enqueue/c/threads:16"]))]
    bad = [(got, want) for got, want in checks if got != want]
    for got, want in bad:
        print("compare-runs self-test: got %r, want %r" % (got, want), file=sys.stderr)
    print("compare-runs self-test: %d of %d checks passed" % (len(checks) - len(bad), len(checks)))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("old", nargs="?")
    ap.add_argument("new", nargs="?")
    ap.add_argument("--oversubscribed", action="store_true",
                    help="compare the oversubscribed rows too")
    ap.add_argument("--self-test", action="store_true",
                    help="check the comparison on made-up runs (exit 1 if wrong)")
    args = ap.parse_args()
    if args.self_test:
        return self_test()
    if not args.old or not args.new:
        ap.print_usage(sys.stderr)
        return 2
    try:
        old, new = rows(args.old), rows(args.new)
    except (OSError, ValueError, KeyError) as e:
        print("compare-runs: %s" % e, file=sys.stderr)
        return 2
    n, lost, gained = compare(old, new, args.oversubscribed)
    print("%d rows in both runs%s; %d lost more than the larger IQR, %d gained more"
          % (n, "" if args.oversubscribed else " (oversubscribed left out)", len(lost),
             len(gained)))
    for title, group in (("lost", lost), ("gained", gained)):
        for name, om, nm, oi, ni in group:
            print("  %-6s %s: %.4g -> %.4g (%+.0f%%; IQR %.3g / %.3g)"
                  % (title, name, om, nm, 100.0 * (nm - om) / om, oi, ni))
    only = sorted(set(old) ^ set(new))
    if only:
        print("in one run only: %s" % ", ".join(only))
    return 0


if __name__ == "__main__":
    sys.exit(main())
