// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Random yields between protocol steps, for the PGFREE_DEBUG_YIELD build
 * (compiler.h): the user-space counterpart of liburcu's debug-yield and of
 * the kernel's CONFIG_PREEMPT stress.  PGFREE_DEBUG_YIELD=N in the
 * environment yields at one step in N (default 8; 0 turns it off).
 */
#ifdef PGFREE_DEBUG_YIELD
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "compiler.h"

/* 0: not read yet; otherwise 1 + the period. */
static _Atomic unsigned int yield_period;
static __thread uint64_t yield_rng;

static unsigned int period(void)
{
	/* Relaxed: a racing first read computes the same value. */
	unsigned int p = atomic_load_explicit(&yield_period, memory_order_relaxed);

	if (!p) {
		const char *env = getenv("PGFREE_DEBUG_YIELD");

		p = 1 + (env ? (unsigned int)strtoul(env, NULL, 10) : 8u);
		atomic_store_explicit(&yield_period, p, memory_order_relaxed);
	}
	return p - 1;
}

void pgfree_debug_yield_slow(void)
{
	unsigned int n = period();

	if (!n)
		return;
	if (!yield_rng)
		yield_rng = (uint64_t)(uintptr_t)&yield_rng | 1;	/* per thread */
	/* xorshift64 */
	yield_rng ^= yield_rng << 13;
	yield_rng ^= yield_rng >> 7;
	yield_rng ^= yield_rng << 17;
	if (yield_rng % n == 0)
		sched_yield();
}
#else
/* ISO C wants something in a translation unit. */
typedef int pgfree_debug_yield_unused;
#endif
