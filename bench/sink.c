// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* The release side and the simulated flush shared by every design. */
#include <stdlib.h>

#include <pgfree/pgfree.h>

#include "bdesc.h"

void bsink_flush(struct bsink *s)
{
	if (s->flush_ns) {
		uint64_t end = bench_now_ns() + s->flush_ns;

		while (bench_now_ns() < end)
			cpu_relax();
	}
	atomic_fetch_add_explicit(&s->flushes, 1, memory_order_relaxed);
}

/* The same release work for every design: account, free the page, recycle. */
void bsink_release_one(struct bsink *s, struct bdesc *d)
{
	if (s->lat && d->t_defer)	/* 0: an unrecorded warm-up descriptor */
		lathist_record(s->lat, bench_now_ns() - d->t_defer);
	if (s->free_pages) {
		free(d->page);
		d->page = NULL;
	}
	/* Release: the producer that reuses the descriptor sees it finished. */
	atomic_store_explicit(&d->busy, 0, memory_order_release);
}

void bsink_count_released(struct bsink *s, uint64_t n)
{
	atomic_fetch_add_explicit(&s->released, n, memory_order_relaxed);
}

int bsink_pgfree_flush(void *ctx, const struct pgfree_range *range)
{
	(void)range;
	bsink_flush(ctx);
	return 0;
}

void bsink_pgfree_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct bdesc *d, *next;
	uint64_t n = 0;

	pgfree_llist_for_each_entry_safe(d, next, batch, node) {
		bsink_release_one(ctx, d);
		n++;
	}
	bsink_count_released(ctx, n);
}
