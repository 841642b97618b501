// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The RCU grace-period stage: a struct pgfree_ops that wraps the user's and
 * waits for one grace period per batch, after the user's flush succeeded.
 *
 * Why this is enough for RCU (see also <pgfree/rcu.h>): pgfree calls
 * ->flush() only after every descriptor of the batch was detached, and a
 * descriptor is detached only after its pgfree_defer() linked it, which the
 * user does after unlinking it from the RCU-protected structure.  So the
 * synchronize below begins after each unlink; every reader that could have
 * loaded a pointer to a descriptor of the batch began before its unlink and
 * has left its read-side critical section when synchronize returns.
 * pgfree calls ->release() only after ->flush() returned 0, i.e. after
 * that.  A failed user flush returns before the grace period: pgfree keeps
 * the batch and a later flush, with its own grace period (which also began
 * after every unlink), covers it.
 *
 * The counters are written only here, by the domain's drain, which pgfree
 * runs one at a time; they are atomics only because pgfree_rcu_stage_stats()
 * reads them from other threads.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdatomic.h>
#include <stddef.h>
#include <time.h>

#include <pgfree/rcu.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int stage_flush(void *ctx, const struct pgfree_range *range)
{
	struct pgfree_rcu_stage *st = ctx;
	uint64_t t0, dt, max;
	int err;

	err = st->user_ops.flush(st->user_ctx, range);
	if (err) {
		/* Relaxed: a statistic; pgfree's drain orders it for barrier(). */
		atomic_fetch_add_explicit(&st->flush_failures, 1, memory_order_relaxed);
		return err;
	}

	t0 = now_ns();
	st->synchronize();
	dt = now_ns() - t0;

	/*
	 * Relaxed: statistics only.  Whoever needs them exact reads them after
	 * pgfree_barrier()/pgfree_drain(), which order this flush before their
	 * return; nothing is published through these counters.
	 */
	atomic_fetch_add_explicit(&st->grace_periods, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&st->gp_ns_total, dt, memory_order_relaxed);
	max = atomic_load_explicit(&st->gp_ns_max, memory_order_relaxed);
	/* A CAS loop rather than a store: a stage wrongly shared by two
	 * domains then still keeps a true maximum. */
	while (dt > max && !atomic_compare_exchange_weak_explicit(&st->gp_ns_max, &max, dt,
								  memory_order_relaxed,
								  memory_order_relaxed))
		;
	return 0;
}

static void stage_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct pgfree_rcu_stage *st = ctx;

	st->user_ops.release(st->user_ctx, batch);
}

static int stage_range_of(void *ctx, const struct pgfree_llist_node *node,
			  struct pgfree_range *range)
{
	struct pgfree_rcu_stage *st = ctx;

	return st->user_ops.range_of(st->user_ctx, node, range);
}

int pgfree_rcu_stage_init(struct pgfree_rcu_stage *st, struct pgfree_config *cfg,
			  pgfree_rcu_sync_fn synchronize)
{
	if (!st || !cfg || !cfg->ops.flush || !cfg->ops.release)
		return -EINVAL;
	/* Wrapping a stage again would recurse into itself (same stage) or
	 * wait for two grace periods per batch (another stage). */
	if (cfg->ops.flush == stage_flush)
		return -EINVAL;

	st->user_ops = cfg->ops;
	st->user_ctx = cfg->ctx;
	st->synchronize = synchronize ? synchronize : pgfree_rcu_synchronize_memb;
	/* Relaxed: the stage is not shared yet; pgfree_domain_create() (a
	 * thread start) publishes it to the drain. */
	atomic_init(&st->grace_periods, 0);
	atomic_init(&st->flush_failures, 0);
	atomic_init(&st->gp_ns_total, 0);
	atomic_init(&st->gp_ns_max, 0);

	cfg->ops.flush = stage_flush;
	cfg->ops.release = stage_release;
	/* No ->range_of stays none: pgfree then flushes everything. */
	cfg->ops.range_of = st->user_ops.range_of ? stage_range_of : NULL;
	cfg->ctx = st;
	return 0;
}

int pgfree_rcu_stage_stats(const struct pgfree_rcu_stage *st, struct pgfree_rcu_stats *out)
{
	if (!st || !out)
		return -EINVAL;
	/* Relaxed: see stage_flush(). */
	out->grace_periods = atomic_load_explicit(&st->grace_periods, memory_order_relaxed);
	out->flush_failures = atomic_load_explicit(&st->flush_failures, memory_order_relaxed);
	out->gp_ns_total = atomic_load_explicit(&st->gp_ns_total, memory_order_relaxed);
	out->gp_ns_max = atomic_load_explicit(&st->gp_ns_max, memory_order_relaxed);
	return 0;
}
