// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Take-back (PGFREE_F_TAKE_BACK, lib/takeback.c) and ->release_chain(),
 * through the public API, with the invariant checked on every descriptor
 * (support/tracker.c): a descriptor is released or taken back only after a
 * flush that began after it was queued returned 0, exactly once.
 *
 * Deterministic tests use thread-less domains with one list (nr_slots = 1),
 * so that "this CPU's list" is that list wherever the test thread runs; the
 * time bound is exercised by waiting until the clock has passed it (a gate
 * on the clock, not a sleep that hopes); the stress test checks counts at
 * the end, never how fast anything went.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

static const unsigned int take_back_designs[] = { PGFREE_DESIGN_PERCPU,
						  PGFREE_DESIGN_GLOBAL_LLIST };
#define for_each_tb_design(d)                                                              \
	for (unsigned int d##_i = 0, d;                                                    \
	     d##_i < sizeof(take_back_designs) / sizeof(take_back_designs[0]) &&           \
	     (d = take_back_designs[d##_i], 1);                                            \
	     d##_i++)

/* A thread-less, one-list take-back domain on @t. */
static struct pgfree_domain *one_list(struct tracker *t, unsigned int design,
				      unsigned int take_back_us)
{
	struct pgfree_config cfg = tracker_config(t, design,
						  PGFREE_F_NO_THREAD | PGFREE_F_TAKE_BACK);
	struct pgfree_domain *dom;

	cfg.nr_slots = 1;
	cfg.take_back_us = take_back_us;
	cr_assert_eq(tracker_create(t, &cfg, &dom), 0);
	return dom;
}

/* Wait until CLOCK_MONOTONIC has moved on by @us (test_now() is that clock). */
static void clock_passes(unsigned int us)
{
	double end = test_now() + us * 1e-6;

	while (test_now() < end)
		sched_yield();
}

/* pgfree_take_back_each()'s function where no descriptor may be handed over. */
static void never_called(void *arg, struct pgfree_llist_node *node)
{
	tracker_violation(arg, "pgfree_take_back_each() called its function with %p",
			  (void *)node);
}

Test(take_back, config_is_checked, .timeout = 60)
{
	struct tracker t;
	struct pgfree_config cfg;
	struct pgfree_domain *dom = NULL;
	struct pgfree_chain c;

	tracker_init(&t);
	for (unsigned int d = PGFREE_DESIGN_V5; d <= PGFREE_DESIGN_V3; d++) {
		cfg = tracker_config(&t, d, PGFREE_F_TAKE_BACK);
		cr_assert_eq(pgfree_domain_create(&cfg, &dom), -EINVAL, "%s took take-back",
			     pgfree_design_name(d));
	}
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_TAKE_BACK | PGFREE_F_BOUNDED);
	cfg.backlog_max = 64;
	cr_assert_eq(pgfree_domain_create(&cfg, &dom), -EINVAL, "take-back with a bound");
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, 0);
	cfg.take_back_us = 10;
	cr_assert_eq(pgfree_domain_create(&cfg, &dom), -EINVAL, "take_back_us without the flag");
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_TAKE_BACK);
	cfg.take_back_us = PGFREE_MAX_TAKE_BACK_US + 1;
	cr_assert_eq(pgfree_domain_create(&cfg, &dom), -EINVAL, "take_back_us over the limit");
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, 0);
	cfg.ops.release = NULL;
	cr_assert_eq(pgfree_domain_create(&cfg, &dom), -EINVAL, "no release callback at all");

	/* ->release_chain() alone will do; take-back on a plain domain will not. */
	cfg.ops.release_chain = tracker_release_chain;
	cr_assert_eq(pgfree_domain_create(&cfg, &dom), 0);
	cr_assert_eq(pgfree_take_back(dom, &c), -EINVAL);
	cr_assert_eq(pgfree_take_back(NULL, &c), -EINVAL);
	cr_assert_eq(pgfree_take_back(dom, NULL), -EINVAL);
	cr_assert_eq(pgfree_take_back_each(dom, never_called, &t), -EINVAL);
	cr_assert_eq(pgfree_take_back_each(NULL, never_called, &t), -EINVAL);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(pgfree_take_back(dom, &c), -ESHUTDOWN);
	cr_assert_eq(pgfree_take_back_each(dom, never_called, &t), -ESHUTDOWN);

	/* A take-back domain: no function is no call, even with nothing waiting. */
	dom = one_list(&t, PGFREE_DESIGN_PERCPU, 0);
	cr_assert_eq(pgfree_take_back_each(dom, NULL, &t), -EINVAL);
	cr_assert_eq(pgfree_take_back_each(dom, never_called, &t), 0);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(t.violations, 0, "%s", t.msg);
}

/*
 * Everything @dom (of @design, for the message) had deferred, @n, was
 * taken back: nothing released, expired or still queued.  Fills @s for the
 * caller's further checks.
 */
static void assert_all_taken_back(struct pgfree_domain *dom, unsigned int design, uint64_t n,
				  struct pgfree_stats *s)
{
	cr_assert_eq(pgfree_stats(dom, s), 0);
	cr_assert(s->taken_back == n && s->deferred == n && s->released == 0 &&
			  s->backlog == 0 && s->take_back_expired == 0,
		  "%s: stats taken_back %llu deferred %llu released %llu backlog %llu "
		  "expired %llu, want %llu taken back", pgfree_design_name(design),
		  (unsigned long long)s->taken_back, (unsigned long long)s->deferred,
		  (unsigned long long)s->released, (unsigned long long)s->backlog,
		  (unsigned long long)s->take_back_expired, (unsigned long long)n);
}

/* Deferred, drained, taken back whole: newest first, counted, nothing released. */
Test(take_back, one_list_round_trip, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[100];
	struct pgfree_chain c;
	struct pgfree_stats s;
	char msg[512];

	for_each_tb_design(design) {
		struct pgfree_domain *dom;
		const struct pgfree_llist_node *node;
		uint32_t want = 99;

		tracker_init(&t);
		tdesc_init(d, 100, 0);
		dom = one_list(&t, design, PGFREE_MAX_TAKE_BACK_US);
		for (int i = 0; i < 100; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(tracker_take_back(&t, dom, &c), 0, "taken back before any flush");
		cr_assert(c.first == NULL && c.count == 0);
		cr_assert_gt(pgfree_drain(dom), 0);
		cr_assert_eq(atomic_load(&t.released), 0, "released instead of handed back");
		cr_assert_eq(tracker_take_back(&t, dom, &c), 100);
		cr_assert_eq(c.list, 0);
		for (node = c.first; node; node = node->next, want--)
			cr_assert_eq(((const struct tdesc *)node)->seq, want,
				     "%s: not newest first", pgfree_design_name(design));
		cr_assert_eq(tracker_take_back(&t, dom, &c), 0, "taken back twice");
		cr_assert_eq(tracker_verify(&t, d, 100, msg, sizeof(msg)), 0, "%s", msg);
		assert_all_taken_back(dom, design, 100, &s);
		cr_assert_eq(s.flushes, 1, "%s: %llu flushes", pgfree_design_name(design),
			     (unsigned long long)s.flushes);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

/* The order pgfree_take_back_each() calls its function in (struct each_log). */
struct each_log {
	uint32_t seq[200];
	unsigned int n;
	struct tracker *t;
	struct pgfree_domain *dom;
	unsigned int redefer_even;	/* defer even seqs again, this many times each */
	bool take_rest;			/* take back the rest from inside the first call */
	long inner;			/* what that inner take-back returned */
};

static void each_log_one(void *arg, struct tdesc *d)
{
	struct each_log *l = arg;

	if (l->n < 200)
		l->seq[l->n] = d->seq;
	l->n++;
	if (l->take_rest) {
		struct pgfree_chain c;

		l->take_rest = false;
		l->inner = tracker_take_back(l->t, l->dom, &c);
	}
	/* The node is the caller's now: queue it again, its ->next already read. */
	if (l->redefer_even && !(d->seq & 1) && d->redefers_done < l->redefer_even) {
		d->redefers_done++;
		if (tracker_defer(l->t, l->dom, d))
			tracker_violation(l->t, "re-defer of %u from the function failed", d->seq);
	}
}

/* Deferred, drained, taken back one call each: newest first, counted, once. */
Test(take_back, each_round_trip, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[100];
	struct pgfree_stats s;
	struct each_log l;
	char msg[512];

	for_each_tb_design(design) {
		struct pgfree_domain *dom;

		tracker_init(&t);
		tdesc_init(d, 100, 0);
		dom = one_list(&t, design, PGFREE_MAX_TAKE_BACK_US);
		l = (struct each_log){ .t = &t, .dom = dom };
		for (int i = 0; i < 100; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(tracker_take_back_each(&t, dom, each_log_one, &l), 0,
			     "taken back before any flush");
		cr_assert_eq(l.n, 0);
		cr_assert_gt(pgfree_drain(dom), 0);
		cr_assert_eq(tracker_take_back_each(&t, dom, each_log_one, &l), 100);
		cr_assert_eq(l.n, 100);
		for (unsigned int i = 0; i < 100; i++)
			cr_assert_eq(l.seq[i], 99 - i, "%s: call %u got %u, not newest first",
				     pgfree_design_name(design), i, l.seq[i]);
		cr_assert_eq(tracker_take_back_each(&t, dom, each_log_one, &l), 0,
			     "taken back twice");
		cr_assert_eq(t.violations, 0, "%s", t.msg);
		cr_assert_eq(tracker_verify(&t, d, 100, msg, sizeof(msg)), 0, "%s", msg);
		assert_all_taken_back(dom, design, 100, &s);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

/*
 * Two drains' chains wait on the list.  The function takes the rest with
 * pgfree_take_back() from inside its first call, and queues every even
 * descriptor again as it gets it: each comes back once per defer, from
 * whichever call took its chain, and the queued ones after the next drain.
 */
Test(take_back, each_reenters_and_redefers, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[100];
	struct pgfree_stats s;
	struct each_log l;
	struct pgfree_domain *dom;
	char msg[512];
	long r;

	tracker_init(&t);
	tdesc_init(d, 100, 0);
	dom = one_list(&t, PGFREE_DESIGN_PERCPU, PGFREE_MAX_TAKE_BACK_US);
	l = (struct each_log){ .t = &t, .dom = dom, .redefer_even = 1, .take_rest = true };
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		if (i == 49)
			cr_assert_gt(pgfree_drain(dom), 0);
	}
	cr_assert_gt(pgfree_drain(dom), 0);
	r = tracker_take_back_each(&t, dom, each_log_one, &l);
	cr_assert_eq(l.inner, 50, "the inner pgfree_take_back() got %ld", l.inner);
	cr_assert_eq(r, 50, "the function's own chain: %ld", r);
	cr_assert_eq(l.n, 50);
	cr_assert_eq(t.violations, 0, "%s", t.msg);
	/* The even ones of the function's chain are queued again; nothing else is. */
	cr_assert_gt(pgfree_drain(dom), 0);
	r = tracker_take_back_each(&t, dom, each_log_one, &l);
	cr_assert_eq(r, 25, "re-deferred from the function: %ld back", r);
	cr_assert_eq(tracker_take_back_each(&t, dom, each_log_one, &l), 0);
	cr_assert_eq(t.violations, 0, "%s", t.msg);
	cr_assert_eq(tracker_verify(&t, d, 100, msg, sizeof(msg)), 0, "%s", msg);
	assert_all_taken_back(dom, PGFREE_DESIGN_PERCPU, 125, &s);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
}

/* Nobody takes them back: after take_back_us, the next drain releases them. */
Test(take_back, untaken_expire_to_release, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[10];
	struct pgfree_chain c;
	struct pgfree_stats s;
	struct pgfree_domain *dom;
	char msg[512];

	tracker_init(&t);
	tdesc_init(d, 10, 0);
	dom = one_list(&t, PGFREE_DESIGN_PERCPU, 1);
	for (int i = 0; i < 10; i++)
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
	cr_assert_gt(pgfree_drain(dom), 0);
	clock_passes(50);
	cr_assert_eq(pgfree_drain(dom), 0, "nothing new was queued");
	cr_assert_eq(atomic_load(&t.released), 10, "expired descriptors not released");
	cr_assert_eq(tracker_take_back(&t, dom, &c), 0, "taken back after release");
	cr_assert_eq(pgfree_stats(dom, &s), 0);
	cr_assert(s.take_back_expired == 10 && s.released == 10 && s.deferred == 10,
		  "stats expired %llu released %llu", (unsigned long long)s.take_back_expired,
		  (unsigned long long)s.released);
	cr_assert_eq(tracker_verify(&t, d, 10, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
}

/* A list holds PGFREE_TAKE_BACK_CHAINS chains; one more releases the oldest. */
Test(take_back, full_list_releases_the_oldest, .timeout = 60)
{
	enum { N = PGFREE_TAKE_BACK_CHAINS + 1 };
	struct tracker t;
	struct tdesc d[N];
	struct pgfree_chain c;
	struct pgfree_domain *dom;
	char msg[512];

	tracker_init(&t);
	tdesc_init(d, N, 0);
	dom = one_list(&t, PGFREE_DESIGN_PERCPU, PGFREE_MAX_TAKE_BACK_US);
	for (int i = 0; i < N; i++) {
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_gt(pgfree_drain(dom), 0);
	}
	cr_assert_eq(atomic_load(&t.released), 1, "a full list did not release one chain");
	cr_assert_eq(atomic_load(&d[0].state), TDESC_RELEASED);
	cr_assert_eq(tracker_take_back(&t, dom, &c), N - 1);
	cr_assert_eq(tracker_verify(&t, d, N, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
}

/* Destroy releases what waits for take-back, through ->release(). */
Test(take_back, destroy_releases_untaken, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[20];
	struct pgfree_domain *dom;
	char msg[512];

	for_each_tb_design(design) {
		tracker_init(&t);
		tdesc_init(d, 20, 0);
		dom = one_list(&t, design, PGFREE_MAX_TAKE_BACK_US);
		for (int i = 0; i < 20; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_gt(pgfree_drain(dom), 0);
		cr_assert_eq(atomic_load(&t.released), 0);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
		cr_assert_eq(atomic_load(&t.released), 20, "%s: destroy left %llu untaken",
			     pgfree_design_name(design),
			     (unsigned long long)(20 - atomic_load(&t.released)));
		cr_assert_eq(tracker_verify(&t, d, 20, msg, sizeof(msg)), 0, "%s", msg);
	}
}

/*
 * A domain with a drain thread: a barrier returns once the batch is handed
 * back; nobody takes it back; the drain thread releases it on its own
 * (the test waits for the count: a hang guard, not a timing assertion).
 */
Test(take_back, drain_thread_expires, .timeout = 120)
{
	struct tracker t;
	struct tdesc d[50];
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	char msg[512];

	tracker_init(&t);
	tdesc_init(d, 50, 0);
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_TAKE_BACK);
	cfg.take_back_us = 1000;
	cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
	for (int i = 0; i < 50; i++)
		cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
	cr_assert_eq(pgfree_barrier(dom), 0);
	while (atomic_load(&t.released) < 50)
		sched_yield();
	cr_assert_eq(tracker_verify(&t, d, 50, msg, sizeof(msg)), 0, "%s", msg);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
}

/* ->release_chain(): per list, its last node and count right, everything once. */
Test(take_back, release_chain_per_list, .timeout = 60)
{
	enum { N = 4000 };
	struct tracker t;
	struct tdesc *d = calloc(N, sizeof(*d));
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	char msg[512];

	cr_assert(d != NULL);
	for_each_design(design) {
		tracker_init(&t);
		tdesc_init(d, N, 0);
		cfg = tracker_config(&t, design, 0);
		cfg.ops.release = NULL;
		cfg.ops.release_chain = tracker_release_chain;
		cfg.nr_slots = 4;
		t.nr_lists = design == PGFREE_DESIGN_PERCPU ? 4 + 1 : 1 + 1;
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		for (int i = 0; i < N; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(pgfree_barrier(dom), 0);
		cr_assert_gt(atomic_load(&t.chain_calls), 0);
		cr_assert_eq(tracker_verify(&t, d, N, msg, sizeof(msg)), 0, "%s: %s",
			     pgfree_design_name(design), msg);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
	free(d);
}

/*
 * Producers that take back and re-defer what they took, on every list, with
 * the drain thread handing chains back meanwhile: every descriptor must be
 * taken back or released once per defer, each after a flush begun after
 * that defer.  A thread takes back from the list of whatever CPU it runs
 * on, so it may take another thread's descriptors: it re-defers whatever it
 * gets, then its own.  Odd threads take back with pgfree_take_back_each()
 * and re-defer from inside its function, even ones with pgfree_take_back().
 */
#define NR_TB_THREADS 4

struct tb_producer {
	struct tracker *t;
	struct pgfree_domain *dom;
	struct tdesc *d;
	size_t n;
	_Atomic uint64_t *redefers;
	unsigned int errors;
	bool each;	/* takes back with pgfree_take_back_each() */
};

/* Half of what comes back goes round again. */
static void tb_redefer_one(void *arg, struct tdesc *d)
{
	struct tb_producer *p = arg;

	if ((d->seq & 1) || d->redefers_done >= 3)
		return;
	d->redefers_done++;
	atomic_fetch_add(p->redefers, 1);
	if (tracker_defer(p->t, p->dom, d))
		p->errors++;
}

static void *tb_producer_fn(void *arg)
{
	struct tb_producer *p = arg;

	for (size_t i = 0; i < p->n; i++) {
		struct pgfree_chain c;
		struct tdesc *d, *tmp;

		if (tracker_defer(p->t, p->dom, &p->d[i]))
			p->errors++;
		if (i % 64)
			continue;
		if (p->each) {
			/* Re-deferred from inside the function, as each is handed over. */
			if (tracker_take_back_each(p->t, p->dom, tb_redefer_one, p) < 0)
				p->errors++;
			continue;
		}
		if (tracker_take_back(p->t, p->dom, &c) < 0)
			p->errors++;
		pgfree_llist_for_each_entry_safe(d, tmp, c.first, node)
			tb_redefer_one(p, d);
	}
	return NULL;
}

Test(take_back, stress_take_back_and_redefer, .timeout = 300)
{
	const size_t per = test_scaled(50000, 2000), n = per * NR_TB_THREADS;
	struct tdesc *d = calloc(n, sizeof(*d));
	struct tb_producer p[NR_TB_THREADS];
	pthread_t tid[NR_TB_THREADS];
	_Atomic uint64_t redefers = 0;
	struct tracker t;
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	struct pgfree_stats s;
	char msg[512];

	cr_assert(d != NULL);
	for_each_tb_design(design) {
		tracker_init(&t);
		for (int i = 0; i < NR_TB_THREADS; i++)
			tdesc_init(d + (size_t)i * per, per, (uint32_t)i);
		cfg = tracker_config(&t, design, PGFREE_F_TAKE_BACK);
		cfg.take_back_us = 200;
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		for (int i = 0; i < NR_TB_THREADS; i++) {
			p[i] = (struct tb_producer){ .t = &t, .dom = dom, .d = d + (size_t)i * per,
						     .n = per, .redefers = &redefers, .each = i & 1 };
			cr_assert_eq(pthread_create(&tid[i], NULL, tb_producer_fn, &p[i]), 0);
		}
		for (int i = 0; i < NR_TB_THREADS; i++) {
			pthread_join(tid[i], NULL);
			cr_assert_eq(p[i].errors, 0, "producer %d: %u errors", i, p[i].errors);
		}
		cr_assert_eq(pgfree_barrier(dom), 0);
		cr_assert_eq(pgfree_stats(dom, &s), 0);
		cr_assert_eq(s.taken_back, atomic_load(&t.taken_back));
		/* Destroy releases what nobody took back; then every defer is accounted for. */
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
		cr_assert_eq(tracker_verify(&t, d, n, msg, sizeof(msg)), 0, "%s: %s",
			     pgfree_design_name(design), msg);
		cr_log_info("%s: %zu descriptors, %llu re-defers, %llu taken back, %llu released",
			    pgfree_design_name(design), n, (unsigned long long)atomic_load(&redefers),
			    (unsigned long long)atomic_load(&t.taken_back),
			    (unsigned long long)atomic_load(&t.released));
		atomic_store(&redefers, 0);
	}
	free(d);
}
