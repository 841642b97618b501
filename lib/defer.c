// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree_defer(): the producers' hot path, the step L(n) of the correctness
 * argument (drain.c) and the waking half of the no-lost-wake-up pairing.
 *
 * The protocol
 * ============
 *
 *  1. Check (pgfree_defer_check()): the domain is live; in PGFREE_DEBUG
 *     builds, the node is not queued already.
 *  2. Link: one release CAS that adds the node to this CPU's list
 *     (pgfree_llist_add(); on an rseq domain, a restartable sequence:
 *     rseq.c; on V5/V3, an add under their lock: design_locked.c).  This
 *     is L(n): from here on the drain may detach, flush and release the
 *     node, possibly before this call returns, which is why the caller must
 *     not touch the node again (pgfree.h).  The release orders everything
 *     the caller wrote before the call (the unlinking of the table) before
 *     the drain's acquire exchange (drain.c, step 2).
 *  3. Count (only with a backlog mark): a relaxed load and store of the
 *     list's count, on the line the CAS just made this CPU's (a hint:
 *     enum pgfree_mark_mode); with PGFREE_F_BOUNDED an atomic add before
 *     the link instead (bound.c).
 *  4. Wake: only when the CAS found the list empty, a seq_cst fence and a
 *     load of the drain thread's sleeping flag, and a futex wake if it
 *     sleeps (wake.h; drain.c, step 5: a producer that found the list
 *     non-empty rides on the one that made it so).  A list that reached its
 *     share of the mark kicks the drain out of its batching delay instead.
 *
 * Calls go one way: into the designs' push (design_*.c, rseq.c) and the
 * wake-up (wake.c); nothing of the consumer's side is called from here.
 */
#include <errno.h>

#include "defer.h"
#include "rseq.h"

#ifdef PGFREE_RSEQ_ASM
/* The rest of an rseq push, out of line: the fast path then saves no register. */
static __attribute__((noinline)) void rseq_added_slow(struct pgfree_domain *dom,
						      struct pgfree_slot *slot, bool was_empty)
{
	if (pgfree_unlikely(!slot)) {
		/* The spill list (an unregistered thread): no mark counts it. */
		if (was_empty)
			pgfree_wake_if_parked(dom);
		return;
	}
	pgfree_slot_added(dom, slot, was_empty, false);
}
#endif

/* Deferring into a lock-less list (PERCPU, GLOBAL_LLIST); inlined below. */
int pgfree_lockless_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	struct pgfree_slot *slot;
	bool reached = false;

	/* rseq domains never come here: pgfree_defer() pushes for them first. */
	slot = pgfree_this_cpu_slot(dom);

	if (pgfree_unlikely(dom->mark_mode == PGFREE_MARK_EXACT))
		reached = pgfree_slot_count_exact(slot) + 1 == dom->mark_share;
	pgfree_slot_add(dom, slot, node, reached);
	return 0;
}

int pgfree_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	int err = pgfree_defer_check(dom, node);

	if (pgfree_unlikely(err))
		return err;
#ifdef PGFREE_RSEQ_ASM
	/* PERCPU with the rseq push (rseq.c): no locked instruction, no call. */
	if (pgfree_likely(dom->rseq)) {
		bool was_empty;
		struct pgfree_slot *slot = pgfree_rseq_push(dom, node, &was_empty);

		if (pgfree_unlikely(was_empty || !slot || dom->mark_mode != PGFREE_MARK_NONE))
			rseq_added_slow(dom, slot, was_empty);
		return 0;
	}
#endif
	/* The lock-less designs are called directly: no indirect call on the hot path. */
	if (pgfree_likely(dom->lockless))
		return pgfree_lockless_defer(dom, node);
	return dom->dops->defer(dom, node);
}

