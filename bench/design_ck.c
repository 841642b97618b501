// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The ck_epoch peer: Concurrency Kit's epoch reclamation (Debian libck-dev,
 * 0.7.1) used for the benchmark's job, deferring each descriptor until a
 * flush that began after it was queued, as a user of ck would use it.
 *
 * How it is used, and the facts of ck 0.7.1 (ck_epoch.h, src/ck_epoch.c)
 * each choice rests on:
 *  - One ck_epoch_record per producer thread, registered in thread_enter
 *    (ck_epoch_recycle(), else ck_epoch_register()) and unregistered in
 *    thread_exit.  ck_epoch_call() is for the record's owner only, with
 *    nobody else touching the record: it bumps n_pending with a plain ++
 *    and pushes with ck_stack_push_spnc() (a plain load and store of the
 *    list head), so a ck_epoch_poll() on that record from another thread,
 *    whose dispatch takes the list with an atomic exchange, could run
 *    between that load and that store and leave the entries it took
 *    reachable from the new head: taken twice.  ck_epoch_call_strict() is
 *    the variant that "allows for records to be shared" (an atomic
 *    increment and ck_stack_push_upmc(), a CAS), and ck_epoch_reclaim() is
 *    "safe to call only on the caller's record or records that are using
 *    call_strict".  The producers therefore defer with
 *    ck_epoch_call_strict(), so that the consumer may take from their
 *    records.
 *  - ck_epoch_barrier() (= ck_epoch_synchronize() + ck_epoch_reclaim()) and
 *    ck_epoch_poll() run each callback as they take it: no place for a flush
 *    before the frees.  0.7.1 has ck_epoch_poll_deferred(record, stack),
 *    which moves the entries whose grace period is over onto the caller's
 *    ck_stack instead, for the caller to run later.  FreeBSD's epoch(9)
 *    uses it so: its callback task polls each CPU's record on that CPU, in
 *    a critical section, as the record's owner, then runs the callbacks.
 *    Here one consumer polls every producer's record, hence call_strict.
 *    The consumer is bdrain's drain thread, batching exactly as pgfree's
 *    drain and the other peers do (struct bpolicy: same delay, same
 *    batch_max): its take() calls ck_epoch_poll_deferred() on every record
 *    with work and appends what it gets; bdrain then flushes once per batch
 *    and releases each.  The callback stored by ck_epoch_call_strict() is
 *    never run (ck_never_cb aborts): run by ck_epoch_barrier() or
 *    ck_epoch_reclaim(), it would release a descriptor unflushed.
 *  - Nobody enters a read section (ck_epoch_begin/end): no design in this
 *    benchmark has readers (the flush is what protects a descriptor), as
 *    call_rcu's row has none.  With every record inactive,
 *    ck_epoch_poll_deferred() finds a grace period at once (ck_epoch_scan()
 *    sees no active record) and moves all CK_EPOCH_LENGTH lists of the
 *    record: one poll takes everything queued on the record before it.
 *  - ck_epoch_unregister() re-initializes the record's pending lists: what
 *    is still queued there is dropped.  thread_exit therefore first waits
 *    for a drain pass (bdrain_quiesce()) that takes and releases everything
 *    the thread queued, then unregisters, under the registry lock that the
 *    consumer also holds while it polls, so that no poll runs on a record
 *    being unregistered or unregistered (ck's manual: the record must not
 *    be modified after ck_epoch_unregister()).  Records cannot be freed
 *    while the ck_epoch is in use (ck_epoch_unregister's note); destroy
 *    waits until every producer has left, then frees them with the epoch.
 *
 * The wake-up.  ck_epoch_call_strict() does not say whether the list was
 * empty, so each record has an "armed" flag beside it, written 1 only by the
 * record's owner (after a call that found it 0, which then wakes the drain
 * if it is parked) and 0 only by the consumer (before it polls the record).
 * Correctness: every descriptor queued is taken by some take() that runs
 * after the push, and the drain never parks while a record is armed:
 *  - A producer that reads armed == 0 stores 1 (release: ordered after its
 *    push) and calls bdrain_wake_if_parked(): its seq_cst fence and the
 *    drain's before parking are the Dekker pair of bdrain.h, so either the
 *    drain's has_work() sees the flag or the producer sees it parked and
 *    wakes it.  The take() that reads that 1 clears it, then polls: the
 *    seq_cst fence after its load of the flag is an acquire fence, so the
 *    poll sees the push.
 *  - A producer that reads armed == 1 does nothing more.  That 1 is its
 *    own, not yet cleared; the take() that clears it polls after a seq_cst
 *    fence, and the producer read the flag after its push with
 *    ck_pr_fence_atomic_load() between (the push is a ck CAS; the fence
 *    orders an atomic before later loads: nothing on x86-TSO, where a
 *    locked instruction already does, a barrier elsewhere).  Both sides of
 *    this store-buffer pattern are fenced, so either that take's poll sees
 *    the push or the producer's load sees the 0 (the first case).
 * ck's operations are inline assembly, outside C11's model: this argument is
 * about the hardware's ordering, which ck_pr's fences state and C11's fences
 * and release stores compile to.
 * A quiesce is a drain pass begun after the call (bdrain_quiesce()): every
 * descriptor queued before it is on an armed record or was taken by an
 * earlier take(), whose vector that pass flushes and releases.  The flush
 * invariant: take() pops a descriptor after its push, and bdrain flushes
 * after take() and before any release.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ck_epoch.h>
#include <ck_pr.h>
#include <ck_stack.h>

#include "bdrain.h"
#include "designs.h"

struct ck_slot {
	ck_epoch_record_t rec;		/* first: a recycled record is its slot */
	/*
	 * Its own line: the owner reads it on every defer, the consumer writes
	 * it once per take (ck's own fields on the record's lines are written
	 * by both anyway).
	 */
	_Atomic uint32_t armed __attribute__((aligned(128)));
	bool owned;			/* registered to a thread; under reg */
	struct ck_slot *next;		/* every slot of the instance; under reg */
} __attribute__((aligned(128)));

struct ck_impl {
	struct bdrain dr;
	/* Read on every call (ck_epoch_call_strict() loads the global epoch). */
	ck_epoch_t epoch __attribute__((aligned(128)));
	/* Registration and the consumer's walk; apart from the epoch's line. */
	pthread_mutex_t reg __attribute__((aligned(128)));
	pthread_cond_t left;		/* live reached 0 */
	unsigned int live;		/* producers registered; under reg */
	struct ck_slot *slots;		/* under reg */
};

/* The calling producer's slot (one instance at a time per thread). */
static __thread struct ck_slot *ck_self;

static void ck_never_cb(ck_epoch_entry_t *e)
{
	(void)e;
	fprintf(stderr, "pgfree_bench: ck_epoch ran a callback: a descriptor released unflushed\n");
	abort();
}

static bool ck_has_work(void *p)
{
	struct ck_impl *c = p;
	bool work = false;

	pthread_mutex_lock(&c->reg);
	for (struct ck_slot *s = c->slots; s && !work; s = s->next)
		/* Relaxed: a hint; see the file's comment for the fences. */
		work = s->owned && atomic_load_explicit(&s->armed, memory_order_relaxed);
	pthread_mutex_unlock(&c->reg);
	return work;
}

/* bdrain's take(), under its lock: the single consumer of every record. */
static void ck_take(void *p, struct bdrain *dr)
{
	struct ck_impl *c = p;

	pthread_mutex_lock(&c->reg);
	for (struct ck_slot *s = c->slots; s; s = s->next) {
		ck_stack_t got = CK_STACK_INITIALIZER;
		ck_stack_entry_t *e, *next;
		struct ck_epoch_entry *ent;

		/* Relaxed load and store: the fence below orders both (file comment). */
		if (!s->owned || !atomic_load_explicit(&s->armed, memory_order_relaxed))
			continue;
		atomic_store_explicit(&s->armed, 0, memory_order_relaxed);
		/* Store-load: the clear before the poll; acquire for the push the 1 published. */
		atomic_thread_fence(memory_order_seq_cst);
		ck_epoch_poll_deferred(&s->rec, &got);
		for (e = CK_STACK_FIRST(&got); e; e = next) {
			next = CK_STACK_NEXT(e);
			ent = caa_container_of(e, struct ck_epoch_entry, stack_entry);
			bdrain_push(dr, caa_container_of(ent, struct bdesc, u.ck));
		}
	}
	pthread_mutex_unlock(&c->reg);
}

/* The bdesign hooks (designs.h); design_peers.c's table names them. */

void *bench_ck_create(struct bsink *sink, const void *arg, const struct bpolicy *pol)
{
	struct ck_impl *c = aligned_alloc(128, sizeof(*c));

	(void)arg;
	if (!c)
		abort();
	memset(c, 0, sizeof(*c));
	ck_epoch_init(&c->epoch);
	pthread_mutex_init(&c->reg, NULL);
	pthread_cond_init(&c->left, NULL);
	bdrain_start(&c->dr, sink, pol, c, ck_has_work, ck_take);
	return c;
}

static __attribute__((noinline, cold)) void ck_unregistered(void)
{
	fprintf(stderr, "pgfree_bench: ck_epoch defer from a thread without a record\n");
	abort();
}

void bench_ck_defer(void *p, struct bdesc *d)
{
	struct ck_impl *c = p;
	struct ck_slot *s = ck_self;

	if (__builtin_expect(!s, 0))
		ck_unregistered();
	ck_epoch_call_strict(&s->rec, &d->u.ck, ck_never_cb);
	/* The push (a ck CAS) before the flag's load: see the file's comment. */
	ck_pr_fence_atomic_load();
	/* Relaxed load: only this thread writes 1, so a 0 read here stays 0 or is ours. */
	if (!atomic_load_explicit(&s->armed, memory_order_relaxed)) {
		/* Release: a take() that reads this 1 sees the push. */
		atomic_store_explicit(&s->armed, 1, memory_order_release);
		bdrain_wake_if_parked(&c->dr);
	}
}

void bench_ck_quiesce(void *p)
{
	bdrain_quiesce(&((struct ck_impl *)p)->dr);
}

void bench_ck_destroy(void *p)
{
	struct ck_impl *c = p;
	struct ck_slot *s, *next;

	/* Google Benchmark's other threads may still be in thread_exit. */
	pthread_mutex_lock(&c->reg);
	while (c->live)
		pthread_cond_wait(&c->left, &c->reg);
	pthread_mutex_unlock(&c->reg);
	bdrain_stop(&c->dr);
	for (s = c->slots; s; s = next) {
		next = s->next;
		free(s);
	}
	pthread_cond_destroy(&c->left);
	pthread_mutex_destroy(&c->reg);
	free(c);
}

void bench_ck_thread_enter(void *p)
{
	struct ck_impl *c = p;
	ck_epoch_record_t *rec;
	struct ck_slot *s;

	if (ck_self)
		abort();	/* entered twice */
	pthread_mutex_lock(&c->reg);
	rec = ck_epoch_recycle(&c->epoch, NULL);
	if (rec) {
		s = (struct ck_slot *)rec;
	} else {
		s = aligned_alloc(128, sizeof(*s));
		if (!s)
			abort();
		memset(s, 0, sizeof(*s));
		ck_epoch_register(&c->epoch, &s->rec, NULL);
		s->next = c->slots;
		c->slots = s;
	}
	/* Relaxed: the consumer reads it under reg, which orders this store. */
	atomic_store_explicit(&s->armed, 0, memory_order_relaxed);
	s->owned = true;
	c->live++;
	pthread_mutex_unlock(&c->reg);
	ck_self = s;
}

void bench_ck_thread_exit(void *p)
{
	struct ck_impl *c = p;
	struct ck_slot *s = ck_self;

	/* ck_epoch_unregister() drops what is still queued: hand it all over first. */
	bdrain_quiesce(&c->dr);
	pthread_mutex_lock(&c->reg);
	s->owned = false;
	ck_epoch_unregister(&s->rec);
	if (--c->live == 0)
		pthread_cond_broadcast(&c->left);
	pthread_mutex_unlock(&c->reg);
	ck_self = NULL;
}
