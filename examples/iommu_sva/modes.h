/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * modes.h: the ways the example frees an emptied page table: at once (the
 * bug), the v5 global list (Linux 6.19), or pgfree_defer(), whose flushed
 * tables either come back to the CPU thread that freed them
 * (pgfree_take_back(): mode pgfree) or are freed by the drain thread
 * (->release(): mode pgfree_release).
 */
#ifndef IOMMU_SVA_MODES_H
#define IOMMU_SVA_MODES_H

#include <pthread.h>

#include <pgfree/pgfree.h>

#include "iommu.h"
#include "pool.h"
#include "v5.h"

enum mode { MODE_NONE, MODE_V5, MODE_PGFREE, MODE_PGFREE_RELEASE, MODE_COUNT };

/* Mode pgfree: a CPU thread takes back after this many frees (and when its
 * part is dry); see README, "Take-back". */
#define TAKE_BACK_EVERY	1

/**
 * struct reclaim_cfg - how the pgfree modes are set up (the command line)
 * @take_back_every: mode pgfree: a CPU thread takes back after this many
 *	frees; 0: only when its part is dry
 * @take_back_us: mode pgfree: the domain's take_back_us (0: the library's
 *	default, PGFREE_DEFAULT_TAKE_BACK_US)
 * @batch_delay_us: modes pgfree and pgfree_release: the domain's
 *	batch_delay_us (0: the library's default)
 * @no_delay: modes pgfree and pgfree_release: PGFREE_F_NO_DELAY instead
 */
struct reclaim_cfg {
	unsigned int take_back_every, take_back_us, batch_delay_us;
	bool no_delay;
};

/**
 * struct reclaim - the freeing mode of one run
 * @mode: which
 * @pool: where freed tables go
 * @iommu: what a deferred free flushes
 * @dom: the pgfree domain (MODE_PGFREE, MODE_PGFREE_RELEASE)
 * @v5: the v5 list and worker (MODE_V5)
 * @take_back_every: MODE_PGFREE: as struct reclaim_cfg
 * @consumer: the thread that flushes (v5 worker, pgfree drain thread)
 * @has_consumer: @consumer is set (by the first flush, for pgfree)
 */
struct reclaim {
	enum mode mode;
	struct pool *pool;
	struct iommu *iommu;
	struct pgfree_domain *dom;
	struct v5 v5;
	unsigned int take_back_every;
	pthread_t consumer;
	_Atomic bool has_consumer;
};

const char *mode_name(enum mode mode);
int reclaim_start(struct reclaim *r, enum mode mode, struct pool *pool, struct iommu *iommu,
		  const struct reclaim_cfg *cfg);
void reclaim_free_table(void *ctx, struct pt_cpu *cpu, unsigned int pfn);
unsigned long reclaim_refill(void *ctx, struct pt_cpu *cpu);
uint64_t reclaim_consumer_cpu_ns(struct reclaim *r);
int reclaim_lib_stats(struct reclaim *r, struct pgfree_stats *st);
int reclaim_stop(struct reclaim *r);

#endif /* IOMMU_SVA_MODES_H */
