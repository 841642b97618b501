// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The lock-less designs: PERCPU (one llist per CPU, the default) and
 * GLOBAL_LLIST (the same code with a single list, to separate the cost of
 * a lock from the cost of one shared cache line).
 *
 * Producers: pgfree_defer() adds to the current CPU's list with one release
 * CAS (or, on an rseq domain, a restartable sequence: rseq.c) and wakes the drain thread only on the list's empty-to-non-empty
 * transition (defer.c, wake.h).  Consumer: one acquire exchange per
 * non-empty list.
 */
#include <errno.h>
#include <stdlib.h>

#include "domain.h"
#include "rseq.h"

static int slots_init(struct pgfree_domain *dom, unsigned int n)
{
	struct pgfree_slot *slots = aligned_alloc(PGFREE_CACHELINE, n * sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (unsigned int i = 0; i < n; i++) {
		pgfree_init_llist_head(&slots[i].head);
		atomic_init(&slots[i].queued, 0);
		atomic_init(&slots[i].taken_back, 0);
		pgfree_init_llist_head(&slots[i].alt);
		atomic_init(&slots[i].active, &slots[i].head);
	}
	dom->slots = slots;
	dom->nr_slots = n;
	dom->lockless = true;
	return 0;
}

/* GLOBAL_LLIST is PERCPU with a single list, whatever nr_slots says. */
static int lockless_init(struct pgfree_domain *dom)
{
	return slots_init(dom, dom->cfg.design == PGFREE_DESIGN_GLOBAL_LLIST ? 1 : dom->cfg.nr_slots);
}

static void slots_fini(struct pgfree_domain *dom)
{
	free(dom->slots);
	dom->slots = NULL;
}

static void __slots_take(struct pgfree_domain *dom, struct pgfree_batch *batch)
{
	if (dom->rseq) {
		__pgfree_rseq_take(dom, batch);		/* flip, membarrier, take */
		return;
	}
	for (unsigned int i = 0; i < dom->nr_slots; i++) {
		struct pgfree_llist_head *head = &dom->slots[i].head;

		uint64_t n;

		/* Skip empty lists: an exchange would pull their lines from the producers. */
		if (pgfree_llist_empty(head))
			continue;
		n = pgfree_batch_add(dom, batch, i, pgfree_llist_del_all(head));
		if (dom->mark_mode == PGFREE_MARK_EXACT)
			dom->taken[i] += n;	/* subtracted once released (bound.c) */
		else if (dom->mark_mode == PGFREE_MARK_HINT)
			/* Relaxed: a hint; a racing producer's store may win. */
			atomic_store_explicit(&dom->slots[i].queued, 0, memory_order_relaxed);
	}
}

/*
 * Both heads: an rseq drain may be between its flip and its take (rseq.c);
 * and an rseq domain's spill list.
 */
static bool slots_have_work(struct pgfree_domain *dom)
{
	if (!pgfree_llist_empty(&dom->rseq_spill))
		return true;
	for (unsigned int i = 0; i < dom->nr_slots; i++)
		if (!pgfree_llist_empty(&dom->slots[i].head) ||
		    !pgfree_llist_empty(&dom->slots[i].alt))
			return true;
	return false;
}

/*
 * Walking a list that producers are adding to is safe for the consumer:
 * only a drain detaches nodes and the caller holds drain_lock, the nodes
 * below the head never change, and the acquire load of the head makes
 * their ->next fields visible (every head update is an RMW in the release
 * sequence of the producers' CASes).
 */
static uint64_t __slots_count(struct pgfree_domain *dom, uint64_t limit)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < dom->nr_slots * 2 && n < limit; i++) {
		struct pgfree_slot *slot = &dom->slots[i / 2];
		/* rseq domains: the inactive head is empty under drain_lock (rseq.c R1). */
		const struct pgfree_llist_node *node = atomic_load_explicit(
			i % 2 ? &slot->alt.first : &slot->head.first, memory_order_acquire);

		for (; node && n < limit; node = node->next)
			n++;
	}
	for (const struct pgfree_llist_node *node =
		     atomic_load_explicit(&dom->rseq_spill.first, memory_order_acquire);
	     node && n < limit; node = node->next)
		n++;
	return n;
}

static void __release_unlocked(struct pgfree_domain *dom,
			       void (*fn)(struct pgfree_domain *dom, void *arg), void *arg)
{
	fn(dom, arg);
}

const struct pgfree_design_ops pgfree_lockless_ops = {
	.init = lockless_init,
	.fini = slots_fini,
	.defer = pgfree_lockless_defer,
	.__take = __slots_take,
	.has_work = slots_have_work,
	.__count = __slots_count,
	.__release = __release_unlocked,
};
