// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A domain's life: create (validate, build the queues, start the drain
 * thread), pgfree_defer() (the producers' hot path), statistics, destroy.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu, pthread_setname_np, strerrordesc_np */
#endif
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cpu.h"
#include "domain.h"
#include "wake.h"

#define PGFREE_KNOWN_FLAGS (PGFREE_F_NO_THREAD | PGFREE_F_NO_DELAY)

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
	if (!cfg->ops.flush || !cfg->ops.release)
		return -EINVAL;
	if (cfg->nr_slots > PGFREE_MAX_SLOTS)
		return -EINVAL;
	if (cfg->batch_delay_us > PGFREE_MAX_BATCH_DELAY_US)
		return -EINVAL;
	/* "No delay" and a delay at once: say which one was meant. */
	if ((cfg->flags & PGFREE_F_NO_DELAY) && cfg->batch_delay_us)
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

/* The drain thread runs no signal handler of the application's. */
static int start_drain_thread(struct pgfree_domain *dom)
{
	sigset_t all, old;
	int err;

	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&dom->thread, NULL, pgfree_drain_thread, dom);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_setname_np(dom->thread, "pgfree-drain");
	dom->has_thread = true;
	return 0;
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
	dom->dops = design_ops[cfg->design];

	err = dom->dops->init(dom);
	if (err) {
		free(dom);
		return err;
	}
	pthread_mutex_init(&dom->drain_lock, NULL);
	pthread_cond_init(&dom->drain_done, NULL);
	atomic_init(&dom->state, PGFREE_STATE_LIVE);

	if (!(cfg->flags & PGFREE_F_NO_THREAD)) {
		err = start_drain_thread(dom);
		if (err) {
			pthread_cond_destroy(&dom->drain_done);
			pthread_mutex_destroy(&dom->drain_lock);
			dom->dops->fini(dom);
			free(dom);
			return err;
		}
	}
	*out = dom;
	return 0;
}

static inline struct pgfree_slot *this_cpu_slot(struct pgfree_domain *dom)
{
	unsigned int cpu = pgfree_this_cpu(), n = dom->nr_slots;

	/* The division only when CPU numbers exceed the slots configured. */
	return &dom->slots[pgfree_likely(cpu < n) ? cpu : cpu % n];
}

/* Deferring into a lock-less list (PERCPU, GLOBAL_LLIST); inlined below. */
int pgfree_lockless_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	/* Release CAS: the node's contents travel with it (llist.h). */
	if (pgfree_llist_add(node, &this_cpu_slot(dom)->head))
		pgfree_wake_if_parked(dom);
	return 0;
}

int pgfree_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	if (pgfree_unlikely(!dom || !node))
		return -EINVAL;
	/*
	 * Relaxed: a call made after destroy returned happens-after destroy's
	 * store of DEAD, so coherence alone makes this load see it.  A call
	 * racing with destroy is the caller's bug (see pgfree.h).
	 */
	if (pgfree_unlikely(atomic_load_explicit(&dom->state, memory_order_relaxed) !=
			    PGFREE_STATE_LIVE))
		return -ESHUTDOWN;

	/* The lock-less designs are called directly: no indirect call on the hot path. */
	if (pgfree_likely(dom->lockless))
		return pgfree_lockless_defer(dom, node);
	return dom->dops->defer(dom, node);
}

int pgfree_stats(struct pgfree_domain *dom, struct pgfree_stats *out)
{
	uint64_t backlog;
	int err = pgfree_check_consumer_call(dom);

	if (err)
		return err;
	if (!out)
		return -EINVAL;

	pthread_mutex_lock(&dom->drain_lock);
	backlog = dom->carry.count + dom->dops->__count(dom, UINT64_MAX);
	out->released = dom->released;
	out->deferred = dom->released + backlog;
	out->flushes = dom->flushes;
	out->flush_failures = dom->flush_failures;
	out->drains = dom->drains;
	out->largest_batch = dom->largest_batch;
	out->backlog = backlog;
	pthread_mutex_unlock(&dom->drain_lock);
	/* Relaxed: a statistic; no other access is ordered by it. */
	out->wakeups = atomic_load_explicit(&dom->wakeups, memory_order_relaxed);
	return 0;
}

int pgfree_domain_destroy(struct pgfree_domain *dom)
{
	int err = pgfree_check_consumer_call(dom);

	if (err)
		return err;
	/* Relaxed: only elects one destroyer among (buggy) concurrent calls. */
	if (atomic_exchange_explicit(&dom->destroying, true, memory_order_relaxed))
		return -ESHUTDOWN;

	if (dom->has_thread) {
		/* Relaxed store: fenced before parked is read, as for any request. */
		atomic_store_explicit(&dom->stop, true, memory_order_relaxed);
		pgfree_wake_if_parked(dom);
		pthread_join(dom->thread, NULL);
		dom->has_thread = false;
	}
	/* Anything a last ->release() queued, or a domain without a thread. */
	pgfree_drain_until_empty(dom);

	/* Release: pairs with the acquire loads of the consumer-side calls. */
	atomic_store_explicit(&dom->state, PGFREE_STATE_DEAD, memory_order_release);
	dom->dops->fini(dom);
	pthread_cond_destroy(&dom->drain_done);
	pthread_mutex_destroy(&dom->drain_lock);
	pgfree_tombstone_add(dom);
	return 0;
}
