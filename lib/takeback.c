// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Take-back (PGFREE_F_TAKE_BACK): flushed descriptors go back to the list
 * they were deferred to, and the CPU that deferred them takes them back,
 * so that between pgfree_defer() and reuse no other CPU touches a
 * descriptor: the per-CPU page-list (or magazine) pattern, with the flush
 * in between.
 *
 * The protocol
 * ============
 *
 * Each list i has, besides its head, a line of PGFREE_TAKE_BACK_CHAINS
 * places (struct pgfree_tb_list), each NULL or a flushed chain.
 *
 *  P (publish, a drain, under drain_lock): after the flush of a batch
 *     returned 0, the batch's chain of list i, as detached (newest first,
 *     never walked), is stored with a release store into a place of list i
 *     that is NULL.  The drain knows which places may hold a chain
 *     (dom->tb_since, when it stored there); a place it stored to may have
 *     been emptied by a taker since, which a load shows.  If every place
 *     holds a chain, the drain first empties the oldest with an exchange
 *     and releases what it got (E below).
 *  T (take back, any thread, pgfree_take_back() or pgfree_take_back_each()):
 *     for each place of the list of the CPU it runs on, a relaxed load, and
 *     if not NULL an acquire exchange with NULL; what it gets is the
 *     caller's.  pgfree_take_back() walks it, on its own CPU, to count it
 *     and to link the chains into one; pgfree_take_back_each() walks it
 *     once, handing each node to the caller's function as it goes (the
 *     node's ->next read before the function may reuse the node).
 *  E (expire, a drain, under drain_lock): a place that has held its chain
 *     for take_back_us, or any place when the domain is destroyed, is
 *     emptied with an exchange, and what it got (if anything: a taker may
 *     have been first) goes to ->release() or ->release_chain(), counted.
 *
 * Why the invariant holds: a chain is stored by P only after the flush that
 * covers every node of it returned 0 (drain.c, step 3: P runs in the
 * drain's hand-over, after the flush, with the chains of dom->carry); T's
 * acquire exchange reads P's release store (or a later value of the place:
 * only exchanges to NULL follow it), so that flush's return and everything
 * before it happen-before the taker's use.  So a descriptor is released or
 * taken back only after a flush that began after it was queued returned 0.
 *
 * Why exactly once: only P stores a non-NULL value, and only into a NULL
 * place (the drain is the only one that makes a place non-NULL, so a place
 * it saw NULL stays NULL until it stores); T and E take a chain with an
 * exchange, so of all the exchanges after P's store exactly one gets the
 * chain, and later ones get NULL.  A chain is therefore taken back once or
 * released once, never both and never lost: destroy expires every place
 * after its last drain.
 *
 * What moves between CPUs: the drain's detach (one exchange on the list's
 * head line) and P (one store to the list's take-back line); T's load and
 * exchange bring that line back.  No descriptor's line: the drain never
 * reads a node of a chain it publishes (without ->range_of, dom->walk is
 * false), and the taker walks nodes its own CPU wrote in pgfree_defer().
 * E walks a chain to count it: those descriptors go to ->release() on the
 * drain's CPU, which would read them anyway.
 *
 * The bound: a flushed descriptor waits for take-back at most take_back_us
 * (the drain thread parks with a timeout while chains wait, and a
 * caller-driven domain expires them in its next pgfree_drain()), and a
 * list holds at most PGFREE_TAKE_BACK_CHAINS chains (P expires the oldest
 * when all places are full), so pgfree never holds flushed memory for
 * long.  Barrier: a drain that published counts as done (pgfree.h).
 * Fork: a child keeps its copies of the published chains; its new drain
 * thread expires them if nobody in the child takes them back.
 */
#include <errno.h>
#include <stdlib.h>

#include "defer.h"

int pgfree_tb_init(struct pgfree_domain *dom)
{
	if (!dom->take_back)
		return 0;
	dom->tb = aligned_alloc(PGFREE_CACHELINE, dom->nr_slots * sizeof(*dom->tb));
	dom->tb_since = calloc((size_t)dom->nr_slots * PGFREE_TAKE_BACK_CHAINS,
			       sizeof(*dom->tb_since));
	if (!dom->tb || !dom->tb_since) {
		pgfree_tb_fini(dom);
		return -ENOMEM;
	}
	for (unsigned int i = 0; i < dom->nr_slots; i++)
		for (unsigned int k = 0; k < PGFREE_TAKE_BACK_CHAINS; k++)
			atomic_init(&dom->tb[i].chain[k], NULL);
	dom->tb_outstanding = 0;
	return 0;
}

void pgfree_tb_fini(struct pgfree_domain *dom)
{
	free(dom->tb);
	free(dom->tb_since);
	dom->tb = NULL;
	dom->tb_since = NULL;
}

/**
 * __pgfree_release_chain() - hand one list's flushed chain to the user
 * @dom: the domain; the caller holds drain_lock, inside a callback frame
 * @list: the list it came from
 * @e: the chain, walked (pgfree_batch_walk())
 *
 * ->release_chain() when there is one, else ->release().
 */
void __pgfree_release_chain(struct pgfree_domain *dom, unsigned int list,
			    struct pgfree_chainent *e)
{
	/* Before the callback, which may defer the same nodes again. */
	pgfree_debug_chain_unqueue(e->first);
	if (dom->cfg.ops.release_chain) {
		struct pgfree_chain c = {
			.first = e->first, .last = e->last, .count = e->count, .list = list,
		};

		dom->cfg.ops.release_chain(dom->cfg.ctx, &c);
	} else {
		dom->cfg.ops.release(dom->cfg.ctx, e->first);
	}
}

/* E for one place: empty it and release what it held, if anything. */
static void __expire_place(struct pgfree_domain *dom, unsigned int list, unsigned int k)
{
	uint64_t *since = &dom->tb_since[(size_t)list * PGFREE_TAKE_BACK_CHAINS + k];
	/*
	 * Relaxed: this drain stored the chain (P) and detached its nodes
	 * with an acquire exchange before: its reads of them are ordered
	 * already.  The exchange only decides between it and a taker.
	 */
	struct pgfree_llist_node *chain =
		atomic_exchange_explicit(&dom->tb[list].chain[k], NULL, memory_order_relaxed);

	*since = 0;
	dom->tb_outstanding--;
	if (chain) {
		struct pgfree_chainent e = { .first = chain };
		uint64_t n = pgfree_batch_walk(&e);

		__pgfree_release_chain(dom, list, &e);
		dom->released += n;
		dom->take_back_expired += n;
	}
}

/**
 * __pgfree_tb_publish() - P: hand a list's flushed chain back to the list
 * @dom: a take-back domain; the caller holds drain_lock, inside the
 *	drain's hand-over (after the flush returned 0)
 * @list: the list
 * @chain: its chain in the flushed batch, as detached
 * @now_ns: CLOCK_MONOTONIC now
 */
void __pgfree_tb_publish(struct pgfree_domain *dom, unsigned int list,
			 struct pgfree_llist_node *chain, uint64_t now_ns)
{
	uint64_t *since = &dom->tb_since[(size_t)list * PGFREE_TAKE_BACK_CHAINS];
	struct pgfree_tb_list *tb = &dom->tb[list];
	unsigned int k, oldest = 0;

	for (k = 0; k < PGFREE_TAKE_BACK_CHAINS; k++) {
		if (!since[k])
			break;		/* never stored since found empty: NULL */
		/* Relaxed: a NULL here was stored by a taker's exchange; nothing to order. */
		if (!atomic_load_explicit(&tb->chain[k], memory_order_relaxed)) {
			since[k] = 0;
			dom->tb_outstanding--;
			break;
		}
		if (since[k] < since[oldest])
			oldest = k;
	}
	if (k == PGFREE_TAKE_BACK_CHAINS) {
		/* Every place holds a chain nobody took: release the oldest. */
		__expire_place(dom, list, oldest);
		k = oldest;
	}
	/* Release: pairs with the taker's acquire exchange (the argument above). */
	atomic_store_explicit(&tb->chain[k], chain, memory_order_release);
	since[k] = now_ns ? now_ns : 1;	/* 0 means "empty" */
	dom->tb_outstanding++;
}

/**
 * __pgfree_tb_expire() - E: release the chains that waited too long
 * @dom: a take-back domain; the caller holds drain_lock, inside a callback
 *	frame and the design's __release()
 * @now_ns: CLOCK_MONOTONIC now
 * @all: every chain, whatever its age (destroy)
 *
 * Also forgets the places that takers emptied.
 */
void __pgfree_tb_expire(struct pgfree_domain *dom, uint64_t now_ns, bool all)
{
	for (unsigned int i = 0; i < dom->nr_slots && dom->tb_outstanding; i++) {
		uint64_t *since = &dom->tb_since[(size_t)i * PGFREE_TAKE_BACK_CHAINS];

		for (unsigned int k = 0; k < PGFREE_TAKE_BACK_CHAINS; k++) {
			if (!since[k])
				continue;
			if (all || (now_ns >= since[k] && now_ns - since[k] >= dom->tb_hold_ns)) {
				__expire_place(dom, i, k);
			} else if (!atomic_load_explicit(&dom->tb[i].chain[k],
							 memory_order_relaxed)) {
				/* Relaxed: taken; nothing to order. */
				since[k] = 0;
				dom->tb_outstanding--;
			}
		}
	}
}

/**
 * pgfree_tb_due() - when the next chain waiting for take-back is due
 * @dom: a take-back domain; drain_lock not held (the drain thread)
 *
 * Forgets the places takers emptied first (a load each), so that a drain
 * thread whose chains were all taken back parks without a timeout: a
 * timed sleep costs the sleeper CPU even when nothing is due.
 *
 * Return: the CLOCK_MONOTONIC time at which the oldest waiting chain has
 * waited take_back_us, or 0 when none waits.
 */
uint64_t pgfree_tb_due(struct pgfree_domain *dom)
{
	uint64_t due = 0;

	pthread_mutex_lock(&dom->drain_lock);
	for (unsigned int i = 0; i < dom->nr_slots && dom->tb_outstanding; i++)
		for (unsigned int k = 0; k < PGFREE_TAKE_BACK_CHAINS; k++) {
			uint64_t *since = &dom->tb_since[(size_t)i * PGFREE_TAKE_BACK_CHAINS + k];

			if (!*since)
				continue;
			/* Relaxed: taken; nothing to order. */
			if (!atomic_load_explicit(&dom->tb[i].chain[k], memory_order_relaxed)) {
				*since = 0;
				dom->tb_outstanding--;
				continue;
			}
			if (!due || *since + dom->tb_hold_ns < due)
				due = *since + dom->tb_hold_ns;
		}
	pthread_mutex_unlock(&dom->drain_lock);
	return due;
}

static void expire_cb(struct pgfree_domain *dom, void *all)
{
	__pgfree_tb_expire(dom, pgfree_now_ns(), *(const bool *)all);
}

/**
 * pgfree_tb_expire() - release the chains that waited too long (E)
 * @dom: a take-back domain; drain_lock not held
 * @all: every chain, whatever its age: the domain is being destroyed,
 *	after its last drain (a ->release() may defer again, so destroy
 *	drains once more after this)
 *
 * The drain thread's expiry, when it woke for it; destroy's.
 */
void pgfree_tb_expire(struct pgfree_domain *dom, bool all)
{
	struct pgfree_cb_frame frame;

	pthread_mutex_lock(&dom->drain_lock);
	pgfree_cb_enter(&frame, dom);
	dom->dops->__release(dom, expire_cb, &all);
	pgfree_cb_exit(&frame);
	pthread_mutex_unlock(&dom->drain_lock);
}

/**
 * pgfree_hint_backlog() - about how many descriptors the lists hold
 * @dom: a domain whose producers keep the lists' counts (MARK_HINT)
 *
 * For a drain that does not walk (gather()'s batch_max check).  Relaxed
 * loads of each list's count: a hint (enum pgfree_mark_mode).
 */
uint64_t pgfree_hint_backlog(struct pgfree_domain *dom)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < dom->nr_slots; i++)
		n += atomic_load_explicit(&dom->slots[i].queued, memory_order_relaxed);
	return n;
}

/*
 * T's common part: the checks, and the take-back line of the list that
 * pgfree_defer() on this CPU queues to.  0, or the negative error.
 */
static int tb_line_of_caller(struct pgfree_domain *dom, unsigned int *list)
{
	/* Relaxed: as in pgfree_defer() (a call racing with destroy is the caller's bug). */
	if (atomic_load_explicit(&dom->state, memory_order_relaxed) != PGFREE_STATE_LIVE)
		return -ESHUTDOWN;
	if (!dom->take_back)
		return -EINVAL;
	*list = (unsigned int)(pgfree_this_cpu_slot(dom) - dom->slots);
	return 0;
}

/* T for one place: the chain it held (now the caller's), or NULL. */
static struct pgfree_llist_node *tb_take_place(struct pgfree_tb_list *tb, unsigned int k)
{
	/* Relaxed peek: an exchange on an empty place would only dirty the line. */
	if (!atomic_load_explicit(&tb->chain[k], memory_order_relaxed))
		return NULL;
	/*
	 * Acquire: pairs with P's release store (the argument above).  NULL
	 * when E or another taker was first.
	 */
	return atomic_exchange_explicit(&tb->chain[k], NULL, memory_order_acquire);
}

/* Count what was taken back, on the list's own line. */
static void tb_count(struct pgfree_domain *dom, unsigned int list, uint64_t n)
{
	if (n)
		/* Relaxed: a statistic, read by pgfree_stats() only. */
		atomic_fetch_add_explicit(&dom->slots[list].taken_back, n, memory_order_relaxed);
}

long pgfree_take_back(struct pgfree_domain *dom, struct pgfree_chain *out)
{
	struct pgfree_llist_node *first = NULL, *last = NULL;
	unsigned int list;
	uint64_t n = 0;
	int err;

	if (!dom || !out)
		return -EINVAL;
	err = tb_line_of_caller(dom, &list);
	if (err)
		return err;
	for (unsigned int k = 0; k < PGFREE_TAKE_BACK_CHAINS; k++) {
		struct pgfree_llist_node *node, *chain = tb_take_place(&dom->tb[list], k);

		if (!chain)
			continue;
		/* Count it and find its end: nodes this CPU wrote when it deferred them. */
		for (node = chain; ; node = node->next) {
			n++;
			pgfree_debug_node_unqueue(node);
			if (!node->next)
				break;
		}
		node->next = first;
		if (!last)
			last = node;
		first = chain;
	}
	out->first = first;
	out->last = last;
	out->count = n;
	out->list = list;
	tb_count(dom, list, n);
	return (long)n;
}

long pgfree_take_back_each(struct pgfree_domain *dom,
			   void (*fn)(void *arg, struct pgfree_llist_node *node), void *arg)
{
	unsigned int list;
	uint64_t n = 0;
	int err;

	if (!dom || !fn)
		return -EINVAL;
	err = tb_line_of_caller(dom, &list);
	if (err)
		return err;
	for (unsigned int k = 0; k < PGFREE_TAKE_BACK_CHAINS; k++) {
		struct pgfree_llist_node *node = tb_take_place(&dom->tb[list], k), *next;

		/* One pass: no count or last node to find first (pgfree_take_back()). */
		for (; node; node = next, n++) {
			/* Before @fn, which owns the node and may queue it again. */
			next = node->next;
			pgfree_debug_node_unqueue(node);
			fn(arg, node);
		}
	}
	tb_count(dom, list, n);
	return (long)n;
}
