// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree_rcu_radix: an RCU-protected radix tree whose emptied nodes and
 * deleted items are freed through pgfree with the RCU grace-period stage.
 *
 *   pgfree_rcu_radix [--seconds=S] [--readers=N] [--mode=rcu|no-rcu]
 *                    [--dwell-us=D] [--check]
 *
 * Readers (urcu-memb) look up keys that the updater keeps inserting and
 * deleting; each lookup holds its path for up to D microseconds, then checks
 * that no object on it was released (poisoned) or recycled.  In rcu mode
 * the stage waits for a grace period per batch, so none may be.  In no-rcu
 * mode the stage is given a flavor that waits for nothing: the bug a
 * missing grace period is, made visible.
 *
 * --check: rcu mode exits 1 on any violation; no-rcu mode stops at the
 * first violation and exits 1 if none was seen within --seconds (the
 * negative control: it proves the readers' check can fail).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-memb.h>

#include <pgfree/rcu.h>

#include "radix.h"

#define NR_LIVE_KEYS 512	/* a sparse population: most deletes empty a node */
#define MAX_READERS 64
/* Memory bound: past this many objects deferred and not yet released, the
 * updater waits for them with pgfree_barrier() (as mmu_gather falls back to
 * a synchronous free).  Without it a flat-out updater outruns the grace
 * periods and allocates without limit. */
#define MAX_IN_FLIGHT 8192

struct options {
	double seconds;
	int readers;
	bool rcu;
	bool check;
	uint64_t dwell_ns;
};

static struct radix tree;
static struct pgfree_domain *dom;
static _Atomic uint32_t live_keys[NR_LIVE_KEYS];	/* what readers look up */
static _Atomic bool stop;
static _Atomic uint64_t violations, lookups, hits;
static _Atomic uint64_t user_flushes;
static struct options opt = { .seconds = 3, .readers = 2, .rcu = true, .dwell_ns = 5000 };

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* no-rcu mode's flavor: no grace period at all. */
static void no_grace_period(void)
{
}

/* The user's flush: there is no secondary TLB here, so it only counts.
 * Relaxed: a statistic, read after destroy. */
static int tree_flush(void *ctx, const struct pgfree_range *range)
{
	(void)ctx;
	(void)range;
	atomic_fetch_add_explicit(&user_flushes, 1, memory_order_relaxed);
	return 0;
}

static void tree_release(void *ctx, struct pgfree_llist_node *batch)
{
	radix_release(ctx, batch);
}

static uint64_t deferred;	/* the updater's alone */

static int tree_defer(void *arg, struct pgfree_llist_node *node)
{
	int err = pgfree_defer(arg, node);

	deferred += !err;
	return err;
}

static uint64_t released(void)
{
	uint64_t n = 0;

	/* Relaxed: an estimate for the memory bound; a stale value only
	 * makes the updater wait once more. */
	for (int k = 0; k < RADIX_KINDS; k++)
		n += atomic_load_explicit(&tree.freed[k], memory_order_relaxed);
	return n;
}

static void *reader(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg * 2654435761u + 1;
	uint64_t mine = 0, n = 0, found = 0;

	urcu_memb_register_thread();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		/* Relaxed: any key will do; the tree is what is checked. */
		uint32_t key = atomic_load_explicit(&live_keys[rand_r(&seed) % NR_LIVE_KEYS],
						    memory_order_relaxed);
		uint64_t dwell = opt.dwell_ns ? (uint64_t)rand_r(&seed) % opt.dwell_ns : 0;

		urcu_memb_read_lock();
		found += radix_lookup(&tree, key, dwell, &mine);
		urcu_memb_read_unlock();
		n++;
		if (mine && (n & 63) == 0) {
			/* Relaxed counters: summed after the join. */
			atomic_fetch_add_explicit(&violations, mine, memory_order_relaxed);
			mine = 0;
			if (!opt.rcu && opt.check)
				atomic_store_explicit(&stop, true, memory_order_relaxed);
		}
	}
	atomic_fetch_add_explicit(&violations, mine, memory_order_relaxed);
	atomic_fetch_add_explicit(&lookups, n, memory_order_relaxed);
	atomic_fetch_add_explicit(&hits, found, memory_order_relaxed);
	urcu_memb_unregister_thread();
	return NULL;
}

static int parse(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strncmp(a, "--seconds=", 10))
			opt.seconds = atof(a + 10);
		else if (!strncmp(a, "--readers=", 10))
			opt.readers = atoi(a + 10);
		else if (!strcmp(a, "--mode=rcu"))
			opt.rcu = true;
		else if (!strcmp(a, "--mode=no-rcu"))
			opt.rcu = false;
		else if (!strncmp(a, "--dwell-us=", 11))
			opt.dwell_ns = (uint64_t)(atof(a + 11) * 1000);
		else if (!strcmp(a, "--check"))
			opt.check = true;
		else
			return -1;
	}
	if (opt.seconds <= 0 || opt.readers < 1 || opt.readers > MAX_READERS)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct pgfree_config cfg = {
		.ops = { .flush = tree_flush, .release = tree_release },
		.ctx = &tree,
	};
	uint64_t inserts = 0, deletes = 0, barriers = 0, t0, end, v;
	struct pgfree_rcu_stage st;
	struct pgfree_rcu_stats rs;
	struct pgfree_stats ps;
	pthread_t th[MAX_READERS];
	unsigned int seed = 1;
	int err;

	if (parse(argc, argv)) {
		fprintf(stderr, "usage: %s [--seconds=S] [--readers=N (1..%d)] "
			"[--mode=rcu|no-rcu] [--dwell-us=D] [--check]\n", argv[0], MAX_READERS);
		return 2;
	}

	err = pgfree_rcu_stage_init(&st, &cfg, opt.rcu ? NULL : no_grace_period);
	if (!err)
		err = pgfree_domain_create(&cfg, &dom);
	if (err) {
		fprintf(stderr, "pgfree: %s\n", pgfree_strerror(err));
		return 2;
	}
	radix_init(&tree, tree_defer, dom);
	for (int i = 0; i < NR_LIVE_KEYS; i++) {
		uint32_t key = (uint32_t)rand_r(&seed) % RADIX_KEY_MAX;

		inserts += radix_insert(&tree, key) > 0;
		atomic_store_explicit(&live_keys[i], key, memory_order_relaxed);
	}
	for (int r = 0; r < opt.readers; r++)
		pthread_create(&th[r], NULL, reader, (void *)(uintptr_t)r);

	/* The updater: replace a random live key by a fresh one, forever. */
	t0 = now_ns();
	end = t0 + (uint64_t)(opt.seconds * 1e9);
	while (!atomic_load_explicit(&stop, memory_order_relaxed) && now_ns() < end) {
		for (int batch = 0; batch < 64; batch++) {
			unsigned int j = (unsigned int)rand_r(&seed) % NR_LIVE_KEYS;
			uint32_t old = atomic_load_explicit(&live_keys[j], memory_order_relaxed);
			uint32_t key = (uint32_t)rand_r(&seed) % RADIX_KEY_MAX;

			err = radix_delete(&tree, old);
			if (err < 0)
				break;
			deletes += err;
			err = radix_insert(&tree, key);
			if (err < 0)
				break;
			inserts += err;
			atomic_store_explicit(&live_keys[j], key, memory_order_relaxed);
		}
		if (err < 0) {
			fprintf(stderr, "update: %s\n", pgfree_strerror(err));
			break;
		}
		if (deferred - released() > MAX_IN_FLIGHT) {
			pgfree_barrier(dom);
			barriers++;
		}
	}
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (int r = 0; r < opt.readers; r++)
		pthread_join(th[r], NULL);
	t0 = now_ns() - t0;

	pgfree_barrier(dom);
	pgfree_stats(dom, &ps);
	pgfree_rcu_stage_stats(&st, &rs);
	pgfree_domain_destroy(dom);
	radix_destroy(&tree);

	v = atomic_load(&violations);
	printf("rcu_radix: mode %s, %d reader(s), %.2f s, dwell up to %.1f us\n",
	       opt.rcu ? "rcu" : "no-rcu", opt.readers, t0 / 1e9, opt.dwell_ns / 1e3);
	printf("  lookups      %llu (%.0f%% hits)\n", (unsigned long long)atomic_load(&lookups),
	       100.0 * (double)atomic_load(&hits) / (double)(atomic_load(&lookups) + !atomic_load(&lookups)));
	printf("  updates      %llu inserts, %llu deletes\n",
	       (unsigned long long)inserts, (unsigned long long)deletes);
	printf("  memory bound %llu waits in pgfree_barrier() (over %d in flight)\n",
	       (unsigned long long)barriers, MAX_IN_FLIGHT);
	printf("  freed        %llu items, %llu level-2 nodes, %llu level-1 nodes\n",
	       (unsigned long long)tree.freed[RADIX_ITEM],
	       (unsigned long long)tree.freed[RADIX_NODE_L2],
	       (unsigned long long)tree.freed[RADIX_NODE_L1]);
	printf("  batches      %llu flushes, %llu grace periods%s, %.1f objects per grace period, "
	       "largest batch %llu\n", (unsigned long long)ps.flushes,
	       (unsigned long long)rs.grace_periods, opt.rcu ? "" : " (no-op flavor)",
	       rs.grace_periods ? (double)ps.released / (double)rs.grace_periods : 0.0,
	       (unsigned long long)ps.largest_batch);
	printf("  grace period mean %.1f us, max %.1f us\n",
	       rs.grace_periods ? rs.gp_ns_total / 1e3 / (double)rs.grace_periods : 0.0,
	       rs.gp_ns_max / 1e3);
	printf("  violations   %llu\n", (unsigned long long)v);

	if (!opt.check)
		return 0;
	if (opt.rcu) {
		if (v) {
			fprintf(stderr, "FAIL: a reader saw a released object despite the grace period\n");
			return 1;
		}
		printf("check: ok, no reader saw a released object\n");
		return 0;
	}
	if (!v) {
		fprintf(stderr, "FAIL: no violation without grace periods in %.1f s: "
			"the readers' check cannot fail\n", opt.seconds);
		return 1;
	}
	printf("check: ok, the missing grace period was caught\n");
	return 0;
}
