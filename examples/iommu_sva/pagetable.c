// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pagetable.c: the kernel side of the software page table: map and unmap
 * ranges (vmalloc/vfree-like), allocate tables on demand, and on unmap free
 * every table that became empty, after unlinking it from its parent.
 *
 * The devices walk these tables at the same time, with no lock: every entry
 * is an atomic.  Ordering, writer side:
 *  - a new table is filled (cleared) with relaxed stores, then linked with
 *    a release store, so a device that reads the link (acquire) sees a
 *    cleared table and not the poison of its previous life;
 *  - an entry is cleared with a relaxed store: clearing publishes nothing;
 *    the free path that follows (pgfree_defer()'s release, or the v5
 *    spinlock) orders the clear before the flush.
 */
#include <errno.h>
#include <sched.h>

#include "pagetable.h"

/* Allocate a frame, waiting for deferred frees when the pool is empty
 * (the back-pressure a real allocator would apply). */
static unsigned int pt_alloc_frame(struct pt_cpu *cpu)
{
	long pfn = pool_alloc(cpu->pt->pool, cpu->part);
	uint64_t t0;

	if (pfn >= 0)
		return (unsigned int)pfn;
	/* The mode may hold flushed frames for this thread (pgfree's
	 * take-back): a dry part is when it must not wait for them. */
	if (cpu->pt->refill && cpu->pt->refill(cpu->pt->ctx, cpu) &&
	    (pfn = pool_alloc(cpu->pt->pool, cpu->part)) >= 0)
		return (unsigned int)pfn;
	/* Dry: count the wait and its length (what the frames' late return
	 * costs the CPU thread). */
	cpu->pool_dry++;
	t0 = pool_now_ns();
	do {
		cpu->pool_waits++;
		sched_yield();
		if (cpu->pt->refill)
			cpu->pt->refill(cpu->pt->ctx, cpu);
	} while ((pfn = pool_alloc(cpu->pt->pool, cpu->part)) < 0);
	cpu->pool_wait_ns += pool_now_ns() - t0;
	return (unsigned int)pfn;
}

static unsigned int pt_alloc_table(struct pt_cpu *cpu)
{
	struct pagetable *pt = cpu->pt;
	unsigned int pfn = pt_alloc_frame(cpu);

	for (unsigned int i = 0; i < PT_ENTRIES; i++)
		/* Relaxed: published by the release store that links it. */
		atomic_store_explicit(&pt->pool->frame[pfn][i], 0, memory_order_relaxed);
	pt->pool->desc[pfn].nr_present = 0;
	return pfn;
}

/* The entry at @level for @va, given the table it lives in.  The CPU thread
 * that owns @va's subtree only, and it is the only writer there: relaxed
 * reads its own stores. */
static pte_t *pt_slot(struct pagetable *pt, unsigned int table, uint64_t va, int level)
{
	return &pt->pool->frame[table][pt_index(va, level)];
}

/**
 * pt_init() - build an empty address space: one root table
 * @pt: the page table; @free_table and @ctx are set by the caller after
 * @pool: the frames
 *
 * Return: 0, or -ENOMEM if the pool is empty.
 */
int pt_init(struct pagetable *pt, struct pool *pool)
{
	long pfn;

	pt->pool = pool;
	pfn = pool_alloc(pool, 0);
	if (pfn < 0)
		return -ENOMEM;
	pt->root = mk_pte((unsigned int)pfn, 0);
	return 0;
}

/**
 * pt_map() - map @nr_pages fresh data pages at @va
 * @pt: the page table
 * @va: page-aligned start
 * @nr_pages: how many; the range must not cross a PTE table (2 MiB)
 *
 * Return: 0, or -EEXIST (nothing mapped) if a page of the range is mapped.
 */
int pt_map(struct pt_cpu *cpu, uint64_t va, unsigned int nr_pages)
{
	struct pagetable *pt = cpu->pt;
	unsigned int table = pte_pfn(pt->root);
	struct ptdesc *desc = pt->pool->desc;

	for (int level = PT_LEVELS; level > 1; level--) {
		pte_t *slot = pt_slot(pt, table, va, level);
		uint64_t e = atomic_load_explicit(slot, memory_order_relaxed);

		if (!pte_present(e)) {
			unsigned int child = pt_alloc_table(cpu);

			/* Relaxed: the CPU thread owns the frame, and
			 * pool_alloc()'s acquire made the last bump visible. */
			e = mk_pte(child, atomic_load_explicit(&desc[child].gen,
							       memory_order_relaxed));
			/* Release: the cleared table before the link. */
			atomic_store_explicit(slot, e, memory_order_release);
			if (level < PT_LEVELS)
				desc[table].nr_present++;
		}
		table = pte_pfn(e);
	}

	for (unsigned int i = 0; i < nr_pages; i++)
		if (pte_present(atomic_load_explicit(pt_slot(pt, table, va + i * PAGE_SIZE, 1),
						     memory_order_relaxed)))
			return -EEXIST;	/* tables stay: emptied by a later unmap */

	for (unsigned int i = 0; i < nr_pages; i++) {
		unsigned int data = pt_alloc_frame(cpu);

		/* Relaxed: a leaf publishes nothing, the devices never
		 * read the data page it points to. */
		atomic_store_explicit(pt_slot(pt, table, va + i * PAGE_SIZE, 1),
				      mk_pte(data, 0), memory_order_relaxed);
		desc[table].nr_present++;
	}
	return 0;
}

/**
 * pt_unmap() - unmap @nr_pages at @va and free the tables that empties
 * @pt: the page table
 * @va: start, as given to pt_map()
 * @nr_pages: as given to pt_map()
 *
 * Data pages go back to the pool at once: the devices never read through a
 * leaf (Jason Gunthorpe's reply cited in iommu.c: a leaf kernel PTE is
 * supervisor-only, a device's user-permission walk stops at it), so only
 * tables need the flush.  An
 * emptied table is first unlinked from its parent, then handed to
 * ->free_table(); the parent is checked next, up to the PUD level (the
 * root is never freed).
 */
void pt_unmap(struct pt_cpu *cpu, uint64_t va, unsigned int nr_pages)
{
	struct pagetable *pt = cpu->pt;
	unsigned int path[PT_LEVELS + 1];	/* path[level]: table at level */
	struct ptdesc *desc = pt->pool->desc;

	path[PT_LEVELS] = pte_pfn(pt->root);
	for (int level = PT_LEVELS; level > 1; level--) {
		uint64_t e = atomic_load_explicit(pt_slot(pt, path[level], va, level),
						  memory_order_relaxed);

		if (!pte_present(e))
			return;
		path[level - 1] = pte_pfn(e);
	}

	for (unsigned int i = 0; i < nr_pages; i++) {
		pte_t *slot = pt_slot(pt, path[1], va + i * PAGE_SIZE, 1);
		uint64_t e = atomic_load_explicit(slot, memory_order_relaxed);

		if (!pte_present(e))
			continue;
		atomic_store_explicit(slot, 0, memory_order_relaxed);
		desc[path[1]].nr_present--;
		pool_free(pt->pool, pte_pfn(e));
	}

	for (int level = 1; level < PT_LEVELS; level++) {
		if (desc[path[level]].nr_present)
			break;
		atomic_store_explicit(pt_slot(pt, path[level + 1], va, level + 1), 0,
				      memory_order_relaxed);
		if (level + 1 < PT_LEVELS)
			desc[path[level + 1]].nr_present--;
		/* For the reuse time; handed on with the table, ordered by
		 * the free path as the unlink is. */
		desc[path[level]].unlinked_ns = pool_now_ns();
		cpu->tables_freed++;
		pt->free_table(pt->ctx, cpu, path[level]);
	}
}
