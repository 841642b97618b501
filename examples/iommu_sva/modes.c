// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * modes.c: how the kernel thread's emptied tables are freed, per mode.
 *
 *  none:   pool_free() at once, no IOMMU flush: the bug of seed 003.  The
 *          devices' paging-structure caches keep pointers to the page, and
 *          their walks read it poisoned or reused.
 *  v5:     v5.c, the Linux 6.19 design.
 *  pgfree: pgfree_defer(); pgfree's drain calls iommu_flush_all() once per
 *          batch, then hands the batch back here to be freed.
 */
#include <stdio.h>
#include <stdlib.h>

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
	iommu_flush_all(r->iommu);
	return 0;
}

/* ->release(): the batch is flushed, the tables go back to the pool. */
static void pgfree_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct reclaim *r = ctx;
	struct ptdesc *pt, *next;

	pgfree_llist_for_each_entry_safe(pt, next, batch, node)
		pool_free(r->pool, pool_pfn(r->pool, pt));
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
	switch (mode) {
	case MODE_V5:
		return v5_start(&r->v5, pool, iommu);
	case MODE_PGFREE:
		return pgfree_domain_create(&cfg, &r->dom);
	default:
		return 0;
	}
}

/**
 * reclaim_free_table() - free a table the kernel thread just unlinked
 * @ctx: the struct reclaim
 * @pfn: the table
 *
 * The pagetable's ->free_table(); kernel thread.
 */
void reclaim_free_table(void *ctx, unsigned int pfn)
{
	struct reclaim *r = ctx;
	int err;

	switch (r->mode) {
	case MODE_V5:
		v5_free_table(&r->v5, pfn);
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
