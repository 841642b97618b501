/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_RCU_H
#define PGFREE_RCU_H
/*
 * pgfree_rcu: an RCU grace-period stage for a pgfree domain (libpgfree_rcu,
 * needs liburcu).
 *
 * What it is for: a page-table page may be reachable by two kinds of
 * walker.  Hardware walkers (an IOMMU) cache walks, and pgfree's ->flush()
 * invalidates those caches.  Software walkers (lock-less page-table walks,
 * or any RCU reader of a tree of descriptors) hold a pointer obtained under
 * rcu_read_lock(); only a grace period proves they let go.  The stage adds
 * that grace period to every batch, "amortized over the batch": ONE
 * synchronize_rcu() per ->flush() however many descriptors the batch holds,
 * instead of one call_rcu() or synchronize_rcu() per descriptor.
 *
 * How: pgfree_rcu_stage_init() takes the user's struct pgfree_config, saves
 * its ops and ctx in the stage, and rewrites cfg->ops/cfg->ctx so that the
 * domain calls the stage; the stage's flush runs the user's ->flush() and,
 * only when that returned 0, the flavor's synchronize.  ->release() and
 * ->range_of() are passed through to the user's, with the user's ctx.
 *
 * The order, user flush then grace period, is chosen because:
 *  - a failing user flush then costs no grace period: the batch is kept and
 *    retried by pgfree, and the retry's grace period covers it;
 *  - both steps begin after every descriptor of the batch was queued
 *    (inside its pgfree_defer(); pgfree's guarantee for ->flush()), so the
 *    grace period begins after each descriptor was unlinked, which is all RCU needs: a reader that could
 *    have obtained a descriptor began before the unlink, so it has ended
 *    when synchronize returns, and ->release() runs after that.
 * It is wrong only if an RCU reader can itself create a secondary-TLB entry
 * through a descriptor it holds (the flush would then have to follow the
 * grace period); readers of page tables and IOMMU walks are independent,
 * so this stage does not support that case.
 *
 * The flavor: the default is liburcu's urcu-memb (urcu_memb_synchronize_rcu);
 * the readers must then be urcu-memb readers (<urcu/urcu-memb.h>, registered
 * threads, urcu_memb_read_lock()).  Another flavor is any
 * void (*)(void) that waits for a grace period of the readers' flavor.
 *
 * Which calls may run at the same time (besides pgfree.h's table):
 *
 *                      | stage_init | stats | domain calls | rcu_read_lock
 * stage_init           |     X      |   X   |      X       |      -
 * stats                |            |   -   |      -       |      -
 * domain calls         |            |       |  (pgfree.h)  |      R
 *
 *  '-': run together freely
 *  'X': not at the same time on one stage: init before the domain exists
 *  'R': pgfree_defer() may be called inside a read-side critical section;
 *       pgfree_drain(), pgfree_barrier() and pgfree_domain_destroy() must
 *       NOT (they wait for a grace period that waits for the caller: a
 *       self-deadlock), and neither may the user's ->flush().
 *
 * One stage serves one domain, and must outlive it (until
 * pgfree_domain_destroy() returned).  Errors are negative errno values.
 */

#include <stdint.h>

#include <pgfree/pgfree.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Waits for a grace period of one RCU flavor; see pgfree_rcu_stage_init(). */
typedef void (*pgfree_rcu_sync_fn)(void);

/**
 * struct pgfree_rcu_stats - a snapshot of a stage's counters
 * @grace_periods: synchronize calls that returned; one per ->flush() of the
 *	domain that returned 0, so it equals struct pgfree_stats.flushes
 * @flush_failures: user ->flush() calls that failed (no grace period was
 *	waited for them)
 * @gp_ns_total: nanoseconds spent inside synchronize, all calls together
 * @gp_ns_max: the longest single synchronize, in nanoseconds
 */
struct pgfree_rcu_stats {
	uint64_t grace_periods;
	uint64_t flush_failures;
	uint64_t gp_ns_total;
	uint64_t gp_ns_max;
};

/**
 * struct pgfree_rcu_stage - the stage; fields are private
 *
 * Embed it or allocate it; pgfree_rcu_stage_init() sets every field.
 * The counters are atomics (PGFREE_ATOMIC, from <pgfree/llist.h>, so that
 * the header also compiles as C++) written by the domain's drain (one at a time)
 * and read by pgfree_rcu_stage_stats() from any thread.
 */
struct pgfree_rcu_stage {
	/* private: */
	struct pgfree_ops user_ops;
	void *user_ctx;
	pgfree_rcu_sync_fn synchronize;
	PGFREE_ATOMIC(uint64_t) grace_periods;
	PGFREE_ATOMIC(uint64_t) flush_failures;
	PGFREE_ATOMIC(uint64_t) gp_ns_total;
	PGFREE_ATOMIC(uint64_t) gp_ns_max;
};

/**
 * pgfree_rcu_stage_init() - put a grace period into a domain's flush
 * @st: the stage to set up
 * @cfg: the user's configuration, with the user's ->flush, ->release,
 *	optional ->range_of and ctx; rewritten in place so that the domain
 *	calls the stage (ops and ctx only; every other field is left alone).
 *	Pass it to pgfree_domain_create() afterwards.
 * @synchronize: the flavor's "wait for a grace period"; NULL means
 *	urcu-memb's urcu_memb_synchronize_rcu()
 *
 * The user's callbacks keep receiving the user's ctx.  The stage's flush is
 * called by pgfree once per batch; it calls the user's ->flush() and, if
 * that returned 0, @synchronize once, then returns 0; otherwise it returns
 * the user's error and waits for nothing (pgfree keeps the batch).
 *
 * Context: any thread, before pgfree_domain_create(@cfg); not while a
 * domain already uses @st.  Does not sleep; no barriers implied.
 *
 * Return: 0; -EINVAL if @st or @cfg is NULL, if @cfg->ops.flush or
 * @cfg->ops.release is NULL, or if @cfg already goes through a stage
 * (a second grace period per batch would only add latency).
 */
int pgfree_rcu_stage_init(struct pgfree_rcu_stage *st, struct pgfree_config *cfg,
			  pgfree_rcu_sync_fn synchronize);

/**
 * pgfree_rcu_stage_stats() - read a stage's counters
 * @st: the stage
 * @out: the snapshot
 *
 * Each counter is read atomically but not all at once: while the domain
 * drains, the figures may belong to successive batches.  Read after
 * pgfree_barrier() (or a drain, or destroy) returned, they are exact:
 * those calls order the stage's flush before their return.
 *
 * Context: any thread, inside an RCU read-side critical section included.
 * No barriers implied (relaxed loads).
 *
 * Return: 0; -EINVAL if @st or @out is NULL.
 */
int pgfree_rcu_stage_stats(const struct pgfree_rcu_stage *st, struct pgfree_rcu_stats *out);

/**
 * pgfree_rcu_synchronize_memb() - the default flavor: one urcu-memb grace
 * period
 *
 * urcu_memb_synchronize_rcu(), exported so that a caller wrapping the
 * default (to count or time it) need not include liburcu's headers.
 *
 * Context: a thread that may sleep, NOT inside an urcu-memb read-side
 * critical section (it would wait for itself).  Barriers: as
 * synchronize_rcu(): every read-side critical section that began before
 * the call has ended, and its accesses happen-before the return.
 */
void pgfree_rcu_synchronize_memb(void);

#ifdef __cplusplus
}
#endif

#endif /* PGFREE_RCU_H */
