/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * iommu.h: the simulated IOMMU of the iommu_sva example: devices that
 * translate kernel addresses through an IOTLB (leaf translations) and a
 * paging-structure cache (pointers to lower-level tables; see iommu.c), and
 * the flush that invalidates both and waits for walks in flight.
 */
#ifndef IOMMU_SVA_IOMMU_H
#define IOMMU_SVA_IOMMU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "pagetable.h"

#define IOTLB_SLOTS	64	/* direct-mapped, by virtual page number */
#define PSC_SLOTS	16	/* per level, direct-mapped by address prefix */

/**
 * struct iommu_cache_entry - one IOTLB or paging-structure-cache entry
 * @epoch: the flush epoch it was filled in; it hits only in that epoch
 * @tag: the address prefix it translates (va >> the level's shift)
 * @pte: the cached entry: a leaf (IOTLB) or a table pointer (PSC)
 *
 * Private to its device thread: only that thread fills and reads it.  A
 * flush never writes it; it moves the epoch instead (see iommu.c).
 */
struct iommu_cache_entry {
	uint64_t epoch;
	uint64_t tag;
	uint64_t pte;
};

/**
 * struct iommu_dev - one device behind the IOMMU, and its thread
 * @iommu: the IOMMU
 * @active: the epoch of the walk in progress, 0 when none (see iommu.c)
 * @stale_walks: walks that read through a freed table (relaxed: a counter
 *	main polls while the device runs, ordering nothing)
 * @iotlb: leaf translations
 * @psc: paging-structure cache: @psc[l] holds pointers to tables of level
 *	l (1: PTE tables, keyed by va >> 21; 2: PMD tables; 3: PUD tables)
 * @translations: translations done (device thread only; read after join)
 * @iotlb_hits: of which answered by the IOTLB
 * @psc_hits: walks that started from a cached table pointer
 * @faults: translations that found no mapping (or stopped on a stale walk)
 * @seed: the thread's random state
 */
struct iommu_dev {
	struct iommu *iommu;
	_Alignas(64) _Atomic uint64_t active;
	_Atomic uint64_t stale_walks;
	_Alignas(64) struct iommu_cache_entry iotlb[IOTLB_SLOTS];
	struct iommu_cache_entry psc[PT_LEVELS][PSC_SLOTS];
	uint64_t translations, iotlb_hits, psc_hits, faults;
	uint64_t seed;
};

/**
 * struct iommu - the IOMMU shared by the devices
 * @pool: the frames the tables live in
 * @root: the PGD pointer (the PASID table's entry for the kernel space)
 * @epoch: the flush epoch, from 1; a flush moves it on
 * @flushes: flushes done
 * @flush_ns: their total wall time (one flusher at a time)
 * @flush_slow: flushes that found a device still in an old-epoch walk
 *	after the spin, and slept (or, --yield-wait, yielded) for it: a
 *	preempted device thread (see iommu_flush_all())
 * @flush_slow_ns: their total wall time
 * @flush_yields: sleeps (or yields) in those waits
 * @flusher_tid: the kernel thread id of the last flusher (v5 worker, pgfree
 *	drain thread), for its scheduler statistics
 * @no_wait: the flush invalidates but does not wait for walks in flight
 * @yield_wait: the flush waits for a walk in flight by yielding, not by
 *	spinning about a microsecond and then sleeping (--yield-wait: the
 *	old wait, kept to compare)
 *	(--no-wait: shows that the wait is needed; never set by the test)
 * @devs: the devices
 * @nr_devs: how many
 */
struct iommu {
	struct pool *pool;
	uint64_t root;
	_Alignas(64) _Atomic uint64_t epoch;
	_Atomic uint64_t flushes;
	_Atomic uint64_t flush_ns;
	_Atomic uint64_t flush_slow, flush_slow_ns, flush_yields;
	_Atomic int flusher_tid;
	bool no_wait;
	bool yield_wait;
	struct iommu_dev *devs;
	unsigned int nr_devs;
};

void iommu_init(struct iommu *iommu, struct pool *pool, uint64_t root,
		struct iommu_dev *devs, unsigned int nr_devs);
int iommu_translate(struct iommu_dev *dev, uint64_t va, uint64_t *pte);
void iommu_flush_all(struct iommu *iommu);

#endif /* IOMMU_SVA_IOMMU_H */
