// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * What ->flush() and ->release() may do: pgfree_defer() on their own domain
 * (it queues for a later batch, V3's lock held or not), pgfree_drain() of
 * another domain, whose callbacks then run nested in the same thread, and
 * pgfree_defer() into the outer domain from those; and what they may not:
 * pgfree_drain() and pgfree_stats() on their own domain give -EDEADLK.
 * (Barrier and destroy from a callback: test_barrier.c, test_destroy.c.)
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

/*
 * ->release() defers some of its nodes again (once, twice, or three
 * times).  Every re-defer is eventually released, each time after a new
 * flush.  V3 is the interesting design: its drain releases under the lock
 * that its defer takes.
 */
Test(callbacks, defer_from_release, .timeout = 120)
{
	struct tracker t;
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	size_t n = 3000;
	struct tdesc *d = calloc(n, sizeof(*d));
	char msg[512];

	cr_assert(d != NULL);
	for_each_design(design) {
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++) {
			double deadline;

			tracker_init(&t);
			tdesc_init(d, n, 0);
			for (size_t i = 0; i < n; i++)
				d[i].redefer = i % 4;
			cfg = tracker_config(&t, design, flags);
			cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
			for (size_t i = 0; i < n; i++)
				cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);

			/* Re-defers land after each barrier: repeat until all came back. */
			deadline = test_now() + 30;
			while (atomic_load(&t.released) < atomic_load(&t.deferred) ||
			       atomic_load(&t.redeferred) < n / 4 * 6) {
				cr_assert_eq(pgfree_barrier(dom), 0);
				cr_assert_lt(test_now(), deadline, "%s flags %u: released %llu "
					     "of %llu", pgfree_design_name(design), flags,
					     (unsigned long long)atomic_load(&t.released),
					     (unsigned long long)atomic_load(&t.deferred));
			}
			cr_assert_eq(tracker_verify(&t, d, n, msg, sizeof(msg)), 0, "%s: %s",
				     pgfree_design_name(design), msg);
			cr_assert_eq(tracker_check_stats(&t, dom, n + n / 4 * 6, msg, sizeof(msg)),
				     0, "%s flags %u: %s", pgfree_design_name(design), flags, msg);
			cr_assert_eq(pgfree_domain_destroy(dom), 0);
		}
	}
	free(d);
}

/* ->flush() defers a descriptor: it belongs to a later batch. */
static void defer_in_flush(struct tracker *t)
{
	struct tdesc *extra = t->hook_arg;
	unsigned int i = atomic_fetch_add(&t->hook_calls, 1);
	int err;

	if (i >= 4)
		return;
	err = tracker_defer(t, atomic_load(&t->dom), &extra[i]);
	atomic_store(&t->hook_result, err);
}

Test(callbacks, defer_from_flush, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[8];
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	char msg[512];

	for_each_design(design) {
		tracker_init(&t);
		tdesc_init(d, 8, 0);
		t.flush_hook = defer_in_flush;
		t.hook_arg = d + 4;
		cfg = tracker_config(&t, design, PGFREE_F_NO_THREAD);
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		for (int i = 0; i < 4; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		/* Each drain releases what was queued before its flush began. */
		cr_assert_eq(pgfree_drain(dom), 4);
		cr_assert_eq(atomic_load(&t.hook_result), 0, "defer inside ->flush() failed");
		for (int i = 0; i < 4; i++)
			cr_assert_eq(pgfree_drain(dom), 1, "%s: the node deferred inside flush %d "
				     "must make the next batch", pgfree_design_name(design), i);
		cr_assert_eq(pgfree_drain(dom), 0);
		cr_assert_eq(tracker_verify(&t, d, 8, msg, sizeof(msg)), 0, "%s: %s",
			     pgfree_design_name(design), msg);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

/* What the consumer calls return from inside this domain's callbacks. */
struct reentry {
	long drain, stats;
	long other_drain;
	struct pgfree_domain *other;
};

static void reenter(struct tracker *t)
{
	struct reentry *r = t->hook_arg;
	struct pgfree_domain *dom = atomic_load(&t->dom);
	struct pgfree_stats s;

	atomic_fetch_add(&t->hook_calls, 1);
	r->drain = pgfree_drain(dom);
	r->stats = pgfree_stats(dom, &s);
	/* Another domain's consumer calls are allowed. */
	if (r->other)
		r->other_drain = pgfree_drain(r->other);
}

static void reenter_release(struct tracker *t, struct pgfree_llist_node *batch)
{
	(void)batch;
	reenter(t);
}

Test(callbacks, own_domain_consumer_calls_get_edeadlk, .timeout = 60)
{
	struct tracker t, t2;
	struct tdesc d[2], d2[2];
	struct reentry r;
	struct pgfree_config cfg;
	struct pgfree_domain *dom, *other;
	char msg[512];

	for_each_design(design) {
		for (int where = 0; where < 2; where++) {
			const char *wn = where ? "->release()" : "->flush()";

			tracker_init(&t);
			tracker_init(&t2);
			tdesc_init(d, 2, 0);
			tdesc_init(d2, 2, 1);
			memset(&r, 0, sizeof(r));
			if (where)
				t.release_hook = reenter_release;
			else
				t.flush_hook = reenter;
			t.hook_arg = &r;
			cfg = tracker_config(&t, design, 0);
			cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
			cfg = tracker_config(&t2, design, PGFREE_F_NO_THREAD);
			cr_assert_eq(tracker_create(&t2, &cfg, &other), 0);
			r.other = other;
			cr_assert_eq(tracker_defer(&t2, other, &d2[0]), 0);

			cr_assert_eq(tracker_defer(&t, dom, &d[0]), 0);
			cr_assert_eq(pgfree_barrier(dom), 0);
			cr_assert_geq(atomic_load(&t.hook_calls), 1);
			cr_assert_eq(r.drain, -EDEADLK, "%s: pgfree_drain() inside %s returned %ld",
				     pgfree_design_name(design), wn, r.drain);
			cr_assert_eq(r.stats, -EDEADLK, "%s: pgfree_stats() inside %s returned %ld",
				     pgfree_design_name(design), wn, r.stats);
			cr_assert_eq(r.other_drain, 1, "%s: draining another domain inside %s "
				     "returned %ld, want 1", pgfree_design_name(design), wn,
				     r.other_drain);

			/* The domain still works afterwards. */
			cr_assert_eq(tracker_defer(&t, dom, &d[1]), 0);
			cr_assert_eq(pgfree_barrier(dom), 0);
			cr_assert_eq(tracker_verify(&t, d, 2, msg, sizeof(msg)), 0, "%s", msg);
			cr_assert_eq(tracker_verify(&t2, d2, 1, msg, sizeof(msg)), 0, "%s", msg);
			cr_assert_eq(pgfree_domain_destroy(dom), 0);
			cr_assert_eq(pgfree_domain_destroy(other), 0);
		}
	}
}

/**
 * struct nested - two domains whose callbacks drive each other
 * @design_a: the outer domain's design
 * @design_b: the inner domain's design
 * @cross: 0: A's ->release() drains B, then re-defers into A;
 *	1: A's ->release() drains B, and B's ->release() defers into A
 * @ta: A's tracker
 * @tb: B's tracker
 * @da: A's descriptors
 * @db: B's descriptors
 * @a: domain A
 * @b: domain B
 * @b_deferred_into_a: mode 1 done once
 * @b_defer_result: what that defer returned
 * @done: the scenario returned
 * @failed: it found a problem, described in @msg
 * @msg: the first problem
 *
 * Heap-allocated, and run in a thread of its own: if the scenario
 * deadlocks, the test reports which pair of designs did, and the stuck
 * thread keeps only memory that is never freed.
 */
struct nested {
	unsigned int design_a, design_b;
	int cross;
	struct tracker ta, tb;
	struct tdesc da[4], db[2];
	struct pgfree_domain *a, *b;
	bool b_deferred_into_a;
	int b_defer_result;
	atomic_bool done;
	bool failed;
	char msg[512];
};

#define NESTED_CHECK(n, cond, ...)					\
	do {								\
		if (!(cond) && !(n)->failed) {				\
			(n)->failed = true;				\
			snprintf((n)->msg, sizeof((n)->msg), __VA_ARGS__); \
		}							\
	} while (0)

/* A's release: drain B (its ->release() runs nested, in this thread). */
static void nested_drain_b(struct tracker *t, struct pgfree_llist_node *batch)
{
	struct nested *n = t->hook_arg;

	(void)batch;
	atomic_store(&t->hook_result, pgfree_drain(n->b));
}

/* B's release, nested in A's: defer into A, once. */
static void nested_defer_into_a(struct tracker *t, struct pgfree_llist_node *batch)
{
	struct nested *n = t->hook_arg;

	(void)batch;
	if (n->b_deferred_into_a)
		return;
	n->b_deferred_into_a = true;
	n->b_defer_result = tracker_defer(&n->ta, n->a, &n->da[1]);
}

static void *nested_fn(void *p)
{
	struct nested *n = p;
	struct pgfree_config cfg;
	/* A's queued descriptors: da[0] (and da[1] when it re-defers). */
	size_t na = n->cross ? 1 : 2;
	char vmsg[512];
	long r;

	tracker_init(&n->ta);
	tracker_init(&n->tb);
	tdesc_init(n->da, 4, 0);
	tdesc_init(n->db, 2, 1);
	cfg = tracker_config(&n->tb, n->design_b, PGFREE_F_NO_THREAD);
	NESTED_CHECK(n, !tracker_create(&n->tb, &cfg, &n->b), "create B failed");
	cfg = tracker_config(&n->ta, n->design_a, PGFREE_F_NO_THREAD);
	NESTED_CHECK(n, !tracker_create(&n->ta, &cfg, &n->a), "create A failed");
	if (n->failed)
		goto out;
	n->ta.release_hook = nested_drain_b;
	n->ta.hook_arg = n;
	if (n->cross) {
		n->tb.release_hook = nested_defer_into_a;
		n->tb.hook_arg = n;
	} else {
		n->da[0].redefer = 1;
		n->da[1].redefer = 1;
	}

	NESTED_CHECK(n, !tracker_defer(&n->tb, n->b, &n->db[0]), "defer into B failed");
	for (size_t i = 0; i < na; i++)
		NESTED_CHECK(n, !tracker_defer(&n->ta, n->a, &n->da[i]), "defer into A failed");
	r = pgfree_drain(n->a);
	NESTED_CHECK(n, r == (long)na, "first drain of A returned %ld, want %zu", r, na);
	NESTED_CHECK(n, atomic_load(&n->ta.hook_result) == 1,
		     "draining B inside A's release returned %ld, want 1",
		     atomic_load(&n->ta.hook_result));
	if (n->cross)
		NESTED_CHECK(n, n->b_defer_result == 0,
			     "defer into A from B's nested release returned %d", n->b_defer_result);
	/* What the nested callbacks queued into A: da[0] and da[1] again, or da[1]. */
	r = pgfree_drain(n->a);
	NESTED_CHECK(n, r == (n->cross ? 1 : 2), "second drain of A returned %ld", r);
	NESTED_CHECK(n, pgfree_drain(n->a) == 0, "third drain of A not empty");
	NESTED_CHECK(n, !tracker_verify(&n->ta, n->da, 2, vmsg, sizeof(vmsg)),
		     "A: %.400s", vmsg);
	NESTED_CHECK(n, !tracker_verify(&n->tb, n->db, 1, vmsg, sizeof(vmsg)), "B: %.400s", vmsg);
	NESTED_CHECK(n, !pgfree_domain_destroy(n->a), "destroy A failed");
	NESTED_CHECK(n, !pgfree_domain_destroy(n->b), "destroy B failed");
out:
	atomic_store_explicit(&n->done, true, memory_order_release);
	return NULL;
}

/*
 * Callbacks of one domain driving another, in the same thread, every pair
 * of designs: A's ->release() drains B (B's ->release() runs nested inside
 * it); then either A's release re-defers into A, or B's nested release
 * defers into A.  Both are allowed: pgfree_drain() of another domain from a
 * callback, and pgfree_defer() "from inside ->flush()/->release() of any
 * domain".  A deadlock is reported with the pair of designs.
 */
static void nested_pairs(int cross)
{
	for_each_design(design_a) {
		for_each_design(design_b) {
			struct nested *n = calloc(1, sizeof(*n));
			pthread_t tid;
			/* A deadlock never returns: 10 s is a safety net, not a speed. */
			double deadline = test_now() + 10;

			cr_assert(n != NULL);
			n->design_a = design_a;
			n->design_b = design_b;
			n->cross = cross;
			cr_assert_eq(pthread_create(&tid, NULL, nested_fn, n), 0);
			while (!atomic_load_explicit(&n->done, memory_order_acquire) &&
			       test_now() < deadline)
				test_sleep_us(1000);
			/* On a deadlock, the thread and @n are left behind on purpose. */
			cr_assert(atomic_load_explicit(&n->done, memory_order_acquire),
				  "A %s, B %s: %s did not return in 10 s (deadlock)",
				  pgfree_design_name(design_a), pgfree_design_name(design_b),
				  cross ? "a defer into A from B's release nested in A's" :
					  "a re-defer into A after A's release drained B");
			pthread_join(tid, NULL);
			cr_assert_not(n->failed, "A %s, B %s: %s", pgfree_design_name(design_a),
				      pgfree_design_name(design_b), n->msg);
			free(n);
		}
	}
}

Test(callbacks, nested_release_then_redefer, .timeout = 120)
{
	nested_pairs(0);
}

Test(callbacks, nested_release_defers_into_outer_domain, .timeout = 120)
{
	nested_pairs(1);
}
