// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * iommu.c: the simulated IOMMU: translation through the IOTLB and the
 * paging-structure cache (PSC), table walks that detect a freed table, and
 * the flush that makes freeing a table safe.
 *
 * The bug, as Jason Gunthorpe explained it (his reply to Dave Hansen in
 * the thread of "iommu/sva: Invalidate KVA range on kernel TLB flush",
 * 10 Jul 2025).  The PSC caches pointers to lower-level tables, so a walk
 * may start from a cached pointer without reading the upper levels.
 * If the kernel unlinks a table and frees it at once, a walk can still
 * start from the cached pointer and read the freed page: poison, or a new
 * owner's contents (a recycled table or a data page).
 *
 * Detection, exact and cheap.  Every pointer to a table (in an entry, hence
 * in the PSC too) carries the generation the table had when it was linked;
 * pool_free() bumps the generation, then poisons with release stores.  A
 * walk reads an entry with an acquire load, then compares the table's
 * generation with the pointer's.  If the read saw poison or anything
 * written later, the bump happens-before the read, so the check sees the
 * new generation: no stale read is missed.  If the generations differ, the
 * page was freed after it was linked and before the check, while this walk
 * held a pointer to it: no false alarm either.  The cost is one load more
 * per level, on a line the walk just read.
 *
 * The flush: invalidate, then wait.  Each cache entry is tagged with the
 * epoch it was filled in and hits only in that epoch, so moving the epoch
 * invalidates every entry of every device at once (as a generation-tagged
 * TLB does); the flusher never writes a device's cache, so fills and
 * invalidations cannot race.  A walk publishes its epoch in dev->active
 * before reading anything, and the flush waits until no device is in a
 * walk of an older epoch.  Why that is enough for a table T deferred
 * before the flush began:
 *  1. T was unlinked before it was deferred, and the defer happens-before
 *     the flush (pgfree_defer()'s release and the drain's acquire, or the
 *     v5 spinlock), so the unlink happens-before the epoch increment.
 *  2. Walk begin (device: store active = e; load epoch, retry if moved)
 *     and the flush (increment epoch; load each active) are both
 *     sequentially consistent: the flusher either sees the device's
 *     active = e (old) and waits for it, or the device sees the new epoch
 *     and walks in it; never both miss (store-buffering, Dekker).
 *  3. A walk in the new epoch synchronizes with the increment (its seq_cst
 *     load read it), so every table read it makes comes after T's unlink:
 *     it cannot reach T from the root, and the PSC entries it may use were
 *     filled in the same epoch, by walks equally unable to reach T.
 *  4. A walk in an old epoch ends with a release store of active = 0 that
 *     the flusher's load reads (or a later store of the same thread): all
 *     its reads happen-before the flush returns, hence before T is
 *     poisoned, so they saw T intact and passed the generation check.
 * So after the flush no walk can read T: it may be freed.
 */
#define _GNU_SOURCE	/* gettid() */
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <stdlib.h>
#include <time.h>

#define WAIT_SPINS	1000	/* loads: about a microsecond */
#define WAIT_SLEEP_NS	20000	/* then poll every 20 us, asleep */

#include "iommu.h"

/**
 * iommu_init() - set up the IOMMU and its devices
 * @iommu: the IOMMU
 * @pool: the frames
 * @root: the kernel's root entry
 * @devs: @nr_devs devices, zeroed by the caller
 * @nr_devs: how many
 */
void iommu_init(struct iommu *iommu, struct pool *pool, uint64_t root,
		struct iommu_dev *devs, unsigned int nr_devs)
{
	iommu->pool = pool;
	iommu->root = root;
	/* Epoch 0 is "no walk" in dev->active, and no entry is valid in it
	 * (the zeroed caches are tagged 0). */
	atomic_init(&iommu->epoch, 1);
	atomic_init(&iommu->flushes, 0);
	atomic_init(&iommu->flush_ns, 0);
	atomic_init(&iommu->flush_slow, 0);
	atomic_init(&iommu->flush_slow_ns, 0);
	atomic_init(&iommu->flush_yields, 0);
	atomic_init(&iommu->flusher_tid, 0);
	iommu->no_wait = false;
	iommu->yield_wait = false;
	iommu->devs = devs;
	iommu->nr_devs = nr_devs;
	for (unsigned int i = 0; i < nr_devs; i++) {
		devs[i].iommu = iommu;
		atomic_init(&devs[i].active, 0);
		atomic_init(&devs[i].stale_walks, 0);
	}
}

/* Start a walk: publish its epoch, then make sure it is still current. */
static uint64_t walk_begin(struct iommu_dev *dev)
{
	struct iommu *iommu = dev->iommu;
	/* Relaxed: only a first guess, checked below. */
	uint64_t e = atomic_load_explicit(&iommu->epoch, memory_order_relaxed);

	for (;;) {
		uint64_t now;

		/* Seq_cst store then seq_cst load: the store-buffering
		 * pattern against iommu_flush_all() (point 2 above); the load
		 * is also the acquire of point 3. */
		atomic_store_explicit(&dev->active, e, memory_order_seq_cst);
		now = atomic_load_explicit(&iommu->epoch, memory_order_seq_cst);
		if (now == e)
			return e;
		e = now;
	}
}

static void walk_end(struct iommu_dev *dev)
{
	/* Release: the walk's reads before the flusher's wait ends (4). */
	atomic_store_explicit(&dev->active, 0, memory_order_release);
}

static struct iommu_cache_entry *psc_slot(struct iommu_dev *dev, int level, uint64_t va)
{
	return &dev->psc[level][(va >> (PAGE_SHIFT + 9 * level)) % PSC_SLOTS];
}

static void cache_fill(struct iommu_cache_entry *c, uint64_t epoch, uint64_t tag, uint64_t pte)
{
	c->epoch = epoch;
	c->tag = tag;
	c->pte = pte;
}

/* Translate @va in epoch @e; see iommu_translate(). */
static int translate(struct iommu_dev *dev, uint64_t va, uint64_t e, uint64_t *out)
{
	struct pool *pool = dev->iommu->pool;
	struct iommu_cache_entry *c = &dev->iotlb[(va >> PAGE_SHIFT) % IOTLB_SLOTS];
	uint64_t cur = dev->iommu->root;
	int level = PT_LEVELS;

	if (c->epoch == e && c->tag == va >> PAGE_SHIFT) {
		dev->iotlb_hits++;
		*out = c->pte;
		return 0;
	}

	/* The deepest cached table pointer saves the most reads. */
	for (int l = 1; l < PT_LEVELS; l++) {
		c = psc_slot(dev, l, va);
		if (c->epoch == e && c->tag == va >> (PAGE_SHIFT + 9 * l)) {
			cur = c->pte;
			level = l;
			dev->psc_hits++;
			break;
		}
	}

	for (; level >= 1; level--) {
		unsigned int pfn = pte_pfn(cur);
		uint64_t x;

		if (pfn >= pool->nr_pages) {
			/* A pointer we use was checked when read: this would
			 * be a hole in the detector, not a stale walk. */
			fprintf(stderr, "iommu_sva: walk followed pfn %#x: detector bug\n", pfn);
			abort();
		}
		/* Acquire: a table linked by a release store is seen
		 * initialized; and poison seen implies the bump is seen. */
		x = atomic_load_explicit(&pool->frame[pfn][pt_index(va, level)],
					 memory_order_acquire);
		/* Relaxed: ordered after the load above by its acquire. */
		if (atomic_load_explicit(&pool->desc[pfn].gen, memory_order_relaxed) !=
		    pte_gen(cur)) {
			/* Relaxed: a counter; main only polls it. */
			atomic_fetch_add_explicit(&dev->stale_walks, 1, memory_order_relaxed);
			dev->faults++;
			return -1;
		}
		if (!pte_present(x)) {
			dev->faults++;
			return -1;
		}
		if (level > 1)
			cache_fill(psc_slot(dev, level - 1, va), e,
				   va >> (PAGE_SHIFT + 9 * (level - 1)), x);
		else
			cache_fill(&dev->iotlb[(va >> PAGE_SHIFT) % IOTLB_SLOTS], e,
				   va >> PAGE_SHIFT, x);
		cur = x;
	}
	*out = cur;
	return 0;
}

/**
 * iommu_translate() - translate one address, as a device's DMA would
 * @dev: the device (called from its own thread only)
 * @va: the kernel virtual address
 * @pte: the leaf entry found
 *
 * Return: 0, or -1 on a fault (not mapped, or a stale walk, which is also
 * counted in @dev->stale_walks).
 */
int iommu_translate(struct iommu_dev *dev, uint64_t va, uint64_t *pte)
{
	uint64_t e = walk_begin(dev);
	int ret = translate(dev, va, e, pte);

	walk_end(dev);
	dev->translations++;
	return ret;
}

/**
 * iommu_flush_all() - invalidate the IOTLB and the PSC of every device and
 *	wait for the walks that may still use what they held
 * @iommu: the IOMMU
 *
 * The simulated iommu_sva_invalidate_kva_range(PAGE_OFFSET, TLB_FLUSH_ALL)
 * with its wait descriptor.  One flusher at a time (pgfree's drain, or the
 * v5 worker).  See the argument at the top of the file.
 */
void iommu_flush_all(struct iommu *iommu)
{
	uint64_t t0 = pool_now_ns();
	/* Seq_cst: the flusher's half of point 2; its release half is what
	 * new-epoch walks synchronize with (point 3). */
	uint64_t new = atomic_fetch_add_explicit(&iommu->epoch, 1, memory_order_seq_cst) + 1;
	uint64_t yields = 0, t1;

	for (unsigned int i = 0; i < iommu->nr_devs && !iommu->no_wait; i++) {
		uint64_t a;

		/* Seq_cst: point 2; its acquire half gives point 4. */
		for (unsigned int spins = 0;
		     (a = atomic_load_explicit(&iommu->devs[i].active,
					       memory_order_seq_cst)) != 0 && a < new;
		     spins++) {
			/* A walk on a CPU ends within a microsecond: spin
			 * about that long.  Longer, the device thread was
			 * preempted inside its walk, and only the scheduler
			 * ends the wait: sleep.  A yield loop (--yield-wait)
			 * keeps the flusher runnable for milliseconds, which
			 * the scheduler weighs as a busy thread: with one
			 * CPU thread it pairs it 50/50 with a device thread
			 * on one CPU instead of sharing two CPUs three ways.
			 * The kernel's flush spins a few microseconds on
			 * the hardware and never holds a run queue for
			 * milliseconds (README, "Where the time goes"). */
			if (iommu->yield_wait) {
				yields++;
				sched_yield();
				continue;
			}
			if (spins < WAIT_SPINS)
				continue;
			yields++;
			nanosleep(&(struct timespec){ .tv_nsec = WAIT_SLEEP_NS }, NULL);
		}
	}
	t1 = pool_now_ns();
	if (yields) {
		/* Relaxed: counters, read after the threads are joined.  A
		 * walk takes well under a microsecond on a CPU; a wait past
		 * the spin is a device thread preempted inside its walk,
		 * which the flusher must wait out. */
		atomic_fetch_add_explicit(&iommu->flush_slow, 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&iommu->flush_slow_ns, t1 - t0, memory_order_relaxed);
		atomic_fetch_add_explicit(&iommu->flush_yields, yields, memory_order_relaxed);
	}
	/* Relaxed: a counter, read after the threads are joined. */
	atomic_fetch_add_explicit(&iommu->flushes, 1, memory_order_relaxed);
	/* Relaxed: as above. */
	atomic_fetch_add_explicit(&iommu->flush_ns, t1 - t0, memory_order_relaxed);
	/* Relaxed: an id to look the thread up by; orders nothing. */
	atomic_store_explicit(&iommu->flusher_tid, (int)gettid(), memory_order_relaxed);
}
