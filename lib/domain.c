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

/* The drain thread runs no signal handler of the application's. */
int pgfree_start_drain_thread(struct pgfree_domain *dom)
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
	if (!dom->cfg.take_back_us)
		dom->cfg.take_back_us = PGFREE_DEFAULT_TAKE_BACK_US;
	dom->tb_hold_ns = (uint64_t)dom->cfg.take_back_us * 1000u;
	dom->take_back = cfg->flags & PGFREE_F_TAKE_BACK;
	dom->walk = !dom->take_back || cfg->ops.range_of;
	dom->dops = design_ops[cfg->design];

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
	} else if (!dom->walk) {
		/*
		 * A drain that does not walk needs the producers' counts for
		 * its batching delay (gather() in drain.c): the hint, with no
		 * mark to reach (a count is never 0 after an add).
		 */
		dom->mark_mode = PGFREE_MARK_HINT;
		dom->mark_share = 0;
	}
	if (err) {
		free(dom->taken);
		pgfree_tb_fini(dom);
		pgfree_batch_fini(&dom->carry);
		dom->dops->fini(dom);
		free(dom);
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
			free(dom->taken);
			pgfree_tb_fini(dom);
			pgfree_batch_fini(&dom->carry);
			dom->dops->fini(dom);
			free(dom);
			return err;
		}
		/* Else the caller drains, as with PGFREE_F_NO_THREAD. */
	}
	pgfree_registry_add(dom);
	*out = dom;
	return 0;
}

/* Barriers wait with a deadline on CLOCK_MONOTONIC, immune to clock steps. */
void pgfree_cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}

static inline struct pgfree_slot *this_cpu_slot(struct pgfree_domain *dom)
{
	unsigned int cpu = pgfree_this_cpu(), n = dom->nr_slots;

	/* The division only when CPU numbers exceed the slots configured. */
	return &dom->slots[pgfree_likely(cpu < n) ? cpu : cpu % n];
}

/*
 * Link @node into @slot's list and wake the drain thread on the list's
 * empty-to-non-empty transition.  MARK_EXACT callers have counted the node
 * already (enum pgfree_mark_mode says why before), and say with @reached
 * whether their count took the list to its share: the drain is kicked only
 * now, once the node is linked, or the drain it starts could miss it and
 * leave it to the next batching delay.
 */
static inline void slot_added(struct pgfree_domain *dom, struct pgfree_slot *slot,
			      bool was_empty, bool reached)
{
	pgfree_debug_yield();
	if (pgfree_unlikely(dom->mark_mode == PGFREE_MARK_HINT)) {
		/*
		 * Relaxed load and store, not an add: see enum
		 * pgfree_mark_mode for why an occasional lost count is fine.
		 */
		uint64_t q = atomic_load_explicit(&slot->queued, memory_order_relaxed) + 1;

		atomic_store_explicit(&slot->queued, q, memory_order_relaxed);
		reached = q == dom->mark_share;
	}
	if (pgfree_unlikely(reached))
		pgfree_gather_wake(dom);	/* its fence serves the check below too */
	else if (was_empty)
		pgfree_wake_if_parked(dom);
}

static inline void slot_add(struct pgfree_domain *dom, struct pgfree_slot *slot,
			    struct pgfree_llist_node *node, bool reached)
{
	/* Release CAS: the node's contents travel with it (llist.h). */
	slot_added(dom, slot, pgfree_llist_add(node, &slot->head), reached);
}

/*
 * MARK_EXACT: count the node on its list before linking it.  Relaxed: the
 * release CAS that links the node comes after it, and the consumer's
 * subtraction comes after its acquire exchange took the node, so the add
 * happens-before the subtraction and the count never undercounts.
 * Return: the count before the add.
 */
static inline uint64_t slot_count_exact(struct pgfree_slot *slot)
{
	return atomic_fetch_add_explicit(&slot->queued, 1, memory_order_relaxed);
}

#ifdef PGFREE_RSEQ_ASM
/* The rest of an rseq push, out of line: the fast path then saves no register. */
static __attribute__((noinline)) void rseq_added_slow(struct pgfree_domain *dom,
						      struct pgfree_slot *slot, bool was_empty)
{
	if (pgfree_unlikely(!slot)) {
		/* The spill list (an unregistered thread): no mark counts it. */
		if (was_empty)
			pgfree_wake_if_parked(dom);
		return;
	}
	slot_added(dom, slot, was_empty, false);
}
#endif

/* Deferring into a lock-less list (PERCPU, GLOBAL_LLIST); inlined below. */
int pgfree_lockless_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	struct pgfree_slot *slot;
	bool reached = false;

	/* rseq domains never come here: pgfree_defer() pushes for them first. */
	slot = this_cpu_slot(dom);

	if (pgfree_unlikely(dom->mark_mode == PGFREE_MARK_EXACT))
		reached = slot_count_exact(slot) + 1 == dom->mark_share;
	slot_add(dom, slot, node, reached);
	return 0;
}

/* The checks every defer starts with. */
static inline int defer_check(struct pgfree_domain *dom, struct pgfree_llist_node *node)
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
	/* PGFREE_DEBUG builds: the node must not be queued already. */
	if (pgfree_unlikely(pgfree_debug_node_queue(node)))
		return -EEXIST;
	return 0;
}


int pgfree_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	int err = defer_check(dom, node);

	if (pgfree_unlikely(err))
		return err;
#ifdef PGFREE_RSEQ_ASM
	/* PERCPU with the rseq push (rseq.c): no locked instruction, no call. */
	if (pgfree_likely(dom->rseq)) {
		bool was_empty;
		struct pgfree_slot *slot = pgfree_rseq_push(dom, node, &was_empty);

		if (pgfree_unlikely(was_empty || !slot || dom->mark_mode != PGFREE_MARK_NONE))
			rseq_added_slow(dom, slot, was_empty);
		return 0;
	}
#endif
	/* The lock-less designs are called directly: no indirect call on the hot path. */
	if (pgfree_likely(dom->lockless))
		return pgfree_lockless_defer(dom, node);
	return dom->dops->defer(dom, node);
}

int pgfree_defer_wait(struct pgfree_domain *dom, struct pgfree_llist_node *node)
{
	struct pgfree_slot *slot;
	uint64_t old;
	bool may_wait;
	int err;

	if (!dom || !node)
		return -EINVAL;
	if (dom->mark_mode != PGFREE_MARK_EXACT)
		return atomic_load_explicit(&dom->state, memory_order_relaxed) ==
		       PGFREE_STATE_LIVE ? -EINVAL : -ESHUTDOWN;
	err = defer_check(dom, node);
	if (err)
		return err;

	/* From inside our own callbacks a wait would be for ourselves. */
	may_wait = !pgfree_in_callback_of(dom);
	for (;;) {
		/* Again after each wait: the thread may have moved. */
		slot = this_cpu_slot(dom);
		/* Relaxed: a stale value only costs a round of the loop. */
		if (may_wait &&
		    atomic_load_explicit(&slot->queued, memory_order_relaxed) >= dom->mark_share) {
			err = pgfree_bound_wait(dom, slot);
			if (err) {
				pgfree_debug_node_unqueue(node);
				return err;
			}
			continue;
		}
		old = slot_count_exact(slot);
		if (old < dom->mark_share || !may_wait)
			break;
		/* Lost a race for the last place: take the count back, wait. */
		atomic_fetch_sub_explicit(&slot->queued, 1, memory_order_relaxed);
	}
	slot_add(dom, slot, node, old + 1 == dom->mark_share);
	return 0;
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
	backlog = pgfree_batch_count_all(&dom->carry) + dom->dops->__count(dom, UINT64_MAX);
	out->taken_back = 0;
	if (dom->take_back)
		for (unsigned int i = 0; i < dom->nr_slots; i++)
			/* Relaxed: statistics. */
			out->taken_back += atomic_load_explicit(&dom->slots[i].taken_back,
								memory_order_relaxed);
	out->take_back_expired = dom->take_back_expired;
	out->released = dom->released;
	out->given_back = dom->given_back;
	out->deferred = dom->released + dom->given_back + out->taken_back + backlog;
	out->drain_thread = dom->has_thread;
	out->flushes = dom->flushes;
	out->flush_failures = dom->flush_failures;
	out->drains = dom->drains;
	out->largest_batch = dom->largest_batch;
	out->backlog = backlog;
	out->rseq_fences = dom->rseq_fences;
	pthread_mutex_unlock(&dom->drain_lock);
	/* Relaxed: statistics; no other access is ordered by them. */
	out->wakeups = atomic_load_explicit(&dom->wakeups, memory_order_relaxed);
	out->bound_waits = atomic_load_explicit(&dom->bound_waits, memory_order_relaxed);
	out->rseq = dom->rseq;
	out->rseq_aborts = atomic_load_explicit(&dom->rseq_aborts, memory_order_relaxed);
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
		pgfree_wake_if_parked(dom);
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
		pgfree_tb_release_all(dom);
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
