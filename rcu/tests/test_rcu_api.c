// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree.rcu_api: the stage's contract without readers, single-threaded
 * (a PGFREE_F_NO_THREAD domain drained by hand, so every count is exact):
 *  - invalid arguments give -EINVAL, a config is not wrapped twice;
 *  - the user's callbacks get the user's ctx, ->range_of is passed through
 *    (and stays absent when the user has none);
 *  - a failing user flush waits for no grace period and releases nothing;
 *  - one grace period per successful flush, however large the batch.
 */
#include <stdatomic.h>
#include <stdlib.h>

#include <pgfree/rcu.h>

#include "check.h"

struct user {
	int fail_left;		/* this many flushes fail with -EIO */
	unsigned int flushes, releases, released, ranges;
	void *bad_ctx;		/* a ctx that was not ours, if ever seen */
};

struct item {
	struct pgfree_llist_node node;
	uintptr_t va;
};

static unsigned int sync_calls;

static void counting_sync(void)
{
	sync_calls++;
	pgfree_rcu_synchronize_memb();
}

static struct user *as_user(void *ctx, struct user *expect)
{
	if (ctx != expect)
		expect->bad_ctx = ctx;
	return expect;
}

static struct user the_user;

static int u_flush(void *ctx, const struct pgfree_range *range)
{
	struct user *u = as_user(ctx, &the_user);

	(void)range;
	u->flushes++;
	if (u->fail_left > 0) {
		u->fail_left--;
		return -EIO;
	}
	return 0;
}

static void u_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct user *u = as_user(ctx, &the_user);
	struct item *it, *next;

	u->releases++;
	pgfree_llist_for_each_entry_safe(it, next, batch, node) {
		u->released++;
		free(it);
	}
}

static int u_range_of(void *ctx, const struct pgfree_llist_node *node, struct pgfree_range *r)
{
	struct user *u = as_user(ctx, &the_user);
	const struct item *it = pgfree_llist_entry(node, struct item, node);

	u->ranges++;
	r->start = it->va;
	r->end = it->va + 4096;
	return 0;
}

static void test_invalid(void)
{
	struct pgfree_rcu_stage st, st2;
	struct pgfree_rcu_stats stats;
	struct pgfree_config cfg = { .ops = { .flush = u_flush, .release = u_release } };
	struct pgfree_config bad;

	CHECK(pgfree_rcu_stage_init(NULL, &cfg, NULL) == -EINVAL, "NULL stage");
	CHECK(pgfree_rcu_stage_init(&st, NULL, NULL) == -EINVAL, "NULL config");
	bad = cfg;
	bad.ops.flush = NULL;
	CHECK(pgfree_rcu_stage_init(&st, &bad, NULL) == -EINVAL, "no flush");
	bad = cfg;
	bad.ops.release = NULL;
	CHECK(pgfree_rcu_stage_init(&st, &bad, NULL) == -EINVAL, "no release");

	CHECK(pgfree_rcu_stage_init(&st, &cfg, NULL) == 0, "valid config");
	CHECK(cfg.ctx == &st, "ctx not rewritten");
	CHECK(cfg.ops.range_of == NULL, "range_of invented");
	bad = cfg;
	CHECK(pgfree_rcu_stage_init(&st, &bad, NULL) == -EINVAL, "wrapped twice, same stage");
	CHECK(pgfree_rcu_stage_init(&st2, &bad, NULL) == -EINVAL, "wrapped twice, two stages");
	CHECK(bad.ctx == &st, "a refused init changed the config");

	CHECK(pgfree_rcu_stage_stats(NULL, &stats) == -EINVAL, "stats of NULL");
	CHECK(pgfree_rcu_stage_stats(&st, NULL) == -EINVAL, "stats into NULL");
	CHECK(pgfree_rcu_stage_stats(&st, &stats) == 0 && stats.grace_periods == 0,
	      "fresh stage");
}

static int defer_items(struct pgfree_domain *dom, unsigned int n, uintptr_t va)
{
	for (unsigned int i = 0; i < n; i++) {
		struct item *it = calloc(1, sizeof(*it));

		if (!it)
			return -ENOMEM;
		it->va = va + i * 4096u;
		if (pgfree_defer(dom, &it->node))
			return -EIO;
	}
	return 0;
}

static void test_failure_and_batching(void)
{
	struct pgfree_rcu_stage st;
	struct pgfree_rcu_stats rs;
	struct pgfree_stats ps;
	struct pgfree_domain *dom;
	struct pgfree_config cfg = {
		.flags = PGFREE_F_NO_THREAD,
		.ops = { .flush = u_flush, .release = u_release, .range_of = u_range_of },
		.ctx = &the_user,
	};
	long got;

	the_user.fail_left = 2;
	CHECK(pgfree_rcu_stage_init(&st, &cfg, counting_sync) == 0, "init");
	CHECK(cfg.ops.range_of != NULL, "range_of dropped");
	CHECK(pgfree_domain_create(&cfg, &dom) == 0, "create");

	CHECK(defer_items(dom, 3, 0x100000) == 0, "defer");
	for (int i = 0; i < 2; i++) {
		got = pgfree_drain(dom);
		CHECK(got == -EIO, "drain %d with a failing flush returned %ld", i, got);
	}
	pgfree_rcu_stage_stats(&st, &rs);
	CHECK(rs.grace_periods == 0, "a failed flush counted %llu grace periods",
	      (unsigned long long)rs.grace_periods);
	CHECK(rs.flush_failures == 2, "flush_failures %llu",
	      (unsigned long long)rs.flush_failures);
	CHECK(sync_calls == 0, "synchronize called %u times after failed flushes", sync_calls);
	CHECK(the_user.released == 0, "%u released after failed flushes", the_user.released);

	/* The kept batch plus a larger one: still one grace period. */
	CHECK(defer_items(dom, 100, 0x200000) == 0, "defer");
	got = pgfree_drain(dom);
	CHECK(got == 103, "drain released %ld, not 103", got);
	pgfree_rcu_stage_stats(&st, &rs);
	CHECK(rs.grace_periods == 1 && sync_calls == 1,
	      "one batch, %llu grace periods, %u synchronize calls",
	      (unsigned long long)rs.grace_periods, sync_calls);
	CHECK(the_user.ranges == 103, "range_of called %u times", the_user.ranges);

	/* Several batches: exactly one grace period each. */
	for (unsigned int i = 0; i < 5; i++) {
		CHECK(defer_items(dom, 1 + i * 7, 0x400000) == 0, "defer");
		CHECK(pgfree_drain(dom) == 1 + i * 7, "drain %u", i);
	}
	CHECK(pgfree_drain(dom) == 0, "empty drain");
	CHECK(pgfree_stats(dom, &ps) == 0, "stats");
	pgfree_rcu_stage_stats(&st, &rs);
	CHECK(rs.grace_periods == ps.flushes && sync_calls == ps.flushes,
	      "grace periods %llu, synchronize calls %u, flushes %llu",
	      (unsigned long long)rs.grace_periods, sync_calls,
	      (unsigned long long)ps.flushes);
	CHECK(rs.grace_periods == 6, "grace periods %llu, not 6",
	      (unsigned long long)rs.grace_periods);
	CHECK(ps.flush_failures == 2 && rs.flush_failures == 2, "failures %llu/%llu",
	      (unsigned long long)ps.flush_failures, (unsigned long long)rs.flush_failures);
	CHECK(the_user.released == 103 + 5 + 7 * 10, "released %u", the_user.released);
	CHECK(rs.gp_ns_max <= rs.gp_ns_total, "gp_ns_max %llu > total %llu",
	      (unsigned long long)rs.gp_ns_max, (unsigned long long)rs.gp_ns_total);
	CHECK(the_user.bad_ctx == NULL, "a user callback got ctx %p", the_user.bad_ctx);
	CHECK(pgfree_domain_destroy(dom) == 0, "destroy");
}

int main(void)
{
	test_invalid();
	test_failure_and_batching();
	if (check_failures) {
		fprintf(stderr, "rcu_api: %u check(s) failed\n", check_failures);
		return 1;
	}
	printf("rcu_api: ok (%u grace periods for 6 batches, 2 failed flushes waited for none)\n",
	       sync_calls);
	return 0;
}
