// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The baselines with one global list under a spinlock, ported from the
 * kernel patches as faithfully as user space allows.
 *
 * V5: "[PATCH v5 6/8] mm: Introduce deferred freeing for kernel page
 * tables", Lu Baolu (patch by Dave Hansen), Fri, 19 Sep 2025,
 * Message-ID <20250919054007.472493-7-baolu.lu@linux.intel.com>; merged
 * unchanged in Linux 6.19, mm/pgtable-generic.c:
 *	pagetable_free_kernel():  spin_lock; list_add; spin_unlock;
 *				  schedule_work()          -- every free
 *	kernel_pgtable_work_func(): spin_lock; list_splice_tail_init;
 *				  spin_unlock; flush once; free each
 * V3, the version the review objected to: Lu Baolu's pte_free_kernel()
 * proposal as quoted in "Re: [PATCH v3 1/1] iommu/sva: Invalidate KVA
 * range on kernel TLB flush", Ethan Zhao, Sun, 10 Aug 2025 (linux-kernel
 * and iommu lists):
 *	pte_free_kernel_async():  guard(spinlock) { list_add; schedule_work() }
 *	kernel_pte_work_func():   flush; guard(spinlock) { free each }
 *
 * The port:
 *  - spin_lock is a queued spinlock, qspinlock.[ch]: a port of the
 *    kernel's own qspinlock algorithm (fast-path CAS, one "pending" waiter
 *    beside the holder, then an MCS queue in which each waiter spins on a
 *    line of its own), because that is what spin_lock() is on x86 and its
 *    hand-off does not degrade as waiters are added.  Not Concurrency
 *    Kit's ck_spinlock_mcs: an MCS lock pays a second locked instruction
 *    to unlock even uncontended (a CAS on the tail), where the kernel's
 *    unlock is a plain byte store, so at one producer it would err against
 *    the baseline; and the library would gain a dependency for a baseline.
 *    PGFREE_F_TAS_LOCK keeps the earlier lock, glibc's pthread_spin_lock()
 *    (an exchange loop whose waiters all spin on the lock word), so that a
 *    run shows the lock's share of the ratio beside the design's (the
 *    benchmark's *_tas rows).  Unlike the kernel, a holder can be
 *    preempted: user space cannot disable preemption under a spinlock.
 *    The benchmark keeps runs with more producers than CPUs apart
 *    (labelled oversubscribed) for that reason, and its lockstat build
 *    (lockstat.h) times every wait and hold, of either lock, so that a
 *    reader sees contention apart from preemption.
 *  - Both ports wake the worker AFTER the unlock.  V3 as posted calls
 *    schedule_work() inside the guard; in the kernel the woken worker cannot
 *    run on the holder's CPU before the unlock (spin_lock disabled
 *    preemption), so the lock is never held by a preempted task.  In user
 *    space a wake under the lock lets the worker preempt the holder and spin
 *    on the lock it still holds; waking after the unlock is the closest user
 *    space gets to what the kernel does.  (Only a V3 ->release() that defers
 *    into its own domain still wakes under the lock: it cannot drop it, and
 *    the worker it would wake is itself.)
 *  - schedule_work() is the work item's PENDING bit: an unconditional
 *    atomic exchange (x86's test_and_set_bit is a locked bts either way),
 *    and a wake-up only when it was clear.  The worker clears the bit before
 *    it runs, as process_one_work() does.
 *  - The worker: the kernel's schedule_work() queues on the calling CPU's
 *    worker pool, and the kworker that runs it has no batching delay; here
 *    one drain thread, placed by the scheduler, runs the work.  The
 *    benchmark's "v5_kernel" row runs this port as the kernel does (no
 *    gathering delay: PGFREE_F_NO_DELAY); its "v5" rows run it under
 *    pgfree's batching policies, like every other design.
 *  - The lock, the list head and the pending bit share a cache line, as
 *    the kernel's static struct does.
 *  - list_add on a struct list_head also writes the previous first entry's
 *    ->prev (another CPU's cache line); the descriptor here has a single
 *    ->next, so the port does less work under the lock than the kernel:
 *    the comparison errs in the baseline's favour.
 *  - V3 as posted flushed BEFORE taking the lock and then freed everything
 *    on the list, including entries added after the flush began: a real
 *    violation of the invariant.  The port detaches first, flushes, and then
 *    releases while holding the global lock, which keeps what the review
 *    objected to (producers wait for the frees) and stays correct.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "domain.h"
#include "lockstat_hooks.h"
#include "qspinlock.h"
#include "wake.h"

/*
 * The global list, its lock and the work item's PENDING bit, on one cache
 * line as in the kernel's static struct.  One of the two locks is used,
 * chosen at create (PGFREE_F_TAS_LOCK): by the ops table, not by a flag on
 * this line, which a defer would then read before its lock's CAS (a read
 * and an upgrade where the kernel's spin_lock() pays one transfer).
 */
struct locked_list {
	struct pgfree_qspin qlock;	/* the default: the kernel's kind */
	pthread_spinlock_t tas;		/* PGFREE_F_TAS_LOCK */
	struct pgfree_llist_head list;	/* plain accesses, under the lock */
	_Atomic uint32_t pending;	/* the work item's PENDING bit */
	bool fork_locked;		/* fork.c: lock taken for fork() */
} pgfree_cacheline_aligned;

/*
 * @tas is a constant in every caller (the functions below are generated
 * once per lock by LOCKED_OPS()), so the compiler keeps one branch.
 */
static __attribute__((always_inline)) inline void ll_lock_raw(struct locked_list *l, bool tas)
{
	if (tas)
		pthread_spin_lock(&l->tas);
	else
		pgfree_qspin_lock(&l->qlock);
}

static __attribute__((always_inline)) inline void ll_unlock_raw(struct locked_list *l, bool tas)
{
	if (tas)
		pthread_spin_unlock(&l->tas);
	else
		pgfree_qspin_unlock(&l->qlock);
}

/* spin_lock(), timed in the lockstat build (lockstat_hooks.h). */
static __attribute__((always_inline)) inline void ll_lock(struct locked_list *l, bool tas,
							   struct pgfree_ls_stamp *ls)
{
	pgfree_ls_before_lock(ls);
	ll_lock_raw(l, tas);
	pgfree_ls_locked(ls);
}

/* spin_unlock(), likewise. */
static __attribute__((always_inline)) inline void ll_unlock(struct locked_list *l, bool tas,
							     struct pgfree_ls_stamp *ls)
{
	pgfree_ls_before_unlock(ls);
	ll_unlock_raw(l, tas);
	pgfree_ls_unlocked(ls);
}

/*
 * The V3 domains whose lock this thread holds while it runs their
 * ->release(): a stack, because one domain's ->release() may drive another
 * V3 domain (drain it, or defer into it) and must still see the outer one.
 */
struct v3_held {
	const struct pgfree_domain *dom;
	struct v3_held *prev;
};
static __thread struct v3_held *v3_held_top;

static bool v3_lock_held_by_me(const struct pgfree_domain *dom)
{
	for (const struct v3_held *h = v3_held_top; h; h = h->prev)
		if (h->dom == dom)
			return true;
	return false;
}

static struct locked_list *locked(struct pgfree_domain *dom)
{
	return dom->design_priv;
}

static int locked_init(struct pgfree_domain *dom)
{
	struct locked_list *l = aligned_alloc(PGFREE_CACHELINE, sizeof(*l));

	if (!l)
		return -ENOMEM;
	pgfree_qspin_init(&l->qlock);
	pthread_spin_init(&l->tas, PTHREAD_PROCESS_PRIVATE);
	pgfree_init_llist_head(&l->list);
	atomic_init(&l->pending, 0);
	dom->design_priv = l;
	dom->nr_slots = 1;
	return 0;
}

static void locked_fini(struct pgfree_domain *dom)
{
	struct locked_list *l = locked(dom);

	pthread_spin_destroy(&l->tas);
	free(l);
	dom->design_priv = NULL;
}

/*
 * schedule_work(): set PENDING; queue (wake the worker) only if it was clear.
 * Relaxed exchange: the list itself is published by the spinlock; the
 * Dekker pairing with the sleeping worker is the fence in
 * pgfree_wake_if_parked() (wake.h).
 */
static void schedule_work(struct pgfree_domain *dom, struct locked_list *l)
{
	if (!atomic_exchange_explicit(&l->pending, 1, memory_order_relaxed))
		pgfree_wake_if_parked(dom);
}

static __attribute__((always_inline)) inline int v5_defer_with(struct pgfree_domain *dom,
							  struct pgfree_llist_node *node, bool tas)
{
	struct locked_list *l = locked(dom);
	struct pgfree_ls_stamp ls;

	ll_lock(l, tas, &ls);
	__pgfree_llist_add(node, &l->list);
	ll_unlock(l, tas, &ls);
	schedule_work(dom, l);
	return 0;
}

static __attribute__((always_inline)) inline int v3_defer_with(struct pgfree_domain *dom,
							  struct pgfree_llist_node *node, bool tas)
{
	struct locked_list *l = locked(dom);

	/* From inside its own ->release(): this thread holds the lock already. */
	if (v3_lock_held_by_me(dom)) {
		__pgfree_llist_add(node, &l->list);
		schedule_work(dom, l);
		return 0;
	}
	struct pgfree_ls_stamp ls;

	ll_lock(l, tas, &ls);
	__pgfree_llist_add(node, &l->list);
	ll_unlock(l, tas, &ls);
	/* After the unlock: see "Both ports wake the worker AFTER the unlock". */
	schedule_work(dom, l);
	return 0;
}

/*
 * Clearing PENDING before splicing is what makes the pending bit a
 * faithful "has work" signal: an add whose schedule_work() found the bit
 * set either was spliced here or sets it again after this clear (see the
 * correctness argument in drain.c, step 5, and docs).
 */
static __attribute__((always_inline)) inline void __locked_take(struct pgfree_domain *dom,
								 struct pgfree_batch *batch, bool tas)
{
	struct locked_list *l = locked(dom);
	struct pgfree_llist_node *chain;
	struct pgfree_ls_stamp ls;

	atomic_exchange_explicit(&l->pending, 0, memory_order_relaxed);
	ll_lock(l, tas, &ls);
	chain = __pgfree_llist_del_all(&l->list);
	ll_unlock(l, tas, &ls);
	pgfree_batch_add(dom, batch, 0, chain);
}

static bool locked_has_work(struct pgfree_domain *dom)
{
	return atomic_load_explicit(&locked(dom)->pending, memory_order_relaxed);
}

static __attribute__((always_inline)) inline uint64_t __locked_count(struct pgfree_domain *dom,
								    uint64_t limit, bool tas)
{
	struct locked_list *l = locked(dom);
	const struct pgfree_llist_node *node;
	uint64_t n = 0;

	struct pgfree_ls_stamp ls;

	ll_lock(l, tas, &ls);
	node = atomic_load_explicit(&l->list.first, memory_order_relaxed);
	for (; node && n < limit; node = node->next)
		n++;
	ll_unlock(l, tas, &ls);
	return n;
}

static __attribute__((always_inline)) inline void __v5_release_with(
	struct pgfree_domain *dom, void (*fn)(struct pgfree_domain *dom, void *arg), void *arg,
	bool tas)
{
	(void)tas;
	fn(dom, arg);
}

/* V3: the frees run under the global lock; producers wait meanwhile. */
static __attribute__((always_inline)) inline void __v3_release_with(
	struct pgfree_domain *dom, void (*fn)(struct pgfree_domain *dom, void *arg), void *arg,
	bool tas)
{
	struct locked_list *l = locked(dom);
	struct v3_held held = { .dom = dom, .prev = v3_held_top };
	struct pgfree_ls_stamp ls;

	ll_lock(l, tas, &ls);
	v3_held_top = &held;
	fn(dom, arg);
	v3_held_top = held.prev;
	ll_unlock(l, tas, &ls);
}

/*
 * fork(): a producer of another thread may hold the spinlock; the child
 * would inherit it held forever.  Unless this thread holds it already (a
 * V3 ->release() that forks), take it across the fork.
 */
static __attribute__((always_inline)) inline void locked_fork_lock(struct pgfree_domain *dom,
								   bool tas)
{
	struct locked_list *l = locked(dom);

	/* Not timed: fork() holds it as long as it takes, which is no contention. */
	l->fork_locked = !v3_lock_held_by_me(dom);
	if (l->fork_locked)
		ll_lock_raw(l, tas);
}

/*
 * In the parent, an unlock.  In the child, the queued lock is made free and
 * empty instead: its queue may hold the parent's other threads, which the
 * child does not have (qspinlock.h).  A V3 child whose ->release() forked
 * holds the lock in that frame and keeps it.
 */
static __attribute__((always_inline)) inline void locked_fork_unlock(struct pgfree_domain *dom,
								     bool child, bool tas)
{
	struct locked_list *l = locked(dom);

	if (l->fork_locked) {
		if (child && !tas)
			pgfree_qspin_reset(&l->qlock);
		else
			ll_unlock_raw(l, tas);
	}
	l->fork_locked = false;
}

/*
 * One set of functions and one ops table per design and lock: the lock is
 * a constant in each, so a defer reads nothing to choose it.
 */
#define LOCKED_OPS(name, design, tas)                                                     \
	static int name##_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node) \
	{                                                                                  \
		return design##_defer_with(dom, node, tas);                                \
	}                                                                                  \
	static void __##name##_take(struct pgfree_domain *dom, struct pgfree_batch *batch) \
	{                                                                                  \
		__locked_take(dom, batch, tas);                                            \
	}                                                                                  \
	static uint64_t __##name##_count(struct pgfree_domain *dom, uint64_t limit)        \
	{                                                                                  \
		return __locked_count(dom, limit, tas);                                    \
	}                                                                                  \
	static void __##name##_release(struct pgfree_domain *dom,                          \
				       void (*fn)(struct pgfree_domain *, void *), void *arg) \
	{                                                                                  \
		__##design##_release_with(dom, fn, arg, tas);                              \
	}                                                                                  \
	static void name##_fork_lock(struct pgfree_domain *dom)                            \
	{                                                                                  \
		locked_fork_lock(dom, tas);                                                \
	}                                                                                  \
	static void name##_fork_unlock(struct pgfree_domain *dom, bool child)              \
	{                                                                                  \
		locked_fork_unlock(dom, child, tas);                                       \
	}                                                                                  \
	const struct pgfree_design_ops pgfree_##name##_ops = {                             \
		.init = locked_init,                                                       \
		.fini = locked_fini,                                                       \
		.defer = name##_defer,                                                     \
		.__take = __##name##_take,                                                 \
		.has_work = locked_has_work,                                               \
		.__count = __##name##_count,                                               \
		.__release = __##name##_release,                                           \
		.fork_lock = name##_fork_lock,                                             \
		.fork_unlock = name##_fork_unlock,                                         \
	}

LOCKED_OPS(v5, v5, false);
LOCKED_OPS(v5_tas, v5, true);
LOCKED_OPS(v3, v3, false);
LOCKED_OPS(v3_tas, v3, true);
