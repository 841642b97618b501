// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The locked baselines' queued spinlock (lib/qspinlock.[ch]), on its own:
 * mutual exclusion under contention, through every way in (fast path,
 * pending waiter, queue), checked by counts, never by time:
 *
 *  - a critical section that a second holder would catch: it reads an
 *    "inside" word that must be 0, sets it, bumps a plain counter, clears
 *    it; the counter must end at exactly threads * rounds (a lost update
 *    means two holders), and TSan sees the plain counter's accesses;
 *  - the ways in are counted from the lock word as each thread found it
 *    (free, held with nobody waiting, waited on), so the test can say that
 *    contention was reached; it asserts on the outcome only, because how
 *    often each way is taken depends on the scheduler;
 *  - trylock on a held and on a free lock; the reset fork() uses.
 *
 * More threads than CPUs are used on purpose: a waiter the lock is handed
 * to may be preempted, which is the case the lock's yield handles.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "harness/check.h"
#include "qspinlock.h"
#include "support/util.h"

#define NR_THREADS 6

struct arena {
	struct pgfree_qspin lock;
	_Atomic int inside;
	_Atomic int violations;
	unsigned long counter;	/* plain: only ever changed under the lock */
	size_t rounds;
	_Atomic int ready;
	_Atomic int go;
	_Atomic unsigned long found_held, found_queue;
};

static void *contender(void *p)
{
	struct arena *a = p;

	/* Start together, so that the lock is contended from the first round. */
	atomic_fetch_add(&a->ready, 1);
	while (!atomic_load(&a->go))
		sched_yield();
	for (size_t i = 0; i < a->rounds; i++) {
		/* Relaxed peek, for the counts only: what this acquisition will find. */
		uint64_t seen = atomic_load_explicit(&a->lock.val, memory_order_relaxed);

		if (seen >> PGFREE_QSPIN_TAIL_SHIFT || (seen & PGFREE_QSPIN_PENDING))
			atomic_fetch_add_explicit(&a->found_queue, 1, memory_order_relaxed);
		else if (seen & PGFREE_QSPIN_LOCKED)
			atomic_fetch_add_explicit(&a->found_held, 1, memory_order_relaxed);

		pgfree_qspin_lock(&a->lock);
		/* Relaxed: the lock orders these; the exchange only detects a second holder. */
		if (atomic_exchange_explicit(&a->inside, 1, memory_order_relaxed))
			atomic_fetch_add(&a->violations, 1);
		a->counter++;
		if ((i & 63) == 0)
			sched_yield();	/* a holder preempted now and then */
		atomic_store_explicit(&a->inside, 0, memory_order_relaxed);
		pgfree_qspin_unlock(&a->lock);
	}
	return NULL;
}

Test(qspin, mutual_exclusion_under_contention, .timeout = 300)
{
	struct arena *a = calloc(1, sizeof(*a));
	pthread_t tid[NR_THREADS];

	cr_assert(a != NULL);
	pgfree_qspin_init(&a->lock);
	a->rounds = test_scaled(20000, 2000);
	for (int i = 0; i < NR_THREADS; i++)
		cr_assert_eq(pthread_create(&tid[i], NULL, contender, a), 0);
	while (atomic_load(&a->ready) < NR_THREADS)
		sched_yield();
	atomic_store(&a->go, 1);
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(tid[i], NULL);

	cr_assert_eq(atomic_load(&a->violations), 0, "two holders at once %d times",
		     atomic_load(&a->violations));
	cr_assert_eq(a->counter, (unsigned long)NR_THREADS * a->rounds,
		     "lost updates under the lock: %lu of %lu", a->counter,
		     (unsigned long)NR_THREADS * a->rounds);
	cr_assert_eq(atomic_load(&a->lock.val), 0, "lock word not 0 at rest: %#llx",
		     (unsigned long long)atomic_load(&a->lock.val));
	cr_log_info("acquisitions that found it held: %lu, found waiters: %lu",
		    atomic_load(&a->found_held), atomic_load(&a->found_queue));
	free(a);
}

Test(qspin, trylock_and_reset)
{
	struct pgfree_qspin l;

	pgfree_qspin_init(&l);
	cr_assert(pgfree_qspin_trylock(&l), "a free lock was not taken");
	cr_assert_not(pgfree_qspin_trylock(&l), "a held lock was taken again");
	pgfree_qspin_unlock(&l);
	cr_assert_eq(atomic_load(&l.val), 0);
	pgfree_qspin_lock(&l);
	cr_assert_eq(atomic_load(&l.val), PGFREE_QSPIN_LOCKED);
	/* fork()'s child: a word with a stale queue becomes free and empty. */
	atomic_store(&l.val, PGFREE_QSPIN_LOCKED | PGFREE_QSPIN_PENDING |
				     (0x1234ull << PGFREE_QSPIN_TAIL_SHIFT));
	pgfree_qspin_reset(&l);
	cr_assert(pgfree_qspin_trylock(&l), "a reset lock was not free");
	pgfree_qspin_unlock(&l);
}
