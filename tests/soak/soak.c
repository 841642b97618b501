// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Soak test: pgfree_soak [--seconds=S] [--seed=N]
 *
 * Runs pgfree for a long time (S seconds; default $PGFREE_SOAK_SECONDS, else
 * 60) the way a busy user would, everything at once (PGFREE_SOAK_GDB=PATH:
 * at a hang, that gdb prints every thread's stack; see dump_stacks()):
 *
 *   - SOAK_DOMAINS domain slots, each holding a domain of a random design
 *     and configuration (a drain thread or none, with or without the
 *     batching delay, a hint mark, an exact bound used with
 *     pgfree_defer_wait(), the thread fallback flag, ->range_of() or not,
 *     ->release_chain() with or without ->release(), and, for half the
 *     lock-less domains without an exact bound, take-back
 *     (PGFREE_F_TAKE_BACK) with a random take_back_us), destroyed and
 *     recreated with a new random configuration now and then;
 *   - SOAK_PRODUCERS producer threads deferring descriptors from their own
 *     pools into random domains, reusing each as soon as it came back;
 *   - the producers also take back (pgfree_take_back() or, half the time,
 *     pgfree_take_back_each()) from random domains: from a take-back domain they get the flushed descriptors of
 *     the list of the CPU they run on, anyone's; each is the owner's again
 *     (counted back), and a producer defers its own again at once half the
 *     time; from any other domain the call must give -EINVAL;
 *   - flushes that fail at random, some giving up, so that descriptors come
 *     back through ->give_back() and are deferred again later;
 *   - random barriers, some with short timeouts, and drains;
 *   - fork() from the controller thread: the child runs pgfree_barrier() on
 *     every domain, checks that everything its copy had deferred to a
 *     domain without take-back came back (released or given back) in the
 *     child, destroys the domains (which releases what waits for
 *     take-back), checks that everything came back, and exits with 0 or 1;
 *     the parent checks the status.  Not under ThreadSanitizer (SOAK_TSAN
 *     says why) or with PGFREE_SOAK_NO_FORK set.
 *
 * Checked throughout: after a barrier returns 0 or -ECANCELED, each of the
 * calling producer's descriptors deferred to that domain before it came
 * back (not on a take-back domain, where flushed descriptors wait for
 * take-back); pgfree_stats() balances (deferred == released + given_back +
 * taken_back + backlog; taken_back and take_back_expired 0 without
 * take-back, take_back_expired <= released); when the controller holds a
 * slot's lock for writing (no call in flight), deferred is what the
 * producers had accepted, less, on a take-back domain, the descriptors that
 * wait for take-back (no more than were accepted, and at least as many as
 * the pools still miss, beyond the backlog), and taken_back is what the
 * producers took back; with an exact bound and only pgfree_defer_wait() in
 * use the backlog stays within it; every descriptor taken back is one of
 * the pools' and was last deferred to that very domain, and the count and
 * last node pgfree_take_back() gives match its chain (the number of calls
 * pgfree_take_back_each() made, its count); the tracker
 * (support/tracker.h) sees every release and every take-back preceded by a
 * successful flush that began after the defer, each descriptor handed back
 * once per defer.  At the end (everything destroyed) every descriptor came
 * back exactly as often as it was accepted (released, given back or taken
 * back), and each domain's tracker counts released + given back + taken
 * back == deferred.  Prints one summary line; exits 1 on any violation.
 * A watchdog aborts a run still going a minute past its time, and a forked
 * child not done within a minute, printing what each thread was doing (the
 * pgfree call, or the slot lock it waits for, and the slot).
 *
 * The tracker checks a released descriptor's range against the last good
 * flush only, which a take-back domain with ->range_of() does not satisfy:
 * a chain that waited for take-back is released (expired) in a later
 * drain, after flushes of other ranges.  So the tracker is shown
 * [0, PGFREE_FLUSH_ALL) for those domains (soak_flush()); the fuzzer
 * (tests/fuzz) checks their ranges against a record of every flush.
 *
 * Locking: each slot has a writer-preferring rwlock.  A producer holds it
 * for reading across one pgfree call and its bookkeeping; the controller
 * takes it for writing to destroy and recreate the slot's domain (no call
 * may run during destroy: see the table in pgfree.h) and takes every slot's
 * for writing around fork(), so that the child's copy holds no call half
 * made and its accounting is exact.  (Drains, which fork() itself waits for,
 * keep running in the parent.)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pgfree/pgfree.h>

#include "support/tracker.h"
#include "support/util.h"

/*
 * No fork() under ThreadSanitizer: a forked child that starts threads (and
 * pgfree's child restarts every drain thread) dies with "ThreadSanitizer:
 * dup thread with used id" even with die_after_fork=0, because TSan's copy
 * of the thread registry still lists the parent's threads, whose ids the
 * child's new threads reuse.  The fork path runs in the other builds.
 */
#if defined(__SANITIZE_THREAD__)
#define SOAK_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SOAK_TSAN 1
#endif
#endif
#ifndef SOAK_TSAN
#define SOAK_TSAN 0
#endif

#define SOAK_DOMAINS 3
#define SOAK_PRODUCERS 4
#define SOAK_POOL 128		/* descriptors per producer */

/**
 * struct sinc - one incarnation of a slot's domain
 * @t: its tracker; cfg.ctx points here (the callbacks find the rest)
 * @dom: the domain
 * @cfg: its configuration
 * @accepted: descriptors it accepted; producers add, relaxed: read only
 *	after the slot's write lock (or the joins) ordered the adds before
 * @plain_defers: pgfree_defer() calls begun on it (then the bound is not
 *	exact); seq_cst, see do_defer()
 * @taken: descriptors the producers took back from it; relaxed, as
 *	@accepted
 * @next: the list of retired incarnations, freed at exit
 */
struct sinc {
	struct tracker t;
	struct pgfree_domain *dom;
	struct pgfree_config cfg;
	_Atomic uint64_t accepted;
	_Atomic uint64_t plain_defers;
	_Atomic uint64_t taken;
	struct sinc *next;
};

/**
 * struct sdesc - a descriptor of a producer's pool
 * @td: the tracked descriptor
 * @in: times pgfree accepted it; written by its producer only.  Atomic
 *	(relaxed) so that a forked child may read it whatever the sanitizer
 *	thinks of the parent's threads.
 * @out: times ->release() or ->give_back() handed it back; the callback
 *	increments it with release order once the tracker is done with the
 *	descriptor, and the producer reads it with acquire before reusing
 *	the descriptor, so the two never race on it
 * @inc: the incarnation it was last deferred to (producer only)
 * @to: the same, for other threads: stored (relaxed) before each defer,
 *	whose release (the push) publishes it to the drain and, through the
 *	drain's publication and the taker's acquire exchange, to a producer
 *	that takes the descriptor back (and to the controller and a forked
 *	child, through the slot locks)
 * @taken: times a producer took it back (relaxed: a count, read at the end)
 */
struct sdesc {
	struct tdesc td;
	_Atomic uint32_t in;
	_Atomic uint32_t out;
	struct sinc *inc;
	_Atomic(struct sinc *) to;
	_Atomic uint32_t taken;
};

struct sslot {
	pthread_rwlock_t lock;
	struct sinc *inc;	/* under @lock; NULL only at the very end */
};

struct producer {
	pthread_t thread;
	unsigned int id;
	uint64_t rng;
	struct sdesc pool[SOAK_POOL];
};

static struct sslot slots[SOAK_DOMAINS];
static struct producer producers[SOAK_PRODUCERS];
static struct sinc *retired;		/* controller thread only */

/* seq_cst (the defaults) for these flags and counters: test code, not hot. */
static atomic_bool stop;
static atomic_ulong violations;
static atomic_ulong n_barriers, n_timeouts, n_drains, n_forks, n_recreates, n_waits;
static atomic_uint n_started;	/* producers past their thread start */
static atomic_ulong n_take_backs, n_reused;
/* Summed from each incarnation at its destroy (controller thread). */
static uint64_t sum_deferred, sum_released, sum_given_back, sum_flushes, sum_failures;
static uint64_t sum_taken_back, sum_chain_calls, n_tb_domains;

/*
 * What each thread is doing, for the watchdog: a hang then says where it
 * hangs (which call, on which slot), not only that it does.  One entry per
 * producer and one for the controller (main, and a forked child's only
 * thread of its own); relaxed stores by the owner, relaxed loads by the
 * signal handler: a hint printed once, nothing is ordered by it.
 */
enum soak_phase {
	PH_RUN, PH_RDLOCK, PH_WRLOCK, PH_BARRIER, PH_BARRIER_TIMEOUT, PH_DEFER,
	PH_DEFER_WAIT, PH_DRAIN, PH_TAKE_BACK, PH_STATS, PH_DESTROY, PH_CREATE, PH_FORK,
	PH_WAITPID, PH_JOIN, NR_PHASES
};

static const char *const phase_names[NR_PHASES] = {
	"running", "waiting for a slot's read lock", "waiting for a slot's write lock",
	"in pgfree_barrier()", "in pgfree_barrier_timeout()", "in pgfree_defer()",
	"in pgfree_defer_wait()", "in pgfree_drain()", "in pgfree_take_back[_each]()",
	"in pgfree_stats()", "destroying", "creating", "in fork()", "in waitpid()",
	"joining producer",
};

#define SOAK_CONTROLLER SOAK_PRODUCERS
static struct {
	_Atomic unsigned int phase, slot;
} phases[SOAK_PRODUCERS + 1];
static volatile sig_atomic_t in_child;

static void set_phase(unsigned int who, enum soak_phase ph, unsigned int slot)
{
	atomic_store_explicit(&phases[who].slot, slot, memory_order_relaxed);
	atomic_store_explicit(&phases[who].phase, ph, memory_order_relaxed);
}

__attribute__((format(printf, 1, 2)))
static void soak_fail(const char *fmt, ...)
{
	va_list ap;

	/* Print the first few only: one bug tends to repeat. */
	if (atomic_fetch_add(&violations, 1) >= 10)
		return;
	fprintf(stderr, "pgfree soak: VIOLATION: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static uint64_t rnd(uint64_t *x)
{
	/* xorshift64 */
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

static unsigned int rnd_below(uint64_t *x, unsigned int n)
{
	return (unsigned int)((rnd(x) >> 16) % n);
}

/* ---- callbacks: the tracker's, plus counting each descriptor back ---- */

static struct sdesc *sdesc_of(struct pgfree_llist_node *node)
{
	return (struct sdesc *)((char *)node - offsetof(struct sdesc, td.node));
}

static void mark_out(struct pgfree_llist_node *batch)
{
	struct pgfree_llist_node *n, *next;

	for (n = batch; n; n = next) {
		/* Read before the store below hands the node back. */
		next = n->next;
		/* Release: see struct sdesc.out. */
		atomic_fetch_add_explicit(&sdesc_of(n)->out, 1, memory_order_release);
	}
}

/* cfg.ctx is the tracker, the first member of its incarnation. */
static struct sinc *inc_of_ctx(void *ctx)
{
	return (struct sinc *)((char *)ctx - offsetof(struct sinc, t));
}

static bool inc_take_back(const struct sinc *inc)
{
	return inc->cfg.flags & PGFREE_F_TAKE_BACK;
}

/* Take-back domains with ->range_of(): see the comment at the top. */
static int soak_flush(void *ctx, const struct pgfree_range *range)
{
	static const struct pgfree_range all = { 0, PGFREE_FLUSH_ALL };

	return tracker_flush(ctx, range ? &all : NULL);
}

static void soak_release(void *ctx, struct pgfree_llist_node *batch)
{
	if (inc_of_ctx(ctx)->cfg.ops.release_chain)
		tracker_violation(ctx, "->release() called on a domain with ->release_chain()");
	/* No re-defers are set up: the tracker leaves the chain as it was. */
	tracker_release(ctx, batch);
	mark_out(batch);
}

static void soak_release_chain(void *ctx, const struct pgfree_chain *chain)
{
	/* Count, last node and list (t.nr_lists), then as tracker_release(). */
	tracker_release_chain(ctx, chain);
	mark_out(chain->first);
}

static void soak_give_back(void *ctx, struct pgfree_llist_node *batch)
{
	tracker_give_back(ctx, batch);
	mark_out(batch);
}

/* ---- domains ---- */

/* How many lists the domain has (pgfree.h, nr_slots). */
static unsigned int inc_lists(const struct sinc *inc)
{
	long cpus;

	if (inc->cfg.design != PGFREE_DESIGN_PERCPU)
		return 1;
	if (inc->cfg.nr_slots)
		return inc->cfg.nr_slots;
	cpus = sysconf(_SC_NPROCESSORS_CONF);
	return cpus < 1 ? 1 : cpus > (long)PGFREE_MAX_SLOTS ? PGFREE_MAX_SLOTS : (unsigned int)cpus;
}

static struct sinc *inc_create(uint64_t *x)
{
	static const unsigned int every[] = { 0, 0, 3, 7, 13, 29 };
	struct sinc *inc = calloc(1, sizeof(*inc));
	unsigned int design = rnd_below(x, PGFREE_DESIGN_COUNT), flags = 0;
	bool lockless = design == PGFREE_DESIGN_PERCPU || design == PGFREE_DESIGN_GLOBAL_LLIST;
	int err;

	if (!inc) {
		perror("calloc");
		exit(1);
	}
	tracker_init(&inc->t);
	inc->t.use_range = rnd_below(x, 2);
	/* Set before the domain exists: the callbacks only read these. */
	atomic_store(&inc->t.fail_every, every[rnd_below(x, 6)]);
	inc->t.fail_err = rnd_below(x, 3) ? -EIO : PGFREE_FLUSH_GIVE_UP;
	atomic_store(&inc->t.flush_cost_ns, rnd_below(x, 3) ? 0 : 2000);

	if (rnd_below(x, 5) == 0)
		flags |= PGFREE_F_NO_THREAD;
	if (rnd_below(x, 3) == 0)
		flags |= PGFREE_F_THREAD_FALLBACK;
	if (rnd_below(x, 2))
		flags |= PGFREE_F_NO_DELAY;
	inc->cfg = tracker_config(&inc->t, design, flags);
	inc->cfg.ops.release = soak_release;
	inc->cfg.ops.give_back = soak_give_back;
	if (rnd_below(x, 3) == 0) {
		inc->cfg.ops.release_chain = soak_release_chain;
		if (rnd_below(x, 2))
			inc->cfg.ops.release = NULL;
	}
	inc->cfg.nr_slots = rnd_below(x, 9);
	if (!(flags & PGFREE_F_NO_DELAY) && rnd_below(x, 2))
		inc->cfg.batch_delay_us = 1 + rnd_below(x, 200);
	if (rnd_below(x, 2))
		inc->cfg.batch_max = 16 + rnd_below(x, 1000);
	if (lockless && rnd_below(x, 2)) {
		inc->cfg.backlog_max = 8 + rnd_below(x, 250);
		if (rnd_below(x, 2))
			inc->cfg.flags |= PGFREE_F_BOUNDED;
	}
	if (lockless && !(inc->cfg.flags & PGFREE_F_BOUNDED) && rnd_below(x, 2)) {
		static const unsigned int hold_us[] = { 0, 20, 200, 5000 };

		inc->cfg.flags |= PGFREE_F_TAKE_BACK;
		inc->cfg.take_back_us = hold_us[rnd_below(x, 4)];
		if (inc->t.use_range)
			inc->cfg.ops.flush = soak_flush;
		n_tb_domains++;
	}
	/* ->release_chain()'s list: one of the lists, or the rseq spill list. */
	inc->t.nr_lists = inc_lists(inc) + 1;
	err = tracker_create(&inc->t, &inc->cfg, &inc->dom);
	if (err) {
		fprintf(stderr, "pgfree soak: create (%s, flags %#x) failed: %s\n",
			pgfree_design_name(design), inc->cfg.flags, pgfree_strerror(err));
		exit(1);
	}
	return inc;
}

/* The slot's lock held for writing (or no other thread left). */
static void inc_destroy(struct sinc *inc, uint64_t *x)
{
	uint64_t dfr, rel, gb, tb, acc, taken;
	int err;

	if (rnd_below(x, 2)) {
		/* Some tries with a short limit; -ETIMEDOUT leaves it live. */
		do {
			err = pgfree_domain_destroy_timeout(inc->dom, 1000u * (1 + rnd_below(x, 500)));
		} while (err == -ETIMEDOUT);
	} else {
		err = pgfree_domain_destroy(inc->dom);
	}
	if (err)
		soak_fail("destroy gave %d (%s)", err, pgfree_strerror(err));
	err = pgfree_domain_destroy(inc->dom);
	if (err != -ESHUTDOWN)
		soak_fail("destroy twice gave %d, want -ESHUTDOWN", err);

	dfr = atomic_load(&inc->t.deferred);
	rel = atomic_load(&inc->t.released);
	gb = atomic_load(&inc->t.given_back);
	tb = atomic_load(&inc->t.taken_back);
	acc = atomic_load(&inc->accepted);
	taken = atomic_load(&inc->taken);
	if (atomic_load(&inc->t.violations))
		soak_fail("domain %s flags %#x: %s", pgfree_design_name(inc->cfg.design),
			  inc->cfg.flags, tracker_first_violation(&inc->t));
	/* Destroy released what waited for take-back: everything is back. */
	if (dfr != acc || rel + gb + tb != dfr || tb != taken)
		soak_fail("domain %s flags %#x: accepted %" PRIu64 ", tracker deferred %" PRIu64
			  ", released %" PRIu64 " + given back %" PRIu64 " + taken back %" PRIu64
			  " (producers took %" PRIu64 ")", pgfree_design_name(inc->cfg.design),
			  inc->cfg.flags, acc, dfr, rel, gb, tb, taken);
	sum_deferred += dfr;
	sum_released += rel;
	sum_given_back += gb;
	sum_taken_back += tb;
	sum_chain_calls += atomic_load(&inc->t.chain_calls);
	sum_flushes += atomic_load(&inc->t.flush_ok);
	sum_failures += atomic_load(&inc->t.flush_failed);
	inc->next = retired;
	retired = inc;
}

/*
 * Descriptors last deferred to @inc and not back, counted while the caller
 * holds @inc's slot for writing: nothing is deferred to @inc meanwhile, but
 * producers go on deferring to the other slots.  So out first, then in
 * (acquire: pairs with do_defer()'s release store, so a new in comes with
 * its new to), then to: a descriptor counted was out, and @inc's, when out
 * was read, after the caller's pgfree_stats().  (It may be missed: the safe
 * side for "held <= backlog + waiting".)
 */
static uint64_t count_held(struct sinc *inc)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < SOAK_PRODUCERS; i++)
		for (unsigned int j = 0; j < SOAK_POOL; j++) {
			struct sdesc *d = &producers[i].pool[j];
			/* Acquire: see struct sdesc.out. */
			uint32_t out = atomic_load_explicit(&d->out, memory_order_acquire);
			uint32_t in = atomic_load_explicit(&d->in, memory_order_acquire);

			/* Relaxed: ordered by the acquire load of in. */
			n += in != out && atomic_load_explicit(&d->to, memory_order_relaxed) == inc;
		}
	return n;
}

/*
 * Stats must balance; with only defer_wait() in use, the bound holds.
 * @exact: no pgfree call of a producer is in flight on @inc (the slot's
 * write lock, or the producers joined), so the producers' counts are final.
 */
static void check_stats(struct sinc *inc, bool exact)
{
	struct pgfree_stats s;
	int err = pgfree_stats(inc->dom, &s);

	if (err) {
		soak_fail("stats gave %d", err);
		return;
	}
	if (s.deferred != s.released + s.given_back + s.taken_back + s.backlog)
		soak_fail("stats: deferred %" PRIu64 " != released %" PRIu64 " + given_back %"
			  PRIu64 " + taken_back %" PRIu64 " + backlog %" PRIu64, s.deferred,
			  s.released, s.given_back, s.taken_back, s.backlog);
	if (!inc_take_back(inc) && (s.taken_back || s.take_back_expired))
		soak_fail("stats: taken_back %" PRIu64 ", take_back_expired %" PRIu64
			  " without take-back", s.taken_back, s.take_back_expired);
	if (s.take_back_expired > s.released)
		soak_fail("stats: take_back_expired %" PRIu64 " > released %" PRIu64,
			  s.take_back_expired, s.released);
	if (exact) {
		uint64_t acc = atomic_load(&inc->accepted), taken = atomic_load(&inc->taken);
		/* What waits for take-back is in none of the counters (pgfree.h). */
		uint64_t waiting = acc - s.deferred, held;

		if (inc_take_back(inc) ? s.deferred > acc : s.deferred != acc)
			soak_fail("stats: deferred %" PRIu64 ", producers had %" PRIu64 " accepted "
				  "(flags %#x)", s.deferred, acc, inc->cfg.flags);
		if (s.taken_back != taken)
			soak_fail("stats: taken_back %" PRIu64 ", producers took %" PRIu64,
				  s.taken_back, taken);
		/* Counted after the stats: the drain may only have given more back. */
		held = count_held(inc);
		if (s.deferred <= acc && held > s.backlog + waiting)
			soak_fail("stats: %" PRIu64 " descriptors not back, but backlog %" PRIu64
				  " and %" PRIu64 " waiting for take-back (flags %#x)", held,
				  s.backlog, waiting, inc->cfg.flags);
	}
	if ((inc->cfg.flags & PGFREE_F_BOUNDED) && !atomic_load(&inc->plain_defers)) {
		uint64_t lists = inc_lists(inc);
		uint64_t bound = lists * ((inc->cfg.backlog_max + lists - 1) / lists);

		if (s.backlog > bound)
			soak_fail("stats: backlog %" PRIu64 " over the bound %" PRIu64, s.backlog,
				  bound);
	}
}

/* ---- producers ---- */

static bool desc_free(struct sdesc *d)
{
	/* Acquire: see struct sdesc.out.  Relaxed for in: our own writes. */
	return atomic_load_explicit(&d->out, memory_order_acquire) ==
	       atomic_load_explicit(&d->in, memory_order_relaxed);
}

/* After a barrier on @inc: each of @p's descriptors deferred there is back. */
static void check_back(struct producer *p, struct sinc *inc, int r)
{
	for (unsigned int i = 0; i < SOAK_POOL; i++) {
		struct sdesc *d = &p->pool[i];

		if (d->inc == inc && !desc_free(d))
			soak_fail("producer %u: descriptor %u still held after a barrier gave %d "
				  "(%s, flags %#x)", p->id, i, r, pgfree_design_name(inc->cfg.design),
				  inc->cfg.flags);
	}
}

/* The pool descriptor whose node is @node, or NULL if it is none of the pools'. */
static struct sdesc *pool_desc(const struct pgfree_llist_node *node)
{
	for (unsigned int i = 0; i < SOAK_PRODUCERS; i++) {
		const struct sdesc *pool = producers[i].pool;
		uintptr_t a = (uintptr_t)node, base = (uintptr_t)&pool[0].td.node;

		if (a >= base && a < base + sizeof(producers[i].pool) &&
		    (a - base) % sizeof(struct sdesc) == 0)
			return &producers[i].pool[(a - base) / sizeof(struct sdesc)];
	}
	return NULL;
}

/* What one take-back got (took_one()). */
struct took {
	struct producer *p;
	struct sinc *inc;
	struct sdesc **mine;
	unsigned int nmine;
	uint64_t n;
	bool bad;		/* a node not of the pools: stop looking */
};

/*
 * One descriptor taken back, already checked by the tracker: it must be a
 * pool's and last deferred to the incarnation.  Counted back to its owner,
 * which reuses it; about half of the caller's own go to @tk->mine.
 */
static void took_one(struct took *tk, struct pgfree_llist_node *node)
{
	struct sdesc *d = tk->bad ? NULL : pool_desc(node);

	if (!d) {
		if (!tk->bad)
			soak_fail("take_back gave %p, not a descriptor of the pools", (void *)node);
		tk->bad = true;
		return;
	}
	/* Relaxed: published with the node (struct sdesc.to). */
	if (atomic_load_explicit(&d->to, memory_order_relaxed) != tk->inc)
		soak_fail("take_back from a %s domain (flags %#x) gave producer %u's "
			  "descriptor %u, last deferred to another domain",
			  pgfree_design_name(tk->inc->cfg.design), tk->inc->cfg.flags,
			  d->td.producer, d->td.seq);
	tk->n++;
	atomic_fetch_add_explicit(&d->taken, 1, memory_order_relaxed);
	if (d->td.producer == tk->p->id && rnd_below(&tk->p->rng, 2))
		tk->mine[tk->nmine++] = d;
	/* Release: see struct sdesc.out. */
	atomic_fetch_add_explicit(&d->out, 1, memory_order_release);
}

/* pgfree_take_back_each()'s function, behind the tracker's check. */
static void took_each(void *arg, struct tdesc *td)
{
	took_one(arg, &td->node);
}

/* The same, called by the library directly: where it must never be called. */
static void took_raw(void *arg, struct pgfree_llist_node *node)
{
	took_one(arg, node);
}

/**
 * __take_back() - pgfree_take_back() or pgfree_take_back_each() on @inc,
 * every descriptor checked
 * @p: the calling producer
 * @inc: the incarnation; its slot held for reading
 * @mine: filled with @p's own descriptors to defer again (after the lock
 *	is dropped: do_defer() takes it), about half of those that came back
 *
 * A plain domain must refuse.  From a take-back domain: the tracker checks
 * each descriptor as a release (state, a good flush begun after its defer)
 * and, for pgfree_take_back(), the chain's count and last node; here each
 * must be a pool's and last deferred to @inc, and the list one of @inc's.
 * Each is then counted back to its owner, which reuses it.  Which of the
 * two calls is a coin's toss.
 *
 * Return: how many of @mine were filled.
 */
static unsigned int __take_back(struct producer *p, struct sinc *inc, struct sdesc **mine)
{
	struct pgfree_llist_node *node, *next;
	struct took tk = { .p = p, .inc = inc, .mine = mine };
	bool each = rnd_below(&p->rng, 2);
	struct pgfree_chain c;
	long r;

	if (!inc_take_back(inc)) {
		r = each ? pgfree_take_back_each(inc->dom, took_raw, &tk) :
			   pgfree_take_back(inc->dom, &c);
		if (r != -EINVAL || tk.n)
			soak_fail("take_back%s on a domain without take-back (flags %#x) gave %ld",
				  each ? "_each" : "", inc->cfg.flags, r);
		return 0;
	}
	if (each) {
		r = tracker_take_back_each(&inc->t, inc->dom, took_each, &tk);
	} else {
		r = tracker_take_back(&inc->t, inc->dom, &c);
		if (r > 0 && c.list >= inc_lists(inc))
			soak_fail("take_back: list %u of %u", c.list, inc_lists(inc));
		for (node = r > 0 ? c.first : NULL; node && !tk.bad; node = next) {
			/* Read before the descriptor is counted back, and may be reused. */
			next = node->next;
			took_one(&tk, node);
		}
	}
	if (r < 0) {
		soak_fail("take_back%s gave %ld (%s)", each ? "_each" : "", r,
			  pgfree_strerror((int)r));
		return 0;
	}
	atomic_fetch_add(&n_take_backs, 1);
	if (tk.n != (uint64_t)r)
		soak_fail("take_back%s gave %ld, chain of %" PRIu64, each ? "_each" : "", r, tk.n);
	/* Relaxed: as struct sinc.accepted. */
	atomic_fetch_add_explicit(&inc->taken, tk.n, memory_order_relaxed);
	return tk.nmine;
}

static void do_defer(struct producer *p, struct sdesc *d, unsigned int s);

/* Defer again, at once, what the producer took back of its own. */
static void reuse(struct producer *p, struct sdesc **mine, unsigned int n, unsigned int s)
{
	for (unsigned int i = 0; i < n; i++)
		do_defer(p, mine[i], s);
	atomic_fetch_add(&n_reused, n);
}

static void do_take_back(struct producer *p, unsigned int s)
{
	struct sdesc *mine[SOAK_POOL];
	unsigned int n;

	set_phase(p->id, PH_RDLOCK, s);
	pthread_rwlock_rdlock(&slots[s].lock);
	set_phase(p->id, PH_TAKE_BACK, s);
	n = __take_back(p, slots[s].inc, mine);
	pthread_rwlock_unlock(&slots[s].lock);
	set_phase(p->id, PH_RUN, s);
	reuse(p, mine, n, s);
}

static void do_barrier(struct producer *p, unsigned int s)
{
	struct sdesc *mine[SOAK_POOL];
	struct sinc *inc;
	bool timed = rnd_below(&p->rng, 3) == 0;
	unsigned int n = 0;
	int r;

	set_phase(p->id, PH_RDLOCK, s);
	pthread_rwlock_rdlock(&slots[s].lock);
	inc = slots[s].inc;
	set_phase(p->id, timed ? PH_BARRIER_TIMEOUT : PH_BARRIER, s);
	r = timed ? pgfree_barrier_timeout(inc->dom, 1000u * (1 + rnd_below(&p->rng, 2000))) :
		    pgfree_barrier(inc->dom);
	set_phase(p->id, PH_TAKE_BACK, s);
	if (r == 0 || r == -ECANCELED) {
		/* Take-back: what the barrier covered may wait on the lists. */
		if (inc_take_back(inc))
			n = __take_back(p, inc, mine);
		else
			check_back(p, inc, r);
	} else if (r == -ETIMEDOUT && timed) {
		atomic_fetch_add(&n_timeouts, 1);
	} else {
		soak_fail("barrier%s gave %d (%s)", timed ? "_timeout" : "", r, pgfree_strerror(r));
	}
	if (r == -ECANCELED && inc->t.fail_err != PGFREE_FLUSH_GIVE_UP)
		soak_fail("barrier gave -ECANCELED, but no flush gives up");
	pthread_rwlock_unlock(&slots[s].lock);
	set_phase(p->id, PH_RUN, s);
	atomic_fetch_add(&n_barriers, 1);
	reuse(p, mine, n, s);
}

static void do_defer(struct producer *p, struct sdesc *d, unsigned int s)
{
	struct sinc *inc;
	bool wait;
	int err;

	set_phase(p->id, PH_RDLOCK, s);
	pthread_rwlock_rdlock(&slots[s].lock);
	inc = slots[s].inc;
	/* Relaxed: see struct sdesc.to (before the push that publishes it). */
	atomic_store_explicit(&d->to, inc, memory_order_relaxed);
	/* Bounded domains get mostly defer_wait(), sometimes a plain defer. */
	wait = (inc->cfg.flags & PGFREE_F_BOUNDED) && rnd_below(&p->rng, 64);
	/*
	 * Counted before the call: a pgfree_stats() that sees this node
	 * (through the release CAS that linked it) then sees the count too,
	 * and does not hold the bound against a backlog a plain defer raised.
	 */
	if (!wait)
		atomic_fetch_add(&inc->plain_defers, 1);
	set_phase(p->id, wait ? PH_DEFER_WAIT : PH_DEFER, s);
	if (wait) {
		tracker_stamp(&inc->t, &d->td);
		err = pgfree_defer_wait(inc->dom, &d->td.node);
		if (err)
			atomic_store(&d->td.state, TDESC_IDLE);
		else
			atomic_fetch_add(&inc->t.deferred, 1);
	} else {
		err = tracker_defer(&inc->t, inc->dom, &d->td);
	}
	if (err) {
		soak_fail("defer%s gave %d (%s)", wait ? "_wait" : "", err, pgfree_strerror(err));
	} else {
		d->inc = inc;
		/*
		 * Relaxed load: our own writes.  Release store: count_held()
		 * reads in, then to.  Relaxed for accepted: see struct sinc.
		 */
		atomic_store_explicit(&d->in, atomic_load_explicit(&d->in, memory_order_relaxed) + 1,
				      memory_order_release);
		atomic_fetch_add_explicit(&inc->accepted, 1, memory_order_relaxed);
		if (wait)
			atomic_fetch_add(&n_waits, 1);
	}
	pthread_rwlock_unlock(&slots[s].lock);
	set_phase(p->id, PH_RUN, s);
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	unsigned int cursor = 0;

	/* Past the thread start: the controller may fork (main() says why it waits). */
	atomic_fetch_add(&n_started, 1);
	while (!atomic_load(&stop)) {
		unsigned int what = rnd_below(&p->rng, 1000);
		struct sdesc *d = NULL;

		if (what < 8) {
			do_barrier(p, rnd_below(&p->rng, SOAK_DOMAINS));
			continue;
		}
		if (what < 12) {
			unsigned int s = rnd_below(&p->rng, SOAK_DOMAINS);
			long r;

			set_phase(p->id, PH_RDLOCK, s);
			pthread_rwlock_rdlock(&slots[s].lock);
			set_phase(p->id, PH_DRAIN, s);
			r = pgfree_drain(slots[s].inc->dom);
			if (r < 0 && r != -EIO && r != PGFREE_FLUSH_GIVE_UP)
				soak_fail("drain gave %ld", r);
			if (rnd_below(&p->rng, 4) == 0)
				check_stats(slots[s].inc, false);
			pthread_rwlock_unlock(&slots[s].lock);
			set_phase(p->id, PH_RUN, s);
			atomic_fetch_add(&n_drains, 1);
			continue;
		}
		if (what < 40) {
			do_take_back(p, rnd_below(&p->rng, SOAK_DOMAINS));
			continue;
		}
		/* The next free descriptor of the pool, round robin. */
		for (unsigned int i = 0; i < SOAK_POOL && !d; i++) {
			struct sdesc *c = &p->pool[(cursor + i) % SOAK_POOL];

			if (desc_free(c))
				d = c;
		}
		cursor++;
		if (!d) {
			/*
			 * All out: a thread-less domain may hold them; drive
			 * it (a drain also expires what waits for take-back
			 * too long there).  Or take back.
			 */
			if (rnd_below(&p->rng, 2))
				do_barrier(p, rnd_below(&p->rng, SOAK_DOMAINS));
			else
				do_take_back(p, rnd_below(&p->rng, SOAK_DOMAINS));
			continue;
		}
		do_defer(p, d, rnd_below(&p->rng, SOAK_DOMAINS));
	}
	return NULL;
}

/* ---- fork ---- */

/* In the child: drain everything in the child, check it all came back. */
static void child_main(void)
{
	int bad = 0;

	/* Its own watchdog: a hung child would keep the parent in waitpid(). */
	in_child = 1;
	alarm(60);
	for (unsigned int s = 0; s < SOAK_DOMAINS; s++) {
		struct sinc *inc = slots[s].inc;
		int r;

		set_phase(SOAK_CONTROLLER, PH_BARRIER, s);
		r = pgfree_barrier(inc->dom);

		if (r != 0 && r != -ECANCELED) {
			fprintf(stderr, "pgfree soak child: barrier gave %d\n", r);
			bad = 1;
		}
	}
	/* What waits for take-back after a barrier comes back at destroy. */
	for (unsigned int i = 0; i < SOAK_PRODUCERS; i++) {
		for (unsigned int j = 0; j < SOAK_POOL; j++) {
			struct sdesc *d = &producers[i].pool[j];
			uint32_t in = atomic_load(&d->in), out = atomic_load(&d->out);
			struct sinc *to = atomic_load(&d->to);

			if (in != out && !(to && inc_take_back(to)) && !bad++)
				fprintf(stderr, "pgfree soak child: producer %u descriptor %u: "
					"accepted %u, back %u after the barriers\n", i, j, in, out);
		}
	}
	for (unsigned int s = 0; s < SOAK_DOMAINS; s++) {
		struct sinc *inc = slots[s].inc;

		set_phase(SOAK_CONTROLLER, PH_DESTROY, s);
		if (pgfree_domain_destroy(inc->dom)) {
			fprintf(stderr, "pgfree soak child: destroy failed\n");
			bad = 1;
		}
		if (atomic_load(&inc->t.violations)) {
			fprintf(stderr, "pgfree soak child: %s\n", tracker_first_violation(&inc->t));
			bad = 1;
		}
	}
	for (unsigned int i = 0; i < SOAK_PRODUCERS; i++) {
		for (unsigned int j = 0; j < SOAK_POOL; j++) {
			struct sdesc *d = &producers[i].pool[j];
			uint32_t in = atomic_load(&d->in), out = atomic_load(&d->out);

			if (in != out && !bad++)
				fprintf(stderr, "pgfree soak child: producer %u descriptor %u: "
					"accepted %u, back %u after destroy\n", i, j, in, out);
		}
	}
	_exit(bad ? 1 : 0);
}

static void do_fork(void)
{
	pid_t pid;
	int status;

	for (unsigned int s = 0; s < SOAK_DOMAINS; s++) {
		set_phase(SOAK_CONTROLLER, PH_WRLOCK, s);
		pthread_rwlock_wrlock(&slots[s].lock);
	}
	set_phase(SOAK_CONTROLLER, PH_FORK, 0);
	pid = fork();
	if (pid == 0)
		child_main();
	set_phase(SOAK_CONTROLLER, PH_WAITPID, 0);
	for (unsigned int s = 0; s < SOAK_DOMAINS; s++)
		pthread_rwlock_unlock(&slots[s].lock);
	if (pid < 0) {
		perror("pgfree soak: fork");
		return;
	}
	if (waitpid(pid, &status, 0) != pid)
		soak_fail("waitpid: %s", strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status))
		soak_fail("forked child failed (status %#x)", status);
	set_phase(SOAK_CONTROLLER, PH_RUN, 0);
	atomic_fetch_add(&n_forks, 1);
}

/* ---- main ---- */

/* Appends @str to @buf at *@at (async-signal-safe: no stdio). */
static void put_str(char *buf, size_t len, size_t *at, const char *str)
{
	while (*str && *at + 1 < len)
		buf[(*at)++] = *str++;
}

static void put_uint(char *buf, size_t len, size_t *at, unsigned int v)
{
	char tmp[12];
	int n = 0;

	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < (int)sizeof(tmp));
	while (n && *at + 1 < len)
		buf[(*at)++] = tmp[--n];
}

/*
 * PGFREE_SOAK_GDB=PATH (a gdb binary): at a hang, before it aborts, the
 * watchdog has that gdb print every thread's stack.  A debugger is the only
 * way in: the drain threads block every signal (drain_thread.c), so no
 * handler of ours runs on them.  The hang this is for is rare (a forked
 * child of the asan build, about once in 500 runs: docs/testing.md), and
 * the phases alone do not say where a thread waits.  _Fork(), not fork():
 * no atfork handler runs (pgfree's would wait for the very drain that may
 * hang), and it is async-signal-safe; so are execv() and waitpid().
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
#include <sys/prctl.h>
static const char *gdb_path;

static void dump_stacks(void)
{
	static char pid_arg[16];
	char *argv[] = { "gdb", "-batch", "-nx", "-p", pid_arg, "-ex", "info threads",
			 "-ex", "thread apply all bt", NULL };
	size_t at = 0;
	pid_t pid;

	if (!gdb_path)
		return;
	put_uint(pid_arg, sizeof(pid_arg), &at, (unsigned int)getpid());
	pid_arg[at] = 0;
	pid = _Fork();
	if (pid == 0) {
		dup2(2, 1);	/* the stacks go where the phases went */
		execv(gdb_path, argv);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
}

/* From main(), before any thread: let gdb attach (Yama's ptrace_scope 1). */
static void dump_stacks_setup(void)
{
	gdb_path = getenv("PGFREE_SOAK_GDB");
	if (gdb_path && access(gdb_path, X_OK)) {
		fprintf(stderr, "pgfree soak: PGFREE_SOAK_GDB=%s is not executable; "
			"no stacks at a hang\n", gdb_path);
		gdb_path = NULL;
	}
	if (gdb_path)
		prctl(PR_SET_PTRACER, PR_SET_PTRACER_ANY, 0, 0, 0);
}
#else
static void dump_stacks(void) { }
static void dump_stacks_setup(void)
{
	if (getenv("PGFREE_SOAK_GDB"))
		fprintf(stderr, "pgfree soak: PGFREE_SOAK_GDB needs glibc's _Fork(); ignored\n");
}
#endif

/*
 * The watchdog: a hang (a lost wake-up, a bound never freed) fails loudly,
 * and says what each thread was doing.  In a forked child only the
 * controller's entry is the child's own.
 */
static void soak_hung(int sig)
{
	static const char msg[] = "pgfree soak: VIOLATION: still running a minute past "
				  "--seconds: something hangs\n";
	static const char child_msg[] = "pgfree soak child: VIOLATION: not done within a "
					"minute: something hangs\n";
	char line[160];

	(void)sig;
	/* Only async-signal-safe calls here. */
	if (in_child)
		write(2, child_msg, sizeof(child_msg) - 1);
	else
		write(2, msg, sizeof(msg) - 1);
	for (unsigned int who = in_child ? SOAK_CONTROLLER : 0; who <= SOAK_CONTROLLER; who++) {
		unsigned int ph = atomic_load_explicit(&phases[who].phase, memory_order_relaxed);
		size_t at = 0;

		put_str(line, sizeof(line), &at, "  ");
		if (who == SOAK_CONTROLLER) {
			put_str(line, sizeof(line), &at, in_child ? "child" : "controller");
		} else {
			put_str(line, sizeof(line), &at, "producer ");
			put_uint(line, sizeof(line), &at, who);
		}
		put_str(line, sizeof(line), &at, ": ");
		put_str(line, sizeof(line), &at, ph < NR_PHASES ? phase_names[ph] : "?");
		if (ph != PH_RUN && ph != PH_FORK && ph != PH_WAITPID) {
			put_str(line, sizeof(line), &at, ph == PH_JOIN ? " " : ", slot ");
			put_uint(line, sizeof(line), &at,
				 atomic_load_explicit(&phases[who].slot, memory_order_relaxed));
		}
		put_str(line, sizeof(line), &at, "\n");
		write(2, line, at);
	}
	dump_stacks();
	abort();
}

static bool parse_u64(const char *arg, const char *name, uint64_t *out)
{
	size_t n = strlen(name);
	char *end;

	if (strncmp(arg, name, n))
		return false;
	*out = strtoull(arg + n, &end, 0);
	if (*end) {
		fprintf(stderr, "pgfree soak: bad number in %s\n", arg);
		exit(2);
	}
	return true;
}

int main(int argc, char **argv)
{
	const char *env = getenv("PGFREE_SOAK_SECONDS");
	uint64_t seconds = env ? strtoull(env, NULL, 0) : 60, seed = 1, x;
	/* PGFREE_SOAK_NO_FORK: leave fork() out (also under TSan, see SOAK_TSAN). */
	bool forks = !getenv("PGFREE_SOAK_NO_FORK") && !SOAK_TSAN;
	double start, deadline;
	pthread_rwlockattr_t attr;
	unsigned long bad;

	for (int i = 1; i < argc; i++) {
		if (!parse_u64(argv[i], "--seconds=", &seconds) &&
		    !parse_u64(argv[i], "--seed=", &seed)) {
			fprintf(stderr, "usage: %s [--seconds=S] [--seed=N]\n", argv[0]);
			return 2;
		}
	}
	x = seed * 0x9e3779b97f4a7c15u + 1;
	dump_stacks_setup();

	/* Writer-preferring: the controller must get in between producers. */
	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	for (unsigned int s = 0; s < SOAK_DOMAINS; s++) {
		pthread_rwlock_init(&slots[s].lock, &attr);
		slots[s].inc = inc_create(&x);
	}
	for (unsigned int i = 0; i < SOAK_PRODUCERS; i++) {
		struct producer *p = &producers[i];

		p->id = i;
		p->rng = rnd(&x) | 1;
		for (unsigned int j = 0; j < SOAK_POOL; j++) {
			tdesc_init(&p->pool[j].td, 1, i);
			p->pool[j].td.seq = j;
			/* A page each (tdesc_init() on an array would do this). */
			p->pool[j].td.range.start += (uintptr_t)(i * SOAK_POOL + j) * 4096u;
			p->pool[j].td.range.end += (uintptr_t)(i * SOAK_POOL + j) * 4096u;
			if (j % 11 == 10)
				tdesc_set_unknown_range(&p->pool[j].td);
		}
	}
	for (unsigned int i = 0; i < SOAK_PRODUCERS; i++) {
		if (pthread_create(&producers[i].thread, NULL, producer_main, &producers[i])) {
			perror("pgfree soak: pthread_create");
			return 1;
		}
	}

	/*
	 * No fork() while a producer is still in its thread start: the C
	 * library's, and a sanitizer's, which may hold a lock there that the
	 * child would never get back (Clang 14's ASan allocates in it and does
	 * not lock its allocator around fork(): docs/testing.md).  pgfree's
	 * drain threads are past theirs when create returns.  A gate, not a
	 * timing: it waits for the count however long the start takes.
	 */
	while (atomic_load(&n_started) < SOAK_PRODUCERS)
		test_sleep_us(100);
	signal(SIGALRM, soak_hung);
	alarm((unsigned int)(seconds + 60));
	start = test_now();
	deadline = start + (double)seconds;
	while (test_now() < deadline && atomic_load(&violations) == 0) {
		unsigned int what = rnd_below(&x, 100);

		test_sleep_us(1000 + rnd_below(&x, 20000));
		if (what < 25) {
			unsigned int s = rnd_below(&x, SOAK_DOMAINS);

			set_phase(SOAK_CONTROLLER, PH_WRLOCK, s);
			pthread_rwlock_wrlock(&slots[s].lock);
			set_phase(SOAK_CONTROLLER, PH_STATS, s);
			check_stats(slots[s].inc, true);
			set_phase(SOAK_CONTROLLER, PH_DESTROY, s);
			inc_destroy(slots[s].inc, &x);
			set_phase(SOAK_CONTROLLER, PH_CREATE, s);
			slots[s].inc = inc_create(&x);
			pthread_rwlock_unlock(&slots[s].lock);
			set_phase(SOAK_CONTROLLER, PH_RUN, s);
			atomic_fetch_add(&n_recreates, 1);
		} else if (what < 35 && forks) {
			do_fork();
		} else {
			unsigned int s = rnd_below(&x, SOAK_DOMAINS);

			set_phase(SOAK_CONTROLLER, PH_RDLOCK, s);
			pthread_rwlock_rdlock(&slots[s].lock);
			set_phase(SOAK_CONTROLLER, PH_STATS, s);
			check_stats(slots[s].inc, false);
			pthread_rwlock_unlock(&slots[s].lock);
			set_phase(SOAK_CONTROLLER, PH_RUN, s);
		}
	}

	/* seq_cst: the joins order everything anyway. */
	atomic_store(&stop, true);
	for (unsigned int i = 0; i < SOAK_PRODUCERS; i++) {
		set_phase(SOAK_CONTROLLER, PH_JOIN, i);
		pthread_join(producers[i].thread, NULL);
	}
	for (unsigned int s = 0; s < SOAK_DOMAINS; s++) {
		set_phase(SOAK_CONTROLLER, PH_DESTROY, s);
		check_stats(slots[s].inc, true);
		inc_destroy(slots[s].inc, &x);
		slots[s].inc = NULL;
		pthread_rwlock_destroy(&slots[s].lock);
	}
	pthread_rwlockattr_destroy(&attr);

	for (unsigned int i = 0; i < SOAK_PRODUCERS; i++) {
		for (unsigned int j = 0; j < SOAK_POOL; j++) {
			struct sdesc *d = &producers[i].pool[j];
			uint32_t in = atomic_load(&d->in), out = atomic_load(&d->out);
			uint32_t rel = atomic_load(&d->td.releases);
			uint32_t gb = atomic_load(&d->td.given_backs);
			uint32_t taken = atomic_load(&d->taken);

			/* The tracker counts a take-back as a release. */
			if (in != out || rel + gb != in || taken > rel)
				soak_fail("producer %u descriptor %u: accepted %u, back %u "
					  "(released or taken back %u, of which taken back %u; "
					  "given back %u)", i, j, in, out, rel, taken, gb);
		}
	}
	while (retired) {
		struct sinc *next = retired->next;

		free(retired);
		retired = next;
	}

	bad = atomic_load(&violations);
	printf("pgfree soak: %.1f s, seed %" PRIu64 ": deferred %" PRIu64 ", released %" PRIu64
	       ", given back %" PRIu64 ", taken back %" PRIu64 " (%lu take_back calls, %lu "
	       "deferred again at once), ->release_chain() calls %" PRIu64 ", flushes %" PRIu64
	       " (%" PRIu64 " failed), forks %lu, barriers %lu (%lu timed out), drains %lu, "
	       "defer_waits %lu, domains recreated %lu (%" PRIu64 " of all with take-back)%s: %s\n",
	       test_now() - start, seed, sum_deferred, sum_released, sum_given_back,
	       sum_taken_back, atomic_load(&n_take_backs), atomic_load(&n_reused),
	       sum_chain_calls, sum_flushes, sum_failures, atomic_load(&n_forks),
	       atomic_load(&n_barriers), atomic_load(&n_timeouts), atomic_load(&n_drains),
	       atomic_load(&n_waits), atomic_load(&n_recreates), n_tb_domains,
	       forks ? "" : " (fork left out)", bad ? "FAILED" : "ok");
	return bad ? 1 : 0;
}
