// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Liveness on the failure paths: a batch whose flush failed is retried
 * with back-off, or handed back, whichever drain hit the failure.
 *
 *  - A flush that returns PGFREE_FLUSH_GIVE_UP on a domain without
 *    ->give_back() is a failure like any other: the batch is kept and
 *    retried.  When the failing drain is a caller's pgfree_drain(), the
 *    drain thread must still retry it (it once parked with the batch kept
 *    and the node stayed unreleased until the next defer).  With
 *    ->give_back() the batch is handed back instead.
 *  - pgfree_defer_wait() (and a thread-less barrier, and destroy) retry a
 *    failed flush after the documented back-off (1 ms doubling to 100 ms)
 *    whatever the flush returned: no drainer calls ->flush() again sooner
 *    than 1 ms after its own failure (PGFREE_FLUSH_GIVE_UP once made
 *    pgfree_defer_wait() call it millions of times a second).
 *
 * Nothing here depends on how fast a thread runs: each test waits, with a
 * long safety timeout, for what must happen (a release, a number of
 * failures), and the back-off check is a lower bound that a slow machine
 * can only make easier to meet (a sleep never ends early).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

/* How long a test waits for what must happen before it calls it lost. */
#define SAFETY_S 10.0
/* The documented minimum back-off is 1 ms; a little under it for clocks. */
#define MIN_GAP_NS 900000u

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Wait until *@v >= @want, or SAFETY_S; return the seconds it took, -1 if never. */
static double wait_for(_Atomic uint64_t *v, uint64_t want)
{
	double start = test_now();

	while (atomic_load(v) < want) {
		if (test_now() - start > SAFETY_S)
			return -1;
		test_sleep_us(50);
	}
	return test_now() - start;
}

/*
 * 1. One node, then pgfree_drain(); the first flush gives up.  Whoever took
 * the node (pgfree_drain() or the drain thread, a race either way), the
 * node must be released (no ->give_back) or handed back (with one) without
 * any further call from the test.
 */
struct give_up_result {
	unsigned int by_drain;	/* pgfree_drain() was the drain that gave up */
	double worst_s;		/* longest time from pgfree_drain()'s return to release */
};

static void give_up_once(unsigned int design, unsigned int flags, bool give_back,
			 struct give_up_result *res)
{
	const char *name = pgfree_design_name(design);
	struct pgfree_config cfg;
	struct pgfree_domain *dom = NULL;
	struct pgfree_stats s;
	struct tracker t;
	struct tdesc d[1];
	char msg[512];
	double took;
	long r;

	tracker_init(&t);
	t.fail_err = PGFREE_FLUSH_GIVE_UP;
	atomic_store(&t.fail_first, 1);
	tdesc_init(d, 1, 0);
	cfg = tracker_config(&t, design, flags);
	if (!give_back)
		cfg.ops.give_back = NULL;
	cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);

	cr_assert_eq(tracker_defer(&t, dom, &d[0]), 0);
	r = pgfree_drain(dom);
	cr_assert(r == PGFREE_FLUSH_GIVE_UP || r == 0 || r == 1,
		  "%s flags %#x: pgfree_drain() returned %ld", name, flags, r);
	if (r == PGFREE_FLUSH_GIVE_UP)
		res->by_drain++;
	if (give_back) {
		/* Handed back by whichever drain gave up, before it returned. */
		took = wait_for(&t.given_back, 1);
		cr_assert(took >= 0, "%s flags %#x: the given-up node was not handed back", name,
			  flags);
		cr_assert_eq(atomic_load(&t.released), 0);
	} else {
		took = wait_for(&t.released, 1);
		cr_assert(took >= 0,
			  "%s flags %#x: a batch kept after PGFREE_FLUSH_GIVE_UP (no ->give_back, "
			  "pgfree_drain() returned %ld) was not released within %.0f s",
			  name, flags, r, SAFETY_S);
		cr_assert_eq(atomic_load(&t.given_back), 0);
	}
	if (took > res->worst_s)
		res->worst_s = took;

	cr_assert_eq(pgfree_barrier(dom), 0, "%s flags %#x", name, flags);
	cr_assert_eq(pgfree_stats(dom, &s), 0);
	cr_assert(s.flush_failures == 1 && s.backlog == 0 && s.deferred == 1,
		  "%s flags %#x: failures %llu backlog %llu deferred %llu", name, flags,
		  (unsigned long long)s.flush_failures, (unsigned long long)s.backlog,
		  (unsigned long long)s.deferred);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(tracker_verify(&t, d, 1, msg, sizeof(msg)), 0, "%s: %s", name, msg);
}

static void give_up_all(bool give_back)
{
	static const unsigned int flag_sets[] = { PGFREE_F_NO_DELAY, 0 };
	const unsigned int reps = 4;

	for_each_design(design) {
		for (size_t f = 0; f < 2; f++) {
			struct give_up_result res = { 0, 0 };

			for (unsigned int i = 0; i < reps; i++)
				give_up_once(design, flag_sets[f], give_back, &res);
			cr_log_info("%s %s: pgfree_drain() gave up %u of %u times; %s at most "
				    "%.2f ms after it returned",
				    pgfree_design_name(design),
				    flag_sets[f] ? "NO_DELAY" : "default delay", res.by_drain, reps,
				    give_back ? "handed back" : "released", res.worst_s * 1e3);
		}
	}
}

Test(give_up, kept_batch_is_retried_by_the_drain_thread, .timeout = 200)
{
	give_up_all(false);
}

Test(give_up, given_up_batch_is_handed_back, .timeout = 200)
{
	give_up_all(true);
}

/*
 * 2. The back-off.  ->flush() gives up (no ->give_back) until the test has
 * seen enough failures; every thread that calls it records when its last
 * call failed, and a call by the same thread less than 1 ms later is a
 * retry without back-off.
 */
struct backoff_run {
	struct tracker t;		/* first: the callbacks' ctx */
	_Atomic int failing;
	_Atomic uint64_t failures;	/* by any thread */
	_Atomic uint64_t waiter_failures;	/* by the test's waiting thread */
	_Atomic uint64_t early;		/* retries sooner than MIN_GAP_NS */
	_Atomic uint64_t min_gap_ns;
	struct pgfree_domain *dom;
	struct tdesc *d;
	_Atomic int waiter_err;
	_Atomic uint64_t waiter_done;
};

static __thread uint64_t last_failure_ns;	/* this thread's last failed flush */
static __thread bool is_waiter;

static int backoff_flush(void *ctx, const struct pgfree_range *range)
{
	struct backoff_run *run = ctx;
	uint64_t now = now_ns();

	if (last_failure_ns) {
		uint64_t gap = now - last_failure_ns, min = atomic_load(&run->min_gap_ns);

		if (gap < MIN_GAP_NS)
			atomic_fetch_add(&run->early, 1);
		while (gap < min && !atomic_compare_exchange_weak(&run->min_gap_ns, &min, gap))
			;
	}
	if (atomic_load(&run->failing)) {
		atomic_fetch_add(&run->failures, 1);
		if (is_waiter)
			atomic_fetch_add(&run->waiter_failures, 1);
		last_failure_ns = now_ns();
		return PGFREE_FLUSH_GIVE_UP;
	}
	last_failure_ns = 0;
	return tracker_flush(&run->t, range);
}

static void backoff_run_init(struct backoff_run *run, unsigned int design, unsigned int flags,
			     struct tdesc *d, size_t n)
{
	struct pgfree_config cfg;

	tracker_init(&run->t);
	atomic_store(&run->failing, 1);
	atomic_store(&run->failures, 0);
	atomic_store(&run->waiter_failures, 0);
	atomic_store(&run->early, 0);
	atomic_store(&run->min_gap_ns, UINT64_MAX);
	atomic_store(&run->waiter_err, 1);
	atomic_store(&run->waiter_done, 0);
	last_failure_ns = 0;
	is_waiter = false;
	tdesc_init(d, n, 0);
	run->d = d;
	cfg = tracker_config(&run->t, design, flags);
	cfg.ops.flush = backoff_flush;
	cfg.ops.give_back = NULL;
	cfg.ctx = run;
	if (flags & PGFREE_F_BOUNDED) {
		cfg.nr_slots = 1;
		cfg.backlog_max = 1;	/* one queued node fills the list */
	}
	cr_assert_eq(pgfree_domain_create(&cfg, &run->dom), 0);
	tracker_attach(&run->t, run->dom);
}

static void backoff_run_check(struct backoff_run *run, const char *what, size_t n)
{
	char msg[512];
	uint64_t min = atomic_load(&run->min_gap_ns);

	cr_log_info("%s: %llu failed flushes; shortest retry by one thread %.3f ms",
		    what, (unsigned long long)atomic_load(&run->failures),
		    min == UINT64_MAX ? -1.0 : (double)min / 1e6);
	cr_assert_eq(atomic_load(&run->early), 0,
		     "%s: %llu flush calls came less than 1 ms after the same thread's failed "
		     "one (shortest %llu ns): retried without back-off",
		     what, (unsigned long long)atomic_load(&run->early), (unsigned long long)min);
	cr_assert_eq(tracker_verify(&run->t, run->d, n, msg, sizeof(msg)), 0, "%s: %s", what,
		     msg);
}

static void *defer_wait_thread(void *arg)
{
	struct backoff_run *run = arg;

	is_waiter = true;
	last_failure_ns = 0;
	tracker_stamp(&run->t, &run->d[1]);
	atomic_store(&run->waiter_err, pgfree_defer_wait(run->dom, &run->d[1].node));
	atomic_fetch_add(&run->t.deferred, 1);
	atomic_store(&run->waiter_done, 1);
	return NULL;
}

/* pgfree_defer_wait() over the mark while the flush gives up. */
static void defer_wait_backs_off(unsigned int design, unsigned int flags)
{
	struct backoff_run *run = calloc(1, sizeof(*run));
	struct tdesc d[2];
	pthread_t th;
	char what[96];

	cr_assert(run);
	snprintf(what, sizeof(what), "%s flags %#x pgfree_defer_wait()",
		 pgfree_design_name(design), flags);
	backoff_run_init(run, design, PGFREE_F_BOUNDED | flags, d, 2);
	/* The first fills the list (its share is 1); the second must wait. */
	tracker_stamp(&run->t, &d[0]);
	cr_assert_eq(pgfree_defer_wait(run->dom, &d[0].node), 0);
	atomic_fetch_add(&run->t.deferred, 1);
	cr_assert_eq(pthread_create(&th, NULL, defer_wait_thread, run), 0);

	/* Let the waiter fail a few times: each retry must come after a pause. */
	cr_assert(wait_for(&run->waiter_failures, 4) >= 0, "%s: the waiter never drained",
		  what);
	atomic_store(&run->failing, 0);
	cr_assert(wait_for(&run->waiter_done, 1) >= 0,
		  "%s: still waiting %.0f s after the flush recovered", what, SAFETY_S);
	pthread_join(th, NULL);
	cr_assert_eq(atomic_load(&run->waiter_err), 0);
	cr_assert_eq(pgfree_barrier(run->dom), 0);
	cr_assert_eq(pgfree_domain_destroy(run->dom), 0);
	backoff_run_check(run, what, 2);
	free(run);
}

Test(give_up, defer_wait_backs_off_on_give_up, .timeout = 120)
{
	/* The mark exists in the lock-less designs only. */
	static const unsigned int designs[] = { PGFREE_DESIGN_PERCPU, PGFREE_DESIGN_GLOBAL_LLIST };
	static const unsigned int flag_sets[] = { 0, PGFREE_F_NO_DELAY, PGFREE_F_NO_THREAD };

	for (size_t i = 0; i < 2; i++)
		for (size_t f = 0; f < 3; f++)
			defer_wait_backs_off(designs[i], flag_sets[f]);
}

struct unblock_arg {
	struct backoff_run *run;
	uint64_t after;
};

/* Stop the failures once @after have been seen (or after SAFETY_S). */
static void *unblock_thread(void *arg)
{
	struct unblock_arg *ua = arg;

	wait_for(&ua->run->failures, ua->after);
	atomic_store(&ua->run->failing, 0);
	return NULL;
}

/*
 * A thread-less barrier and destroy (both drain in the caller) and the
 * drain thread (with a barrier waiting on it): all retry with back-off.
 */
static void barrier_or_destroy_backs_off(unsigned int design, unsigned int flags, bool destroy)
{
	struct backoff_run *run = calloc(1, sizeof(*run));
	struct unblock_arg ua = { run, 4 };
	struct tdesc d[3];
	pthread_t th;
	char what[96];

	cr_assert(run);
	snprintf(what, sizeof(what), "%s flags %#x %s", pgfree_design_name(design), flags,
		 destroy ? "destroy" : "barrier");
	backoff_run_init(run, design, flags, d, 3);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(tracker_defer(&run->t, run->dom, &d[i]), 0);
	cr_assert_eq(pthread_create(&th, NULL, unblock_thread, &ua), 0);
	if (destroy) {
		cr_assert_eq(pgfree_domain_destroy(run->dom), 0, "%s", what);
	} else {
		cr_assert_eq(pgfree_barrier(run->dom), 0, "%s", what);
		cr_assert_eq(pgfree_domain_destroy(run->dom), 0);
	}
	pthread_join(th, NULL);
	cr_assert_geq(atomic_load(&run->failures), 4, "%s", what);
	backoff_run_check(run, what, 3);
	free(run);
}

Test(give_up, barrier_and_destroy_back_off_on_give_up, .timeout = 120)
{
	for_each_design(design) {
		barrier_or_destroy_backs_off(design, PGFREE_F_NO_THREAD, false);
		barrier_or_destroy_backs_off(design, PGFREE_F_NO_THREAD, true);
		barrier_or_destroy_backs_off(design, PGFREE_F_NO_DELAY, false);
		barrier_or_destroy_backs_off(design, PGFREE_F_NO_DELAY, true);
	}
}
