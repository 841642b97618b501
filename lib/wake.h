/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LIB_WAKE_H
#define PGFREE_LIB_WAKE_H
/*
 * Park and wake the drain thread without losing a wake-up.  Private.
 *
 * The sleeping side (pgfree_park(), the drain thread only) and the waking
 * side (pgfree_wake_if_parked(), any producer that just made work visible)
 * form a Dekker pair:
 *
 *   producer                          drain thread
 *   W(work)   [add / pending / kept]   W(parked = 1)
 *   fence(seq_cst)                     fence(seq_cst)
 *   R(parked)                          R(work)   [has_work()]
 *
 * The two fences are totally ordered.  If the producer's comes first, the
 * drain thread's read of the work sees the producer's write (or a later
 * one) and it does not sleep.  If the drain thread's comes first, the
 * producer's read of parked sees 1 and it wakes the thread.  Either way the
 * work is noticed: a wake-up cannot be lost.  The futex re-checks parked in
 * the kernel, so a wake that lands between the drain thread's check and its
 * sleep makes the sleep return at once.
 */
#include <stdatomic.h>

#include "domain.h"

void pgfree_wake(struct pgfree_domain *dom);
void pgfree_park(struct pgfree_domain *dom, uint64_t timeout_ns);
void pgfree_gather_sleep(struct pgfree_domain *dom, uint64_t ns);
void pgfree_gather_wake(struct pgfree_domain *dom);
void pgfree_wake_requests(struct pgfree_domain *dom);
void pgfree_flag_wait(_Atomic uint32_t *flag);
void pgfree_flag_set(_Atomic uint32_t *flag);

/**
 * pgfree_wake_if_parked() - wake the drain thread if it sleeps
 * @dom: the domain; the caller has just made work visible with an atomic
 *	write (the add that found its list empty, or a pending bit)
 *
 * Any context; the cost is one full fence and one load unless the thread
 * sleeps.
 */
/*
 * The protocol's fence.  ThreadSanitizer does not model fences and GCC warns
 * so (-Wtsan); the fence is still executed, and no data is published through
 * it (nodes travel by release CAS / acquire exchange, which TSan does model),
 * so the warning carries no information here.
 */
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wtsan"
#endif
static inline void pgfree_full_fence(void)
{
	atomic_thread_fence(memory_order_seq_cst);
}
#if defined(__SANITIZE_THREAD__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

static inline void pgfree_wake_if_parked(struct pgfree_domain *dom)
{
	/* Pairs with the fence in pgfree_park(): see the table above. */
	pgfree_full_fence();
	/* Relaxed: the fence orders it after the caller's write of the work. */
	if (atomic_load_explicit(&dom->parked, memory_order_relaxed))
		pgfree_wake(dom);
}

#endif /* PGFREE_LIB_WAKE_H */
