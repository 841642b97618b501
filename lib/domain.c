// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A domain's life: create (validate the configuration, build the queues,
 * start the drain thread) and destroy (stop the thread, drain until nothing
 * is left, release what waits for take-back, leave a tombstone).  The hot
 * path is defer.c's; the consumer's side is drain.c's.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu, pthread_setname_np, strerrordesc_np */
#endif
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "domain.h"
#include "rseq.h"
#include "wake.h"

#define PGFREE_KNOWN_FLAGS                                                              \
	(PGFREE_F_NO_THREAD | PGFREE_F_NO_DELAY | PGFREE_F_THREAD_FALLBACK | PGFREE_F_BOUNDED | \
	 PGFREE_F_NO_RSEQ | PGFREE_F_RSEQ | PGFREE_F_TAS_LOCK | PGFREE_F_TAKE_BACK)

static const struct pgfree_design_ops *const design_ops[PGFREE_DESIGN_COUNT] = {
	[PGFREE_DESIGN_PERCPU] = &pgfree_lockless_ops,
	[PGFREE_DESIGN_V5] = &pgfree_v5_ops,
	[PGFREE_DESIGN_V3] = &pgfree_v3_ops,
	[PGFREE_DESIGN_GLOBAL_LLIST] = &pgfree_lockless_ops,
};

static const char *const design_names[PGFREE_DESIGN_COUNT] = {
	[PGFREE_DESIGN_PERCPU] = "percpu",
	[PGFREE_DESIGN_V5] = "v5",
	[PGFREE_DESIGN_V3] = "v3",
	[PGFREE_DESIGN_GLOBAL_LLIST] = "global_llist",
};

const char *pgfree_design_name(unsigned int design)
{
	return design < PGFREE_DESIGN_COUNT ? design_names[design] : NULL;
}

static int config_check(const struct pgfree_config *cfg)
{
	if (cfg->design >= PGFREE_DESIGN_COUNT)
		return -EINVAL;
	if (cfg->flags & ~PGFREE_KNOWN_FLAGS)
		return -EINVAL;
	if (!cfg->ops.flush || (!cfg->ops.release && !cfg->ops.release_chain))
		return -EINVAL;
	if (cfg->nr_slots > PGFREE_MAX_SLOTS)
		return -EINVAL;
	if (cfg->batch_delay_us > PGFREE_MAX_BATCH_DELAY_US)
		return -EINVAL;
	/* "No delay" and a delay at once: say which one was meant. */
	if ((cfg->flags & PGFREE_F_NO_DELAY) && cfg->batch_delay_us)
		return -EINVAL;
	if ((cfg->flags & PGFREE_F_RSEQ) && (cfg->flags & PGFREE_F_NO_RSEQ))
		return -EINVAL;
	if (cfg->backlog_max > PGFREE_MAX_BACKLOG)
		return -EINVAL;
	/* A bound needs a mark; the locked designs are the kernel's, unbounded. */
	if ((cfg->flags & PGFREE_F_BOUNDED) && !cfg->backlog_max)
		return -EINVAL;
	if (cfg->backlog_max && cfg->design != PGFREE_DESIGN_PERCPU &&
	    cfg->design != PGFREE_DESIGN_GLOBAL_LLIST)
		return -EINVAL;
	/* The lock-less designs have no lock to choose. */
	if ((cfg->flags & PGFREE_F_TAS_LOCK) && cfg->design != PGFREE_DESIGN_V5 &&
	    cfg->design != PGFREE_DESIGN_V3)
		return -EINVAL;
	/*
	 * Take-back is for lists a CPU owns: not the kernel's designs; and
	 * the exact bound would count descriptors that wait for take-back,
	 * which the drain does not count (takeback.c).
	 */
	if ((cfg->flags & PGFREE_F_TAKE_BACK) &&
	    ((cfg->design != PGFREE_DESIGN_PERCPU && cfg->design != PGFREE_DESIGN_GLOBAL_LLIST) ||
	     (cfg->flags & PGFREE_F_BOUNDED)))
		return -EINVAL;
	if (cfg->take_back_us > PGFREE_MAX_TAKE_BACK_US ||
	    (cfg->take_back_us && !(cfg->flags & PGFREE_F_TAKE_BACK)))
		return -EINVAL;
	return 0;
}

static unsigned int default_nr_slots(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (n < 1)
		return 1;
	return n > PGFREE_MAX_SLOTS ? PGFREE_MAX_SLOTS : (unsigned int)n;
}

/* A create that failed: free what it built (the queues and their side tables). */
static void domain_free(struct pgfree_domain *dom)
{
	free(dom->taken);
	pgfree_tb_fini(dom);
	pgfree_batch_fini(&dom->carry);
	dom->dops->fini(dom);
	free(dom);
}

int pgfree_domain_create(const struct pgfree_config *cfg, struct pgfree_domain **out)
{
	struct pgfree_domain *dom;
	size_t size = (sizeof(*dom) + PGFREE_CACHELINE - 1) & ~(size_t)(PGFREE_CACHELINE - 1);
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!cfg)
		return -EINVAL;
	err = config_check(cfg);
	if (err)
		return err;

	dom = aligned_alloc(PGFREE_CACHELINE, size);
	if (!dom)
		return -ENOMEM;
	memset(dom, 0, size);

	dom->cfg = *cfg;
	if (!dom->cfg.nr_slots)
		dom->cfg.nr_slots = default_nr_slots();
	if (cfg->flags & PGFREE_F_NO_DELAY)
		dom->cfg.batch_delay_us = 0;
	else if (!dom->cfg.batch_delay_us)
		dom->cfg.batch_delay_us = PGFREE_DEFAULT_BATCH_DELAY_US;
	if (!dom->cfg.batch_max)
		dom->cfg.batch_max = PGFREE_DEFAULT_BATCH_MAX;
	if (!dom->cfg.take_back_us)
		dom->cfg.take_back_us = PGFREE_DEFAULT_TAKE_BACK_US;
	dom->tb_hold_ns = (uint64_t)dom->cfg.take_back_us * 1000u;
	dom->take_back = cfg->flags & PGFREE_F_TAKE_BACK;
	dom->walk = !dom->take_back || cfg->ops.range_of;
	dom->dops = design_ops[cfg->design];
	/* The locked designs' other lock: its own ops table (design_locked.c). */
	if (cfg->flags & PGFREE_F_TAS_LOCK)
		dom->dops = cfg->design == PGFREE_DESIGN_V5 ? &pgfree_v5_tas_ops
							    : &pgfree_v3_tas_ops;

	err = dom->dops->init(dom);
	if (err) {
		free(dom);
		return err;
	}
	/* One entry per list, and one for the rseq spill list (domain.h). */
	err = pgfree_batch_init(&dom->carry, dom->nr_slots + 1);
	if (!err)
		err = pgfree_tb_init(dom);
	if (!err && cfg->backlog_max) {
		dom->mark_mode = (cfg->flags & PGFREE_F_BOUNDED) ? PGFREE_MARK_EXACT
								 : PGFREE_MARK_HINT;
		/* Rounded up: every list may hold at least one. */
		dom->mark_share = (cfg->backlog_max + dom->nr_slots - 1) / dom->nr_slots;
		dom->taken = calloc(dom->nr_slots, sizeof(*dom->taken));
		if (!dom->taken)
			err = -ENOMEM;
	}
	if (!err && !dom->walk)
		/*
		 * A drain that does not walk cannot count what it detaches: its
		 * producers count (the hint), which gather() (drain_thread.c)
		 * reads at each look to hold it against batch_max.  No share of
		 * batch_max is added to the mark: a producer that kicked the
		 * drain at every share paid a futex wake and the drain a wake-up
		 * per batch_max descriptors under a steady stream (take-back at
		 * 2 producers on 2 CPUs: 24k futex calls and 25k context
		 * switches a second), where every other drain (the walking
		 * ones, the benchmark peers' bench/bdrain.c) looks once a slice.
		 */
		dom->mark_mode = PGFREE_MARK_HINT;
	if (err) {
		domain_free(dom);
		return err;
	}
	/* After the mark: a bounded domain keeps the CAS push (rseq.c). */
	dom->rseq = pgfree_rseq_usable(dom);
	pthread_mutex_init(&dom->drain_lock, NULL);
	pthread_mutex_init(&dom->gen_lock, NULL);
	pgfree_cond_init_monotonic(&dom->drain_done);
	atomic_init(&dom->state, PGFREE_STATE_LIVE);

	if (!(cfg->flags & PGFREE_F_NO_THREAD)) {
		err = pgfree_start_drain_thread(dom);
		if (err && !(cfg->flags & PGFREE_F_THREAD_FALLBACK)) {
			pthread_cond_destroy(&dom->drain_done);
			pthread_mutex_destroy(&dom->gen_lock);
			pthread_mutex_destroy(&dom->drain_lock);
			domain_free(dom);
			return err;
		}
		/* Else the caller drains, as with PGFREE_F_NO_THREAD. */
	}
	pgfree_registry_add(dom);
	*out = dom;
	return 0;
}


/* @deadline_ns: 0 for none (pgfree_wait_drained()). */
static int domain_destroy(struct pgfree_domain *dom, uint64_t deadline_ns)
{
	int err = pgfree_check_consumer_call(dom);

	if (err)
		return err;
	/* Relaxed: only elects one destroyer among (buggy) concurrent calls. */
	if (atomic_exchange_explicit(&dom->destroying, true, memory_order_relaxed))
		return -ESHUTDOWN;

	if (deadline_ns && pgfree_wait_drained(dom, deadline_ns) == -ETIMEDOUT) {
		/* Untouched and live: the caller may try again. */
		atomic_store_explicit(&dom->destroying, false, memory_order_relaxed);
		return -ETIMEDOUT;
	}
	/* From here on, fork() leaves it alone (fork.c). */
	pgfree_registry_del(dom);

	if (dom->has_thread) {
		/* Relaxed store: fenced before parked is read, as for any request. */
		atomic_store_explicit(&dom->stop, true, memory_order_relaxed);
		pgfree_wake_requests(dom);
		pthread_join(dom->thread, NULL);
		dom->has_thread = false;
	}
	/*
	 * Anything a last ->release() queued, or a domain without a thread;
	 * then what waits for take-back, which nobody may take any more (its
	 * ->release() may queue again: drain again).  Only this thread drains
	 * now (the drain thread was joined), so tb_outstanding is read
	 * without drain_lock.
	 */
	for (;;) {
		pgfree_drain_until_empty(dom);
		if (!dom->take_back || !dom->tb_outstanding)
			break;
		pgfree_tb_expire(dom, true);
	}

	/* Release: pairs with the acquire loads of the consumer-side calls. */
	atomic_store_explicit(&dom->state, PGFREE_STATE_DEAD, memory_order_release);
	dom->dops->fini(dom);
	free(dom->taken);
	dom->taken = NULL;
	pgfree_tb_fini(dom);
	pgfree_batch_fini(&dom->carry);
	pthread_cond_destroy(&dom->drain_done);
	pthread_mutex_destroy(&dom->gen_lock);
	pthread_mutex_destroy(&dom->drain_lock);
	pgfree_tombstone_add(dom);
	return 0;
}

int pgfree_domain_destroy(struct pgfree_domain *dom)
{
	return domain_destroy(dom, 0);
}

int pgfree_domain_destroy_timeout(struct pgfree_domain *dom, uint64_t timeout_ns)
{
	return domain_destroy(dom, pgfree_deadline_ns(timeout_ns));
}
