// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The invariant under load, for every design: 16 producer threads defer at
 * least 1,000,000 descriptors in all while the drain runs (the domain's
 * thread, or a thread of ours looping on pgfree_drain() for a thread-less
 * domain).  Then a barrier, and the checker (support/tracker.c) must have
 * seen every descriptor released exactly once, each after a flush that
 * began after its defer, with ranges covered, and the statistics must
 * agree; while the producers run, this thread reads the statistics and
 * calls barriers, which must stay consistent.  The four main runs use the default batching delay; variants add
 * no delay, a longer one, flush cost, injected flush failures, unknown
 * ranges, and two slots shared by all producers.
 *
 * PGFREE_TEST_SCALE scales the sizes (1 by default: 1e6 per design).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

#define NR_PRODUCERS 16
#define MILLION 1000000u

/**
 * struct stress - one stress run
 * @design: enum pgfree_design
 * @flags: PGFREE_F_*; with PGFREE_F_NO_THREAD a thread of ours drains
 * @nr_slots: 0 for the default
 * @batch_delay_us: the domain's batching delay
 * @total: descriptors in all, split evenly between the producers
 * @flush_cost_ns: each flush spins this long
 * @fail_first: the first N flushes fail
 * @fail_every: every Nth flush fails (0: none)
 * @unknown_every: every Nth descriptor has an unknown range (0: none)
 */
struct stress {
	unsigned int design;
	unsigned int flags;
	unsigned int nr_slots;
	unsigned int batch_delay_us;
	size_t total;
	uint64_t flush_cost_ns;
	unsigned int fail_first;
	unsigned int fail_every;
	size_t unknown_every;
};

/* Producers yield this often, so that drains interleave with them. */
#define YIELD_EVERY 512

struct stress_run {
	const struct stress *cfg;
	struct tracker *t;
	struct pgfree_domain *dom;
	struct tdesc *d;
	atomic_int producers_left;
	atomic_bool go;
	_Atomic uint64_t defer_errors;
	_Atomic long drain_errors;	/* unexpected pgfree_drain() results */
	_Atomic uint64_t drain_calls;
};

struct producer {
	struct stress_run *run;
	size_t first, count;
};

static void *producer_fn(void *p)
{
	struct producer *pr = p;
	struct stress_run *run = pr->run;

	while (!atomic_load_explicit(&run->go, memory_order_acquire))
		;
	for (size_t i = pr->first; i < pr->first + pr->count; i++) {
		if (tracker_defer(run->t, run->dom, &run->d[i]))
			atomic_fetch_add(&run->defer_errors, 1);
		if (i % YIELD_EVERY == 0)
			sched_yield();
	}
	atomic_fetch_sub_explicit(&run->producers_left, 1, memory_order_release);
	return NULL;
}

/*
 * For a thread-less domain: drain in a loop while the producers run, as an
 * event loop would.  An injected flush failure is expected; anything else
 * negative is an error.
 */
static void *drainer_fn(void *p)
{
	struct stress_run *run = p;

	while (atomic_load_explicit(&run->producers_left, memory_order_acquire)) {
		long r = pgfree_drain(run->dom);

		atomic_fetch_add_explicit(&run->drain_calls, 1, memory_order_relaxed);
		if (r < 0 && r != run->t->fail_err)
			atomic_store(&run->drain_errors, r);
		if (r == 0)
			sched_yield();
	}
	return NULL;
}

/**
 * observe() - read stats (and, with a drain thread, barrier) while the
 * producers run, as a monitoring thread would
 * @run: the run
 * @msg: the first inconsistency found
 * @len: size of @msg
 *
 * Both calls may run concurrently with everything but destroy.  A snapshot
 * cannot be exact while producers add, but it is never ahead of what the
 * tracker saw released, and its counters never go backwards.
 *
 * Return: the number of inconsistencies.
 */
static unsigned int observe(struct stress_run *run, char *msg, size_t len)
{
	struct pgfree_stats s, prev = { 0 };
	unsigned int bad = 0, i = 0;
	bool thread = !(run->cfg->flags & PGFREE_F_NO_THREAD);

	while (atomic_load_explicit(&run->producers_left, memory_order_acquire)) {
		int err;

		if (thread && i % 4 == 3)
			err = pgfree_barrier(run->dom);
		else
			err = pgfree_stats(run->dom, &s);
		if (err) {
			if (!bad++)
				snprintf(msg, len, "stats/barrier during the run: %d", err);
		} else if (!(thread && i % 4 == 3)) {
			uint64_t seen = atomic_load(&run->t->released);

			if ((s.released > seen || s.released < prev.released ||
			     s.flushes < prev.flushes || s.flushes > s.released ||
			     s.largest_batch > s.released) && !bad++)
				snprintf(msg, len, "inconsistent stats during the run: released "
					 "%llu (tracker %llu, before %llu), flushes %llu (before "
					 "%llu), largest batch %llu",
					 (unsigned long long)s.released, (unsigned long long)seen,
					 (unsigned long long)prev.released,
					 (unsigned long long)s.flushes,
					 (unsigned long long)prev.flushes,
					 (unsigned long long)s.largest_batch);
			prev = s;
		}
		i++;
		test_sleep_us(2000);
	}
	return bad;
}

static void run_stress(const struct stress *cfg)
{
	struct tracker *t = calloc(1, sizeof(*t));
	struct stress_run run = { .cfg = cfg, .t = t };
	struct producer pr[NR_PRODUCERS];
	pthread_t tids[NR_PRODUCERS], drainer;
	struct pgfree_config pc;
	const char *name = pgfree_design_name(cfg->design);
	size_t per = cfg->total / NR_PRODUCERS, total = per * NR_PRODUCERS;
	char msg[512], observe_msg[256];
	unsigned int observe_bad;
	double t0 = test_now();
	bool no_thread = cfg->flags & PGFREE_F_NO_THREAD;

	cr_assert(t != NULL);
	run.d = calloc(total, sizeof(*run.d));
	cr_assert(run.d != NULL, "cannot allocate %zu descriptors", total);
	tracker_init(t);
	t->use_range = true;
	atomic_store(&t->flush_cost_ns, cfg->flush_cost_ns);
	atomic_store(&t->fail_first, cfg->fail_first);
	atomic_store(&t->fail_every, cfg->fail_every);
	for (int p = 0; p < NR_PRODUCERS; p++) {
		tdesc_init(run.d + (size_t)p * per, per, (uint32_t)p);
		if (cfg->unknown_every)
			for (size_t i = 0; i < per; i += cfg->unknown_every)
				tdesc_set_unknown_range(&run.d[(size_t)p * per + i]);
	}

	pc = tracker_config(t, cfg->design, cfg->flags);
	pc.nr_slots = cfg->nr_slots;
	pc.batch_delay_us = cfg->batch_delay_us;
	cr_assert_eq(tracker_create(t, &pc, &run.dom), 0, "%s: create failed", name);

	atomic_init(&run.producers_left, NR_PRODUCERS);
	for (int p = 0; p < NR_PRODUCERS; p++) {
		pr[p] = (struct producer){ .run = &run, .first = (size_t)p * per, .count = per };
		cr_assert_eq(pthread_create(&tids[p], NULL, producer_fn, &pr[p]), 0);
	}
	if (no_thread)
		cr_assert_eq(pthread_create(&drainer, NULL, drainer_fn, &run), 0);
	atomic_store_explicit(&run.go, true, memory_order_release);
	observe_bad = observe(&run, observe_msg, sizeof(observe_msg));
	for (int p = 0; p < NR_PRODUCERS; p++)
		pthread_join(tids[p], NULL);
	if (no_thread)
		pthread_join(drainer, NULL);

	/* Everything was deferred before this call: it all comes back. */
	cr_assert_eq(pgfree_barrier(run.dom), 0, "%s: barrier failed", name);

	cr_log_info("%s flags %u slots %u: %zu descriptors in %.2fs, %llu flushes (%llu failed)",
		    name, cfg->flags, cfg->nr_slots, total, test_now() - t0,
		    (unsigned long long)atomic_load(&t->flush_ok),
		    (unsigned long long)atomic_load(&t->flush_failed));
	cr_assert_eq(observe_bad, 0, "%s: %s", name, observe_msg);
	cr_assert_eq(atomic_load(&run.defer_errors), 0, "%s: pgfree_defer() failed", name);
	cr_assert_eq(atomic_load(&run.drain_errors), 0, "%s: pgfree_drain() returned %ld", name,
		     atomic_load(&run.drain_errors));
	cr_assert_eq(tracker_verify(t, run.d, total, msg, sizeof(msg)), 0, "%s: %s", name, msg);
	cr_assert_eq(tracker_check_stats(t, run.dom, total, msg, sizeof(msg)), 0, "%s: %s",
		     name, msg);
	cr_assert_eq(atomic_load(&t->empty_releases), 0, "%s: ->release() got empty batches",
		     name);
	cr_assert_geq(atomic_load(&t->flush_failed), cfg->fail_first,
		      "%s: fewer flush failures than injected", name);
	cr_assert_eq(pgfree_domain_destroy(run.dom), 0);
	cr_assert_eq(atomic_load(&t->released), total, "%s: destroy released more", name);
	free(run.d);
	free(t);
}

static struct stress plain(unsigned int design)
{
	return (struct stress){
		.design = design,
		.total = test_scaled(MILLION, 10000),
	};
}

Test(invariant, percpu, .timeout = 300)
{
	struct stress s = plain(PGFREE_DESIGN_PERCPU);

	run_stress(&s);
}

Test(invariant, v5, .timeout = 300)
{
	struct stress s = plain(PGFREE_DESIGN_V5);

	run_stress(&s);
}

Test(invariant, v3, .timeout = 300)
{
	struct stress s = plain(PGFREE_DESIGN_V3);

	run_stress(&s);
}

/* The locked designs on the test-and-set lock they ran on before the queued one. */
Test(invariant, v5_v3_tas_lock, .timeout = 300)
{
	for (unsigned int design = PGFREE_DESIGN_V5; design <= PGFREE_DESIGN_V3; design++) {
		struct stress s = plain(design);

		s.flags = PGFREE_F_TAS_LOCK;
		s.total = test_scaled(MILLION / 4, 10000);
		run_stress(&s);
	}
}

Test(invariant, global_llist, .timeout = 300)
{
	struct stress s = plain(PGFREE_DESIGN_GLOBAL_LLIST);

	run_stress(&s);
}

/*
 * Two slots for 16 producers: each list is shared, as on a 2-CPU machine.
 * No batching delay: the drain thread parks and is woken far more often.
 */
Test(invariant, percpu_two_slots_no_delay, .timeout = 300)
{
	struct stress s = plain(PGFREE_DESIGN_PERCPU);

	s.flags = PGFREE_F_NO_DELAY;
	s.nr_slots = 2;
	s.unknown_every = 9973;
	run_stress(&s);
}

/* A costly flush (batches grow while it runs) that fails now and then. */
Test(invariant, slow_failing_flush, .timeout = 300)
{
	for_each_design(design) {
		struct stress s = {
			.design = design,
			.flags = PGFREE_F_NO_DELAY,
			.nr_slots = 2,
			.total = test_scaled(MILLION / 10, 10000),
			.flush_cost_ns = 20000,
			.fail_first = 2,
			.fail_every = 5,
		};

		run_stress(&s);
	}
}

/* Thread-less domains, drained by a thread of ours while producers run. */
Test(invariant, no_thread_external_drain, .timeout = 300)
{
	for_each_design(design) {
		struct stress s = {
			.design = design,
			.flags = PGFREE_F_NO_THREAD,
			.nr_slots = design == PGFREE_DESIGN_PERCPU ? 2 : 0,
			.total = test_scaled(design == PGFREE_DESIGN_PERCPU ? MILLION / 4 :
					     MILLION / 10, 10000),
			.fail_first = 2,
			.fail_every = 11,
		};

		run_stress(&s);
	}
}

/* A batching delay: producers keep adding while the drain thread waits. */
Test(invariant, batch_delay, .timeout = 300)
{
	for_each_design(design) {
		struct stress s = {
			.design = design,
			.batch_delay_us = 500,
			.total = test_scaled(MILLION / 10, 10000),
		};

		run_stress(&s);
	}
}
