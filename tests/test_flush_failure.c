// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A failing ->flush(): nothing of the batch is released while it fails,
 * pgfree_drain() returns the flush's error on a thread-less domain and a
 * later successful drain releases the kept batch together with what was
 * queued since; with the drain thread, a barrier returns only once a flush
 * succeeded, with everything released.  The statistics count the failures.
 */
#include <errno.h>
#include <stdlib.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

static struct pgfree_domain *make(struct tracker *t, unsigned int design, unsigned int flags)
{
	struct pgfree_config cfg = tracker_config(t, design, flags);
	struct pgfree_domain *dom = NULL;
	int err = tracker_create(t, &cfg, &dom);

	cr_assert_eq(err, 0, "%s: create failed: %d", pgfree_design_name(design), err);
	return dom;
}

static void drain_fails_then_releases(unsigned int design, int fail_err)
{
	const unsigned int k = 3;
	struct tracker t;
	struct tdesc d[20];
	struct pgfree_domain *dom;
	struct pgfree_stats s;
	const char *name = pgfree_design_name(design);
	char msg[512];
	long r;

	tracker_init(&t);
	t.use_range = true;
	t.fail_err = fail_err;
	atomic_store(&t.fail_first, k);
	tdesc_init(d, 20, 0);
	dom = make(&t, design, PGFREE_F_NO_THREAD);

	for (int i = 0; i < 10; i++)
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
	for (unsigned int i = 1; i <= k; i++) {
		r = pgfree_drain(dom);
		cr_assert_eq(r, fail_err, "%s: drain %u returned %ld, want the flush's %d", name,
			     i, r, fail_err);
		cr_assert_eq(atomic_load(&t.released), 0, "%s: released while flush fails", name);
		cr_assert_eq(pgfree_stats(dom, &s), 0);
		cr_assert_eq(s.flush_failures, i, "%s: stats.flush_failures %llu, want %u", name,
			     (unsigned long long)s.flush_failures, i);
		cr_assert(s.released == 0 && s.flushes == 0,
			  "%s: released %llu, flushes %llu while every flush failed", name,
			  (unsigned long long)s.released, (unsigned long long)s.flushes);
		cr_assert_eq(s.backlog, 9 + i, "%s: backlog %llu, want %u (the kept batch counts)",
			     name, (unsigned long long)s.backlog, 9 + i);
		/* More comes in between; it joins the next attempt. */
		cr_assert_eq(tracker_defer(&t, dom, &d[9 + i]), 0);
	}
	r = pgfree_drain(dom);
	cr_assert_eq(r, 10 + k, "%s: the successful drain released %ld, want %u", name, r,
		     10 + k);
	cr_assert_eq(pgfree_drain(dom), 0);
	cr_assert_eq(tracker_verify(&t, d, 10 + k, msg, sizeof(msg)), 0, "%s: %s", name, msg);
	cr_assert_eq(tracker_check_stats(&t, dom, 10 + k, msg, sizeof(msg)), 0, "%s: %s", name,
		     msg);
	cr_assert_eq(pgfree_stats(dom, &s), 0);
	cr_assert(s.flushes == 1 && s.largest_batch == 10 + k,
		  "%s: flushes %llu largest %llu: the kept batch must go in one flush", name,
		  (unsigned long long)s.flushes, (unsigned long long)s.largest_batch);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
}

Test(flush_failure, drain_returns_error_then_releases, .timeout = 60)
{
	for_each_design(design) {
		drain_fails_then_releases(design, -EIO);
		drain_fails_then_releases(design, -EAGAIN);
		drain_fails_then_releases(design, -ENOMEM);
	}
}

/* With the thread: the barrier waits through the failures. */
Test(flush_failure, barrier_waits_for_successful_flush, .timeout = 120)
{
	const unsigned int k = 5;
	const size_t n = 200;
	struct tdesc *d = calloc(n, sizeof(*d));
	struct tracker t;
	struct pgfree_stats s;
	char msg[512];

	cr_assert(d != NULL);
	for_each_design(design) {
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++) {
			struct pgfree_domain *dom;
			const char *name = pgfree_design_name(design);

			tracker_init(&t);
			atomic_store(&t.fail_first, k);
			tdesc_init(d, n, 0);
			dom = make(&t, design, flags);
			for (size_t i = 0; i < n; i++)
				cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
			cr_assert_eq(pgfree_barrier(dom), 0, "%s flags %u", name, flags);
			cr_assert_eq(tracker_verify(&t, d, n, msg, sizeof(msg)), 0, "%s flags %u: %s",
				     name, flags, msg);
			cr_assert_eq(pgfree_stats(dom, &s), 0);
			cr_assert_geq(s.flush_failures, k, "%s flags %u: flush_failures %llu < %u",
				      name, flags, (unsigned long long)s.flush_failures, k);
			cr_assert_eq(tracker_check_stats(&t, dom, n, msg, sizeof(msg)), 0, "%s: %s",
				     name, msg);
			cr_assert_eq(pgfree_domain_destroy(dom), 0);
		}
	}
	free(d);
}

/*
 * Every other flush fails while this thread alternates bursts of defers and
 * drains on a thread-less domain: each drain either fails and releases
 * nothing, or releases everything kept and queued so far.
 */
Test(flush_failure, alternating_failures, .timeout = 120)
{
	const size_t n = test_scaled(20000, 200);
	struct tdesc *d = calloc(n, sizeof(*d));
	struct tracker t;
	char msg[512];

	cr_assert(d != NULL);
	for_each_design(design) {
		struct pgfree_domain *dom;
		uint64_t before;
		size_t i = 0;

		tracker_init(&t);
		atomic_store(&t.fail_every, 2);
		tdesc_init(d, n, 0);
		dom = make(&t, design, PGFREE_F_NO_THREAD);
		while (i < n) {
			long r;

			for (size_t j = 0; j < 1 + i % 13 && i < n; j++, i++)
				cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
			before = atomic_load(&t.released);
			r = pgfree_drain(dom);
			if (r < 0)
				cr_assert_eq(atomic_load(&t.released), before,
					     "%s: a failed drain released something",
					     pgfree_design_name(design));
			else
				cr_assert_eq(atomic_load(&t.released), (uint64_t)i,
					     "%s: a successful drain left something behind",
					     pgfree_design_name(design));
		}
		cr_assert_eq(pgfree_barrier(dom), 0);
		cr_assert_eq(tracker_verify(&t, d, n, msg, sizeof(msg)), 0, "%s", msg);
		cr_assert_eq(tracker_check_stats(&t, dom, n, msg, sizeof(msg)), 0, "%s", msg);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
	free(d);
}
