// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The batch (struct pgfree_batch): what a drain has detached and not yet
 * handed over, one chain per list, each kept as its exchange detached it,
 * newest first: never reversed.  Owned by whoever holds drain_lock.
 *
 * Whether the drain walks a chain decides what crosses CPUs on the
 * consumer's side: a walk reads every node, on lines the producers' CPUs
 * wrote.  A domain walks (dom->walk) to count the chain for the statistics,
 * to find its last node for a splice, and to read ranges; a
 * PGFREE_F_TAKE_BACK domain without ->range_of does not (takeback.c).
 */
#include <errno.h>
#include <stdlib.h>

#include "domain.h"

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
