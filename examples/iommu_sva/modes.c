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
#include <string.h>
#include <time.h>

#include "modes.h"

static const char *const mode_names[MODE_COUNT] = {
	[MODE_NONE] = "none",
	[MODE_V5] = "v5",
	[MODE_PGFREE] = "pgfree",
	[MODE_PGFREE_RELEASE] = "pgfree_release",
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

/* ->release(): the batch is flushed, the tables go back to the pool, on
 * the drain thread (mode pgfree_release; in mode pgfree, the chains nobody
 * took back in time, and at destroy). */
static void pgfree_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct reclaim *r = ctx;

	pool_free_chain(r->pool, -1, batch, pool_now_ns(), NULL);
}

/**
 * reclaim_start() - set up a freeing mode
 * @r: the state
 * @mode: which
 * @pool: where freed tables go
 * @iommu: what is flushed
 * @rc: the pgfree modes' settings
 *
 * Return: 0 or a negative errno.
 */
int reclaim_start(struct reclaim *r, enum mode mode, struct pool *pool, struct iommu *iommu,
		  const struct reclaim_cfg *rc)
{
	struct pgfree_config cfg = {
		.ops = { .flush = pgfree_iommu_flush, .release = pgfree_release },
		.ctx = r,
		.flags = rc->no_delay ? PGFREE_F_NO_DELAY : 0,
		.batch_delay_us = rc->no_delay ? 0 : rc->batch_delay_us,
	};

	r->mode = mode;
	r->pool = pool;
	r->iommu = iommu;
	r->dom = NULL;
	r->take_back_every = rc->take_back_every;
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
		cfg.flags |= PGFREE_F_TAKE_BACK;
		cfg.take_back_us = rc->take_back_us;
		return pgfree_domain_create(&cfg, &r->dom);
	case MODE_PGFREE_RELEASE:
		return pgfree_domain_create(&cfg, &r->dom);
	default:
		return 0;
	}
}

/*
 * Take back this CPU's flushed tables: poison them and put them back in
 * the pool, this thread's own frames on its private list (mode pgfree;
 * the CPU thread @cpu only).  One call in FREE_SAMPLE is timed, counted on
 * the calls so that the sample does not depend on what a call finds.
 */
static unsigned long take_back(struct reclaim *r, struct pt_cpu *cpu)
{
	bool timed = cpu->take_backs % FREE_SAMPLE == 0;
	uint64_t t0 = timed ? pool_now_ns() : 0;
	struct pgfree_chain c;
	unsigned long foreign = 0;
	long n;

	cpu->take_backs++;
	cpu->since_take_back = 0;
	/* Acquire inside: the flush that covered these tables returned
	 * before we poison them (lib/takeback.c). */
	n = pgfree_take_back(r->dom, &c);
	if (n < 0) {
		fprintf(stderr, "pgfree_take_back: %s\n", pgfree_strerror((int)n));
		abort();
	}
	if (n) {
		pool_free_chain(r->pool, cpu->part, c.first, pool_now_ns(), &foreign);
		cpu->taken_back += (uint64_t)n;
		cpu->taken_foreign += foreign;
	}
	if (timed) {
		cpu->take_back_ns += pool_now_ns() - t0;
		cpu->take_back_sampled++;
	}
	return (unsigned long)n;
}

/**
 * reclaim_refill() - give a dry CPU thread its flushed tables back
 * @ctx: the struct reclaim
 * @cpu: the calling CPU thread, whose part is dry
 *
 * The pagetable's ->refill(): mode pgfree takes back; the other modes
 * have nothing to take.
 *
 * Return: the frames put back.
 */
unsigned long reclaim_refill(void *ctx, struct pt_cpu *cpu)
{
	struct reclaim *r = ctx;

	return r->mode == MODE_PGFREE ? take_back(r, cpu) : 0;
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
	case MODE_PGFREE_RELEASE:
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
	/* After the free, and timed apart from it: the take-back is the
	 * per-CPU pool's refill, not part of the free call. */
	if (r->mode == MODE_PGFREE && r->take_back_every &&
	    ++cpu->since_take_back >= r->take_back_every)
		take_back(r, cpu);
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

/**
 * reclaim_lib_stats() - the pgfree domain's counters (wake-ups of the drain
 *	thread, descriptors taken back and released)
 * @r: the state, before reclaim_stop()
 * @st: filled; zeroed for the modes without a domain (v5 counts its
 *	wake-ups per CPU thread)
 *
 * Return: 0 or a negative errno of pgfree_stats().
 */
int reclaim_lib_stats(struct reclaim *r, struct pgfree_stats *st)
{
	memset(st, 0, sizeof(*st));
	return r->dom ? pgfree_stats(r->dom, st) : 0;
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
	case MODE_PGFREE_RELEASE:
		return pgfree_domain_destroy(r->dom);
	default:
		return 0;
	}
}
