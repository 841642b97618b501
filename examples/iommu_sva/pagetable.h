/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * pagetable.h: the software 4-level page table of the iommu_sva example
 * (x86-64-like: 9 bits per level, 4 KiB pages), the entry format the
 * kernel thread writes and the devices read, and the kernel-side map/unmap.
 */
#ifndef IOMMU_SVA_PAGETABLE_H
#define IOMMU_SVA_PAGETABLE_H

#include <stdint.h>

#include "pool.h"

#define PT_LEVELS	4	/* 4: PGD, 3: PUD, 2: PMD, 1: PTE table */

/*
 * Entry format: bit 0 present, bits 12..31 the frame number, bits 32..63 the
 * generation the frame had when the entry was written.  A real PTE has no
 * generation: it is the simulation's tag, the device's way of knowing,
 * without any heuristic, that the table it reads through was freed.
 */
#define PTE_PRESENT	1ull

static inline uint64_t mk_pte(unsigned int pfn, uint32_t gen)
{
	return ((uint64_t)gen << 32) | ((uint64_t)pfn << PAGE_SHIFT) | PTE_PRESENT;
}

static inline unsigned int pte_pfn(uint64_t pte)
{
	return (unsigned int)((pte >> PAGE_SHIFT) & 0xfffff);
}

static inline uint32_t pte_gen(uint64_t pte)
{
	return (uint32_t)(pte >> 32);
}

static inline int pte_present(uint64_t pte)
{
	return (pte & PTE_PRESENT) != 0;
}

/* Index of @va in a table of @level. */
static inline unsigned int pt_index(uint64_t va, int level)
{
	return (unsigned int)(va >> (PAGE_SHIFT + 9 * (level - 1))) & (PT_ENTRIES - 1);
}

/**
 * struct pagetable - the kernel's address space
 * @pool: where tables and data pages come from
 * @root: the PGD's entry (frame and generation); never freed
 * @free_table: how an emptied, already unlinked table is freed: the mode
 *	under test (at once, the v5 list, or pgfree_defer())
 * @ctx: passed to @free_table
 * @tables_freed: tables passed to @free_table
 * @pool_waits: allocations that found the pool empty and had to wait for
 *	deferred frees to come back
 *
 * Only the kernel thread calls pt_map() and pt_unmap(): like the kernel's
 * init_mm under its page-table lock, the writer side is single-threaded.
 */
struct pagetable {
	struct pool *pool;
	uint64_t root;
	void (*free_table)(void *ctx, unsigned int pfn);
	void *ctx;
	unsigned long tables_freed;
	unsigned long pool_waits;
};

int pt_init(struct pagetable *pt, struct pool *pool);
int pt_map(struct pagetable *pt, uint64_t va, unsigned int nr_pages);
void pt_unmap(struct pagetable *pt, uint64_t va, unsigned int nr_pages);

#endif /* IOMMU_SVA_PAGETABLE_H */
