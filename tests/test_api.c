// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The API's edges, one domain at a time and single-threaded: rejected
 * configurations and arguments, pgfree_strerror() and pgfree_design_name(),
 * the statistics of a thread-less domain step by step, the release order,
 * and the range given to ->flush().  (What callbacks may call is in
 * test_callbacks.c.)
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

/* A pointer value create must overwrite with NULL on failure. */
#define POISON_DOMAIN ((struct pgfree_domain *)(uintptr_t)0xdeadbeef)

static int dummy_flush(void *ctx, const struct pgfree_range *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static void dummy_release(void *ctx, struct pgfree_llist_node *batch)
{
	(void)ctx;
	(void)batch;
}

static struct pgfree_config good_config(void)
{
	struct pgfree_config cfg = { 0 };

	cfg.flags = PGFREE_F_NO_THREAD;
	cfg.ops.flush = dummy_flush;
	cfg.ops.release = dummy_release;
	return cfg;
}

/* Create with @cfg must fail with -EINVAL and leave NULL in *out. */
static void expect_einval(const struct pgfree_config *cfg, const char *what)
{
	struct pgfree_domain *dom = POISON_DOMAIN;
	int err = pgfree_domain_create(cfg, &dom);

	if (!err && dom && dom != POISON_DOMAIN)
		pgfree_domain_destroy(dom);
	cr_assert_eq(err, -EINVAL, "%s: create returned %d, want -EINVAL", what, err);
	cr_assert(dom == NULL, "%s: *out not set to NULL on failure", what);
}

Test(api, create_rejects_bad_config, .timeout = 60)
{
	struct pgfree_config cfg;
	struct pgfree_domain *dom = POISON_DOMAIN;

	cr_assert_eq(pgfree_domain_create(NULL, &dom), -EINVAL, "NULL cfg accepted");
	cr_assert(dom == NULL, "NULL cfg: *out not set to NULL");
	cfg = good_config();
	cr_assert_eq(pgfree_domain_create(&cfg, NULL), -EINVAL, "NULL out accepted");

	cfg = good_config();
	cfg.ops.flush = NULL;
	expect_einval(&cfg, "missing flush");
	cfg = good_config();
	cfg.ops.release = NULL;
	expect_einval(&cfg, "missing release");
	cfg = good_config();
	cfg.design = PGFREE_DESIGN_COUNT;
	expect_einval(&cfg, "design == PGFREE_DESIGN_COUNT");
	cfg.design = UINT_MAX;
	expect_einval(&cfg, "design UINT_MAX");
	cfg = good_config();
	cfg.flags = PGFREE_F_NO_THREAD | 0x10000u;
	expect_einval(&cfg, "unknown flag 0x10000");
	/* The lock-less designs have no lock to choose. */
	cfg.flags = PGFREE_F_TAS_LOCK;
	cfg.design = PGFREE_DESIGN_PERCPU;
	expect_einval(&cfg, "PGFREE_F_TAS_LOCK with PERCPU");
	cfg.design = PGFREE_DESIGN_GLOBAL_LLIST;
	expect_einval(&cfg, "PGFREE_F_TAS_LOCK with GLOBAL_LLIST");
	cfg = good_config();
	cfg.flags = PGFREE_F_RSEQ | PGFREE_F_NO_RSEQ;
	expect_einval(&cfg, "PGFREE_F_RSEQ with PGFREE_F_NO_RSEQ");
	cfg.flags = 0x80000000u;
	expect_einval(&cfg, "unknown flag 0x80000000");
	/* "No delay" together with a delay: lib/domain.c refuses to guess. */
	cfg = good_config();
	cfg.flags = PGFREE_F_NO_DELAY;
	cfg.batch_delay_us = 10;
	expect_einval(&cfg, "PGFREE_F_NO_DELAY with batch_delay_us = 10");
	cfg = good_config();
	cfg.nr_slots = PGFREE_MAX_SLOTS + 1;
	expect_einval(&cfg, "nr_slots > PGFREE_MAX_SLOTS");
	cfg.nr_slots = UINT_MAX;
	expect_einval(&cfg, "nr_slots UINT_MAX");
	cfg = good_config();
	cfg.batch_delay_us = PGFREE_MAX_BATCH_DELAY_US + 1;
	expect_einval(&cfg, "batch_delay_us > PGFREE_MAX_BATCH_DELAY_US");
}

Test(api, create_accepts_limits_and_every_design, .timeout = 60)
{
	struct pgfree_config cfg = good_config();
	struct pgfree_domain *dom = NULL;
	int err;

	cfg.nr_slots = PGFREE_MAX_SLOTS;
	err = pgfree_domain_create(&cfg, &dom);
	cr_assert_eq(err, 0, "nr_slots = PGFREE_MAX_SLOTS rejected: %d", err);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);

	cfg = good_config();
	cfg.flags = 0;
	cfg.batch_delay_us = PGFREE_MAX_BATCH_DELAY_US;
	cfg.batch_max = UINT_MAX;
	err = pgfree_domain_create(&cfg, &dom);
	cr_assert_eq(err, 0, "batch_delay_us = max rejected: %d", err);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);

	for_each_design(d) {
		for (unsigned int flags = 0; flags <= (PGFREE_F_NO_THREAD | PGFREE_F_NO_DELAY);
		     flags++) {
			cfg = good_config();
			cfg.design = d;
			cfg.flags = flags;
			dom = NULL;
			err = pgfree_domain_create(&cfg, &dom);
			cr_assert_eq(err, 0, "design %s flags %u: create failed: %d",
				     pgfree_design_name(d), flags, err);
			cr_assert(dom != NULL);
			cr_assert_eq(pgfree_domain_destroy(dom), 0);
		}
	}
	/* The locked designs on either lock. */
	for (unsigned int d = PGFREE_DESIGN_V5; d <= PGFREE_DESIGN_V3; d++) {
		cfg = good_config();
		cfg.design = d;
		cfg.flags = PGFREE_F_TAS_LOCK;
		err = pgfree_domain_create(&cfg, &dom);
		cr_assert_eq(err, 0, "%s with PGFREE_F_TAS_LOCK: create failed: %d",
			     pgfree_design_name(d), err);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

Test(api, calls_reject_null_arguments, .timeout = 60)
{
	struct pgfree_config cfg = good_config();
	struct pgfree_domain *dom;
	struct pgfree_llist_node node;
	struct pgfree_stats s;

	cr_assert_eq(pgfree_domain_create(&cfg, &dom), 0);
	cr_assert_eq(pgfree_defer(NULL, &node), -EINVAL);
	cr_assert_eq(pgfree_defer(dom, NULL), -EINVAL);
	cr_assert_eq(pgfree_stats(dom, NULL), -EINVAL);
	cr_assert_eq(pgfree_stats(NULL, &s), -EINVAL);
	cr_assert_eq(pgfree_drain(NULL), -EINVAL);
	cr_assert_eq(pgfree_barrier(NULL), -EINVAL);
	cr_assert_eq(pgfree_domain_destroy(NULL), -EINVAL);
	/* Nothing was queued by the rejected calls. */
	cr_assert_eq(pgfree_stats(dom, &s), 0);
	cr_assert_eq(s.deferred, 0, "a rejected defer was counted");
	cr_assert_eq(pgfree_drain(dom), 0);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
}

Test(api, strerror_is_never_null, .timeout = 60)
{
	static const int known[] = { 0, -EINVAL, -ESHUTDOWN, -EDEADLK, -EIO, -ENOMEM };
	static const int odd[] = { 12345, -12345, INT_MIN, INT_MAX, -4096, 1 << 20 };
	const char *s[6];

	for (size_t i = 0; i < 6; i++) {
		s[i] = pgfree_strerror(known[i]);
		cr_assert(s[i] != NULL && s[i][0] != '\0', "pgfree_strerror(%d) empty", known[i]);
	}
	for (size_t i = 0; i < 6; i++)
		for (size_t j = i + 1; j < 6; j++)
			cr_assert(strcmp(s[i], s[j]) != 0, "errors %d and %d share \"%s\"",
				  known[i], known[j], s[i]);
	for (size_t i = 0; i < sizeof(odd) / sizeof(odd[0]); i++) {
		const char *o = pgfree_strerror(odd[i]);

		cr_assert(o != NULL && o[0] != '\0', "pgfree_strerror(%d) empty", odd[i]);
	}
	/* Positive values read as their negation. */
	cr_assert(strcmp(pgfree_strerror(EINVAL), s[1]) == 0, "strerror(EINVAL) != strerror(-EINVAL)");
	cr_assert(strcmp(pgfree_strerror(ESHUTDOWN), s[2]) == 0,
		  "strerror(ESHUTDOWN) != strerror(-ESHUTDOWN)");
}

Test(api, design_names, .timeout = 60)
{
	static const char *const want[PGFREE_DESIGN_COUNT] = {
		[PGFREE_DESIGN_PERCPU] = "percpu",
		[PGFREE_DESIGN_V5] = "v5",
		[PGFREE_DESIGN_V3] = "v3",
		[PGFREE_DESIGN_GLOBAL_LLIST] = "global_llist",
	};

	for_each_design(d) {
		const char *n = pgfree_design_name(d);

		cr_assert(n != NULL && strcmp(n, want[d]) == 0, "design %u: name %s, want %s", d,
			  n ? n : "(null)", want[d]);
	}
	cr_assert(pgfree_design_name(PGFREE_DESIGN_COUNT) == NULL);
	cr_assert(pgfree_design_name(UINT_MAX) == NULL);
}

/* Stats of a thread-less domain, checked after every step. */
Test(api, stats_follow_defer_and_drain, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[8];
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	struct pgfree_stats s;
	char msg[512];

	for_each_design(design) {
		tracker_init(&t);
		tdesc_init(d, 8, 0);
		cfg = tracker_config(&t, design, PGFREE_F_NO_THREAD);
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);

		cr_assert_eq(pgfree_stats(dom, &s), 0);
		cr_assert(!s.deferred && !s.released && !s.flushes && !s.flush_failures &&
			  !s.drains && !s.wakeups && !s.largest_batch && !s.backlog,
			  "%s: a new domain has non-zero stats", pgfree_design_name(design));

		for (int i = 0; i < 5; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(pgfree_stats(dom, &s), 0);
		cr_assert_eq(s.backlog, 5, "%s: backlog %llu, want 5", pgfree_design_name(design),
			     (unsigned long long)s.backlog);
		cr_assert_eq(s.deferred, 5, "%s: deferred %llu, want 5",
			     pgfree_design_name(design), (unsigned long long)s.deferred);
		cr_assert_eq(s.released, 0);
		cr_assert_eq(atomic_load(&t.flush_calls), 0, "stats must not flush");

		cr_assert_eq(pgfree_drain(dom), 5, "%s: drain must release the 5 queued",
			     pgfree_design_name(design));
		cr_assert_eq(pgfree_stats(dom, &s), 0);
		cr_assert(s.released == 5 && s.backlog == 0 && s.deferred == 5 &&
			  s.flushes == 1 && s.drains == 1 && s.largest_batch == 5 &&
			  s.flush_failures == 0,
			  "%s: after one drain: released %llu backlog %llu flushes %llu drains "
			  "%llu largest %llu", pgfree_design_name(design),
			  (unsigned long long)s.released, (unsigned long long)s.backlog,
			  (unsigned long long)s.flushes, (unsigned long long)s.drains,
			  (unsigned long long)s.largest_batch);
		cr_assert_eq(s.wakeups, 0, "%s: a thread-less domain counted %llu wake-ups",
			     pgfree_design_name(design), (unsigned long long)s.wakeups);

		/* Nothing queued: no flush for an empty batch. */
		cr_assert_eq(pgfree_drain(dom), 0);
		cr_assert_eq(atomic_load(&t.flush_calls), 1,
			     "%s: ->flush() called for an empty batch", pgfree_design_name(design));

		for (int i = 5; i < 8; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(pgfree_drain(dom), 3);
		cr_assert_eq(pgfree_stats(dom, &s), 0);
		cr_assert(s.released == 8 && s.flushes == 2 && s.largest_batch == 5,
			  "%s: largest_batch %llu, want 5", pgfree_design_name(design),
			  (unsigned long long)s.largest_batch);
		cr_assert_eq(tracker_check_stats(&t, dom, 8, msg, sizeof(msg)), 0, "%s: %s",
			     pgfree_design_name(design), msg);
		cr_assert_eq(tracker_verify(&t, d, 8, msg, sizeof(msg)), 0, "%s: %s",
			     pgfree_design_name(design), msg);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

/* Records the order ->release() received the descriptors in. */
struct order_log {
	uint32_t seq[256];
	size_t n;
};

static void log_order(struct tracker *t, struct pgfree_llist_node *batch)
{
	struct order_log *log = t->hook_arg;
	struct tdesc *d;

	pgfree_llist_for_each_entry(d, batch, node)
		if (log->n < 256)
			log->seq[log->n++] = d->seq;
}

/*
 * One producer thread, one list (nr_slots = 1, or a single-list design):
 * ->release() gets the batch as the list gave it up, newest first (the
 * drain does not reverse it: lib/batch.c).
 */
Test(api, release_batch_is_newest_first, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[100];
	struct order_log log;
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	char msg[512];

	for_each_design(design) {
		tracker_init(&t);
		memset(&log, 0, sizeof(log));
		t.release_hook = log_order;
		t.hook_arg = &log;
		tdesc_init(d, 100, 0);
		cfg = tracker_config(&t, design, PGFREE_F_NO_THREAD);
		cfg.nr_slots = 1;
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		for (int i = 0; i < 100; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(pgfree_drain(dom), 100);
		cr_assert_eq(log.n, 100);
		for (uint32_t i = 0; i < 100; i++)
			cr_assert_eq(log.seq[i], 99 - i, "%s: release position %u holds seq %u: "
				     "not newest first", pgfree_design_name(design), i, log.seq[i]);
		cr_assert_eq(tracker_verify(&t, d, 100, msg, sizeof(msg)), 0, "%s", msg);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

Test(api, flush_gets_union_of_ranges, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[64];
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	char msg[512];
	uintptr_t lo, hi;

	for_each_design(design) {
		/* Known ranges: the flush covers their union, not everything. */
		tracker_init(&t);
		t.use_range = true;
		tdesc_init(d, 64, 0);
		cfg = tracker_config(&t, design, PGFREE_F_NO_THREAD);
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		for (int i = 10; i < 20; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(tracker_defer(&t, dom, &d[40]), 0);
		cr_assert_eq(pgfree_drain(dom), 11);
		lo = atomic_load(&t.ok_range_start);
		hi = atomic_load(&t.ok_range_end);
		cr_assert(lo <= d[10].range.start && hi >= d[40].range.end,
			  "%s: flushed [%#lx, %#lx) misses the batch [%#lx, %#lx)",
			  pgfree_design_name(design), (unsigned long)lo, (unsigned long)hi,
			  (unsigned long)d[10].range.start, (unsigned long)d[40].range.end);
		cr_assert(hi != PGFREE_FLUSH_ALL, "%s: every range was known, yet the flush "
			  "covered everything", pgfree_design_name(design));

		/* One unknown range: the flush covers everything (tracker checks). */
		tdesc_set_unknown_range(&d[50]);
		cr_assert_eq(tracker_defer(&t, dom, &d[41]), 0);
		cr_assert_eq(tracker_defer(&t, dom, &d[50]), 0);
		cr_assert_eq(pgfree_drain(dom), 2);
		cr_assert(atomic_load(&t.ok_range_start) == 0 &&
			  atomic_load(&t.ok_range_end) == PGFREE_FLUSH_ALL,
			  "%s: a batch with an unknown range must flush everything",
			  pgfree_design_name(design));
		cr_assert_eq(tracker_verify(&t, d + 10, 10, msg, sizeof(msg)), 0, "%s: %s",
			     pgfree_design_name(design), msg);
		cr_assert_eq(atomic_load(&t.violations), 0, "%s: %s", pgfree_design_name(design),
			     tracker_first_violation(&t));
		cr_assert_eq(pgfree_domain_destroy(dom), 0);

		/* No ->range_of(): always everything. */
		tracker_init(&t);
		tdesc_init(d, 4, 0);
		cfg = tracker_config(&t, design, PGFREE_F_NO_THREAD);
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		for (int i = 0; i < 4; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		cr_assert_eq(pgfree_drain(dom), 4);
		cr_assert_eq(atomic_load(&t.ok_range_end), PGFREE_FLUSH_ALL);
		cr_assert_eq(tracker_verify(&t, d, 4, msg, sizeof(msg)), 0, "%s", msg);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}
