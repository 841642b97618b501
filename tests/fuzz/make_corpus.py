#!/usr/bin/env python3
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Writes the seed corpus of fuzz_api.c into corpus/.  Each input is a
# sequence of operations as fuzz_api.c decodes them: an opcode byte (low
# nibble: the operation; bit 4: the domain slot; bits 5-7: variants) and
# its argument bytes.  Run it again after changing the encoding.
import os

CREATE, DEFER, DEFER_WAIT, DRAIN, BARRIER, BARRIER_T, STATS = 0, 1, 3, 4, 5, 6, 7
DESTROY, DESTROY_T, FAIL, MISC, BURST, CROSS, NOFAIL, TAKE = 8, 9, 10, 11, 12, 13, 14, 15
S1 = 0x10                    # slot 1
TAKE_REUSE = 0x20            # TAKE variant: defer what came back again, same slot
TAKE_NULL = 0xe0             # TAKE variant: a NULL chain
PERCPU, V5, V3, GLOBAL = 0, 1, 2, 3
NO_THREAD, NO_DELAY, FALLBACK, BOUNDED = 1, 2, 4, 8
EIO, EAGAIN, GIVE_UP = 0 << 2, 1 << 2, 2 << 2     # op_fail's error selector
RANGE, NO_GIVE_BACK, NO_RELEASE = 0x01, 0x02, 0xe0  # create's misc byte
HOOK, TAKE_BACK, CHAIN = 0x01, 0x10, 0x20           # create's hook byte


def tb_us(mode, v=0):
    """create's take_back_us byte: 0 the default, 1 v us, 2 the limit less v,
    3 the limit plus v (invalid unless v == 0)."""
    return mode | (v << 2)


def create(slot=0, design=PERCPU, flags=NO_DELAY, slots=2, delay=0, backlog=0,
           batch_max=0, misc=0, hook=0, take_back=0):
    return [CREATE | slot, design, flags, slots, delay, backlog, batch_max, misc, hook,
            take_back]


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
    # Take-back without a drain thread on one list, where the model is exact:
    # nothing before a drain, everything flushed after it, reuse, the full
    # list releasing its oldest chain, expiry, destroy with chains waiting.
    "take_back_one_list":
        create(design=GLOBAL, flags=NO_THREAD, hook=TAKE_BACK, take_back=tb_us(2))
        + defers(DEFER, range(6)) + [TAKE, STATS, DRAIN, STATS, TAKE | TAKE_REUSE, STATS]
        + defers(DEFER, range(6, 10)) + [DRAIN, TAKE, DRAIN, STATS]
        + create(slot=S1, flags=NO_THREAD, slots=1, misc=RANGE, hook=TAKE_BACK | CHAIN,
                 take_back=tb_us(2))
        + sum((defers(DEFER, [10 + i], S1) + [DRAIN | S1] for i in range(10)), [])
        + [STATS | S1, TAKE | S1, STATS | S1]
        + defers(DEFER, range(10, 14), S1) + [BARRIER | S1, DESTROY | S1, TAKE | S1]
        + [BURST, 0x77, DRAIN, DESTROY],
    # Expiry: 1 us, so the harness's next drain releases what waits.
    "take_back_expire":
        create(flags=NO_THREAD, slots=1, misc=RANGE, hook=TAKE_BACK, take_back=tb_us(1, 1))
        + defers(DEFER, range(8)) + [DRAIN, MISC, 0, MISC, 1, DRAIN, STATS, TAKE, STATS]
        + defers(DEFER, range(8, 12)) + [BARRIER, TAKE | TAKE_REUSE, BARRIER_T, 9, DRAIN,
                                         STATS, DESTROY],
    # A drain thread, several lists: take back what this CPU's list holds,
    # reuse it in either slot; a plain domain in the other slot refuses; a
    # drain thread that expires chains after 40 us.
    "take_back_thread":
        create(design=PERCPU, flags=NO_DELAY, slots=0, hook=TAKE_BACK | HOOK,
               take_back=tb_us(2))
        + create(slot=S1, design=PERCPU, flags=0, slots=3, hook=CHAIN)
        + defers(DEFER, range(12)) + [BARRIER, TAKE | TAKE_REUSE, BARRIER, TAKE | 0x60]
        + [TAKE | S1, TAKE | S1 | TAKE_NULL, TAKE | TAKE_NULL, STATS, STATS | S1]
        + [BURST, 0x31, BURST, 0x52, DRAIN, TAKE, TAKE | TAKE_REUSE, BARRIER_T, 20, TAKE]
        + [DESTROY, TAKE, TAKE | TAKE_NULL, BARRIER | S1, DESTROY | S1, TAKE | S1]
        + create(design=GLOBAL, flags=0, delay=3, misc=RANGE, hook=TAKE_BACK,
                 take_back=tb_us(1, 40))
        + defers(DEFER, range(12, 20)) + [BARRIER, TAKE, STATS, DESTROY_T, 50],
    # Flushes fail and give up: what was queued comes back through
    # ->give_back(); what waits for take-back stays; errors keep the batch.
    "take_back_give_up":
        create(design=GLOBAL, flags=NO_THREAD, hook=TAKE_BACK, take_back=tb_us(2))
        + defers(DEFER, range(4)) + [DRAIN] + defers(DEFER, range(4, 8))
        + [FAIL, GIVE_UP | 1, DRAIN, STATS, TAKE] + defers(DEFER, range(4))
        + [FAIL, EIO | 2, DRAIN, DRAIN, STATS, DRAIN, STATS, TAKE | TAKE_REUSE]
        + defers(DEFER, range(8)) + [FAIL, GIVE_UP | 2, BARRIER, TAKE, STATS]
        + defers(DEFER, range(3)) + [FAIL, EAGAIN | 1, DESTROY_T, 1, DESTROY],
    # What must be refused: take-back on the locked designs, with a bound,
    # take_back_us over the limit or without the flag, no release callback;
    # and what must not: ->release_chain() alone, the limit itself.
    "take_back_configs":
        create(design=V5, hook=TAKE_BACK) + create(design=V3, flags=0, hook=TAKE_BACK)
        + create(flags=BOUNDED, backlog=8, hook=TAKE_BACK)
        + create(hook=TAKE_BACK, take_back=tb_us(3, 1))
        + create(take_back=tb_us(1, 5)) + create(misc=NO_RELEASE)
        + create(design=V3, flags=NO_THREAD, misc=NO_RELEASE, hook=CHAIN)
        + defers(DEFER, range(5)) + [TAKE, DRAIN, STATS, DESTROY]
        + create(design=PERCPU, flags=NO_THREAD, slots=4, misc=NO_RELEASE,
                 hook=TAKE_BACK | CHAIN, take_back=tb_us(3))
        + defers(DEFER, range(5, 15)) + [DRAIN, TAKE | TAKE_REUSE, STATS, DRAIN, TAKE,
                                         STATS, BARRIER, DESTROY, TAKE],
}

here = os.path.dirname(os.path.abspath(__file__))
os.makedirs(os.path.join(here, "corpus"), exist_ok=True)
for name, ops in seeds.items():
    with open(os.path.join(here, "corpus", name), "wb") as f:
        f.write(bytes(ops))
