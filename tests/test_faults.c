// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Faults the library must survive without losing a descriptor or releasing
 * one unflushed:
 *  - a flush that gives up (PGFREE_FLUSH_GIVE_UP): the batch goes to
 *    ->give_back(), unflushed and not released; pgfree_drain() and
 *    pgfree_barrier() say so with -ECANCELED; without ->give_back() it is an
 *    ordinary failure, retried;
 *  - a flush that hangs: pgfree_barrier_timeout() and
 *    pgfree_domain_destroy_timeout() return -ETIMEDOUT, the domain stays
 *    live and loses nothing, and both succeed once the flush recovers;
 *  - a flush that keeps failing on a thread-less domain: the timeout holds;
 *  - ->give_back() calling back into the domain: defer works, barrier
 *    refuses with -EDEADLK.
 */
#include <errno.h>
#include <stdlib.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

static const unsigned int designs[] = { PGFREE_DESIGN_PERCPU, PGFREE_DESIGN_V5,
					PGFREE_DESIGN_V3, PGFREE_DESIGN_GLOBAL_LLIST };

static struct pgfree_domain *make(struct tracker *t, unsigned int design, unsigned int flags,
				  bool give_back)
{
	struct pgfree_config cfg = tracker_config(t, design, flags);
	struct pgfree_domain *dom = NULL;
	int err;

	if (!give_back)
		cfg.ops.give_back = NULL;
	err = tracker_create(t, &cfg, &dom);
	cr_assert_eq(err, 0, "%s: create failed: %d", pgfree_design_name(design), err);
	return dom;
}

/* A domain whose first @fails flushes give up, with all ten of @d deferred. */
static struct pgfree_domain *give_up_domain(struct tracker *t, struct tdesc *d,
					    unsigned int design, unsigned int flags,
					    bool give_back, int fails)
{
	struct pgfree_domain *dom;

	tracker_init(t);
	t->fail_err = PGFREE_FLUSH_GIVE_UP;
	atomic_store(&t->fail_first, fails);
	tdesc_init(d, 10, 0);
	dom = make(t, design, flags, give_back);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(tracker_defer(t, dom, &d[i]), 0);
	return dom;
}

Test(faults, give_up_hands_the_batch_back, .timeout = 60)
{
	for (size_t k = 0; k < sizeof(designs) / sizeof(designs[0]); k++) {
		const char *name = pgfree_design_name(designs[k]);
		struct tracker t;
		struct tdesc d[10];
		struct pgfree_domain *dom;
		struct pgfree_stats s;
		char msg[512];
		long r;

		dom = give_up_domain(&t, d, designs[k], PGFREE_F_NO_THREAD, true, 1);
		r = pgfree_drain(dom);
		cr_assert_eq(r, PGFREE_FLUSH_GIVE_UP, "%s: drain returned %ld", name, r);
		cr_assert_eq(atomic_load(&t.released), 0, "%s: released after a give-up", name);
		cr_assert_eq(atomic_load(&t.given_back), 10, "%s: %llu given back, want 10", name,
			     (unsigned long long)atomic_load(&t.given_back));
		cr_assert_eq(pgfree_stats(dom, &s), 0);
		cr_assert(s.given_back == 10 && s.backlog == 0 && s.released == 0 &&
				  s.deferred == 10,
			  "%s: stats given_back %llu backlog %llu released %llu deferred %llu", name,
			  (unsigned long long)s.given_back, (unsigned long long)s.backlog,
			  (unsigned long long)s.released, (unsigned long long)s.deferred);
		/* Nothing kept: the next drain has nothing to do. */
		cr_assert_eq(pgfree_drain(dom), 0);

		/* They are ours again: queue them once more, now the flush works. */
		for (int i = 0; i < 10; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(pgfree_drain(dom), 10);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
		cr_assert_eq(tracker_verify(&t, d, 10, msg, sizeof(msg)), 0, "%s: %s", name, msg);
		cr_assert_eq(atomic_load(&t.released), 10);
	}
}

Test(faults, give_up_without_give_back_is_retried, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[10];
	struct pgfree_domain *dom;
	char msg[512];

	dom = give_up_domain(&t, d, PGFREE_DESIGN_PERCPU, PGFREE_F_NO_THREAD, false, 2);
	cr_assert_eq(pgfree_drain(dom), PGFREE_FLUSH_GIVE_UP);
	cr_assert_eq(pgfree_drain(dom), PGFREE_FLUSH_GIVE_UP);
	cr_assert_eq(atomic_load(&t.released), 0);
	cr_assert_eq(pgfree_drain(dom), 10, "the kept batch was not released by the next drain");
	cr_assert_eq(atomic_load(&t.given_back), 0);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(tracker_verify(&t, d, 10, msg, sizeof(msg)), 0, "%s", msg);
}

/*
 * A barrier reports a give-up that happened while it waited.  Without a
 * drain thread the barrier drains in the caller, so the give-up happens
 * inside it: -ECANCELED, always.  With one, the drain thread may give the
 * batch up before the barrier is even called (a loaded machine, TSan's
 * yields), and then the barrier has nothing left to wait for: 0 is as
 * right as -ECANCELED, and which one comes is a matter of timing, so the
 * test asserts only what holds either way: every descriptor given back or
 * released exactly once by the time the barrier returns, at least one of
 * them given back, and the next barrier clean.
 */
Test(faults, barrier_reports_a_give_up, .timeout = 60)
{
	static const unsigned int flag_sets[] = { PGFREE_F_NO_THREAD, 0 };

	for (size_t f = 0; f < sizeof(flag_sets) / sizeof(flag_sets[0]); f++) {
		for (size_t k = 0; k < sizeof(designs) / sizeof(designs[0]); k++) {
			const char *name = pgfree_design_name(designs[k]);
			bool threadless = flag_sets[f] & PGFREE_F_NO_THREAD;
			struct tracker t;
			struct tdesc d[10];
			struct pgfree_domain *dom;
			char msg[512];
			int r;

			dom = give_up_domain(&t, d, designs[k], flag_sets[f], true, 1);
			r = pgfree_barrier(dom);
			if (threadless)
				cr_assert_eq(r, -ECANCELED, "%s, no thread: barrier returned %d "
					     "after a give-up", name, r);
			else
				cr_assert(r == -ECANCELED || r == 0, "%s: barrier returned %d",
					  name, r);
			cr_assert_eq(atomic_load(&t.given_back) + atomic_load(&t.released), 10,
				     "%s: the barrier returned before every descriptor was "
				     "released or given back", name);
			cr_assert_gt(atomic_load(&t.given_back), 0, "%s: nothing given back", name);
			/* The give-up is history: the next barrier is clean. */
			cr_assert_eq(pgfree_barrier(dom), 0);
			cr_assert_eq(pgfree_domain_destroy(dom), 0);
			cr_assert_eq(tracker_verify(&t, d, 10, msg, sizeof(msg)), 0, "%s", msg);
			cr_assert_eq(atomic_load(&t.given_back) + atomic_load(&t.released), 10);
		}
	}
}

/* A flush that hangs while hook_arg points to a set flag. */
static void hang_while_set(struct tracker *t)
{
	_Atomic int *hang = t->hook_arg;

	while (atomic_load(hang))
		test_sleep_us(500);
}

static void hanging_flush(unsigned int design, bool destroy)
{
	const char *name = pgfree_design_name(design);
	_Atomic int hang = 1;
	struct tracker t;
	struct tdesc d[20];
	struct pgfree_domain *dom;
	struct pgfree_stats s;
	char msg[512];
	double start, took;
	int r;

	tracker_init(&t);
	t.flush_hook = hang_while_set;
	t.hook_arg = &hang;
	tdesc_init(d, 20, 0);
	dom = make(&t, design, PGFREE_F_NO_DELAY, true);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);

	start = test_now();
	r = destroy ? pgfree_domain_destroy_timeout(dom, 50 * 1000 * 1000)
		    : pgfree_barrier_timeout(dom, 50 * 1000 * 1000);
	took = test_now() - start;
	cr_assert_eq(r, -ETIMEDOUT, "%s: returned %d with the flush hanging", name, r);
	/*
	 * At least the time asked (a lower bound: safe on a slow machine).  The
	 * upper one only tells a timeout from a hang (a barrier that waited for
	 * the flush would never return): 10 s, not a speed.
	 */
	cr_assert(took >= 0.045 && took < 10.0, "%s: timed out after %.3f s, asked 0.05 s", name,
		  took);

	/* Still live, nothing lost, nothing released. */
	cr_assert_eq(atomic_load(&t.released), 0);
	for (int i = 10; i < 20; i++)
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0, "%s: defer after a timeout", name);
	atomic_store(&hang, 0);
	if (destroy) {
		r = pgfree_domain_destroy_timeout(dom, 10ull * 1000 * 1000 * 1000);
		cr_assert_eq(r, 0, "%s: destroy after the flush recovered: %d", name, r);
		cr_assert_eq(pgfree_stats(dom, &s), -ESHUTDOWN);
	} else {
		r = pgfree_barrier_timeout(dom, 10ull * 1000 * 1000 * 1000);
		cr_assert_eq(r, 0, "%s: barrier after the flush recovered: %d", name, r);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
	cr_assert_eq(tracker_verify(&t, d, 20, msg, sizeof(msg)), 0, "%s: %s", name, msg);
}

Test(faults, barrier_timeout_on_a_hanging_flush, .timeout = 60)
{
	for (size_t k = 0; k < sizeof(designs) / sizeof(designs[0]); k++)
		hanging_flush(designs[k], false);
}

Test(faults, destroy_timeout_on_a_hanging_flush_keeps_the_domain, .timeout = 60)
{
	for (size_t k = 0; k < sizeof(designs) / sizeof(designs[0]); k++)
		hanging_flush(designs[k], true);
}

/* Thread-less: the drain runs in the caller; a failing flush is retried until the time is up. */
Test(faults, timeout_on_a_failing_flush_without_a_thread, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[5];
	struct pgfree_domain *dom;
	char msg[512];
	double start, took;
	int r;

	tracker_init(&t);
	atomic_store(&t.fail_every, 1);
	tdesc_init(d, 5, 0);
	dom = make(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_NO_THREAD, true);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
	start = test_now();
	r = pgfree_barrier_timeout(dom, 30 * 1000 * 1000);
	took = test_now() - start;
	cr_assert_eq(r, -ETIMEDOUT);
	/* Tells a timeout from a hang (the flush fails forever): 10 s, not a speed. */
	cr_assert(took < 10.0, "took %.3f s for a 30 ms timeout", took);
	cr_assert_gt(atomic_load(&t.flush_failed), 1, "the failing flush was not retried");
	cr_assert_eq(pgfree_domain_destroy_timeout(dom, 30 * 1000 * 1000), -ETIMEDOUT);
	atomic_store(&t.fail_every, 0);
	cr_assert_eq(pgfree_domain_destroy_timeout(dom, 10ull * 1000 * 1000 * 1000), 0);
	cr_assert_eq(tracker_verify(&t, d, 5, msg, sizeof(msg)), 0, "%s", msg);
}

/* ->give_back() may queue again (defer works) but may not wait for itself. */
static struct tracker gb_t;
static _Atomic int gb_barrier = 1, gb_defer = 1;

static void give_back_reenters(void *ctx, struct pgfree_llist_node *batch)
{
	struct pgfree_domain *dom = atomic_load(&gb_t.dom);
	struct tdesc *d = pgfree_llist_entry(batch, struct tdesc, node);

	tracker_give_back(ctx, batch);
	atomic_store(&gb_barrier, pgfree_barrier(dom));
	/* The first one goes straight back in; the flush works by now. */
	atomic_store(&gb_defer, tracker_defer(&gb_t, dom, d));
}

Test(faults, give_back_may_defer_but_not_wait, .timeout = 60)
{
	struct tdesc d[3];
	struct pgfree_domain *dom = NULL;
	struct pgfree_config cfg;
	char msg[512];

	tracker_init(&gb_t);
	gb_t.fail_err = PGFREE_FLUSH_GIVE_UP;
	atomic_store(&gb_t.fail_first, 1);
	tdesc_init(d, 3, 0);
	cfg = tracker_config(&gb_t, PGFREE_DESIGN_PERCPU, PGFREE_F_NO_THREAD);
	cfg.ops.give_back = give_back_reenters;
	cr_assert_eq(tracker_create(&gb_t, &cfg, &dom), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(tracker_defer(&gb_t, dom, &d[i]), 0);
	cr_assert_eq(pgfree_drain(dom), PGFREE_FLUSH_GIVE_UP);
	cr_assert_eq(atomic_load(&gb_barrier), -EDEADLK);
	cr_assert_eq(atomic_load(&gb_defer), 0);
	cr_assert_eq(pgfree_drain(dom), 1, "the re-deferred descriptor was not released");
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(tracker_verify(&gb_t, d, 3, msg, sizeof(msg)), 0, "%s", msg);
}
