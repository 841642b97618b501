// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pool.c: the page allocator of the iommu_sva example.
 *
 * One thread allocates from each part (its CPU thread); any thread frees
 * (the CPU thread itself in mode "none" and for data pages; for tables the
 * v5 worker, pgfree's drain thread in mode pgfree_release, or in mode
 * pgfree the CPU thread that takes the flushed tables back).  Frees go on
 * the part's lock-less list (pgfree's llist, the kernel's semantics: many
 * adders, one del_all taker), which the owner empties into its private list
 * when that runs dry; so the allocator needs no lock.  A CPU thread that
 * frees frames of its own part (pool_free_chain() with its part) puts them
 * straight on its private list: no atomic, and the frames it just poisoned
 * are reused from its own cache first, as the kernel's per-CPU page lists
 * reuse the hottest page first.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pool.h"

uint64_t pool_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/**
 * pool_init() - allocate @nr_pages zeroed frames, all free, in @nr_parts parts
 * @pool: the pool
 * @nr_pages: how many; frame i belongs to part i / (nr_pages / nr_parts)
 * @nr_parts: how many parts, >= 1
 *
 * Return: 0 or -ENOMEM.
 */
int pool_init(struct pool *pool, unsigned int nr_pages, unsigned int nr_parts)
{
	unsigned int per = nr_pages / nr_parts;

	memset(pool, 0, sizeof(*pool));
	pool->desc = calloc(nr_pages, sizeof(*pool->desc));
	pool->frame = aligned_alloc(PAGE_SIZE, (size_t)nr_pages * PAGE_SIZE);
	pool->part = aligned_alloc(64, nr_parts * sizeof(*pool->part));
	if (!pool->desc || !pool->frame || !pool->part) {
		pool_destroy(pool);
		return -ENOMEM;
	}
	/* Before any other thread exists: no ordering needed. */
	for (size_t i = 0; i < (size_t)nr_pages * PT_ENTRIES; i++)
		atomic_init(&pool->frame[i / PT_ENTRIES][i % PT_ENTRIES], 0);
	for (unsigned int i = 0; i < nr_pages; i++)
		atomic_init(&pool->desc[i].gen, 0);
	pool->nr_pages = nr_pages;
	pool->nr_parts = nr_parts;
	for (unsigned int p = 0; p < nr_parts; p++) {
		struct pool_part *part = &pool->part[p];

		pgfree_init_llist_head(&part->returned);
		for (unsigned int b = 0; b < REUSE_BUCKETS; b++)
			atomic_init(&part->reuse[b], 0);
		part->cache = NULL;
		part->low_water = -1;
		/* Lowest frame first, so that frame 0 becomes the root table. */
		for (unsigned int i = (p + 1) * per; i-- > p * per;) {
			pool->desc[i].part = p;
			pool->desc[i].node.next = part->cache;
			part->cache = &pool->desc[i].node;
		}
	}
	return 0;
}

void pool_destroy(struct pool *pool)
{
	free(pool->desc);
	free(pool->frame);
	free(pool->part);
	pool->desc = NULL;
	pool->frame = NULL;
	pool->part = NULL;
}

/**
 * pool_alloc() - take a free frame of @part
 * @pool: the pool
 * @part: the caller's part
 *
 * The part's owner thread only.  The frame's contents are whatever its last
 * owner left (poison, for a recycled frame): the caller initializes it.
 *
 * Return: the frame number, or -1 when every frame of the part is in use
 * or still waiting for a flush.
 */
long pool_alloc(struct pool *pool, unsigned int part)
{
	struct pool_part *p = &pool->part[part];
	struct pgfree_llist_node *node = p->cache;

	if (!node) {
		long n = 0;

		/* Acquire (inside del_all): the poisoning and the generation
		 * bump by the freeing thread happen-before our reuse. */
		node = pgfree_llist_del_all(&p->returned);
		for (struct pgfree_llist_node *c = node; c; c = c->next)
			n++;
		if (p->low_water < 0 || n < p->low_water)
			p->low_water = n;
		if (!node)
			return -1;
	}
	p->cache = node->next;
	node->next = NULL;
	return pool_pfn(pool, pgfree_llist_entry(node, struct ptdesc, node));
}

static unsigned int reuse_bucket(uint64_t ns)
{
	unsigned int hi;

	if (ns < REUSE_SUB)
		return (unsigned int)ns;
	hi = 63u - (unsigned int)__builtin_clzll(ns);	/* >= 3 */
	return hi * REUSE_SUB + (unsigned int)((ns >> (hi - 3)) & (REUSE_SUB - 1));
}

static uint64_t bucket_ns(unsigned int b)
{
	unsigned int hi = b / REUSE_SUB;

	if (b < REUSE_SUB)
		return b;
	/* The middle of the bucket. */
	return ((uint64_t)(REUSE_SUB + b % REUSE_SUB) << (hi - 3)) + ((1ull << (hi - 3)) >> 1);
}

/**
 * pool_poison() - retire a frame: count its reuse time, bump its
 *	generation, poison it
 * @pool: the pool
 * @pfn: the frame; owned by the caller, on no list
 * @now_ns: pool_now_ns() of the caller, for the reuse time of a table
 *
 * Bumps the generation first, then poisons every entry with release
 * stores: a device whose acquire load reads poison (or anything a later
 * owner writes) is thereby guaranteed to see the new generation when it
 * checks it next.  That is what makes the stale-walk detector exact.  The
 * frame is then ready for pool_part_put().
 */
void pool_poison(struct pool *pool, unsigned int pfn, uint64_t now_ns)
{
	struct ptdesc *pt = &pool->desc[pfn];
	struct pool_part *part = &pool->part[pt->part];
	/* Relaxed: only the page's owner writes @gen; readers are ordered by
	 * the release stores below, not by this one. */
	uint32_t gen = atomic_load_explicit(&pt->gen, memory_order_relaxed);

	if (pt->unlinked_ns) {
		uint64_t d = now_ns > pt->unlinked_ns ? now_ns - pt->unlinked_ns : 0;

		/* Relaxed: a counter, read after join. */
		atomic_fetch_add_explicit(&part->reuse[reuse_bucket(d)], 1, memory_order_relaxed);
		pt->unlinked_ns = 0;
	}
	atomic_store_explicit(&pt->gen, gen + 1, memory_order_relaxed);
	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		/* Release: publishes the bump above to whoever reads this. */
		atomic_store_explicit(&pool->frame[pfn][i], PAGE_POISON,
				      memory_order_release);
}

/**
 * pool_part_put() - give poisoned frames back to their part
 * @pool: the pool
 * @part: the part they all belong to
 * @first: the first frame's node
 * @last: the last one's; @first..@last are linked through ->next
 *
 * The per-part free path: any thread, one release CAS for the whole
 * chain (pgfree_llist_add_batch()), which the owner's acquire in
 * pool_alloc() pairs with, so the poisoning happens-before the reuse.
 * Each frame must have been through pool_poison().  A caller that hands
 * back a whole flushed chain of one part (a per-CPU take-back) pays one
 * CAS for all of it.
 */
void pool_part_put(struct pool *pool, unsigned int part, struct pgfree_llist_node *first,
		   struct pgfree_llist_node *last)
{
	pgfree_llist_add_batch(first, last, &pool->part[part].returned);
}

/**
 * pool_free_at() - poison a frame and give it back
 * @pool: the pool
 * @pfn: the frame; owned by the caller, on no list
 * @now_ns: pool_now_ns() of the caller, for the reuse time of a table
 *
 * pool_poison(), then pool_part_put() of that one frame.
 */
void pool_free_at(struct pool *pool, unsigned int pfn, uint64_t now_ns)
{
	struct ptdesc *pt = &pool->desc[pfn];

	pool_poison(pool, pfn, now_ns);
	pool_part_put(pool, pt->part, &pt->node, &pt->node);
}

/* pool_free_at() for a page that is not a table (no reuse time). */
void pool_free(struct pool *pool, unsigned int pfn)
{
	pool_free_at(pool, pfn, pool->desc[pfn].unlinked_ns ? pool_now_ns() : 0);
}

/**
 * pool_free_chain() - poison a chain of frames and give each back to its part
 * @pool: the pool
 * @owner: the caller's part, or -1.  With a part, the caller must be that
 *	part's owner thread: the chain's frames of that part go on its
 *	private list (no atomic: only the owner reads or writes it).  With
 *	-1 (any thread), every frame goes on its part's return list.
 * @first: the chain: frames the caller holds, linked through ->next, NULL
 *	at the end (a batch of pgfree's ->release(), or a chain that
 *	pgfree_take_back() returned)
 * @now_ns: pool_now_ns() of the caller, for the reuse time of tables
 * @foreign: if not NULL, set to how many frames were not of @owner's part
 *	(0 with -1)
 *
 * Each frame is poisoned (pool_poison()) before it is put anywhere.  The
 * frames that go to a return list are put one run at a time: consecutive
 * frames of one part make one chain and one release CAS
 * (pool_part_put()), whose pairing with the owner's acquire in
 * pool_alloc() orders their poisoning before their reuse.  On the private
 * list the owner's own program order does.
 *
 * Return: the number of frames.
 */
unsigned long pool_free_chain(struct pool *pool, long owner, struct pgfree_llist_node *first,
			      uint64_t now_ns, unsigned long *foreign)
{
	struct pgfree_llist_node *node, *next, *run = NULL, *run_last = NULL;
	struct pool_part *own = owner >= 0 ? &pool->part[owner] : NULL;
	unsigned int run_part = 0;
	unsigned long n = 0, other = 0;

	for (node = first; node; node = next) {
		struct ptdesc *pt = pgfree_llist_entry(node, struct ptdesc, node);

		next = node->next;
		pool_poison(pool, pool_pfn(pool, pt), now_ns);
		n++;
		if (own && pt->part == (unsigned int)owner) {
			node->next = own->cache;
			own->cache = node;
			continue;
		}
		other++;
		if (run && pt->part != run_part) {
			pool_part_put(pool, run_part, run, run_last);
			run = NULL;
		}
		if (!run) {
			node->next = NULL;
			run_last = node;
			run_part = pt->part;
		} else {
			node->next = run;
		}
		run = node;
	}
	if (run)
		pool_part_put(pool, run_part, run, run_last);
	if (foreign)
		*foreign = own ? other : 0;
	return n;
}

/**
 * pool_reuse_quantile_ns() - a quantile of the tables' unlink-to-reuse time
 * @pool: the pool, with its freeing threads joined
 * @q: 0..1
 *
 * Return: the middle of the histogram bucket holding it (12 % wide), or 0
 * when no table was freed.
 */
uint64_t pool_reuse_quantile_ns(const struct pool *pool, double q)
{
	uint64_t total = 0, seen = 0, want;

	for (unsigned int b = 0; b < REUSE_BUCKETS; b++)
		for (unsigned int p = 0; p < pool->nr_parts; p++)
			/* Relaxed: the writers are joined. */
			total += atomic_load_explicit(&pool->part[p].reuse[b], memory_order_relaxed);
	if (!total)
		return 0;
	want = (uint64_t)(q * (double)total);
	if (want >= total)
		want = total - 1;
	for (unsigned int b = 0; b < REUSE_BUCKETS; b++) {
		for (unsigned int p = 0; p < pool->nr_parts; p++)
			/* Relaxed: as above. */
			seen += atomic_load_explicit(&pool->part[p].reuse[b], memory_order_relaxed);
		if (seen > want)
			return bucket_ns(b);
	}
	return 0;
}

/* The lowest low-water mark over the parts, -1 if none ran dry. */
long pool_low_water(const struct pool *pool)
{
	long low = -1;

	for (unsigned int p = 0; p < pool->nr_parts; p++)
		if (pool->part[p].low_water >= 0 &&
		    (low < 0 || pool->part[p].low_water < low))
			low = pool->part[p].low_water;
	return low;
}
