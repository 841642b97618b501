/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LOCKSTAT_H
#define PGFREE_LOCKSTAT_H
/*
 * Lock statistics of the locked baselines (lib/design_locked.c), for the
 * benchmark only: compiled in with -DPGFREE_LOCKSTAT (bench/CMakeLists.txt
 * builds a separate copy of the library for pgfree_bench_lockstat); in
 * every other build the hooks are empty inline functions and cost nothing.
 *
 * For each acquisition of a v5/v3 spinlock: the wait (from the call to
 * pthread_spin_lock() to holding it) and the hold (from holding it to the
 * call to unlock), in nanoseconds, counted in power-of-two buckets
 * (bucket i: [2^i, 2^(i+1)) ns; bucket 0 also holds 0).  Long waits with
 * short holds mean contention; waits far longer than any hold a running
 * holder could take mean the holder was preempted (user space only).
 *
 * Concurrency: each thread counts in its own buckets (single writer,
 * relaxed stores); pgfree_lockstat_read() sums every thread's, the exited
 * ones' included, with relaxed loads: exact once the producers are joined,
 * approximate for a thread still running (the drain).
 */
#include <stdint.h>

#define PGFREE_LOCKSTAT_BUCKETS 40

struct pgfree_lockstat {
	uint64_t wait[PGFREE_LOCKSTAT_BUCKETS];
	uint64_t hold[PGFREE_LOCKSTAT_BUCKETS];
	uint64_t wait_max, hold_max;
};

/* Defined only in a -DPGFREE_LOCKSTAT library (a link error elsewhere). */
void pgfree_lockstat_reset(void);
void pgfree_lockstat_read(struct pgfree_lockstat *out);

#endif /* PGFREE_LOCKSTAT_H */
