/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LIB_DEFER_H
#define PGFREE_LIB_DEFER_H
/*
 * The producer's side of a lock-less list, shared by the calls that queue
 * (defer.c, bound.c) and the one that takes back (takeback.c).  Private.
 * Any thread; lock-free.
 */
#include <errno.h>

#include "cpu.h"
#include "domain.h"
#include "wake.h"

/*
 * The list pgfree_defer() on this CPU queues to (and pgfree_take_back()
 * takes from): the CPU's number, modulo the lists.  A hint: the thread may
 * move meanwhile, which costs a shared line, never correctness (cpu.h).
 */
static inline struct pgfree_slot *pgfree_this_cpu_slot(struct pgfree_domain *dom)
{
	unsigned int cpu = pgfree_this_cpu(), n = dom->nr_slots;

	/* The division only when CPU numbers exceed the slots configured. */
	return &dom->slots[pgfree_likely(cpu < n) ? cpu : cpu % n];
}

/*
 * Link @node into @slot's list and wake the drain thread on the list's
 * empty-to-non-empty transition.  MARK_EXACT callers have counted the node
 * already (enum pgfree_mark_mode says why before), and say with @reached
 * whether their count took the list to its share: the drain is kicked only
 * now, once the node is linked, or the drain it starts could miss it and
 * leave it to the next batching delay.
 */
static inline void pgfree_slot_added(struct pgfree_domain *dom, struct pgfree_slot *slot,
			      bool was_empty, bool reached)
{
	pgfree_debug_yield();
	if (pgfree_unlikely(dom->mark_mode == PGFREE_MARK_HINT)) {
		/*
		 * Relaxed load and store, not an add: see enum
		 * pgfree_mark_mode for why an occasional lost count is fine.
		 */
		uint64_t q = atomic_load_explicit(&slot->queued, memory_order_relaxed) + 1;

		atomic_store_explicit(&slot->queued, q, memory_order_relaxed);
		reached = q == dom->mark_share;
	}
	if (pgfree_unlikely(reached))
		pgfree_gather_wake(dom);	/* its fence serves the check below too */
	else if (was_empty)
		pgfree_wake_if_parked(dom);
}

static inline void pgfree_slot_add(struct pgfree_domain *dom, struct pgfree_slot *slot,
			    struct pgfree_llist_node *node, bool reached)
{
	/* Release CAS: the node's contents travel with it (llist.h). */
	pgfree_slot_added(dom, slot, pgfree_llist_add(node, &slot->head), reached);
}

/*
 * MARK_EXACT: count the node on its list before linking it.  Relaxed: the
 * release CAS that links the node comes after it, and the consumer's
 * subtraction comes after its acquire exchange took the node, so the add
 * happens-before the subtraction and the count never undercounts.
 * Return: the count before the add.
 */
static inline uint64_t pgfree_slot_count_exact(struct pgfree_slot *slot)
{
	return atomic_fetch_add_explicit(&slot->queued, 1, memory_order_relaxed);
}

/* The checks every defer starts with. */
static inline int pgfree_defer_check(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	if (pgfree_unlikely(!dom || !node))
		return -EINVAL;
	/*
	 * Relaxed: a call made after destroy returned happens-after destroy's
	 * store of DEAD, so coherence alone makes this load see it.  A call
	 * racing with destroy is the caller's bug (see pgfree.h).
	 */
	if (pgfree_unlikely(atomic_load_explicit(&dom->state, memory_order_relaxed) !=
			    PGFREE_STATE_LIVE))
		return -ESHUTDOWN;
	/* PGFREE_DEBUG builds: the node must not be queued already. */
	if (pgfree_unlikely(pgfree_debug_node_queue(node)))
		return -EEXIST;
	return 0;
}

#endif /* PGFREE_LIB_DEFER_H */
