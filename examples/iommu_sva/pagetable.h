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
 * struct pt_cpu - one CPU thread's side of the page table
 * @pt: the page table
 * @part: the pool part it allocates from
 * @tables_freed: tables it passed to ->free_table()
 * @pool_waits: allocations that found its part empty and had to wait for
 *	deferred frees to come back
 * @sampled: frees timed (one in FREE_SAMPLE), by ->free_table()
 * @free_ns: wall time inside those frees
 * @lock_wait_ns: of which waiting for a lock (v5)
 * @lock_hold_ns: of which holding it (v5)
 * @wakeups: wake-ups of the v5 worker this thread did
 * @take_backs: pgfree_take_back() calls (mode pgfree)
 * @taken_back: tables they returned, poisoned and put back by this thread
 * @taken_foreign: of which frames of another thread's part (a thread that
 *	ran on a CPU whose list another thread had deferred to)
 * @take_back_sampled: take-backs timed (one in FREE_SAMPLE, counted on
 *	@take_backs, so that the sample does not depend on when frames come)
 * @take_back_ns: wall time inside those, poisoning included
 * @since_take_back: frees since this thread last took back
 *
 * Private to its thread; read after join.
 */
struct pt_cpu {
	struct pagetable *pt;
	unsigned int part;
	unsigned long tables_freed;
	unsigned long pool_waits, pool_dry;
	uint64_t pool_wait_ns;
	uint64_t sampled, free_ns, lock_wait_ns, lock_hold_ns, wakeups;
	uint64_t take_backs, taken_back, taken_foreign, take_back_sampled, take_back_ns;
	unsigned int since_take_back;
};

#define FREE_SAMPLE	16	/* time one free in this many */

/**
 * struct pagetable - the kernel's address space
 * @pool: where tables and data pages come from
 * @root: the PGD's entry (frame and generation); never freed
 * @free_table: how an emptied, already unlinked table is freed: the mode
 *	under test (at once, the v5 list, or pgfree_defer())
 * @refill: optional: called by a CPU thread whose pool part is dry, before
 *	it waits (and on every round of the wait), to get frames back from
 *	the mode (pgfree's take-back); returns how many it put back
 * @ctx: passed to @free_table and @refill
 *
 * Several CPU threads call pt_map() and pt_unmap(), each on its own PGD
 * entries only (disjoint subtrees, as vmalloc areas of different CPUs or
 * the guest ranges of different vCPUs are): below the root, each table has
 * one writer, like init_mm's tables under the page-table lock of their
 * range.  The root's entries are written by their one owner each, and the
 * root is never freed, so its present count is not kept.
 */
struct pagetable {
	struct pool *pool;
	uint64_t root;
	void (*free_table)(void *ctx, struct pt_cpu *cpu, unsigned int pfn);
	unsigned long (*refill)(void *ctx, struct pt_cpu *cpu);
	void *ctx;
};

int pt_init(struct pagetable *pt, struct pool *pool);
int pt_map(struct pt_cpu *cpu, uint64_t va, unsigned int nr_pages);
void pt_unmap(struct pt_cpu *cpu, uint64_t va, unsigned int nr_pages);

#endif /* IOMMU_SVA_PAGETABLE_H */
