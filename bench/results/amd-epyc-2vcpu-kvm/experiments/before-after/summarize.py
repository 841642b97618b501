#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
"""Medians [min-max] of raw.csv (run.sh) per row: items/s and flushes/1000,
before (main, 68b1678) and after (this branch), and the after/before ratio."""
import collections
import csv
import statistics
import sys

d = collections.defaultdict(list)
with open(sys.argv[1]) as f:
    for row in csv.reader(f):
        which, rnd, name = row[0], row[1], row[2]
        items, fl = float(row[8]), float(row[13])
        d[(name, which)].append((items, fl))
names = sorted({n for n, _ in d})
print("%-52s %22s %22s %6s %16s %16s" % ("row (medians of 5 [min-max])", "items/s before",
                                         "items/s after", "ratio", "fl/1000 before",
                                         "fl/1000 after"))
for n in names:
    b, a = d[(n, "before")], d[(n, "after")]
    bi, ai = [x[0] for x in b], [x[0] for x in a]
    bf, af = [x[1] for x in b], [x[1] for x in a]
    print("%-52s %7.1fM [%5.1f-%5.1f] %7.1fM [%5.1f-%5.1f] %6.2f %6.3f [%.3f] %6.3f [%.3f]" % (
        n.replace("/real_time", ""), statistics.median(bi) / 1e6, min(bi) / 1e6, max(bi) / 1e6,
        statistics.median(ai) / 1e6, min(ai) / 1e6, max(ai) / 1e6,
        statistics.median(ai) / statistics.median(bi), statistics.median(bf), max(bf),
        statistics.median(af), max(af)))
