// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * v5.c: Linux 6.19's pagetable_free_kernel() and kernel_pgtable_work_func()
 * ("[PATCH v5 6/8] mm: Introduce deferred freeing for kernel page tables" (Dave Hansen / Lu Baolu, 19 Sep 2025, Message-ID <20250919054007.472493-7-baolu.lu@linux.intel.com>),
 * with the later patch's iommu_sva_invalidate_kva_range() in the
 * worker), in user space, to compare with pgfree on the same workload.
 *
 * Correct (a table is freed only after a flush that began after it was
 * queued: the worker splices under the lock, then flushes), but every free
 * takes the global lock and does a schedule_work().
 */
#include <errno.h>

#include "v5.h"

/* The work function: splice, flush once, free. */
static void v5_work(struct v5 *v5)
{
	struct pgfree_llist_node *batch, *next;
	uint64_t now;

	v5_lock(&v5->lock);
	batch = v5->list;
	v5->list = NULL;
	v5_unlock(&v5->lock);
	if (!batch)
		return;

	/* The lock's release/acquire put every unlink of the batch before
	 * this flush (point 1 of iommu.c). */
	iommu_flush_all(v5->iommu);
	now = pool_now_ns();
	for (; batch; batch = next) {
		next = batch->next;
		pool_free_at(v5->pool, pool_pfn(v5->pool,
						pgfree_llist_entry(batch, struct ptdesc, node)),
			     now);
	}
}

static void *v5_worker(void *arg)
{
	struct v5 *v5 = arg;

	for (;;) {
		bool stop;

		pthread_mutex_lock(&v5->mutex);
		/* Relaxed: @mutex orders it with the waker, which sets it
		 * before taking @mutex to signal. */
		while (!atomic_load_explicit(&v5->pending, memory_order_relaxed) && !v5->stop)
			pthread_cond_wait(&v5->cond, &v5->mutex);
		stop = v5->stop;
		pthread_mutex_unlock(&v5->mutex);

		/* The workqueue clears PENDING before it runs the function,
		 * so a free that races with the splice runs the work again.
		 * Relaxed: the list itself is ordered by its spinlock. */
		atomic_store_explicit(&v5->pending, false, memory_order_relaxed);
		v5_work(v5);
		if (stop) {
			v5_work(v5);	/* whatever came after the last run */
			return NULL;
		}
	}
}

/**
 * v5_start() - set up the list and start the worker
 * @v5: the state
 * @pool: where freed tables go
 * @iommu: what the worker flushes
 *
 * Return: 0 or a negative errno.
 */
int v5_start(struct v5 *v5, struct pool *pool, struct iommu *iommu)
{
	int err;

	v5->list = NULL;
	atomic_init(&v5->pending, false);
	v5->stop = false;
	v5->pool = pool;
	v5->iommu = iommu;
	v5_lock_init(&v5->lock);
	pthread_mutex_init(&v5->mutex, NULL);
	pthread_cond_init(&v5->cond, NULL);
	err = pthread_create(&v5->worker, NULL, v5_worker, v5);
	return -err;
}

/**
 * v5_free_table() - pagetable_free_kernel(): queue an unlinked table
 * @v5: the state
 * @cpu: the calling CPU thread's counters
 * @pfn: the table
 * @timed: time the lock wait and hold into @cpu (a sample)
 *
 * Any CPU thread.  The worker is woken after the unlock: a kernel
 * spinlock disables preemption, so schedule_work()'s wake-up can never
 * run while the lock is held by a preempted waker; doing it after the
 * unlock is the closest user space gets.
 */
void v5_free_table(struct v5 *v5, struct pt_cpu *cpu, unsigned int pfn, bool timed)
{
	struct ptdesc *pt = &v5->pool->desc[pfn];
	uint64_t t0 = timed ? pool_now_ns() : 0, t1 = 0;

	v5_lock(&v5->lock);
	if (timed)
		t1 = pool_now_ns();
	pt->node.next = v5->list;
	v5->list = &pt->node;
	v5_unlock(&v5->lock);
	if (timed) {
		uint64_t t2 = pool_now_ns();

		cpu->lock_wait_ns += t1 - t0;
		cpu->lock_hold_ns += t2 - t1;
	}

	/* schedule_work(): test_and_set_bit(PENDING), queue if it was clear.
	 * Relaxed: the list is ordered by the spinlock, and the wake-up by
	 * @mutex below. */
	if (!atomic_exchange_explicit(&v5->pending, true, memory_order_relaxed)) {
		cpu->wakeups++;
		pthread_mutex_lock(&v5->mutex);
		pthread_cond_signal(&v5->cond);
		pthread_mutex_unlock(&v5->mutex);
	}
}

/**
 * v5_stop() - flush and free everything queued, end the worker
 * @v5: the state
 *
 * After the kernel thread has stopped freeing.
 */
void v5_stop(struct v5 *v5)
{
	pthread_mutex_lock(&v5->mutex);
	v5->stop = true;
	pthread_cond_signal(&v5->cond);
	pthread_mutex_unlock(&v5->mutex);
	pthread_join(v5->worker, NULL);
	v5_lock_destroy(&v5->lock);
	pthread_mutex_destroy(&v5->mutex);
	pthread_cond_destroy(&v5->cond);
}
