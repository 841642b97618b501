// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* pgfree's own designs, through its public API only. */
#include <stdio.h>
#include <stdlib.h>

#include <pgfree/pgfree.h>

#include "designs.h"

/* --pgfree-delay-us: the domains' batch_delay_us (-1: the library default). */
long bench_pgfree_delay_us = -1;

/*
 * The backlog mark of the _mark and _bounded variants: large enough that
 * the enqueue workload's bursts rarely reach it, so they measure what the
 * counting costs the hot path, not the waiting.
 */
#define BENCH_BACKLOG_MAX (1u << 20)

static void *create_design_mark(struct bsink *sink, unsigned int design, unsigned int flags,
				unsigned int backlog_max)
{
	struct pgfree_config cfg = {
		.design = design,
		.flags = flags | (bench_pgfree_delay_us == 0 ? PGFREE_F_NO_DELAY : 0),
		.backlog_max = backlog_max,
		.batch_delay_us = bench_pgfree_delay_us > 0 ? (unsigned int)bench_pgfree_delay_us : 0,
		.ops = { .flush = bsink_pgfree_flush, .release = bsink_pgfree_release },
		.ctx = sink,
	};
	struct pgfree_domain *dom;
	int err = pgfree_domain_create(&cfg, &dom);

	if (err) {
		fprintf(stderr, "pgfree_domain_create: %s\n", pgfree_strerror(err));
		abort();
	}
	return dom;
}

static void *create_design(struct bsink *sink, unsigned int design)
{
	return create_design_mark(sink, design, 0, 0);
}

static void *create_percpu(struct bsink *s) { return create_design(s, PGFREE_DESIGN_PERCPU); }
static void *create_percpu_mark(struct bsink *s)
{
	return create_design_mark(s, PGFREE_DESIGN_PERCPU, 0, BENCH_BACKLOG_MAX);
}
static void *create_percpu_bounded(struct bsink *s)
{
	return create_design_mark(s, PGFREE_DESIGN_PERCPU, PGFREE_F_BOUNDED, BENCH_BACKLOG_MAX);
}
static void *create_v5(struct bsink *s) { return create_design(s, PGFREE_DESIGN_V5); }
static void *create_v3(struct bsink *s) { return create_design(s, PGFREE_DESIGN_V3); }
static void *create_global(struct bsink *s) { return create_design(s, PGFREE_DESIGN_GLOBAL_LLIST); }

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
	pgfree_domain_destroy(impl);
}

#define PGFREE_BDESIGN(var, nm, create_fn, text) \
	const struct bdesign var = { .name = nm, .flush_hook = true, .note = text, \
				     .create = create_fn, .defer = defer, .quiesce = quiesce, \
				     .destroy = destroy }

PGFREE_BDESIGN(bdesign_percpu, "percpu", create_percpu, "pgfree: per-CPU llists");
PGFREE_BDESIGN(bdesign_v5, "v5", create_v5, "Linux 6.19: global list + spinlock + work");
PGFREE_BDESIGN(bdesign_v3, "v3", create_v3, "seed 000: frees under the global lock");
PGFREE_BDESIGN(bdesign_global_llist, "global_llist", create_global, "one shared llist");
PGFREE_BDESIGN(bdesign_percpu_mark, "percpu_mark", create_percpu_mark,
	       "percpu with a backlog mark (hint count, no RMW)");
const struct bdesign bdesign_percpu_bounded = {
	.name = "percpu_bounded", .flush_hook = true,
	.note = "percpu, PGFREE_F_BOUNDED, pgfree_defer_wait() (exact count: one more atomic add)",
	.create = create_percpu_bounded, .defer = defer_wait, .quiesce = quiesce,
	.destroy = destroy,
};
