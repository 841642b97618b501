/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * modes.h: the three ways the example frees an emptied page table: at once
 * (the bug), the v5 global list (Linux 6.19), or pgfree_defer().
 */
#ifndef IOMMU_SVA_MODES_H
#define IOMMU_SVA_MODES_H

#include <pgfree/pgfree.h>

#include "iommu.h"
#include "pool.h"
#include "v5.h"

enum mode { MODE_NONE, MODE_V5, MODE_PGFREE, MODE_COUNT };

/**
 * struct reclaim - the freeing mode of one run
 * @mode: which
 * @pool: where freed tables go
 * @iommu: what a deferred free flushes
 * @dom: the pgfree domain (MODE_PGFREE)
 * @v5: the v5 list and worker (MODE_V5)
 */
struct reclaim {
	enum mode mode;
	struct pool *pool;
	struct iommu *iommu;
	struct pgfree_domain *dom;
	struct v5 v5;
};

const char *mode_name(enum mode mode);
int reclaim_start(struct reclaim *r, enum mode mode, struct pool *pool, struct iommu *iommu);
void reclaim_free_table(void *ctx, unsigned int pfn);
int reclaim_stop(struct reclaim *r);

#endif /* IOMMU_SVA_MODES_H */
