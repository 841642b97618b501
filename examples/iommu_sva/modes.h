/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * modes.h: the three ways the example frees an emptied page table: at once
 * (the bug), the v5 global list (Linux 6.19), or pgfree_defer().
 */
#ifndef IOMMU_SVA_MODES_H
#define IOMMU_SVA_MODES_H

#include <pthread.h>

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
 * @consumer: the thread that flushes (v5 worker, pgfree drain thread)
 * @has_consumer: @consumer is set (by the first flush, for pgfree)
 */
struct reclaim {
	enum mode mode;
	struct pool *pool;
	struct iommu *iommu;
	struct pgfree_domain *dom;
	struct v5 v5;
	pthread_t consumer;
	_Atomic bool has_consumer;
};

const char *mode_name(enum mode mode);
int reclaim_start(struct reclaim *r, enum mode mode, struct pool *pool, struct iommu *iommu);
void reclaim_free_table(void *ctx, struct pt_cpu *cpu, unsigned int pfn);
uint64_t reclaim_consumer_cpu_ns(struct reclaim *r);
uint64_t reclaim_wakeups(struct reclaim *r);
int reclaim_stop(struct reclaim *r);

#endif /* IOMMU_SVA_MODES_H */
