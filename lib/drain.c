// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The drain: the single consumer that detaches what producers queued, calls
 * ->flush() once for all of it, then hands it over: to ->release() (or
 * ->release_chain()), or back to its lists for take-back (takeback.c).
 * Also pgfree_drain().  Who runs drains: the drain thread (drain_thread.c),
 * pgfree_drain(), the barrier (barrier.c), destroy, pgfree_defer_wait()
 * (bound.c).
 *
 * Correctness argument
 * ====================
 *
 * Notation: D(n) is the pgfree_defer() that queued node n, and L(n) the
 * step inside it that linked n (a release CAS on a list head, or an add
 * under a lock); X(n) the step that detached n (an exchange on a list
 * head, or a splice under a lock); F a call of ->flush(); R(n) the
 * ->release() that received n.
 *
 * 1. Only a drain detaches or releases, and drains are serialized.
 *    Every path that runs __take, ->flush() or ->release() runs with
 *    dom->drain_lock held: __pgfree_drain() (called under the lock by the
 *    drain thread, pgfree_drain(), pgfree_barrier() and destroy) and the
 *    drain thread's gather(), which only runs __take into dom->carry,
 *    under the lock too.  So at any time one thread owns the
 *    consumer side (the "single writer"), and dom->carry needs no atomics.
 *
 * 2. L(n) happens-before X(n).
 *    Lock-less designs: L(n) is a release CAS on a list head that makes n
 *    reachable; X(n) is an acquire exchange on the same head that returns
 *    a chain containing n, so it reads a value at or after D's CAS
 *    in the head's modification order.  Every later modification of a head
 *    is a read-modify-write (CAS or exchange), so they all belong to the
 *    release sequence headed by D's CAS, and the exchange synchronizes with
 *    D's CAS.  Locked designs: D(n) adds n inside the spinlock and X(n)
 *    splices inside it; since n is in the spliced chain, D's unlock precedes
 *    X's lock.  PERCPU with the rseq push (no RMW on a head): the flip and
 *    membarrier() of lib/rseq.c, whose argument (R1-R5) gives this step.
 *
 * 3. X(n) happens-before the start of a flush F that returns 0, and F's
 *    return happens-before R(n).  In __pgfree_drain(), __take (which holds
 *    every X of this drain) is sequenced before ->flush(), and ->release() is
 *    called only with the nodes of dom->carry, only after ->flush() returned
 *    0, and only with the nodes that were in dom->carry when that flush was
 *    called: __take appends to dom->carry before the flush (the drain
 *    thread's gather() may also append earlier, under the same lock), and
 *    nothing is appended between the flush and the release.  If the flush fails, the
 *    nodes stay in dom->carry; the next drain (later, under the same lock)
 *    flushes again before it releases them, and that flush also begins after
 *    X(n).  With 2: L(n) -> X(n) -> F begins -> F returns 0 -> R(n).  This
 *    is the invariant: no descriptor is released or taken back before a
 *    flush that began after it was queued (L(n), inside pgfree_defer()) has
 *    returned successfully.  On a PGFREE_F_TAKE_BACK domain R(n) is the
 *    drain's publication of n's list's chain, after F returned, and the
 *    taker's acquire exchange that gets it (or the expiry's release of it)
 *    comes after that publication (lib/takeback.c, "Why the invariant
 *    holds").  Nothing orders R(n) before or after the end of D(n):
 *    what D(n) does after L(n) (its wake-up) may run after R(n), so the
 *    caller must not touch n once it called pgfree_defer() (pgfree.h).
 *
 * 4. Exactly once.  An exchange (or splice) removes a whole chain from its
 *    head atomically, so each node is detached by exactly one X.  After X
 *    the node is reachable only from dom->carry, whose chains are handed
 *    over once (to ->release(), ->release_chain(), or back to their lists
 *    for take-back, where exactly one exchange gets each: lib/takeback.c)
 *    and then emptied.  Nothing is lost: a node stays in
 *    its list until some X takes it, and the drain thread (or destroy, which
 *    drains until every list is empty and dom->carry is too) eventually
 *    takes it, provided the drain thread is woken (5).  A batch kept in
 *    dom->carry by a failed flush (any error, and PGFREE_FLUSH_GIVE_UP
 *    without ->give_back) is not lost either, whichever drain failed: that
 *    drain sets dom->kept under drain_lock (__keep()) and wakes the drain
 *    thread (5); the drain thread counts kept as work, so it does not park
 *    while kept is set, and retries the batch after each back-off pause
 *    until a flush succeeds (or gives it back), which clears kept.  Without
 *    a drain thread, barriers, destroy and pgfree_defer_wait() loop with
 *    the same back-off until the batch is gone; pgfree_drain() returns the
 *    error and the caller drains again.  So every kept batch is eventually
 *    released or given back, provided ->flush() eventually succeeds or
 *    gives up with a ->give_back (model/pgfree.pml checks this liveness,
 *    with a mutant of the old drain thread that ignored carry).
 *
 * 5. No lost wake-up.  The drain thread sleeps only in pgfree_park(), after
 *    storing parked = 1, a seq_cst fence, and finding every list empty (and
 *    no request).  A producer whose add found its list empty (the
 *    empty-to-non-empty transition; for V5/V3, the pending bit going 0 to 1)
 *    issues a seq_cst fence and then reads parked.  The two fences are
 *    totally ordered (the Dekker argument in wake.h): either the drain
 *    thread sees the node and does not sleep, or the producer sees parked
 *    and wakes it; the futex re-checks the word, so a wake between the check
 *    and the sleep is not lost either.  A producer whose add found the list
 *    non-empty does not wake anyone: the node that made the list non-empty
 *    came from a producer that did the check, and the list stays non-empty
 *    until a drain detaches it, after which the drain thread re-checks every
 *    list before it parks.  Requests (barrier's kick, destroy's stop) and a
 *    kept batch (dom->kept) use the same pairing: store the request or kept,
 *    fence, read parked; pgfree_park() reads kick, stop and kept after its
 *    fence.
 *
 * 6. Barrier: barrier.c.
 */
#include <errno.h>
#include <stdint.h>
#include <time.h>

#include "domain.h"
#include "wake.h"

/**
 * __mark_settle() - lower the bound's exact counts by what was released
 * (the consumer's side of bound.c's count)
 * @dom: the domain; the caller holds drain_lock, and dom->carry is empty
 *	(its nodes were released or given back)
 */
static void __mark_settle(struct pgfree_domain *dom)
{
	if (dom->mark_mode != PGFREE_MARK_EXACT)
		return;
	for (unsigned int i = 0; i < dom->nr_slots; i++) {
		if (!dom->taken[i])
			continue;
		/*
		 * Relaxed: a waiter reads the count only to decide whether to
		 * queue; nothing is published through it.  Waiters that sleep
		 * re-read it under drain_lock, after this drain.
		 */
		atomic_fetch_sub_explicit(&dom->slots[i].queued, dom->taken[i],
					  memory_order_relaxed);
		dom->taken[i] = 0;
	}
}

/* Wake barrier waiters: a drain ended with nothing kept. */
static void __drain_completed(struct pgfree_domain *dom, uint64_t gen, bool gave_up)
{
	__mark_settle(dom);
	pthread_mutex_lock(&dom->gen_lock);
	dom->gen_done = gen;
	dom->giveups += gave_up;
	pthread_cond_broadcast(&dom->drain_done);
	pthread_mutex_unlock(&dom->gen_lock);
}

/*
 * ->flush() gave up: hand the whole batch back, unflushed, to
 * ->give_back().  Nothing is released, so the invariant is untouched; the
 * batch is no longer pgfree's, so the drain is complete.
 */
static uint64_t __give_back(struct pgfree_domain *dom)
{
	uint64_t n = pgfree_batch_count_all(&dom->carry);
	struct pgfree_llist_node *batch = pgfree_batch_splice_all(&dom->carry);

	pgfree_batch_reset(&dom->carry);
	/* Relaxed: see __keep(). */
	atomic_store_explicit(&dom->kept, false, memory_order_relaxed);
	pgfree_debug_chain_unqueue(batch);
	dom->cfg.ops.give_back(dom->cfg.ctx, batch);
	dom->given_back += n;
	return n;
}

/*
 * ->flush() failed (any error, PGFREE_FLUSH_GIVE_UP without ->give_back()
 * included): the batch stays in dom->carry.  Whichever drain failed (the
 * drain thread, pgfree_drain(), a barrier, destroy, pgfree_defer_wait()),
 * the kept batch is now work for the drain thread, which retries it with
 * back-off (correctness argument, steps 4 and 5): the same Dekker pair as
 * a producer's, with kept for the work.  Without a drain thread the caller
 * retries (pgfree_drain() again; barrier, destroy and pgfree_defer_wait()
 * loop with back-off).
 */
static void __keep(struct pgfree_domain *dom)
{
	/*
	 * Relaxed: pgfree_wake_if_parked() fences it before reading parked,
	 * and the drain thread fences before it reads it (pgfree_park()); the
	 * batch itself is read under drain_lock.
	 */
	atomic_store_explicit(&dom->kept, true, memory_order_relaxed);
	if (dom->has_thread)
		pgfree_wake_if_parked(dom);
}

/* What a drain handed over (__hand_over()). */
struct handover {
	uint64_t released;	/* to ->release() or ->release_chain(), counted */
	uint64_t handed_back;	/* to take-back: counted nodes, or 1 per list */
};

/*
 * Hand a flushed batch over (correctness argument, step 3: only after its
 * flush returned 0), list by list, as dom->dops->__release() runs it (V3
 * under its lock): a PGFREE_F_TAKE_BACK domain gives each list's chain
 * back to that list, untouched (takeback.c); everything else goes to
 * ->release_chain(), a list at a time, or to ->release(), the lists'
 * chains spliced into one (one ->next written per list).  Then releases
 * what waited too long for take-back.
 */
static void __hand_over(struct pgfree_domain *dom, void *arg)
{
	struct handover *h = arg;
	struct pgfree_batch *carry = &dom->carry;
	struct pgfree_llist_node *first = NULL, **link = &first;
	uint64_t now = dom->take_back ? pgfree_now_ns() : 0;

	for (unsigned int i = 0; i < carry->nr_ent; i++) {
		struct pgfree_chainent *e = &carry->ent[i];

		if (!e->first)
			continue;
		if (dom->take_back && i < dom->nr_slots) {
			h->handed_back += e->walked ? e->count : 1;
			__pgfree_tb_publish(dom, i, e->first, now);
			continue;
		}
		h->released += pgfree_batch_walk(e);
		if (dom->cfg.ops.release_chain) {
			__pgfree_release_chain(dom, i, e);
			continue;
		}
		/* Before ->release(), which may defer the same nodes again. */
		pgfree_debug_chain_unqueue(e->first);
		*link = e->first;
		link = &e->last->next;
	}
	if (first)
		dom->cfg.ops.release(dom->cfg.ctx, first);
	if (dom->tb_outstanding)
		__pgfree_tb_expire(dom, now ? now : pgfree_now_ns(), false);
}

/**
 * __pgfree_drain() - one drain: detach all, flush once, hand over
 * @dom: the domain; the caller holds drain_lock
 *
 * Return: descriptors released (0 if none was queued; on a
 * PGFREE_F_TAKE_BACK domain, plus those handed back for take-back, a list
 * whose chain was not counted counting 1), or the negative error of
 * ->flush(): PGFREE_FLUSH_GIVE_UP with dom->carry given back (a domain with
 * ->give_back), or else with the batch kept in dom->carry.
 */
long __pgfree_drain(struct pgfree_domain *dom)
{
	struct pgfree_batch *carry = &dom->carry;
	struct handover h = { 0, 0 };
	struct pgfree_cb_frame frame;
	struct pgfree_range range;
	uint64_t gen, n;
	int err;

	pthread_mutex_lock(&dom->gen_lock);
	gen = ++dom->gen_started;
	pthread_mutex_unlock(&dom->gen_lock);

	if (!carry->nonempty)
		pgfree_batch_reset(carry);

	/* The callbacks (->range_of() to ->release()) all run inside the frame. */
	pgfree_cb_enter(&frame, dom);

	dom->dops->__take(dom, carry);
	if (!carry->nonempty) {
		/* Nothing new, but chains may have waited too long for take-back. */
		if (dom->tb_outstanding)
			dom->dops->__release(dom, __hand_over, &h);
		dom->released += h.released;
		pgfree_cb_exit(&frame);
		__drain_completed(dom, gen, false);
		return 0;
	}

	if (carry->range_all) {
		range.start = 0;
		range.end = PGFREE_FLUSH_ALL;
	} else {
		range = carry->range;
	}

	/* Correctness argument, step 3: every X of this batch precedes this call. */
	pgfree_debug_yield();
	err = dom->cfg.ops.flush(dom->cfg.ctx, &range);
	pgfree_debug_yield();
	if (err) {
		dom->flush_failures++;
		if (err == PGFREE_FLUSH_GIVE_UP && dom->cfg.ops.give_back) {
			__give_back(dom);
			pgfree_cb_exit(&frame);
			__drain_completed(dom, gen, true);
			return PGFREE_FLUSH_GIVE_UP;
		}
		pgfree_cb_exit(&frame);
		__keep(dom);
		/* A callback that broke the contract with a positive value still failed. */
		return err < 0 ? err : -EIO;
	}
	dom->flushes++;
	/* Relaxed: see __keep(). */
	atomic_store_explicit(&dom->kept, false, memory_order_relaxed);

	dom->dops->__release(dom, __hand_over, &h);
	pgfree_batch_reset(carry);
	pgfree_cb_exit(&frame);
	pgfree_debug_yield();

	n = h.released + h.handed_back;
	dom->released += h.released;
	dom->drains++;
	if (n > dom->largest_batch)
		dom->largest_batch = n;
	__drain_completed(dom, gen, false);
	return (long)n;
}

/**
 * pgfree_drain_until_empty() - drain until nothing is queued or kept
 * @dom: the domain; drain_lock not held
 *
 * Retries a failing flush with back-off.  Used by destroy, after the drain
 * thread has exited (a ->release() may queue more, hence the loop).
 *
 * Return: 0.
 */
int pgfree_drain_until_empty(struct pgfree_domain *dom)
{
	uint64_t pause = 0;

	for (;;) {
		bool idle, kept;

		pthread_mutex_lock(&dom->drain_lock);
		__pgfree_drain(dom);
		kept = dom->carry.nonempty != 0;
		idle = !kept && !dom->dops->has_work(dom);
		pthread_mutex_unlock(&dom->drain_lock);

		if (idle)
			return 0;
		if (kept)
			pgfree_backoff(&pause);
		else
			pause = 0;
	}
}

long pgfree_drain(struct pgfree_domain *dom)
{
	long r = pgfree_check_consumer_call(dom);

	if (r)
		return r;

	/* A batch kept by a failed flush: __keep() woke the drain thread to retry it. */
	pthread_mutex_lock(&dom->drain_lock);
	r = __pgfree_drain(dom);
	pthread_mutex_unlock(&dom->drain_lock);
	return r;
}

