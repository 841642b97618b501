// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * What a user would pick instead of pgfree, through their real Debian
 * libraries:
 *  - call_rcu (liburcu, memb flavor) with per-CPU call_rcu worker threads,
 *    as its authors offer it: flags 0 (futex-woken workers) and
 *    URCU_CALL_RCU_RT (workers poll; the enqueue skips the wake-up); the
 *    callback releases; it has NO once-per-batch flush hook, so no flush
 *    runs for it (a correct use would need one flush per callback), and
 *    its worker loop batches in its own way (policy "own");
 *  - cds_lfs (liburcu's lock-free stack), per-CPU and global;
 *  - cds_wfcq (liburcu's wait-free concurrent queue), global;
 *  - AO_stack (libatomic_ops), one global stack;
 *  - ck_epoch (Concurrency Kit): ck_epoch_call_strict() on a record per
 *    producer, polled by the consumer with ck_epoch_poll_deferred()
 *    (design_ck.c, which says why).
 * The last five get bdrain's consumer, which batches exactly as pgfree's
 * drain does (same delay, same batch_max: struct bpolicy): flush once per
 * batch, then release.
 * cds_lfs_push() and cds_wfcq_enqueue() report "was empty", so they wake the
 * drain thread on the empty-to-non-empty transition, as pgfree does;
 * AO_stack cannot tell, so it uses a pending flag (test, then exchange).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/cpu.h"
#include "bdrain.h"
#include "designs.h"

#define NR_CPU_SLOTS_MAX 1024

/* design_ck.c */
void *bench_ck_create(struct bsink *sink, const void *arg, const struct bpolicy *pol);
void bench_ck_defer(void *impl, struct bdesc *d);
void bench_ck_quiesce(void *impl);
void bench_ck_destroy(void *impl);
void bench_ck_thread_enter(void *impl);
void bench_ck_thread_exit(void *impl);

/* ---- call_rcu ---------------------------------------------------------- */

static struct bsink *rcu_sink;	/* callbacks carry no context: one instance at a time */

static void rcu_release_cb(struct rcu_head *head)
{
	struct bdesc *d = caa_container_of(head, struct bdesc, u.rcu);

	bsink_release_one(rcu_sink, d);
	bsink_count_released(rcu_sink, 1);
}

/*
 * The call_rcu worker flags in force (per-CPU workers, created for the
 * process).  Switching between call_rcu and call_rcu_rt rows frees the
 * workers and creates new ones, untimed, after an rcu_barrier().
 */
static long rcu_flags = -1;

static void *rcu_create(struct bsink *sink, const void *arg, const struct bpolicy *pol)
{
	unsigned long flags = *(const unsigned long *)arg;

	(void)pol;	/* liburcu's worker loop batches as its authors chose */
	rcu_sink = sink;
	if (rcu_flags != (long)flags) {
		if (rcu_flags >= 0) {
			rcu_barrier();
			free_all_cpu_call_rcu_data();
		}
		if (create_all_cpu_call_rcu_data(flags))
			abort();
		rcu_flags = (long)flags;
	}
	return sink;
}

static void rcu_defer(void *impl, struct bdesc *d)
{
	(void)impl;
	call_rcu(&d->u.rcu, rcu_release_cb);
}

static void rcu_quiesce(void *impl)
{
	(void)impl;
	rcu_barrier();
}

static void rcu_destroy(void *impl)
{
	rcu_quiesce(impl);
	rcu_sink = NULL;
}

static void rcu_enter(void *impl)
{
	(void)impl;
	rcu_register_thread();
}

static void rcu_exit(void *impl)
{
	(void)impl;
	rcu_unregister_thread();
}

/* ---- cds_lfs, per-CPU or global ---------------------------------------- */

struct lfs_slot {
	struct __cds_lfs_stack s;
} __attribute__((aligned(128)));

struct lfs_impl {
	struct bdrain dr;
	unsigned int n;
	struct lfs_slot *slots;
};

static bool lfs_has_work(void *p)
{
	struct lfs_impl *l = p;

	for (unsigned int i = 0; i < l->n; i++)
		if (!cds_lfs_empty(&l->slots[i].s))
			return true;
	return false;
}

static void lfs_take(void *p, struct bdrain *dr)
{
	struct lfs_impl *l = p;

	for (unsigned int i = 0; i < l->n; i++) {
		struct cds_lfs_head *head;
		struct cds_lfs_node *node, *next;

		if (cds_lfs_empty(&l->slots[i].s))
			continue;
		head = __cds_lfs_pop_all(&l->slots[i].s);	/* single consumer */
		cds_lfs_for_each_safe(head, node, next)
			bdrain_push(dr, caa_container_of(node, struct bdesc, u.lfs));
	}
}

static void *lfs_create_n(struct bsink *sink, unsigned int n, const struct bpolicy *pol)
{
	struct lfs_impl *l = calloc(1, sizeof(*l));

	if (!l)
		abort();
	l->n = n;
	l->slots = aligned_alloc(128, n * sizeof(*l->slots));
	if (!l->slots)
		abort();
	for (unsigned int i = 0; i < n; i++)
		__cds_lfs_init(&l->slots[i].s);
	bdrain_start(&l->dr, sink, pol, l, lfs_has_work, lfs_take);
	return l;
}

static void *lfs_create(struct bsink *sink, const void *arg, const struct bpolicy *pol)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	if (!*(const bool *)arg)	/* global */
		n = 1;
	return lfs_create_n(sink, n < 1 ? 1 : n > NR_CPU_SLOTS_MAX ? NR_CPU_SLOTS_MAX : (unsigned int)n,
			    pol);
}

static void lfs_defer(void *p, struct bdesc *d)
{
	struct lfs_impl *l = p;
	unsigned int cpu = l->n == 1 ? 0 : pgfree_this_cpu() % l->n;

	/* cds_lfs_push() returns 0 when the stack was empty. */
	if (!cds_lfs_push(&l->slots[cpu].s, &d->u.lfs))
		bdrain_wake_if_parked(&l->dr);
}

static void lfs_quiesce(void *p)
{
	bdrain_quiesce(&((struct lfs_impl *)p)->dr);
}

static void lfs_destroy(void *p)
{
	struct lfs_impl *l = p;

	bdrain_stop(&l->dr);
	free(l->slots);
	free(l);
}

/* ---- cds_wfcq, global -------------------------------------------------- */

struct wfcq_impl {
	struct bdrain dr;
	struct __cds_wfcq_head head __attribute__((aligned(128)));
	struct cds_wfcq_tail tail __attribute__((aligned(128)));
};

static bool wfcq_has_work(void *p)
{
	struct wfcq_impl *w = p;

	return !cds_wfcq_empty(&w->head, &w->tail);
}

static void wfcq_take(void *p, struct bdrain *dr)
{
	struct wfcq_impl *w = p;
	struct __cds_wfcq_head h;
	struct cds_wfcq_tail t;
	struct cds_wfcq_node *node, *next;

	__cds_wfcq_init(&h, &t);
	/* Single consumer: the __ (no-lock) splice is allowed. */
	__cds_wfcq_splice_blocking(&h, &t, &w->head, &w->tail);
	__cds_wfcq_for_each_blocking_safe(&h, &t, node, next)
		bdrain_push(dr, caa_container_of(node, struct bdesc, u.wfcq));
}

static void *wfcq_create(struct bsink *sink, const void *arg, const struct bpolicy *pol)
{
	struct wfcq_impl *w = aligned_alloc(128, sizeof(*w));

	(void)arg;
	if (!w)
		abort();
	memset(w, 0, sizeof(*w));
	__cds_wfcq_init(&w->head, &w->tail);
	bdrain_start(&w->dr, sink, pol, w, wfcq_has_work, wfcq_take);
	return w;
}

static void wfcq_defer(void *p, struct bdesc *d)
{
	struct wfcq_impl *w = p;

	cds_wfcq_node_init(&d->u.wfcq);
	/* Returns false when the queue was empty before the enqueue. */
	if (!cds_wfcq_enqueue(&w->head, &w->tail, &d->u.wfcq))
		bdrain_wake_if_parked(&w->dr);
}

static void wfcq_quiesce(void *p)
{
	bdrain_quiesce(&((struct wfcq_impl *)p)->dr);
}

static void wfcq_destroy(void *p)
{
	bdrain_stop(&((struct wfcq_impl *)p)->dr);
	free(p);
}

/* ---- AO_stack, global -------------------------------------------------- */

struct ao_impl {
	struct bdrain dr;
	AO_stack_t stack __attribute__((aligned(128)));
	_Atomic uint32_t pending __attribute__((aligned(128)));
};

static bool ao_has_work(void *p)
{
	return atomic_load_explicit(&((struct ao_impl *)p)->pending, memory_order_relaxed);
}

static void ao_take(void *p, struct bdrain *dr)
{
	struct ao_impl *a = p;
	AO_t *e;

	/*
	 * Clear before popping: a push after this sets it again.  Relaxed: the
	 * flag only says "look"; the nodes are published by AO_stack's own
	 * release push and acquire pop, and the sleep/wake pairing is the
	 * fences in bdrain.c.
	 */
	atomic_exchange_explicit(&a->pending, 0, memory_order_relaxed);
	while ((e = AO_stack_pop(&a->stack)))
		bdrain_push(dr, caa_container_of(e, struct bdesc, u.ao));
}

static void *ao_create(struct bsink *sink, const void *arg, const struct bpolicy *pol)
{
	struct ao_impl *a = aligned_alloc(128, sizeof(*a));

	(void)arg;
	if (!a)
		abort();
	memset(a, 0, sizeof(*a));
	AO_stack_init(&a->stack);
	bdrain_start(&a->dr, sink, pol, a, ao_has_work, ao_take);
	return a;
}

static void ao_defer(void *p, struct bdesc *d)
{
	struct ao_impl *a = p;

	AO_stack_push(&a->stack, &d->u.ao);
	/* Test before exchange, so a set flag costs a load, not an RMW (relaxed: see ao_take). */
	if (!atomic_load_explicit(&a->pending, memory_order_relaxed) &&
	    !atomic_exchange_explicit(&a->pending, 1, memory_order_relaxed))
		bdrain_wake_if_parked(&a->dr);
}

static void ao_quiesce(void *p)
{
	bdrain_quiesce(&((struct ao_impl *)p)->dr);
}

static void ao_destroy(void *p)
{
	bdrain_stop(&((struct ao_impl *)p)->dr);
	free(p);
}

/* ---- the floor ---------------------------------------------------------- */

/* One uncontended RMW on a line private to the thread: what an enqueue costs at least. */
static __thread struct {
	_Atomic uint64_t count;
} __attribute__((aligned(128))) floor_line;

static void *floor_create(struct bsink *sink, const void *arg, const struct bpolicy *pol)
{
	(void)arg;
	(void)pol;
	return sink;
}

static void floor_defer(void *impl, struct bdesc *d)
{
	(void)impl;
	/* Relaxed: the floor is the cost of the RMW itself, ordering nothing. */
	atomic_fetch_add_explicit(&floor_line.count, 1, memory_order_relaxed);
	/* No consumer: the descriptor is free again at once (same store as a release). */
	atomic_store_explicit(&d->busy, 0, memory_order_relaxed);
}

static void floor_nop(void *impl)
{
	(void)impl;
}

const struct bdesign bdesign_floor = {
	.name = "floor", .flush_hook = false, .policy = BP_NONE,
	.note = "one uncontended atomic RMW on a private cache line per item",
	.create = floor_create, .defer = floor_defer, .quiesce = floor_nop, .destroy = floor_nop,
};

/* The peers' table: one entry per row. */
const struct bdesign bench_peer_designs[] = {
	{ .name = "call_rcu", .peer = true, .flush_hook = false, .policy = BP_OWN,
	  .note = "liburcu call_rcu, per-CPU workers, flags 0; no flush hook (no flush runs)",
	  .arg = &(const unsigned long){ 0 },
	  .create = rcu_create, .defer = rcu_defer, .quiesce = rcu_quiesce,
	  .destroy = rcu_destroy, .thread_enter = rcu_enter, .thread_exit = rcu_exit },
	{ .name = "call_rcu_rt", .peer = true, .flush_hook = false, .policy = BP_OWN,
	  .note = "liburcu call_rcu, per-CPU workers, URCU_CALL_RCU_RT (polling, no futex wake)",
	  .arg = &(const unsigned long){ URCU_CALL_RCU_RT },
	  .create = rcu_create, .defer = rcu_defer, .quiesce = rcu_quiesce,
	  .destroy = rcu_destroy, .thread_enter = rcu_enter, .thread_exit = rcu_exit },
	{ .name = "lfs_percpu", .peer = true, .flush_hook = true, .policy = BP_BOTH,
	  .note = "liburcu cds_lfs, one stack per CPU", .arg = &(const bool){ true },
	  .create = lfs_create, .defer = lfs_defer, .quiesce = lfs_quiesce, .destroy = lfs_destroy },
	{ .name = "lfs_global", .peer = true, .flush_hook = true, .policy = BP_BOTH,
	  .note = "liburcu cds_lfs, one global stack", .arg = &(const bool){ false },
	  .create = lfs_create, .defer = lfs_defer, .quiesce = lfs_quiesce, .destroy = lfs_destroy },
	{ .name = "wfcq", .peer = true, .flush_hook = true, .policy = BP_BOTH,
	  .note = "liburcu cds_wfcq, one global queue",
	  .create = wfcq_create, .defer = wfcq_defer, .quiesce = wfcq_quiesce,
	  .destroy = wfcq_destroy },
	{ .name = "ao_stack", .peer = true, .flush_hook = true, .policy = BP_BOTH,
	  .note = "libatomic_ops AO_stack, one global stack",
	  .create = ao_create, .defer = ao_defer, .quiesce = ao_quiesce, .destroy = ao_destroy },
	{ .name = "ck_epoch", .peer = true, .flush_hook = true, .policy = BP_BOTH,
	  .note = "Concurrency Kit ck_epoch: a record per producer, ck_epoch_call_strict; the "
		  "drain polls each with ck_epoch_poll_deferred, flushes once, releases",
	  .create = bench_ck_create, .defer = bench_ck_defer, .quiesce = bench_ck_quiesce,
	  .destroy = bench_ck_destroy, .thread_enter = bench_ck_thread_enter,
	  .thread_exit = bench_ck_thread_exit },
};
const unsigned int bench_nr_peer_designs =
	sizeof(bench_peer_designs) / sizeof(bench_peer_designs[0]);
