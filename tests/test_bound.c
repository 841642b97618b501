// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The backlog mark (struct pgfree_config.backlog_max):
 *  - with PGFREE_F_BOUNDED, pgfree_defer_wait() keeps the number of
 *    descriptors deferred and not yet released under the mark, with a 1 ms
 *    flush and 16 producers; plain pgfree_defer() in the same set-up goes
 *    far over it (the negative control: the bound is what holds it).  The
 *    first flush is held on a gate until the producers have deferred a
 *    known number (a list's share of the mark; for the control, more than
 *    twice the mark), so the pressure does not depend on how fast the
 *    producers run against the flush;
 *  - crossing the mark wakes the drain thread at once, skipping the
 *    batching delay (a release seen before a 1 s delay could have ended;
 *    a run the machine stalled past the delay proves nothing and is
 *    repeated; without a mark, nothing is released before the delay);
 *  - the configuration rules and the errors of pgfree_defer_wait();
 *  - pgfree_defer_wait() from inside ->release() queues without waiting;
 *  - with no drain thread, waiting producers drain themselves.
 * Every descriptor is checked against the invariant by the tracker.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

#define PRODUCERS 16

struct bound_run {
	struct tracker t;
	struct pgfree_domain *dom;
	bool wait;			/* pgfree_defer_wait() or pgfree_defer() */
	size_t per_producer;
	struct tdesc *d;
	_Atomic uint64_t entered;	/* defer calls begun */
	_Atomic uint64_t peak;		/* most entered - released seen */
	_Atomic int errors;
	uint64_t gate;			/* the first flush waits for this many defers */
	_Atomic int gate_open;
	_Atomic int gate_timed_out;	/* the producers never got there */
};

struct producer_arg {
	struct bound_run *run;
	unsigned int id;
};

/*
 * Sampled at the start of every flush, when the backlog is largest: the
 * previous batch is all released, this one not yet.  entered - released
 * counts what pgfree holds plus at most one descriptor per producer that is
 * inside (or waiting in) a defer call.
 */
static void sample_backlog(struct tracker *t)
{
	struct bound_run *run = t->hook_arg;
	uint64_t held, peak;

	/*
	 * The gate: the first flush (whoever runs it: the drain thread or a
	 * waiting producer) waits until @gate defers have returned.  Nothing
	 * is released meanwhile, so the producers reach it however slowly
	 * they run: plain defers never wait, and waiting ones only once their
	 * list holds its share, which @gate does not exceed.  10 s is a
	 * safety net, not a speed: it is reported, not waited on in silence.
	 */
	if (!atomic_load(&run->gate_open)) {
		double start = test_now();

		while (atomic_load(&t->deferred) < run->gate) {
			if (test_now() - start > 10.0) {
				atomic_store(&run->gate_timed_out, 1);
				break;
			}
			test_sleep_us(50);
		}
		atomic_store(&run->gate_open, 1);
	}
	held = atomic_load(&run->entered) - atomic_load(&t->released);
	peak = atomic_load(&run->peak);

	while (held > peak && !atomic_compare_exchange_weak(&run->peak, &peak, held))
		;
}

static void *producer(void *arg)
{
	struct producer_arg *pa = arg;
	struct bound_run *run = pa->run;
	struct tdesc *d = run->d + (size_t)pa->id * run->per_producer;

	for (size_t i = 0; i < run->per_producer; i++) {
		int err;

		atomic_fetch_add(&run->entered, 1);
		tracker_stamp(&run->t, &d[i]);
		err = run->wait ? pgfree_defer_wait(run->dom, &d[i].node)
				: pgfree_defer(run->dom, &d[i].node);
		if (err)
			atomic_fetch_add(&run->errors, 1);
		else
			atomic_fetch_add(&run->t.deferred, 1);
	}
	return NULL;
}

/*
 * Run 16 producers against a 1 ms flush, the first flush held until @gate
 * defers returned; return the peak backlog seen.
 */
static uint64_t run_producers(unsigned int design, unsigned int flags, unsigned int mark,
			      bool wait, uint64_t gate, struct pgfree_stats *st)
{
	struct bound_run *run = calloc(1, sizeof(*run));
	struct producer_arg pa[PRODUCERS];
	pthread_t th[PRODUCERS];
	struct pgfree_config cfg;
	char msg[512];
	uint64_t peak;
	size_t n;
	int err;

	cr_assert(run);
	tracker_init(&run->t);
	run->t.flush_cost_ns = 1000000;		/* 1 ms: an IOTLB flush that waits */
	run->t.flush_hook = sample_backlog;
	run->t.hook_arg = run;
	run->wait = wait;
	run->per_producer = test_scaled(400, 50);
	n = run->per_producer * PRODUCERS;
	cr_assert_leq(gate, n, "the gate (%llu) is beyond what the producers defer (%zu)",
		      (unsigned long long)gate, n);
	run->gate = gate;
	run->d = calloc(n, sizeof(*run->d));
	cr_assert(run->d);
	tdesc_init(run->d, n, 0);

	cfg = tracker_config(&run->t, design, flags);
	cfg.backlog_max = mark;
	err = tracker_create(&run->t, &cfg, &run->dom);
	cr_assert_eq(err, 0, "create: %d", err);

	for (unsigned int i = 0; i < PRODUCERS; i++) {
		pa[i].run = run;
		pa[i].id = i;
		cr_assert_eq(pthread_create(&th[i], NULL, producer, &pa[i]), 0);
	}
	for (unsigned int i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(pgfree_barrier(run->dom), 0);
	cr_assert_eq(pgfree_stats(run->dom, st), 0);
	cr_assert_eq(pgfree_domain_destroy(run->dom), 0);

	cr_assert_eq(atomic_load(&run->errors), 0, "defer calls failed");
	cr_assert_eq(atomic_load(&run->gate_timed_out), 0,
		     "the producers did not defer %llu in 10 s with the flush held",
		     (unsigned long long)gate);
	cr_assert_eq(tracker_verify(&run->t, run->d, n, msg, sizeof(msg)), 0, "%s", msg);
	peak = atomic_load(&run->peak);
	free(run->d);
	free(run);
	return peak;
}

/* The lists of a default PERCPU domain: one per configured CPU. */
static unsigned int nr_lists(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n < 1 ? 1 : (unsigned int)n;
}

static void bound_holds(unsigned int design)
{
	/* Two lists for PERCPU (one per CPU of a 2-CPU machine, at least). */
	const unsigned int mark = 256;
	/* A list's share: the producers fill one list, whichever, before any flush ends. */
	const uint64_t share = design == PGFREE_DESIGN_PERCPU ? (mark + nr_lists() - 1) / nr_lists()
							      : mark;
	struct pgfree_stats st;
	uint64_t peak, limit;

	peak = run_producers(design, PGFREE_F_BOUNDED, mark, true, share, &st);
	/*
	 * The mark, rounded up to a multiple of the lists, plus one
	 * descriptor per producer that is inside pgfree_defer_wait().
	 */
	limit = mark + PRODUCERS + (design == PGFREE_DESIGN_PERCPU ? nr_lists() : 0);
	cr_log_info("%s: peak backlog %llu with mark %u (limit %llu), %llu waits, %llu flushes",
		    pgfree_design_name(design), (unsigned long long)peak, mark,
		    (unsigned long long)limit, (unsigned long long)st.bound_waits,
		    (unsigned long long)st.flushes);
	cr_assert_leq(peak, limit, "%s: backlog reached %llu, over the mark %u (limit %llu)",
		      pgfree_design_name(design), (unsigned long long)peak, mark,
		      (unsigned long long)limit);
	/* Certain, by the gate: the backlog reached a full list's share. */
	cr_assert_geq(peak, share, "peak %llu below a list's share %llu: the test did not press "
		      "on the bound", (unsigned long long)peak, (unsigned long long)share);
}

Test(bound, percpu_holds_with_1ms_flush_16_producers, .timeout = 120)
{
	bound_holds(PGFREE_DESIGN_PERCPU);
}

Test(bound, global_llist_holds_with_1ms_flush_16_producers, .timeout = 120)
{
	bound_holds(PGFREE_DESIGN_GLOBAL_LLIST);
}

/*
 * Negative control: without the wait, the same producers go over the mark.
 * The first flush is held until they have deferred more than the bound
 * allows (2 * mark + PRODUCERS, the assertion's threshold): plain
 * pgfree_defer() never waits, so they always get there, and the peak is
 * certain, not a race between the producers and a 1 ms flush.
 */
Test(bound, plain_defer_goes_over_the_mark, .timeout = 120)
{
	const unsigned int mark = 256;
	struct pgfree_stats st;
	uint64_t peak = run_producers(PGFREE_DESIGN_PERCPU, PGFREE_F_BOUNDED, mark, false,
				      2 * mark + PRODUCERS + 1, &st);

	cr_log_info("plain pgfree_defer(): peak backlog %llu with mark %u",
		    (unsigned long long)peak, mark);
	cr_assert_gt(peak, 2 * mark + PRODUCERS,
		     "pgfree_defer() stayed under the mark (%llu): the check cannot tell",
		     (unsigned long long)peak);
	cr_assert_eq(st.bound_waits, 0);
}

/*
 * The mark cuts the batching delay short.  One list, so the share is the
 * whole mark; a 1 s delay; 64 descriptors from one thread.
 */
static double time_to_release(unsigned int flags, unsigned int mark, double give_up_s)
{
	struct tracker t;
	struct tdesc d[64];
	struct pgfree_domain *dom = NULL;
	struct pgfree_config cfg;
	double start, took = -1;
	int err;

	tracker_init(&t);
	tdesc_init(d, 64, 0);
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, flags);
	cfg.nr_slots = 1;
	cfg.batch_delay_us = PGFREE_MAX_BATCH_DELAY_US;
	cfg.backlog_max = mark;
	err = tracker_create(&t, &cfg, &dom);
	cr_assert_eq(err, 0, "create: %d", err);

	start = test_now();
	for (int i = 0; i < 64; i++)
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
	while (test_now() - start < give_up_s) {
		if (atomic_load(&t.released) == 64) {
			took = test_now() - start;
			break;
		}
		test_sleep_us(200);
	}
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	return took;
}

/*
 * A release seen less than the delay (1 s) after the first defer proves
 * the delay was cut short: the drain thread began it after that defer.  A
 * slower one proves nothing either way (the machine may have stalled), so
 * it is tried again, up to 5 times; a mark that does not cut the delay
 * fails all five.  Returns the seconds of the first conclusive try, or -1.
 */
static double cut_short(unsigned int flags, unsigned int mark)
{
	for (int i = 0; i < 5; i++) {
		double took = time_to_release(flags, mark, 10.0);

		cr_assert(took >= 0, "flags %#x mark %u: not released within 10 s", flags, mark);
		if (took < PGFREE_MAX_BATCH_DELAY_US / 1e6)
			return took;
		cr_log_info("flags %#x mark %u: released after %.3f s, no sooner than the delay "
			    "could end: trying again", flags, mark, took);
	}
	return -1;
}

Test(bound, crossing_the_mark_skips_the_batching_delay, .timeout = 120)
{
	double hint = cut_short(0, 64);
	double exact = cut_short(PGFREE_F_BOUNDED, 64);
	/* Nothing can be released before the 1 s delay ends: a lower bound, safe under load. */
	double none = time_to_release(0, 0, 0.3);

	cr_log_info("released 64 after %.4f s (hint mark), %.4f s (exact), none in 0.3 s "
		    "without a mark: %s", hint, exact, none < 0 ? "yes" : "no");
	cr_assert(hint >= 0, "hint mark: never released before a 1 s delay could end (5 tries)");
	cr_assert(exact >= 0, "exact mark: never released before a 1 s delay could end (5 tries)");
	/* The control: with no mark the 1 s delay holds them back. */
	cr_assert(none < 0, "without a mark the batch was released after %.3f s: "
		  "the delay did not hold, so the test cannot see the mark", none);
}

static int dummy_flush(void *ctx, const struct pgfree_range *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static void dummy_release(void *ctx, struct pgfree_llist_node *b)
{
	(void)ctx;
	(void)b;
}

static int try_create(unsigned int design, unsigned int flags, unsigned int mark)
{
	struct pgfree_config cfg = { .design = design, .flags = flags | PGFREE_F_NO_THREAD,
				     .ops = { .flush = dummy_flush, .release = dummy_release },
				     .backlog_max = mark };
	struct pgfree_domain *dom = NULL;
	int err = pgfree_domain_create(&cfg, &dom);

	if (!err)
		pgfree_domain_destroy(dom);
	else
		cr_assert(dom == NULL);
	return err;
}

Test(bound, config_rules_and_errors, .timeout = 30)
{
	struct tracker t;
	struct tdesc d[2];
	struct pgfree_domain *dom = NULL;
	struct pgfree_config cfg;

	cr_assert_eq(try_create(PGFREE_DESIGN_PERCPU, PGFREE_F_BOUNDED, 0), -EINVAL,
		     "PGFREE_F_BOUNDED without a mark accepted");
	cr_assert_eq(try_create(PGFREE_DESIGN_V5, 0, 64), -EINVAL, "a mark on V5 accepted");
	cr_assert_eq(try_create(PGFREE_DESIGN_V3, PGFREE_F_BOUNDED, 64), -EINVAL,
		     "a mark on V3 accepted");
	cr_assert_eq(try_create(PGFREE_DESIGN_PERCPU, 0, PGFREE_MAX_BACKLOG + 1), -EINVAL,
		     "a mark over PGFREE_MAX_BACKLOG accepted");
	cr_assert_eq(try_create(PGFREE_DESIGN_PERCPU, PGFREE_F_BOUNDED, PGFREE_MAX_BACKLOG), 0);
	cr_assert_eq(try_create(PGFREE_DESIGN_GLOBAL_LLIST, 0, 1), 0);

	tracker_init(&t);
	tdesc_init(d, 2, 0);
	/* pgfree_defer_wait() needs PGFREE_F_BOUNDED; the node stays ours. */
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_NO_THREAD);
	cfg.backlog_max = 8;
	cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
	cr_assert_eq(pgfree_defer_wait(dom, &d[0].node), -EINVAL);
	cr_assert_eq(pgfree_defer_wait(NULL, &d[0].node), -EINVAL);
	cr_assert_eq(pgfree_defer_wait(dom, NULL), -EINVAL);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(pgfree_defer_wait(dom, &d[0].node), -ESHUTDOWN);

	cfg.flags |= PGFREE_F_BOUNDED;
	cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
	cr_assert_eq(pgfree_defer_wait(dom, NULL), -EINVAL);
	tracker_stamp(&t, &d[1]);
	cr_assert_eq(pgfree_defer_wait(dom, &d[1].node), 0);
	atomic_fetch_add(&t.deferred, 1);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(pgfree_defer_wait(dom, &d[0].node), -ESHUTDOWN);
	cr_assert_eq(atomic_load(&t.released), 1, "the one queued descriptor was not released");
}

/* From inside ->release() a wait would be for itself: it must queue at once. */
static struct tdesc reentry_d[8];
static _Atomic int reentry_err = 1;

static void defer_wait_from_release(struct tracker *t, struct pgfree_llist_node *batch)
{
	struct pgfree_domain *dom = atomic_load(&t->dom);
	unsigned int n = atomic_fetch_add(&t->hook_calls, 1);

	(void)batch;
	if (n < 4) {
		tracker_stamp(t, &reentry_d[4 + n]);
		atomic_store(&reentry_err, pgfree_defer_wait(dom, &reentry_d[4 + n].node));
		atomic_fetch_add(&t->deferred, 1);
	}
}

Test(bound, defer_wait_from_release_does_not_wait, .timeout = 60)
{
	struct tracker t;
	struct pgfree_domain *dom = NULL;
	struct pgfree_config cfg;
	char msg[512];

	tracker_init(&t);
	tdesc_init(reentry_d, 8, 0);
	t.release_hook = defer_wait_from_release;
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_BOUNDED);
	cfg.nr_slots = 1;
	cfg.backlog_max = 1;		/* every list is full after one */
	cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
	for (int i = 0; i < 4; i++) {
		tracker_stamp(&t, &reentry_d[i]);
		cr_assert_eq(pgfree_defer_wait(dom, &reentry_d[i].node), 0);
		atomic_fetch_add(&t.deferred, 1);
	}
	cr_assert_eq(pgfree_barrier(dom), 0);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(atomic_load(&reentry_err), 0, "pgfree_defer_wait() from ->release(): %d",
		     atomic_load(&reentry_err));
	cr_assert_eq(tracker_verify(&t, reentry_d, 8, msg, sizeof(msg)), 0, "%s", msg);
}

/* No drain thread: the waiting producers are the drain. */
Test(bound, no_thread_producers_drain_themselves, .timeout = 120)
{
	struct pgfree_stats st;
	uint64_t peak = run_producers(PGFREE_DESIGN_PERCPU, PGFREE_F_BOUNDED | PGFREE_F_NO_THREAD,
				      128, true, 0, &st);

	cr_assert_leq(peak, 128 + PRODUCERS + TEST_MAX_CPUS);
	cr_assert_gt(st.flushes, 1);
	cr_assert_eq(st.drain_thread, 0);
}
