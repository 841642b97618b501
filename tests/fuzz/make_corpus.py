#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Writes the seed corpus of fuzz_api.c into corpus/.  Each input is a
# sequence of operations as fuzz_api.c decodes them: an opcode byte (low
# nibble: the operation; bit 4: the domain slot; bits 5-7: variants) and
# its argument bytes.  Run it again after changing the encoding.
import os

CREATE, DEFER, DEFER_WAIT, DRAIN, BARRIER, BARRIER_T, STATS = 0, 1, 3, 4, 5, 6, 7
DESTROY, DESTROY_T, FAIL, MISC, BURST, CROSS, NOFAIL = 8, 9, 10, 11, 12, 13, 14
S1 = 0x10                    # slot 1
PERCPU, V5, V3, GLOBAL = 0, 1, 2, 3
NO_THREAD, NO_DELAY, FALLBACK, BOUNDED = 1, 2, 4, 8
EIO, EAGAIN, GIVE_UP = 0 << 2, 1 << 2, 2 << 2     # op_fail's error selector


def create(slot=0, design=PERCPU, flags=NO_DELAY, slots=2, delay=0, backlog=0,
           batch_max=0, misc=0, hook=0):
    return [CREATE | slot, design, flags, slots, delay, backlog, batch_max, misc, hook]


def defers(op, descs, slot=0):
    out = []
    for d in descs:
        out += [op | slot, d]
    return out


seeds = {
    "percpu_thread_basic":
        create(hook=1) + defers(DEFER, range(6)) + [BARRIER, STATS, DRAIN]
        + defers(DEFER, range(3, 9)) + [DESTROY, DESTROY, DEFER, 1, STATS, DRAIN, BARRIER],
    "bounded_no_thread":
        create(flags=NO_THREAD | BOUNDED, backlog=4) + defers(DEFER_WAIT, range(12))
        + [STATS, FAIL, EIO | 2, DRAIN, DRAIN, DRAIN, BARRIER]
        + defers(DEFER_WAIT, range(12, 20)) + [DEFER, 3, DESTROY],
    "bounded_thread_hint":
        create(flags=BOUNDED, backlog=5, delay=3) + defers(DEFER_WAIT, range(10))
        + create(slot=S1, design=GLOBAL, flags=NO_DELAY, backlog=2)
        + defers(DEFER, range(10, 16), S1) + [BARRIER | S1, STATS | S1, DESTROY | S1, DESTROY],
    "give_up":
        create(design=GLOBAL) + defers(DEFER, range(8)) + [FAIL, GIVE_UP | 2, BARRIER]
        + defers(DEFER, range(8)) + [FAIL, GIVE_UP | 3, DRAIN, BARRIER, STATS]
        + defers(DEFER, range(4)) + [FAIL, GIVE_UP | 1, DESTROY],
    "invalid_configs":
        create(design=5) + create(flags=0x80) + create(slots=255) + create(delay=250)
        + create(flags=NO_DELAY, delay=5) + create(flags=BOUNDED, backlog=0)
        + create(design=V5, backlog=4) + create(hook=0xff) + create(hook=0xfd)
        + create(misc=0x1c) + [MISC, 7, STATS, DEFER, 2, DEFER_WAIT, 2],
    "locked_two_domains":
        create(design=V3, flags=0) + create(slot=S1, design=V5, flags=NO_THREAD)
        + defers(DEFER, range(5)) + defers(DEFER, range(5, 10), S1)
        + [CROSS, 2, CROSS | S1, 7, BARRIER_T, 1, DESTROY_T, 0, FAIL | S1, EAGAIN | 3,
           DRAIN | S1, BARRIER_T | S1, 50, NOFAIL | S1, DRAIN | S1, DESTROY | S1, MISC | S1, 1,
           BURST, 0x17, DESTROY, DESTROY_T, 9],
    "nothread_fallback_range":
        create(flags=NO_THREAD | FALLBACK, slots=0, misc=1, hook=1)
        + [BURST, 0x07, BURST, 0x47, STATS, DRAIN, FAIL, EIO | 1, BARRIER_T, 3,
           BURST | 0x20, 0x33, DESTROY],
}

here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(here, "corpus"), exist_ok=True)
for name, ops in seeds.items():
    with open(os.path.join(here, "corpus", name), "wb") as f:
        f.write(bytes(ops))
