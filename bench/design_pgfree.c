// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree's own designs, through its public API only, as one table: a
 * variant (another flag, another backlog mark, another defer call) is one
 * BENCH_PGFREE_VARIANT line.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include <pgfree/pgfree.h>

#include "designs.h"

/*
 * The backlog mark of the _mark and _bounded variants, so that they measure
 * what the counting costs the hot path, not the waiting: the largest mark.
 * Each list's share of it is PGFREE_MAX_BACKLOG / nr_slots, and a producer
 * holds at most ENQ_RING (32768) descriptors, so a list reaches its share
 * only if 2^15 / nr_slots producers' rings sit on that one list: never on
 * hosts below 128 CPUs, and in practice not above.  The earlier mark of
 * 2^20 was reached on 16 CPUs with 32 unpinned producers (share 65536, two
 * rings): the _bounded row then measured producers queueing on drain_lock,
 * over 4 s a run against under 0.2 s, and the run did not finish.  destroy() reports it if
 * pgfree_defer_wait() ever waited anyway (struct pgfree_stats.bound_waits).
 */
#define BENCH_BACKLOG_MAX PGFREE_MAX_BACKLOG

struct pgfree_variant {
	unsigned int design, flags, backlog_max;
};

static void *create(struct bsink *sink, const void *arg, const struct bpolicy *pol)
{
	const struct pgfree_variant *v = arg;
	struct pgfree_config cfg = {
		.design = v->design,
		.flags = v->flags | (pol->delay_us ? 0 : PGFREE_F_NO_DELAY),
		.backlog_max = v->backlog_max,
		.batch_delay_us = pol->delay_us,
		.batch_max = pol->batch_max,
		.ops = { .flush = bsink_pgfree_flush, .release = bsink_pgfree_release },
		.ctx = sink,
	};
	struct pgfree_domain *dom;
	int err = pgfree_domain_create(&cfg, &dom);

	if (err) {
		fprintf(stderr, "pgfree_domain_create: %s\n", pgfree_strerror(err));
		abort();
	}
	if (v->flags & PGFREE_F_RSEQ) {
		struct pgfree_stats st;
		static bool told;

		/* Say once which push the rseq row measures: it falls back silently. */
		if (!told && !pgfree_stats(dom, &st)) {
			fprintf(stderr, "percpu_rseq: %s push\n",
				st.rseq ? "rseq" : "CAS (rseq unavailable here)");
			told = true;
		}
	}
	return dom;
}

static void defer(void *impl, struct bdesc *d)
{
	pgfree_defer(impl, &d->node);
}

static void defer_wait(void *impl, struct bdesc *d)
{
	pgfree_defer_wait(impl, &d->node);
}

static void quiesce(void *impl)
{
	pgfree_barrier(impl);
}

static void destroy(void *impl)
{
	struct pgfree_stats st;
	static bool told;

	/* Not silent: a row that waited at the mark measures something else. */
	if (!told && !pgfree_stats(impl, &st) && st.bound_waits) {
		fprintf(stderr, "pgfree_bench: WARNING: pgfree_defer_wait() waited at the "
			"backlog mark %llu times in one run: that _bounded row measures the "
			"waiting, not the count\n", (unsigned long long)st.bound_waits);
		told = true;
	}
	pgfree_domain_destroy(impl);
}

/*
 * PGFREE_F_TAKE_BACK: the instance remembers its sink, to which the
 * producer releases what it takes back (the same release work as the
 * sink's ->release(): bsink_release_one() per descriptor, one count).
 */
struct tb_impl {
	struct pgfree_domain *dom;
	struct bsink *sink;
};

static void *create_tb(struct bsink *sink, const void *arg, const struct bpolicy *pol)
{
	struct tb_impl *t = malloc(sizeof(*t));

	if (!t)
		abort();
	t->dom = create(sink, arg, pol);
	t->sink = sink;
	return t;
}

static void defer_tb(void *impl, struct bdesc *d)
{
	pgfree_defer(((struct tb_impl *)impl)->dom, &d->node);
}

static void take_back_one(void *sink, struct pgfree_llist_node *node)
{
	bsink_release_one(sink, pgfree_llist_entry(node, struct bdesc, node));
}

/*
 * pgfree_take_back_each(): the producer hands each descriptor back as the
 * library's one walk passes it.  pgfree_take_back() would walk each chain
 * to count and link it, and this loop would walk it again: on 2 CPUs that
 * second pass cost the row 14-16% of its end_to_end rate (docs/results.md).
 */
static void take_back_tb(void *impl)
{
	struct tb_impl *t = impl;
	long n = pgfree_take_back_each(t->dom, take_back_one, t->sink);

	if (n > 0)
		bsink_count_released(t->sink, (uint64_t)n);
}

static void quiesce_tb(void *impl)
{
	/* Flushed and handed back; what no producer takes back, destroy releases. */
	pgfree_barrier(((struct tb_impl *)impl)->dom);
}

static void destroy_tb(void *impl)
{
	struct tb_impl *t = impl;

	destroy(t->dom);
	free(t);
}

#define BENCH_PGFREE_VARIANT(nm, pol, dsg, flg, backlog, defer_fn, is_locked, text) \
	{ .name = nm, .flush_hook = true, .policy = pol, .note = text, \
	  .arg = &(const struct pgfree_variant){ dsg, flg, backlog }, \
	  .create = create, .defer = defer_fn, .quiesce = quiesce, .destroy = destroy, \
	  .locked = is_locked }

const struct bdesign bench_pgfree_designs[] = {
	BENCH_PGFREE_VARIANT("percpu", BP_BOTH, PGFREE_DESIGN_PERCPU, 0, 0, defer, false,
			     "pgfree: per-CPU llists"),
	/*
	 * The opt-in rseq push (lib/rseq.c): no locked instruction per defer,
	 * one membarrier per drain.  Where the domain cannot use it (no rseq
	 * registration, no membarrier command, TSan) it falls back to the CAS
	 * and the report prints which path ran.
	 */
	BENCH_PGFREE_VARIANT("percpu_rseq", BP_BOTH, PGFREE_DESIGN_PERCPU, PGFREE_F_RSEQ, 0, defer,
			     false, "pgfree: per-CPU lists, rseq push (PGFREE_F_RSEQ)"),
	/*
	 * The take-back path (lib/takeback.c): the drain hands each list's
	 * flushed chain back to the list untouched and the producer takes its
	 * descriptors back, so the ring recycles through
	 * pgfree_take_back_each() rather than through the drain thread's
	 * ->release().
	 */
	{ .name = "percpu_takeback", .flush_hook = true, .policy = BP_BOTH,
	  .note = "pgfree: per-CPU lists, flushed descriptors taken back by the freeing CPU "
		  "(PGFREE_F_TAKE_BACK)",
	  .arg = &(const struct pgfree_variant){ PGFREE_DESIGN_PERCPU, PGFREE_F_TAKE_BACK, 0 },
	  .create = create_tb, .defer = defer_tb, .quiesce = quiesce_tb, .destroy = destroy_tb,
	  .take_back = take_back_tb },
	BENCH_PGFREE_VARIANT("v5", BP_BOTH, PGFREE_DESIGN_V5, 0, 0, defer, true,
			     "Linux 6.19 port: global list + queued spinlock + work, pgfree's drain"),
	/*
	 * The v5 port as the kernel runs it: no gathering delay, the worker
	 * woken by the schedule_work() that finds PENDING clear and re-run
	 * once per run that found it set again (lib/design_locked.c).
	 */
	BENCH_PGFREE_VARIANT("v5_kernel", BP_KERNEL, PGFREE_DESIGN_V5, 0, 0, defer, true,
			     "v5 kernel-faithful: no delay, one wake per schedule_work() on PENDING clear"),
	BENCH_PGFREE_VARIANT("v3", BP_BOTH, PGFREE_DESIGN_V3, 0, 0, defer, true,
			     "v3 review version: frees under the global lock"),
	/*
	 * The same three ports on glibc's pthread_spin_lock() (an exchange
	 * loop: every waiter spins on the lock word), the lock they ran on
	 * before the queued lock: beside the rows above, they show how much
	 * of the baselines' cost is the lock's rather than the design's.
	 */
	BENCH_PGFREE_VARIANT("v5_kernel_tas", BP_KERNEL, PGFREE_DESIGN_V5, PGFREE_F_TAS_LOCK, 0,
			     defer, true, "v5_kernel on pthread_spin_lock() (test-and-set)"),
	BENCH_PGFREE_VARIANT("v5_tas", BP_BOTH, PGFREE_DESIGN_V5, PGFREE_F_TAS_LOCK, 0, defer,
			     true, "v5 on pthread_spin_lock() (test-and-set)"),
	BENCH_PGFREE_VARIANT("v3_tas", BP_BOTH, PGFREE_DESIGN_V3, PGFREE_F_TAS_LOCK, 0, defer,
			     true, "v3 on pthread_spin_lock() (test-and-set)"),
	BENCH_PGFREE_VARIANT("global_llist", BP_BOTH, PGFREE_DESIGN_GLOBAL_LLIST, 0, 0, defer,
			     false, "one shared llist"),
	BENCH_PGFREE_VARIANT("percpu_mark", BP_BOTH, PGFREE_DESIGN_PERCPU, 0, BENCH_BACKLOG_MAX,
			     defer, false, "percpu with a backlog mark (hint count, no RMW)"),
	BENCH_PGFREE_VARIANT("percpu_bounded", BP_BOTH, PGFREE_DESIGN_PERCPU, PGFREE_F_BOUNDED,
			     BENCH_BACKLOG_MAX, defer_wait, false,
			     "percpu, PGFREE_F_BOUNDED, pgfree_defer_wait() (exact count: one more add)"),
};
const unsigned int bench_nr_pgfree_designs =
	sizeof(bench_pgfree_designs) / sizeof(bench_pgfree_designs[0]);
