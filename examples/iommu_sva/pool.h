/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * pool.h: the simulated physical memory of the iommu_sva example: a fixed
 * array of 4 KiB page frames, each with a descriptor (a struct ptdesc), and
 * the page allocator that hands them out and takes them back.
 *
 * Every freed page is poisoned and its generation bumped, so that a device
 * that still holds a pointer to it can tell, exactly, that it does.
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
 *	the devices.
 * @nr_present: present entries, while the page is a table; kernel thread only
 */
struct ptdesc {
	struct pgfree_llist_node node;
	_Atomic uint32_t gen;
	unsigned int nr_present;
};

/**
 * struct pool - the page frames and their allocator
 * @nr_pages: number of frames
 * @desc: one descriptor per frame
 * @frame: the frames, each seen as PT_ENTRIES entries
 * @returned: pages freed by any thread, waiting to be taken by the allocator
 * @cache: the allocator's private free list (allocator thread only)
 */
struct pool {
	unsigned int nr_pages;
	struct ptdesc *desc;
	pte_t (*frame)[PT_ENTRIES];
	struct pgfree_llist_head returned;
	struct pgfree_llist_node *cache;
};

int pool_init(struct pool *pool, unsigned int nr_pages);
void pool_destroy(struct pool *pool);
long pool_alloc(struct pool *pool);
void pool_free(struct pool *pool, unsigned int pfn);

static inline unsigned int pool_pfn(const struct pool *pool, const struct ptdesc *pt)
{
	return (unsigned int)(pt - pool->desc);
}

#endif /* IOMMU_SVA_POOL_H */
