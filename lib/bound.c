// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The backlog mark with forward progress (struct pgfree_config.backlog_max,
 * PGFREE_F_BOUNDED): the consumer's side of the exact count and the wait
 * of pgfree_defer_wait().
 *
 * Why the bound holds: with PGFREE_F_BOUNDED each list's count is raised
 * (atomically) before a node is linked into the list and lowered only
 * after the node was released or given back (enum pgfree_mark_mode), so it
 * is never below the number of that list's nodes still held by pgfree.
 * pgfree_defer_wait() links a node only after its own add took the count
 * from below the list's share (mark_share) -- an add that found it full is
 * undone -- so the nodes it queued on one list never exceed mark_share,
 * and those of all lists never exceed nr_slots * mark_share, which is
 * backlog_max rounded up to a multiple of the number of lists.
 *
 * Why it makes progress: a waiter wakes the drain thread and then drains
 * itself, taking turns with the drain thread on drain_lock, until its list
 * is below its share; a drain takes everything queued, and every list's
 * count falls when its nodes are released.  A failing flush is retried with
 * back-off (nothing is released unflushed), whatever it returned:
 * PGFREE_FLUSH_GIVE_UP on a domain without ->give_back() is a failure like
 * any other.  With ->give_back(), a flush that gives up hands the batch
 * there, which lowers the count as a release does.
 */
#include <errno.h>
#include <sched.h>

#include "defer.h"
#include "wake.h"

/**
 * pgfree_bound_wait() - wait until @slot's list is below its share
 * @dom: a MARK_EXACT domain
 * @slot: the list the caller wants to queue on
 *
 * Wakes the drain thread (skipping its batching delay) and drains in the
 * caller, under drain_lock, until the list's count is below mark_share.
 * Context: may sleep; not from inside a callback of @dom.
 *
 * Return: 0, or -ESHUTDOWN if the domain was destroyed meanwhile (the
 * caller's bug, reported rather than waited on).
 */
int pgfree_bound_wait(struct pgfree_domain *dom, struct pgfree_slot *slot)
{
	uint64_t pause = 0;

	/* Relaxed: a statistic. */
	atomic_fetch_add_explicit(&dom->bound_waits, 1, memory_order_relaxed);
	pgfree_gather_wake(dom);

	for (;;) {
		bool kept;
		long r;

		/* Relaxed: as in pgfree_defer(). */
		if (atomic_load_explicit(&dom->state, memory_order_relaxed) != PGFREE_STATE_LIVE)
			return -ESHUTDOWN;

		pthread_mutex_lock(&dom->drain_lock);
		if (atomic_load_explicit(&slot->queued, memory_order_relaxed) < dom->mark_share) {
			pthread_mutex_unlock(&dom->drain_lock);
			return 0;
		}
		pgfree_debug_yield();
		r = __pgfree_drain(dom);
		kept = dom->carry.nonempty != 0;
		pthread_mutex_unlock(&dom->drain_lock);

		/*
		 * The flush failed and kept its batch (any error, and
		 * PGFREE_FLUSH_GIVE_UP without ->give_back): back off as the
		 * drain thread does.  A batch given back lowered the counts:
		 * look again at once.
		 */
		if (kept)
			pgfree_backoff(&pause);
		else if (r == 0)
			/* Counted nodes not linked yet (a producer between its
			 * add and its CAS): let it run. */
			sched_yield();
	}
}

int pgfree_defer_wait(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	struct pgfree_slot *slot;
	uint64_t old;
	bool may_wait;
	int err;

	if (!dom || !node)
		return -EINVAL;
	if (dom->mark_mode != PGFREE_MARK_EXACT)
		return atomic_load_explicit(&dom->state, memory_order_relaxed) ==
		       PGFREE_STATE_LIVE ? -EINVAL : -ESHUTDOWN;
	err = pgfree_defer_check(dom, node);
	if (err)
		return err;

	/* From inside our own callbacks a wait would be for ourselves. */
	may_wait = !pgfree_in_callback_of(dom);
	for (;;) {
		/* Again after each wait: the thread may have moved. */
		slot = pgfree_this_cpu_slot(dom);
		/* Relaxed: a stale value only costs a round of the loop. */
		if (may_wait &&
		    atomic_load_explicit(&slot->queued, memory_order_relaxed) >= dom->mark_share) {
			err = pgfree_bound_wait(dom, slot);
			if (err) {
				pgfree_debug_node_unqueue(node);
				return err;
			}
			continue;
		}
		old = pgfree_slot_count_exact(slot);
		if (old < dom->mark_share || !may_wait)
			break;
		/* Lost a race for the last place: take the count back, wait. */
		atomic_fetch_sub_explicit(&slot->queued, 1, memory_order_relaxed);
	}
	pgfree_slot_add(dom, slot, node, old + 1 == dom->mark_share);
	return 0;
}

