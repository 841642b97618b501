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

/*
 * The list's lock.  Linux's spin_lock() is a qspinlock (an MCS queue: each
 * waiter spins on its own line, a hand-off moves one line); this is
 * glibc's pthread spinlock (an exchange loop spinning on plain loads),
 * whose hand-off degrades as waiters are added.  With one CPU per thread
 * and two CPUs, at most one thread waits and the difference cannot show.
 * To follow the library's v5 port onto a queued lock, change the type and
 * these four functions; nothing else names the lock.  (A queued lock in
 * user space has a hazard the kernel's has not: a waiter preempted in the
 * queue stalls every waiter behind it; the kernel spins with preemption
 * off.)
 */
typedef pthread_spinlock_t v5_lock_t;

static inline void v5_lock_init(v5_lock_t *l)
{
	pthread_spin_init(l, PTHREAD_PROCESS_PRIVATE);
}

static inline void v5_lock_destroy(v5_lock_t *l)
{
	pthread_spin_destroy(l);
}

static inline void v5_lock(v5_lock_t *l)
{
	pthread_spin_lock(l);
}

static inline void v5_unlock(v5_lock_t *l)
{
	pthread_spin_unlock(l);
}

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
	v5_lock_t lock;
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
