// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree_barrier(): wait until everything deferred before the call has been
 * released (or handed back for take-back, or given back).  Step 6 of the
 * correctness argument in drain.c:
 *
 * pgfree_barrier() reads gen_started under gen_lock and waits
 * for gen_done >= gen_started + 1, i.e. for a drain that began after the
 * barrier's critical section and ended with dom->carry flushed and
 * released.  Every D(n) that returned before the barrier was called
 * happens-before that critical section, hence before that drain's X
 * steps, so n was detached by that drain or an earlier one; either way it
 * was in dom->carry and was released (or handed back for take-back) by
 * the time gen_done was set (under gen_lock, which the barrier re-reads
 * under gen_lock).  A drain
 * increments gen_started under gen_lock before its first detach, so the
 * drain numbered target begins its X steps after the barrier read.
 * A batch given up counts as done (it left pgfree, to ->give_back()).
 */
#include <errno.h>
#include <time.h>

#include "domain.h"
#include "wake.h"

/*
 * Take drain_lock, giving up at @deadline (CLOCK_MONOTONIC): another
 * thread's drain may hang in ->flush() while holding it.  A trylock poll
 * rather than pthread_mutex_clocklock(), which ThreadSanitizer does not
 * intercept (it then reports the unlock as one of an unlocked mutex); this
 * path is only taken by timed barriers of thread-less domains.
 * Return: 0 with the lock held, or -ETIMEDOUT.
 */
static int drain_lock_until(struct pgfree_domain *dom, uint64_t deadline)
{
	while (pthread_mutex_trylock(&dom->drain_lock)) {
		uint64_t now = pgfree_now_ns();

		if (now >= deadline)
			return -ETIMEDOUT;
		pgfree_sleep_ns(deadline - now < 100000u ? deadline - now : 100000u);
	}
	return 0;
}

/**
 * pgfree_wait_drained() - the barrier: wait until everything deferred
 * before the call is released or given back
 * @dom: the domain, checked by the caller
 * @deadline_ns: CLOCK_MONOTONIC time to give up at; 0 for none
 *
 * Return: 0; -ECANCELED if a batch was given back meanwhile; -ETIMEDOUT.
 */
int pgfree_wait_drained(struct pgfree_domain *dom, uint64_t deadline_ns)
{
	struct timespec ts = pgfree_timespec(deadline_ns);
	uint64_t target, giveups, pause = 0;
	int r = 0;

	if (!dom->has_thread) {
		/* One successful drain that began now covers everything before. */
		for (;;) {
			long n;

			/* Another thread's drain may hang in ->flush(): bounded wait. */
			if (!deadline_ns)
				pthread_mutex_lock(&dom->drain_lock);
			else if (drain_lock_until(dom, deadline_ns))
				return -ETIMEDOUT;
			/* giveups changes only under drain_lock, which we hold. */
			giveups = dom->giveups;
			n = __pgfree_drain(dom);
			if (dom->giveups != giveups)
				r = -ECANCELED;
			pthread_mutex_unlock(&dom->drain_lock);
			if (n >= 0 || r)
				return r;
			if (pgfree_backoff_until(&pause, deadline_ns))
				return -ETIMEDOUT;
		}
	}

	pthread_mutex_lock(&dom->gen_lock);
	target = dom->gen_started + 1;
	giveups = dom->giveups;
	/*
	 * Relaxed store: pgfree_wake_requests() fences it before reading
	 * parked and gathering, and the drain thread fences before reading it
	 * (wake.h): the barrier cuts a batching delay short too.
	 */
	atomic_store_explicit(&dom->kick, true, memory_order_relaxed);
	pgfree_debug_yield();
	pgfree_wake_requests(dom);
	while (dom->gen_done < target) {
		if (!deadline_ns) {
			pthread_cond_wait(&dom->drain_done, &dom->gen_lock);
			continue;
		}
		/* drain_done runs on CLOCK_MONOTONIC (time.c). */
		if (pthread_cond_timedwait(&dom->drain_done, &dom->gen_lock, &ts) == ETIMEDOUT &&
		    dom->gen_done < target) {
			r = -ETIMEDOUT;
			break;
		}
	}
	if (!r && dom->giveups != giveups)
		r = -ECANCELED;
	pthread_mutex_unlock(&dom->gen_lock);
	return r;
}

int pgfree_barrier(struct pgfree_domain *dom)
{
	int r = pgfree_check_consumer_call(dom);

	return r ? r : pgfree_wait_drained(dom, 0);
}

int pgfree_barrier_timeout(struct pgfree_domain *dom, uint64_t timeout_ns)
{
	int r = pgfree_check_consumer_call(dom);

	return r ? r : pgfree_wait_drained(dom, pgfree_deadline_ns(timeout_ns));
}

