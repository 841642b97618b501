/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * v5.h: a model of Linux 6.19's deferred kernel page-table freeing (seed
 * 001, "v5"): one global list under a spinlock, schedule_work() on every
 * free, a worker that splices the list, flushes the IOMMU once and frees.
 */
#ifndef IOMMU_SVA_V5_H
#define IOMMU_SVA_V5_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

#include "iommu.h"
#include "pagetable.h"
#include "pool.h"

/**
 * struct v5 - the global list and its work item
 * @lock: kernel_pgtable_work.lock
 * @list: kernel_pgtable_work.list (LIFO here; the order does not matter)
 * @pending: the work item's PENDING bit
 * @mutex: with @cond, the worker's sleep (the workqueue's)
 * @cond: signalled when @pending is set or @stop
 * @stop: the worker exits once the list is empty (under @mutex)
 * @worker: the worker thread
 * @pool: where freed tables go
 * @iommu: what is flushed
 */
struct v5 {
	pthread_spinlock_t lock;
	struct pgfree_llist_node *list;
	_Atomic bool pending;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	bool stop;
	pthread_t worker;
	struct pool *pool;
	struct iommu *iommu;
};

int v5_start(struct v5 *v5, struct pool *pool, struct iommu *iommu);
void v5_free_table(struct v5 *v5, struct pt_cpu *cpu, unsigned int pfn, bool timed);
void v5_stop(struct v5 *v5);

#endif /* IOMMU_SVA_V5_H */
