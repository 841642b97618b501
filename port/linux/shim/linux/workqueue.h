/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_WORKQUEUE_H
#define _SHIM_LINUX_WORKQUEUE_H
/*
 * A user-space system workqueue with the kernel's PENDING-bit semantics,
 * the part the ported code's "no lost wake-up" argument depends on:
 *
 *  - queue_work() atomically sets PENDING; only the caller that set it
 *    (0 -> 1) queues the work, and it returns true; otherwise it returns
 *    false and the already-queued execution will see the caller's earlier
 *    stores (kernel: test_and_set_bit() is fully ordered even when the bit
 *    was already set).
 *  - the worker clears PENDING *before* it calls the function (kernel:
 *    set_work_pool_and_clear_pending() then smp_mb() in process_one_work()),
 *    so a queue_work() that runs after the clear queues the work again;
 *  - a work item never runs concurrently with itself (one worker thread;
 *    the kernel's non-reentrancy guarantee).
 *
 * Memory order (see workqueue.c for the argument): queue_work() sets
 * PENDING with an acq_rel fetch_or and the worker clears it with an acq_rel
 * fetch_and.  Every write to the word is an RMW, so the clear reads from a
 * release sequence headed by each fetch_or that came before it: whatever a
 * caller did before queue_work() happens-before the execution that
 * follows the clear.  (The kernel uses a store and smp_mb() for the clear;
 * in C11 a standalone fence would need seq_cst fences on both sides, which
 * ThreadSanitizer does not model, while the RMW gives the same guarantee
 * and TSan checks it.)
 *
 * flush_work() waits until the work is neither queued nor running, a
 * stronger wait than the kernel's (which waits only for the execution
 * queued when it was called); it may wait forever if producers keep
 * queueing.  The tests call it after the producers stopped.
 */
#include <stdatomic.h>
#include <linux/compiler.h>

struct work_struct;
typedef void (*work_func_t)(struct work_struct *work);

/**
 * struct work_struct - a work item
 * @data: WORK_STRUCT_PENDING; only changed by atomic RMWs
 * @func: what the worker calls
 * @entry: next in the worker's queue; under the queue's mutex
 */
struct work_struct {
	atomic_ulong data;
	work_func_t func;
	struct work_struct *entry;
};

#define WORK_STRUCT_PENDING	1UL

#define __WORK_INITIALIZER(n, f)	{ .data = 0, .func = (f), .entry = NULL }
#define DECLARE_WORK(n, f)		struct work_struct n = __WORK_INITIALIZER(n, f)

static inline void INIT_WORK(struct work_struct *work, work_func_t func)
{
	atomic_init(&work->data, 0);
	work->func = func;
	work->entry = NULL;
}

/*
 * The kernel's workqueues differ in where and how their workers run
 * (system_wq per CPU, system_dfl_wq unbound); the PENDING protocol is the
 * same on all of them.  The shim has one worker thread behind every
 * workqueue, so these are only names that queue_work() accepts.
 */
struct workqueue_struct;
extern struct workqueue_struct *system_wq;
extern struct workqueue_struct *system_dfl_wq;

/* Queue @work on @wq; true when this call queued it (set PENDING). */
bool queue_work(struct workqueue_struct *wq, struct work_struct *work);

/* Queue @work on the system workqueue; true when this call queued it. */
static inline bool schedule_work(struct work_struct *work)
{
	return queue_work(system_wq, work);
}

/* Wait until @work is neither pending nor running (see above). */
bool flush_work(struct work_struct *work);

/*
 * Wait until the system workqueue is idle: nothing queued, nothing running.
 * (Deprecated in the kernel for real code; the test's "nothing lost" check
 * needs it because the ported file's work item is static.)
 */
void flush_scheduled_work(void);

/*
 * Wait until @wq is idle.  One worker runs every workqueue here, so this
 * is flush_scheduled_work(): the whole shim workqueue is idle.
 */
void flush_workqueue(struct workqueue_struct *wq);

/* Whether PENDING is set (a relaxed load: a hint, as in the kernel). */
static inline bool work_pending(struct work_struct *work)
{
	return atomic_load_explicit(&work->data, memory_order_relaxed) & WORK_STRUCT_PENDING;
}

/* Test support: executions of work functions so far (any work). */
unsigned long shim_workqueue_runs(void);

#endif /* _SHIM_LINUX_WORKQUEUE_H */
