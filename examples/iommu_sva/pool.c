// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pool.c: the page allocator of the iommu_sva example.
 *
 * One thread allocates (the kernel thread); any thread frees (the kernel
 * thread itself in mode "none", the v5 worker or pgfree's drain thread
 * otherwise).  Frees go on a lock-less list (pgfree's llist, the kernel's
 * semantics: many adders, one del_all taker), which the allocator empties
 * into its private list when that runs dry; so the allocator needs no lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/**
 * pool_init() - allocate @nr_pages zeroed frames, all free
 * @pool: the pool
 * @nr_pages: how many
 *
 * Return: 0 or -ENOMEM.
 */
int pool_init(struct pool *pool, unsigned int nr_pages)
{
	memset(pool, 0, sizeof(*pool));
	pool->desc = calloc(nr_pages, sizeof(*pool->desc));
	pool->frame = aligned_alloc(PAGE_SIZE, (size_t)nr_pages * PAGE_SIZE);
	if (!pool->desc || !pool->frame) {
		pool_destroy(pool);
		return -ENOMEM;
	}
	/* Before any other thread exists: no ordering needed. */
	for (size_t i = 0; i < (size_t)nr_pages * PT_ENTRIES; i++)
		atomic_init(&pool->frame[i / PT_ENTRIES][i % PT_ENTRIES], 0);
	for (unsigned int i = 0; i < nr_pages; i++)
		atomic_init(&pool->desc[i].gen, 0);
	pool->nr_pages = nr_pages;
	pgfree_init_llist_head(&pool->returned);
	/* Lowest frame first, so that frame 0 becomes the root table. */
	for (unsigned int i = nr_pages; i-- > 0;) {
		pool->desc[i].node.next = pool->cache;
		pool->cache = &pool->desc[i].node;
	}
	return 0;
}

void pool_destroy(struct pool *pool)
{
	free(pool->desc);
	free(pool->frame);
	pool->desc = NULL;
	pool->frame = NULL;
}

/**
 * pool_alloc() - take a free frame
 * @pool: the pool
 *
 * Allocator thread only.  The frame's contents are whatever its last owner
 * left (poison, for a recycled frame): the caller initializes it.
 *
 * Return: the frame number, or -1 when every frame is in use or still
 * waiting for a flush.
 */
long pool_alloc(struct pool *pool)
{
	struct pgfree_llist_node *node = pool->cache;

	if (!node) {
		/* Acquire (inside del_all): the poisoning and the generation
		 * bump by the freeing thread happen-before our reuse. */
		node = pgfree_llist_del_all(&pool->returned);
		if (!node)
			return -1;
	}
	pool->cache = node->next;
	node->next = NULL;
	return pool_pfn(pool, pgfree_llist_entry(node, struct ptdesc, node));
}

/**
 * pool_free() - poison a frame and give it back
 * @pool: the pool
 * @pfn: the frame; owned by the caller, on no list
 *
 * Bumps the generation first, then poisons every entry with release
 * stores: a device whose acquire load reads poison (or anything a later
 * owner writes) is thereby guaranteed to see the new generation when it
 * checks it next.  That is what makes the stale-walk detector exact.
 */
void pool_free(struct pool *pool, unsigned int pfn)
{
	struct ptdesc *pt = &pool->desc[pfn];
	/* Relaxed: only the page's owner writes @gen; readers are ordered by
	 * the release stores below, not by this one. */
	uint32_t gen = atomic_load_explicit(&pt->gen, memory_order_relaxed);

	atomic_store_explicit(&pt->gen, gen + 1, memory_order_relaxed);
	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		/* Release: publishes the bump above to whoever reads this. */
		atomic_store_explicit(&pool->frame[pfn][i], PAGE_POISON,
				      memory_order_release);
	pgfree_llist_add(&pt->node, &pool->returned);
}
