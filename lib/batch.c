// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The batching policy of the drain thread: how long gather() may still
 * wait for more descriptors before the drain flushes.
 *
 * The batching delay (struct pgfree_config.batch_delay_us) trades the wait
 * of the oldest descriptor for fewer flushes.  It is measured from the
 * moment the batch opened, not from the moment the drain thread looks:
 *  - after the drain thread was woken from park, the batch opened at the
 *    wake-up: the first descriptor of an idle spell has just come, and
 *    waiting the whole delay lets the ones behind it join the same flush;
 *  - after a drain, the next batch opened at that drain's detach: anything
 *    queued since waited while the drain flushed and released.  When the
 *    flush took longer than the delay (a slow IOMMU flush that waits for
 *    walks in flight), that batch has had its delay already, and waiting
 *    again only makes every descriptor wait longer, for no fewer flushes.
 *
 * Why measuring from the opening matters more than it seems: the wait is a
 * timed sleep (pgfree_gather_sleep()), and a thread that sleeps on a busy
 * machine gives its CPU away and gets it back only when the scheduler
 * picks it again.  On a 2-CPU machine with the producer and two device
 * threads runnable (examples/iommu_sva), a 20 us sleep returned after
 * about 300 us, so under a steady stream each batch cost a flush plus
 * about 300 us of nothing, and the frames came back that much later.  The
 * old policy (a delay from the look) paid it on every batch; this one pays
 * it only when the batch has not yet had its delay.
 *
 * Nothing here affects correctness: it only decides when the drain thread
 * stops gathering; every descriptor gathered is still detached before the
 * drain's flush (drain.c, correctness argument, step 3).
 */
#include <errno.h>

#include "domain.h"

/**
 * pgfree_batch_wait_ns() - how much longer the batch may gather
 * @dom: the domain; drain thread only
 * @opened_ns: CLOCK_MONOTONIC time the batch opened (see above)
 * @now_ns: the time now
 *
 * Return: nanoseconds left of the batching delay, 0 to drain at once.
 */
uint64_t pgfree_batch_wait_ns(const struct pgfree_domain *dom, uint64_t opened_ns,
			      uint64_t now_ns)
{
	uint64_t delay = (uint64_t)dom->cfg.batch_delay_us * 1000u;
	uint64_t waited = now_ns > opened_ns ? now_ns - opened_ns : 0;

	return waited >= delay ? 0 : delay - waited;
}

/* ------------------------------------------------------------------------ */
/* The batch: one chain per list, as detached.                               */

#include <stdlib.h>

int pgfree_batch_init(struct pgfree_batch *batch, unsigned int nr_ent)
{
	batch->ent = calloc(nr_ent, sizeof(*batch->ent));
	if (!batch->ent)
		return -ENOMEM;
	batch->nr_ent = nr_ent;
	pgfree_batch_reset(batch);
	return 0;
}

void pgfree_batch_fini(struct pgfree_batch *batch)
{
	free(batch->ent);
	batch->ent = NULL;
	batch->nr_ent = 0;
}

/* Empty the batch: O(lists) when it held chains, O(1) when not. */
void pgfree_batch_reset(struct pgfree_batch *batch)
{
	if (batch->nonempty)
		for (unsigned int i = 0; i < batch->nr_ent; i++)
			batch->ent[i] = (struct pgfree_chainent){ 0 };
	batch->nonempty = 0;
	batch->count = 0;
	batch->range.start = UINTPTR_MAX;
	batch->range.end = 0;
	batch->range_all = false;
}

static void range_widen(struct pgfree_range *acc, const struct pgfree_range *r)
{
	if (r->start < acc->start)
		acc->start = r->start;
	if (r->end > acc->end)
		acc->end = r->end;
}

/*
 * Walk @chain once: count it, find its last node, and (with @dom's
 * ->range_of, while the batch's range is still known) widen the range.
 * The nodes were detached by the caller's acquire exchange (or lock), so
 * reading their ->next is ordered after the producers' writes.
 */
static uint64_t walk_chain(struct pgfree_domain *dom, struct pgfree_batch *batch,
			   struct pgfree_llist_node *chain, struct pgfree_llist_node **last)
{
	int (*range_of)(void *, const struct pgfree_llist_node *, struct pgfree_range *) =
		dom ? dom->cfg.ops.range_of : NULL;
	struct pgfree_llist_node *node = chain;
	uint64_t n = 1;

	for (;;) {
		if (range_of && !batch->range_all) {
			struct pgfree_range r;

			if (range_of(dom->cfg.ctx, node, &r) || r.end < r.start)
				batch->range_all = true;
			else
				range_widen(&batch->range, &r);
		}
		if (!node->next)
			break;
		node = node->next;
		n++;
	}
	*last = node;
	return n;
}

/**
 * pgfree_batch_add() - add a chain detached from a list to the batch
 * @dom: the domain (->range_of, and whether its drain walks)
 * @batch: the batch; the caller holds drain_lock
 * @list: the list the chain came from (0 .. nr_ent - 1)
 * @chain: as detached, newest first; NULL adds nothing
 *
 * Keeps the chain as it is: no reversal.  A walking domain (dom->walk)
 * walks it once to count it, find its last node and read its ranges; a
 * PGFREE_F_TAKE_BACK domain without ->range_of does not touch it, unless
 * the list already has a chain in the batch (a drain's second detach of
 * one list: the batching delay's polls, or a batch kept by a failed
 * flush), when the new chain is walked to its last node to go in front of
 * the old one: newest first stays true per list.
 *
 * Return: the nodes counted (0 when the chain was not walked).
 */
uint64_t pgfree_batch_add(struct pgfree_domain *dom, struct pgfree_batch *batch,
			  unsigned int list, struct pgfree_llist_node *chain)
{
	struct pgfree_chainent *e = &batch->ent[list];
	struct pgfree_llist_node *last = NULL;
	bool walk = dom->walk || e->first;
	uint64_t n = 0;

	if (!chain)
		return 0;
	if (!dom->cfg.ops.range_of)
		batch->range_all = true;
	else if (!walk)
		batch->range_all = true;	/* not reached: ->range_of makes dom->walk */
	if (walk)
		n = walk_chain(dom, batch, chain, &last);
	if (e->first) {
		last->next = e->first;	/* the new chain is the newer: in front */
		e->count += n;
	} else {
		e->last = last;
		e->count = n;
		e->walked = walk;
		batch->nonempty++;
	}
	e->first = chain;
	batch->count += n;
	return n;
}

/**
 * pgfree_batch_walk() - count an entry not walked yet and find its last node
 * @e: the entry, non-empty
 *
 * For the paths that need a count where the drain did not walk (a release
 * of a take-back domain's chain, a give-up, statistics).
 * Return: the entry's nodes.
 */
uint64_t pgfree_batch_walk(struct pgfree_chainent *e)
{
	struct pgfree_llist_node *node = e->first;
	uint64_t n = 1;

	if (e->walked)
		return e->count;
	while (node->next) {
		node = node->next;
		n++;
	}
	e->last = node;
	e->count = n;
	e->walked = true;
	return n;
}

/* Every node of the batch, walking what was not walked (statistics). */
uint64_t pgfree_batch_count_all(struct pgfree_batch *batch)
{
	uint64_t n = 0;

	if (!batch->nonempty)
		return 0;
	for (unsigned int i = 0; i < batch->nr_ent; i++)
		if (batch->ent[i].first)
			n += pgfree_batch_walk(&batch->ent[i]);
	return n;
}

/*
 * The whole batch as one NULL-terminated chain, the lists one after the
 * other, each newest first (a give-up's ->give_back()).  Writes one ->next
 * per list.  The batch must then be reset.
 */
struct pgfree_llist_node *pgfree_batch_splice_all(struct pgfree_batch *batch)
{
	struct pgfree_llist_node *first = NULL, **link = &first;

	if (!batch->nonempty)
		return NULL;
	for (unsigned int i = 0; i < batch->nr_ent; i++) {
		struct pgfree_chainent *e = &batch->ent[i];

		if (!e->first)
			continue;
		pgfree_batch_walk(e);
		*link = e->first;
		link = &e->last->next;
	}
	return first;
}
