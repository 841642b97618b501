// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * modes.c: how the kernel thread's emptied tables are freed, per mode.
 *
 *  none:   pool_free() at once, no IOMMU flush: the bug described in
 *          iommu.c.  The devices' paging-structure caches keep pointers to
 *          the page, and their walks read it poisoned or reused.
 *  v5:     v5.c, the Linux 6.19 design.
 *  pgfree: pgfree_defer(); pgfree's drain calls iommu_flush_all() once per
 *          batch, then hands the batch back here to be freed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "modes.h"

static const char *const mode_names[MODE_COUNT] = {
	[MODE_NONE] = "none",
	[MODE_V5] = "v5",
	[MODE_PGFREE] = "pgfree",
};

const char *mode_name(enum mode mode)
{
	return mode < MODE_COUNT ? mode_names[mode] : "?";
}

/* ->flush(): the IOTLB and PSC invalidation, with its wait.  The range is
 * ignored: an epoch flush covers everything, as the kernel's
 * (PAGE_OFFSET, TLB_FLUSH_ALL) does. */
static int pgfree_iommu_flush(void *ctx, const struct pgfree_range *range)
{
	struct reclaim *r = ctx;

	(void)range;
	/* Relaxed: only this (the flushing) thread writes the flag. */
	if (!atomic_load_explicit(&r->has_consumer, memory_order_relaxed)) {
		r->consumer = pthread_self();
		/* Release: @consumer before the flag, for main's acquire. */
		atomic_store_explicit(&r->has_consumer, true, memory_order_release);
	}
	iommu_flush_all(r->iommu);
	return 0;
}

/* ->release(): the batch is flushed, the tables go back to the pool. */
static void pgfree_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct reclaim *r = ctx;
	struct ptdesc *pt, *next;
	uint64_t now = pool_now_ns();

	pgfree_llist_for_each_entry_safe(pt, next, batch, node)
		pool_free_at(r->pool, pool_pfn(r->pool, pt), now);
}

/**
 * reclaim_start() - set up a freeing mode
 * @r: the state
 * @mode: which
 * @pool: where freed tables go
 * @iommu: what is flushed
 *
 * Return: 0 or a negative errno.
 */
int reclaim_start(struct reclaim *r, enum mode mode, struct pool *pool, struct iommu *iommu)
{
	struct pgfree_config cfg = {
		.ops = { .flush = pgfree_iommu_flush, .release = pgfree_release },
		.ctx = r,
	};

	r->mode = mode;
	r->pool = pool;
	r->iommu = iommu;
	r->dom = NULL;
	atomic_init(&r->has_consumer, false);
	switch (mode) {
	case MODE_V5: {
		int err = v5_start(&r->v5, pool, iommu);

		if (!err) {
			r->consumer = r->v5.worker;
			atomic_store_explicit(&r->has_consumer, true, memory_order_relaxed);
		}
		return err;
	}
	case MODE_PGFREE:
		return pgfree_domain_create(&cfg, &r->dom);
	default:
		return 0;
	}
}

/**
 * reclaim_free_table() - free a table a CPU thread just unlinked
 * @ctx: the struct reclaim
 * @cpu: the CPU thread's counters
 * @pfn: the table
 *
 * The pagetable's ->free_table(); any CPU thread.  One free in FREE_SAMPLE
 * is timed (the same two clock reads around it in every mode).
 */
void reclaim_free_table(void *ctx, struct pt_cpu *cpu, unsigned int pfn)
{
	struct reclaim *r = ctx;
	bool timed = cpu->tables_freed % FREE_SAMPLE == 0;
	uint64_t t0 = timed ? pool_now_ns() : 0;
	int err;

	switch (r->mode) {
	case MODE_V5:
		v5_free_table(&r->v5, cpu, pfn, timed);
		break;
	case MODE_PGFREE:
		/* Release semantics: the unlink before the flush (point 1
		 * of iommu.c). */
		err = pgfree_defer(r->dom, &r->pool->desc[pfn].node);
		if (err) {
			fprintf(stderr, "pgfree_defer: %s\n", pgfree_strerror(err));
			abort();
		}
		break;
	default:
		pool_free(r->pool, pfn);	/* the bug: no flush */
		break;
	}
	if (timed) {
		cpu->free_ns += pool_now_ns() - t0;
		cpu->sampled++;
	}
}

/**
 * reclaim_consumer_cpu_ns() - CPU time of the v5 worker or the drain thread
 * @r: the state; the consumer must still be alive (before reclaim_stop())
 *
 * Return: nanoseconds since it started, 0 if unknown (mode none, or no
 * flush yet).
 */
uint64_t reclaim_consumer_cpu_ns(struct reclaim *r)
{
	clockid_t id;
	struct timespec ts;

	/* Acquire: pairs with the release in pgfree_iommu_flush(). */
	if (r->mode == MODE_NONE || !atomic_load_explicit(&r->has_consumer, memory_order_acquire))
		return 0;
	if (pthread_getcpuclockid(r->consumer, &id) || clock_gettime(id, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wake-ups of the drain thread (pgfree); v5 counts its own per CPU thread. */
uint64_t reclaim_wakeups(struct reclaim *r)
{
	struct pgfree_stats st;

	if (r->mode != MODE_PGFREE || pgfree_stats(r->dom, &st))
		return 0;
	return st.wakeups;
}

/**
 * reclaim_stop() - flush and free everything still queued, stop the mode
 * @r: the state
 *
 * After the kernel thread stopped; the devices may still run.
 *
 * Return: 0 or a negative errno.
 */
int reclaim_stop(struct reclaim *r)
{
	switch (r->mode) {
	case MODE_V5:
		v5_stop(&r->v5);
		return 0;
	case MODE_PGFREE:
		return pgfree_domain_destroy(r->dom);
	default:
		return 0;
	}
}
