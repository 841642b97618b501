/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LIB_DOMAIN_H
#define PGFREE_LIB_DOMAIN_H
/*
 * The domain object and the interface between the drain (drain.c) and the
 * queueing designs (design_*.c).  Private.
 *
 * Naming: a function whose name starts with __ requires the caller to hold
 * dom->drain_lock (it is part of the single consumer).  Everything else
 * says in its comment who may call it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pgfree/pgfree.h>

#include "compiler.h"

enum pgfree_state {
	PGFREE_STATE_LIVE = 1,
	PGFREE_STATE_DEAD = 2,	/* destroyed: a tombstone */
};

/**
 * struct pgfree_slot - one per-CPU list, alone on its cache line(s)
 * @head: the lock-less list producers add to
 * @queued: the list's backlog count, when the domain has a mark (see
 *	enum pgfree_mark_mode); on the head's line, which the producer's CAS
 *	has just made its own, so updating it costs no extra cache miss
 * @alt: rseq domains only: the second list head; empty on CAS domains
 * @active: rseq domains only: which of @head and @alt producers push to;
 *	flipped by the drain (rseq.c).  &@head on CAS domains.
 * @taken_back: PGFREE_F_TAKE_BACK: descriptors taken back from this list
 *	(statistics; added to by takers, on the line they defer to anyway)
 */
struct pgfree_slot {
	struct pgfree_llist_head head;
	_Atomic uint64_t queued;
	struct pgfree_llist_head alt;
	_Atomic(struct pgfree_llist_head *) active;
	_Atomic uint64_t taken_back;
} pgfree_cacheline_aligned;

/**
 * struct pgfree_tb_list - PGFREE_F_TAKE_BACK: one list's flushed chains
 * @chain: each a flushed chain (newest first, NULL-terminated) waiting for
 *	pgfree_take_back(), or NULL.  Only a drain stores a chain, and only
 *	into a NULL place; takers (and a drain reclaiming a chain nobody took)
 *	empty a place with an exchange, so each chain goes to exactly one of
 *	them (takeback.c).
 *
 * On a line of its own, apart from the producers' list head: a drain writes
 * it once per drain that flushed the list, the list's CPU reads it when it
 * takes back.
 */
struct pgfree_tb_list {
	_Atomic(struct pgfree_llist_node *) chain[PGFREE_TAKE_BACK_CHAINS];
} pgfree_cacheline_aligned;

/**
 * enum pgfree_mark_mode - how a domain counts its backlog per list
 * @PGFREE_MARK_NONE: no backlog_max: nothing is counted
 * @PGFREE_MARK_HINT: producers add 1 with a relaxed load and store (no
 *	read-modify-write: pgfree_defer() stays one CAS); the consumer stores
 *	0 after detaching the list.  Only wakes the drain early, so its
 *	errors (a count lost to a producer preempted between its load and
 *	store; a node added between the detach and the reset counted twice)
 *	only move a wake-up, and each detach repairs them.
 * @PGFREE_MARK_EXACT: PGFREE_F_BOUNDED: producers add 1 with an atomic add
 *	BEFORE linking the node; the consumer subtracts, per list, what it
 *	detached from it, AFTER ->release() or ->give_back() returned.  So
 *	the count never undercounts the list's nodes that are queued or
 *	detached and not yet released, which is what pgfree_defer_wait()
 *	bounds.
 */
enum pgfree_mark_mode {
	PGFREE_MARK_NONE = 0,
	PGFREE_MARK_HINT,
	PGFREE_MARK_EXACT,
};

/**
 * struct pgfree_chainent - what a batch holds of one list
 * @first: the newest node, NULL when the list gave the batch nothing
 * @last: the oldest node, whose ->next is NULL (valid when @walked)
 * @count: the nodes (valid when @walked)
 * @walked: the drain walked the chain, so @last and @count are known
 */
struct pgfree_chainent {
	struct pgfree_llist_node *first;
	struct pgfree_llist_node *last;
	uint64_t count;
	bool walked;
};

/**
 * struct pgfree_batch - what one consumer has detached and not yet released
 * @ent: one entry per list (nr_slots of them), and one more for the rseq
 *	spill list: each list's chains kept as they were detached, newest
 *	first, never reversed
 * @nr_ent: entries
 * @nonempty: entries with a chain
 * @count: the nodes of walked entries
 * @range: union of the walked nodes' ranges
 * @range_all: flush everything (no ->range_of, or some range unknown)
 *
 * Owned by whoever holds drain_lock.  A batch whose flush failed stays here
 * and is flushed again, with what was queued since, by the next drain.
 */
struct pgfree_batch {
	struct pgfree_chainent *ent;
	unsigned int nr_ent;
	unsigned int nonempty;
	uint64_t count;
	struct pgfree_range range;
	bool range_all;
};

struct pgfree_domain;

/**
 * struct pgfree_design_ops - what differs between the queueing designs
 * @init: allocate the queues; called once from create
 * @fini: free them; called once from destroy, when nothing is queued
 * @defer: queue one node and wake the drain thread as the design does;
 *	any thread, concurrently with everything but fini
 * @__take: detach everything queued and add it to @batch with
 *	pgfree_batch_add(), a chain per list
 * @has_work: whether something may be queued; any thread; used by the
 *	drain thread after its pre-sleep fence, so its loads need only be
 *	relaxed (the fence orders them)
 * @__count: count queued nodes, stopping at @limit
 * @__release: run @fn, which hands a flushed batch to the user's
 *	callbacks, as the design releases (V3 holds its lock around it)
 * @fork_lock: optional; take the design's own lock before fork() so that
 *	the child does not inherit it held by a thread it does not have
 * @fork_unlock: drop it again, in the parent and (@child) in the child
 */
struct pgfree_design_ops {
	int (*init)(struct pgfree_domain *dom);
	void (*fini)(struct pgfree_domain *dom);
	int (*defer)(struct pgfree_domain *dom, struct pgfree_llist_node *node);
	void (*__take)(struct pgfree_domain *dom, struct pgfree_batch *batch);
	bool (*has_work)(struct pgfree_domain *dom);
	uint64_t (*__count)(struct pgfree_domain *dom, uint64_t limit);
	void (*__release)(struct pgfree_domain *dom,
			  void (*fn)(struct pgfree_domain *dom, void *arg), void *arg);
	void (*fork_lock)(struct pgfree_domain *dom);
	void (*fork_unlock)(struct pgfree_domain *dom, bool child);
};

/**
 * struct pgfree_domain - the runtime object (opaque to users)
 *
 * Laid out by who writes what: the first line is read by every producer
 * and written only by create/destroy; the sleep word is written by the
 * drain thread and by wakers; the rest is the consumer's.
 */
struct pgfree_domain {
	/* Read-mostly: everything pgfree_defer() reads. */
	_Atomic unsigned int state;		/* enum pgfree_state */
	bool lockless;				/* PERCPU or GLOBAL_LLIST */
	bool rseq;				/* PERCPU with the rseq push (rseq.c) */
	bool take_back;				/* PGFREE_F_TAKE_BACK (takeback.c) */
	/*
	 * The drain walks each chain it detaches (to count it, find its last
	 * node, read ranges): every domain but a PGFREE_F_TAKE_BACK one
	 * without ->range_of, whose drain touches no descriptor.
	 */
	bool walk;
	struct pgfree_tb_list *tb;		/* take_back: per list */
	unsigned int nr_slots;
	struct pgfree_slot *slots;
	const struct pgfree_design_ops *dops;
	void *design_priv;			/* V5/V3: their locked list */
	unsigned int mark_mode;			/* enum pgfree_mark_mode */
	uint64_t mark_share;			/* backlog_max per list */

	/*
	 * The drain thread's sleep word (a futex): 1 while it is (about to
	 * be) asleep.  Stored by the drain thread, exchanged to 0 by wakers.
	 */
	_Atomic uint32_t parked pgfree_cacheline_aligned;
	_Atomic uint64_t wakeups;		/* stats; counted by wakers */
	_Atomic uint64_t rseq_aborts;		/* stats; rseq sections the kernel aborted */
	/*
	 * 1 while the drain thread sleeps in its batching delay (a futex with
	 * a timeout): a producer that takes a list to its mark share wakes it
	 * through this word, so the rest of the delay is skipped.
	 */
	_Atomic uint32_t gathering;
	_Atomic uint64_t bound_waits;		/* stats; counted by waiters */

	/*
	 * rseq domains: the list of threads that have no rseq registration
	 * (made with clone() directly, or unregistered): an ordinary CAS
	 * list, taken by an exchange (rseq.c).
	 */
	struct pgfree_llist_head rseq_spill pgfree_cacheline_aligned;

	/* Requests to the drain thread (barrier, destroy). */
	_Atomic bool kick pgfree_cacheline_aligned;	/* drain now, skip the delay */
	_Atomic bool stop;				/* drain all, then exit */
	/*
	 * A failed flush left its batch in carry (drain.c, __keep()): work for
	 * the drain thread, which retries it with back-off.  Written under
	 * drain_lock; read by the drain thread without it (a hint: the batch
	 * itself is read under the lock).
	 */
	_Atomic bool kept;

	/* The consumer's side, all under drain_lock. */
	pthread_mutex_t drain_lock pgfree_cacheline_aligned;
	/*
	 * The drains' generations, under gen_lock (and written with
	 * drain_lock held too), so that a barrier waits on them without
	 * drain_lock: a ->flush() that hangs holds drain_lock, and a barrier
	 * with a timeout must still be able to give up.
	 */
	pthread_mutex_t gen_lock;
	pthread_cond_t drain_done;	/* gen_done moved; waited on by barrier */
	uint64_t gen_started;		/* drains begun */
	uint64_t gen_done;		/* last drain that ended with nothing kept */
	uint64_t giveups;		/* drains whose batch was given back */
	struct pgfree_batch carry;	/* detached, not yet flushed */
	uint64_t *taken;		/* MARK_EXACT: per list, nodes of carry */
	uint64_t released, flushes, flush_failures, drains, largest_batch;
	uint64_t given_back;		/* nodes given back */
	uint64_t rseq_fences;		/* rseq: membarrier() calls of the drain */
	/*
	 * take_back: when each place of each list's tb_list got its chain
	 * (CLOCK_MONOTONIC ns, 0: the drain put nothing there since it last
	 * found it empty), how many are non-zero, how long a chain may wait,
	 * and the descriptors released because it waited that long.
	 */
	uint64_t *tb_since;
	unsigned int tb_outstanding;
	uint64_t tb_hold_ns;
	uint64_t take_back_expired;
	bool rseq_no_cpu_flag;		/* rseq: the kernel refused MEMBARRIER_CMD_FLAG_CPU */

	struct pgfree_config cfg;	/* defaults filled in */
	pthread_t thread;
	bool has_thread;
	/* 1 once the drain thread runs drain_thread() (drain_thread.c, its start). */
	_Atomic uint32_t thread_running;
	_Atomic bool destroying;	/* destroy has begun (once only) */
	struct pgfree_domain *tomb_next;	/* tombstone list, after destroy */
	struct pgfree_domain *reg_next, *reg_prev;	/* live domains (fork.c) */
	bool fork_locked;		/* fork.c: drain_lock taken for fork() */
};

/* drain_thread.c */
int pgfree_start_drain_thread(struct pgfree_domain *dom);

/* fork.c: the live domains, for the fork handlers */
void pgfree_registry_add(struct pgfree_domain *dom);
void pgfree_registry_del(struct pgfree_domain *dom);

/* bound.c: the backlog mark's wait */
int pgfree_bound_wait(struct pgfree_domain *dom, struct pgfree_slot *slot);

/*
 * debug.c: misuse checks of PGFREE_DEBUG builds: a set of the nodes that
 * are queued (in any domain), so that deferring one twice gives -EEXIST.
 * In other builds these are empty inlines.
 */
#ifdef PGFREE_DEBUG
int pgfree_debug_node_queue(struct pgfree_llist_node *node);
void pgfree_debug_node_unqueue(struct pgfree_llist_node *node);
void pgfree_debug_chain_unqueue(struct pgfree_llist_node *chain);
void pgfree_debug_fork_lock(void);
void pgfree_debug_fork_unlock(void);
#else
static inline int pgfree_debug_node_queue(struct pgfree_llist_node *node)
{
	(void)node;
	return 0;
}
static inline void pgfree_debug_node_unqueue(struct pgfree_llist_node *node)
{
	(void)node;
}
static inline void pgfree_debug_chain_unqueue(struct pgfree_llist_node *chain)
{
	(void)chain;
}
static inline void pgfree_debug_fork_lock(void)
{
}
static inline void pgfree_debug_fork_unlock(void)
{
}
#endif

/* tombstone.c: its lock, held across fork() */
void pgfree_tombstone_lock(void);
void pgfree_tombstone_unlock(void);

/* design_percpu.c, design_locked.c */
extern const struct pgfree_design_ops pgfree_lockless_ops;	/* PERCPU, GLOBAL_LLIST */
extern const struct pgfree_design_ops pgfree_v5_ops, pgfree_v5_tas_ops;
extern const struct pgfree_design_ops pgfree_v3_ops, pgfree_v3_tas_ops;

/* defer.c: the lock-less designs' defer (the hot path of pgfree_defer()) */
int pgfree_lockless_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node);

/* batch.c: what a drain holds between its detach and its release */
int pgfree_batch_init(struct pgfree_batch *batch, unsigned int nr_ent);
void pgfree_batch_fini(struct pgfree_batch *batch);
void pgfree_batch_reset(struct pgfree_batch *batch);
uint64_t pgfree_batch_add(struct pgfree_domain *dom, struct pgfree_batch *batch,
			  unsigned int list, struct pgfree_llist_node *chain);
uint64_t pgfree_batch_walk(struct pgfree_chainent *e);
uint64_t pgfree_batch_count_all(struct pgfree_batch *batch);
struct pgfree_llist_node *pgfree_batch_splice_all(struct pgfree_batch *batch);

/* takeback.c: the consumer's side of PGFREE_F_TAKE_BACK */
int pgfree_tb_init(struct pgfree_domain *dom);
void pgfree_tb_fini(struct pgfree_domain *dom);
void __pgfree_tb_publish(struct pgfree_domain *dom, unsigned int list,
			 struct pgfree_llist_node *chain, uint64_t now_ns);
void __pgfree_tb_expire(struct pgfree_domain *dom, uint64_t now_ns, bool all);
uint64_t pgfree_tb_due(struct pgfree_domain *dom);
void pgfree_tb_expire(struct pgfree_domain *dom, bool all);
uint64_t pgfree_hint_backlog(struct pgfree_domain *dom);
void __pgfree_release_chain(struct pgfree_domain *dom, unsigned int list,
			    struct pgfree_chainent *e);

/* drain.c */
long __pgfree_drain(struct pgfree_domain *dom);
int pgfree_drain_until_empty(struct pgfree_domain *dom);

/* barrier.c */
int pgfree_wait_drained(struct pgfree_domain *dom, uint64_t deadline_ns);

/* callback.c: which domains' callbacks this thread is inside of */
struct pgfree_cb_frame {
	const struct pgfree_domain *dom;
	struct pgfree_cb_frame *prev;
};
void pgfree_cb_enter(struct pgfree_cb_frame *frame, const struct pgfree_domain *dom);
void pgfree_cb_exit(struct pgfree_cb_frame *frame);
bool pgfree_in_callback_of(const struct pgfree_domain *dom);

/**
 * pgfree_check_consumer_call() - the argument check of every call that may
 * wait for the drain (drain, barrier, stats, destroy)
 * @dom: the domain passed by the user
 *
 * Return: 0, -EINVAL for NULL, -ESHUTDOWN after destroy, -EDEADLK from
 * inside a callback of @dom (it would wait for itself).
 */
static inline int pgfree_check_consumer_call(struct pgfree_domain *dom)
{
	if (!dom)
		return -EINVAL;
	/* Acquire: pairs with destroy's release store of DEAD. */
	if (atomic_load_explicit(&dom->state, memory_order_acquire) != PGFREE_STATE_LIVE)
		return -ESHUTDOWN;
	if (pgfree_in_callback_of(dom))
		return -EDEADLK;
	return 0;
}

/* tombstone.c */
void pgfree_tombstone_add(struct pgfree_domain *dom);

/* time.c */
struct timespec;
struct timespec pgfree_timespec(uint64_t ns);
uint64_t pgfree_deadline_ns(uint64_t timeout_ns);
void pgfree_sleep_ns(uint64_t ns);
uint64_t pgfree_now_ns(void);
int pgfree_backoff_until(uint64_t *pause, uint64_t deadline);
void pgfree_backoff(uint64_t *ns);
void pgfree_cond_init_monotonic(pthread_cond_t *cond);

#endif /* PGFREE_LIB_DOMAIN_H */
