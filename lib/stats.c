// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree_stats(): the counters, read between two drains.  The consumer
 * counts (under drain_lock) what it released, flushed and handed back; the
 * backlog is counted by walking the lists; takers count what they took back
 * on their own list's line; pgfree_defer() counts nothing.
 */
#include "domain.h"

int pgfree_stats(struct pgfree_domain *dom, struct pgfree_stats *out)
{
	uint64_t backlog;
	int err = pgfree_check_consumer_call(dom);

	if (err)
		return err;
	if (!out)
		return -EINVAL;

	pthread_mutex_lock(&dom->drain_lock);
	backlog = pgfree_batch_count_all(&dom->carry) + dom->dops->__count(dom, UINT64_MAX);
	out->taken_back = 0;
	if (dom->take_back)
		for (unsigned int i = 0; i < dom->nr_slots; i++)
			/* Relaxed: statistics. */
			out->taken_back += atomic_load_explicit(&dom->slots[i].taken_back,
								memory_order_relaxed);
	out->take_back_expired = dom->take_back_expired;
	out->released = dom->released;
	out->given_back = dom->given_back;
	out->deferred = dom->released + dom->given_back + out->taken_back + backlog;
	out->drain_thread = dom->has_thread;
	out->flushes = dom->flushes;
	out->flush_failures = dom->flush_failures;
	out->drains = dom->drains;
	out->largest_batch = dom->largest_batch;
	out->backlog = backlog;
	out->rseq_fences = dom->rseq_fences;
	pthread_mutex_unlock(&dom->drain_lock);
	/* Relaxed: statistics; no other access is ordered by them. */
	out->wakeups = atomic_load_explicit(&dom->wakeups, memory_order_relaxed);
	out->bound_waits = atomic_load_explicit(&dom->bound_waits, memory_order_relaxed);
	out->rseq = dom->rseq;
	out->rseq_aborts = atomic_load_explicit(&dom->rseq_aborts, memory_order_relaxed);
	return 0;
}

