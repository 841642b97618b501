// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A program that uses an INSTALLED pgfree the way a user would: built by
 * tests/package/run_consumer.sh once through the CMake package and once
 * through pkg-config, shared and static.  It exercises the whole cycle
 * (create, defer, barrier, destroy) and checks the order the library
 * promises: every node is flushed before it is released.  Exits non-zero
 * and says why on any failure; prints "pgfree consumer ok" on success.
 */
#include <pgfree/pgfree.h>
#include <pgfree/version.h>

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define NR_NODES 8

struct desc {
	struct pgfree_llist_node node;
	unsigned int flushes_at_defer;	/* successful flushes when deferred */
	int released;
};

/* Callbacks run in the drain thread; the atomics make main()'s reads after
 * the barrier well-defined (the barrier orders them anyway). */
static atomic_uint flushes;
static atomic_uint released;
static atomic_int errors;

static int flush(void *ctx, const struct pgfree_range *range)
{
	(void)ctx;
	(void)range;
	atomic_fetch_add(&flushes, 1);
	return 0;
}

static void release(void *ctx, struct pgfree_llist_node *batch)
{
	struct desc *d, *next;

	(void)ctx;
	pgfree_llist_for_each_entry_safe(d, next, batch, node) {
		/* A flush that began after the defer has returned 0. */
		if (atomic_load(&flushes) <= d->flushes_at_defer || d->released)
			atomic_fetch_add(&errors, 1);
		d->released = 1;
		atomic_fetch_add(&released, 1);
	}
}

static int fail(const char *what, int err)
{
	fprintf(stderr, "consumer: %s: %s\n", what, err ? pgfree_strerror(err) : "wrong");
	return 1;
}

int main(void)
{
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	struct pgfree_stats st;
	static struct desc descs[NR_NODES];
	int err, i;

	if (pgfree_version() != PGFREE_VERSION ||
	    strcmp(pgfree_version_string(), PGFREE_VERSION_STRING) != 0) {
		fprintf(stderr, "consumer: library %s, headers %s\n", pgfree_version_string(),
			PGFREE_VERSION_STRING);
		return 1;
	}

	memset(&cfg, 0, sizeof(cfg));
	cfg.ops.flush = flush;
	cfg.ops.release = release;
	err = pgfree_domain_create(&cfg, &dom);
	if (err)
		return fail("pgfree_domain_create", err);

	for (i = 0; i < NR_NODES; i++) {
		descs[i].flushes_at_defer = atomic_load(&flushes);
		err = pgfree_defer(dom, &descs[i].node);
		if (err)
			return fail("pgfree_defer", err);
	}

	err = pgfree_barrier(dom);
	if (err)
		return fail("pgfree_barrier", err);
	if (atomic_load(&released) != NR_NODES || atomic_load(&flushes) == 0)
		return fail("not everything flushed and released after the barrier", 0);
	for (i = 0; i < NR_NODES; i++)
		if (!descs[i].released)
			return fail("a node was not released", 0);
	if (atomic_load(&errors))
		return fail("a node was released unflushed or twice", 0);

	err = pgfree_stats(dom, &st);
	if (err)
		return fail("pgfree_stats", err);
	if (st.deferred != NR_NODES || st.released != NR_NODES || st.backlog != 0)
		return fail("statistics", 0);

	err = pgfree_domain_destroy(dom);
	if (err)
		return fail("pgfree_domain_destroy", err);

	printf("pgfree consumer ok: %d nodes, %u flushes, library %s\n", NR_NODES,
	       atomic_load(&flushes), pgfree_version_string());
	return 0;
}
