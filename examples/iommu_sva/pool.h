/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * pool.h: the simulated physical memory of the iommu_sva example: a fixed
 * array of 4 KiB page frames, each with a descriptor (a struct ptdesc), and
 * the page allocator that hands them out and takes them back.
 *
 * The frames are split into one part per "CPU" thread, as the kernel's
 * per-CPU page lists are: a thread allocates only from its own part, and a
 * frame always goes back to the part it came from, whoever frees it.
 *
 * Every freed page is poisoned and its generation bumped, so that a device
 * that still holds a pointer to it can tell, exactly, that it does.
 *
 * Concurrency:
 *   pool_alloc(part)        the part's owner thread only
 *   pool_poison()           the thread holding the frame (the one freeing it:
 *                           its CPU thread, the v5 worker, pgfree's drain,
 *                           or the CPU thread that took it back)
 *   pool_part_put()         any thread (lock-less add to the part's return list)
 *   pool_free*()            any thread (pool_poison() + pool_part_put())
 *   pool_free_chain(-1)     any thread (the same, one put per run of a part)
 *   pool_free_chain(part)   the part's owner thread only (its frames go on
 *                           its private list)
 *   pool_reuse_*()          after the freeing threads are joined
 */
#ifndef IOMMU_SVA_POOL_H
#define IOMMU_SVA_POOL_H

#include <stdatomic.h>
#include <stdint.h>

#include <pgfree/llist.h>

#define PAGE_SHIFT	12
#define PAGE_SIZE	(1ul << PAGE_SHIFT)
#define PT_ENTRIES	512		/* 9 bits per level */

/* What a freed page is filled with (the kernel's POISON_FREE byte).  Bit 0,
 * "present", is set on purpose: a walk that trusted it would follow it. */
#define PAGE_POISON	0x6b6b6b6b6b6b6b6bull

/* Unlink-to-reuse histogram: 8 buckets per power of two of nanoseconds. */
#define REUSE_SUB	8
#define REUSE_BUCKETS	(64 * REUSE_SUB)

/* A page-table entry.  Atomic because the devices read the tables while the
 * kernel thread writes them, with no lock between them (as the hardware
 * walker does). */
typedef _Atomic uint64_t pte_t;

/**
 * struct ptdesc - the descriptor of one page frame (struct page / ptdesc)
 * @node: links the page on the allocator's return list, or on a deferred
 *	free list (pgfree's or the v5 list) while it waits for a flush; never
 *	both at once
 * @gen: the page's generation: bumped each time the page is freed.  A
 *	pointer to a table carries the generation the table had when it was
 *	linked; a device compares the two after reading through the pointer.
 *	Written only by the page's owner (the one thread freeing it); read by
 *	the devices.  "The page's owner" here is whichever thread holds the
 *	freed frame: no two do at once (the free path hands it on with a
 *	release that the next holder's acquire pairs with).
 * @nr_present: present entries, while the page is a table; its CPU thread only
 * @part: the pool part the frame belongs to (fixed)
 * @unlinked_ns: CLOCK_MONOTONIC time the table was unlinked, 0 for a data
 *	page; written before the free hands it on (ordered by the free
 *	path's release), read by whoever puts it back in the pool
 */
struct ptdesc {
	struct pgfree_llist_node node;
	_Atomic uint32_t gen;
	unsigned int nr_present;
	unsigned int part;
	uint64_t unlinked_ns;
};

/**
 * struct pool_part - one CPU thread's share of the frames
 * @returned: pages freed by any thread, waiting to be taken by the owner
 * @reuse: unlink-to-back-in-the-pool times of tables (relaxed counters:
 *	one writer at a time in practice, read after join)
 * @cache: the owner's private free list (owner only)
 * @low_water: fewest free frames the owner found when its private list ran
 *	dry (owner only; -1 until it first ran dry)
 */
struct pool_part {
	_Alignas(64) struct pgfree_llist_head returned;
	_Alignas(64) _Atomic uint64_t reuse[REUSE_BUCKETS];
	struct pgfree_llist_node *cache;
	long low_water;
};

/**
 * struct pool - the page frames and their allocator
 * @nr_pages: number of frames
 * @nr_parts: number of parts (CPU threads)
 * @desc: one descriptor per frame
 * @frame: the frames, each seen as PT_ENTRIES entries
 * @part: the parts
 */
struct pool {
	unsigned int nr_pages;
	unsigned int nr_parts;
	struct ptdesc *desc;
	pte_t (*frame)[PT_ENTRIES];
	struct pool_part *part;
};

int pool_init(struct pool *pool, unsigned int nr_pages, unsigned int nr_parts);
void pool_destroy(struct pool *pool);
long pool_alloc(struct pool *pool, unsigned int part);
void pool_poison(struct pool *pool, unsigned int pfn, uint64_t now_ns);
void pool_part_put(struct pool *pool, unsigned int part, struct pgfree_llist_node *first,
		   struct pgfree_llist_node *last);
void pool_free_at(struct pool *pool, unsigned int pfn, uint64_t now_ns);
void pool_free(struct pool *pool, unsigned int pfn);
unsigned long pool_free_chain(struct pool *pool, long owner, struct pgfree_llist_node *first,
			      uint64_t now_ns, unsigned long *foreign);
uint64_t pool_reuse_quantile_ns(const struct pool *pool, double q);
long pool_low_water(const struct pool *pool);
uint64_t pool_now_ns(void);

static inline unsigned int pool_pfn(const struct pool *pool, const struct ptdesc *pt)
{
	return (unsigned int)(pt - pool->desc);
}

#endif /* IOMMU_SVA_POOL_H */
