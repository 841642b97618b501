// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree.rcu_readers and pgfree.rcu_readers_negative: RCU readers against a
 * pgfree domain with the RCU stage.
 *
 * A table of slots holds pointers to descriptors.  One updater replaces a
 * slot's descriptor (publish the new one, then pgfree_defer() the old one,
 * exactly the unlink-then-defer order of a page-table free); readers take
 * a pointer under urcu_memb_read_lock() and hold it for a while.  Checks:
 *  - reader side: a descriptor a reader holds is never RELEASED;
 *  - release side: ->release() never gets a descriptor that a reader has
 *    announced it holds (each reader announces its pointer inside its
 *    read-side critical section and clears it before leaving it), i.e. a
 *    descriptor is never released while a reader that could have obtained
 *    it is still inside its read-side section;
 *  - every released descriptor was stamped (just before its defer) before
 *    the start of the last completed grace period;
 *  - grace periods == synchronize calls == pgfree's successful flushes, and
 *    batches of more than one descriptor happened (the amortization).
 *
 * With --no-sync (pgfree.rcu_readers_negative) the stage is given a flavor
 * that waits for nothing: the same workload must then see a violation,
 * which proves the checks above can fail: each reader then holds the
 * descriptor it took until it is released under it, so a violation is
 * certain once the updater replaces that slot, however slowly the threads
 * run.  It stops at the first one, or fails after a cap.
 *
 * Released descriptors are poisoned and recycled, never freed, so that the
 * negative control reads poison instead of freed memory (which ASan would
 * abort on before the test could count it).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <urcu/urcu-memb.h>

#include <pgfree/rcu.h>

#include "check.h"

#define NR_SLOTS 16
#define NR_DESC 2048
#define NR_READERS 2
#define DWELL_NS 20000		/* how long a reader holds a descriptor, at most */

enum { D_FREE, D_LIVE, D_DEFERRED, D_RELEASED };

struct desc {
	struct pgfree_llist_node node;	/* pgfree's, then the free pool's */
	_Atomic int state;
	uint64_t stamp;			/* written before defer, read by release */
};

static struct desc descs[NR_DESC];
static _Atomic(struct desc *) slots[NR_SLOTS];
static _Atomic(struct desc *) announce[NR_READERS];
static struct pgfree_llist_head pool = PGFREE_LLIST_HEAD_INIT;

static _Atomic uint64_t clock_;			/* logical clock */
static _Atomic uint64_t last_gp_start;		/* clock at the start of the last completed GP */
static _Atomic uint64_t sync_calls;
static _Atomic uint64_t violations;
static _Atomic bool stop;
static _Atomic uint64_t deferred_n;		/* successful pgfree_defer() calls */
static _Atomic bool first_flush = true;
static _Atomic bool starved;			/* the updater ran out of descriptors */
static bool real_sync = true;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void violation(const char *what, const struct desc *d)
{
	/* Relaxed count; the first few are printed for the log. */
	if (atomic_fetch_add_explicit(&violations, 1, memory_order_relaxed) < 3)
		fprintf(stderr, "violation: %s (descriptor %td)\n", what, d - descs);
}

/*
 * The flavor the test gives the stage: stamps the grace period's start on
 * the logical clock, waits for it (or not, --no-sync), publishes the stamp.
 * seq_cst clock and stamps: the stamp comparison in t_release() must not
 * depend on the orderings under test.
 */
static void test_sync(void)
{
	uint64_t start = atomic_fetch_add(&clock_, 1) + 1;

	if (real_sync)
		pgfree_rcu_synchronize_memb();
	atomic_store(&last_gp_start, start);
	atomic_fetch_add_explicit(&sync_calls, 1, memory_order_relaxed);
}

/*
 * The first flush waits (holding the drain) until the updater has deferred
 * two more descriptors, ran out of descriptors, or stopped: the next batch
 * then holds at least two (out of descriptors, every one of them is in
 * this batch or the next, so one of the two holds two), and the
 * amortization check below is certain instead of a race between the
 * updater and the drain thread.  10 s is a safety net.
 */
static int t_flush(void *ctx, const struct pgfree_range *range)
{
	(void)ctx;
	(void)range;
	if (atomic_exchange(&first_flush, false)) {
		uint64_t want = atomic_load(&deferred_n) + 2, give_up = now_ns() + 10000000000u;

		while (atomic_load(&deferred_n) < want && !atomic_load(&starved) &&
		       !atomic_load(&stop) && now_ns() < give_up)
			sched_yield();
	}
	return 0;
}

static void t_release(void *ctx, struct pgfree_llist_node *batch)
{
	uint64_t gp = atomic_load(&last_gp_start);
	struct desc *d, *next;
	int expect;

	(void)ctx;
	pgfree_llist_for_each_entry_safe(d, next, batch, node) {
		if (d->stamp >= gp)
			violation("released without a grace period begun after its defer", d);
		/* seq_cst: pairs with the readers' seq_cst announcements, so
		 * the check itself never misses a holder through reordering. */
		for (int r = 0; r < NR_READERS; r++)
			if (atomic_load(&announce[r]) == d)
				violation("released while a reader holds it", d);
		expect = D_DEFERRED;
		/* seq_cst: the poison must be visible to a reader that (wrongly)
		 * still holds the pointer; see reader(). */
		if (!atomic_compare_exchange_strong(&d->state, &expect, D_RELEASED))
			violation("released in a state other than DEFERRED", d);
		pgfree_llist_add(&d->node, &pool);	/* release CAS: the updater takes it */
	}
}

static void *reader(void *arg)
{
	int r = (int)(intptr_t)arg;
	unsigned int seed = (unsigned int)r * 7919u + 1;

	urcu_memb_register_thread();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		struct desc *d;
		uint64_t until;

		urcu_memb_read_lock();
		/* Acquire, as rcu_dereference(): the updater initialized the
		 * descriptor before its release store into the slot. */
		d = atomic_load_explicit(&slots[rand_r(&seed) % NR_SLOTS], memory_order_acquire);
		if (d) {
			atomic_store(&announce[r], d);
			if (atomic_load(&d->state) == D_RELEASED)
				violation("a reader obtained a released descriptor", d);
			if (real_sync) {
				until = now_ns() + (uint64_t)(rand_r(&seed) % DWELL_NS);
				while (now_ns() < until)
					;
			} else {
				/*
				 * The negative control holds @d until it is released
				 * under it (or the release-side check, which sees the
				 * announcement, has counted that): certain, whatever
				 * the speed of the threads, where a random dwell had
				 * to overlap a release by chance.
				 */
				while (atomic_load(&d->state) != D_RELEASED &&
				       !atomic_load(&violations) &&
				       !atomic_load_explicit(&stop, memory_order_relaxed))
					sched_yield();
			}
			if (atomic_load(&d->state) == D_RELEASED)
				violation("released under a reader", d);
			atomic_store(&announce[r], NULL);
		}
		urcu_memb_read_unlock();
		if (atomic_load_explicit(&violations, memory_order_relaxed) && !real_sync)
			break;	/* the negative control has what it needs */
	}
	urcu_memb_unregister_thread();
	return NULL;
}

static struct pgfree_llist_node *private_pool;

static struct desc *get_desc(void)
{
	struct pgfree_llist_node *n;

	while (!private_pool) {
		/* Acquire: see t_release()'s state change and poison. */
		private_pool = pgfree_llist_del_all(&pool);
		if (!private_pool) {
			atomic_store(&starved, true);
			sched_yield();	/* all in flight: wait for a grace period */
		}
	}
	n = private_pool;
	private_pool = n->next;
	return pgfree_llist_entry(n, struct desc, node);
}

int main(int argc, char **argv)
{
	struct pgfree_config cfg = {
		/* No batching delay: release as soon as possible, so that the
		 * negative control's window is as wide as the readers' dwell. */
		.flags = PGFREE_F_NO_DELAY,
		.ops = { .flush = t_flush, .release = t_release },
	};
	struct pgfree_rcu_stage st;
	struct pgfree_rcu_stats rs;
	struct pgfree_stats ps;
	struct pgfree_domain *dom;
	pthread_t th[NR_READERS];
	uint64_t seconds = 2, end, replaced = 0;
	unsigned int seed = 42;
	int err;

	if (argc > 1 && !strcmp(argv[1], "--no-sync")) {
		real_sync = false;
		seconds = 10;	/* the cap: it normally fails in milliseconds */
	}

	for (int i = NR_DESC - 1; i >= 0; i--)
		pgfree_llist_add(&descs[i].node, &pool);
	for (int i = 0; i < NR_SLOTS; i++) {
		struct desc *d = get_desc();

		atomic_store_explicit(&d->state, D_LIVE, memory_order_relaxed);
		atomic_store_explicit(&slots[i], d, memory_order_release);
	}

	err = pgfree_rcu_stage_init(&st, &cfg, test_sync);
	CHECK(err == 0, "stage_init: %d", err);
	err = pgfree_domain_create(&cfg, &dom);
	CHECK(err == 0, "create: %s", pgfree_strerror(err));
	if (err)
		return 1;
	for (int r = 0; r < NR_READERS; r++)
		pthread_create(&th[r], NULL, reader, (void *)(intptr_t)r);

	end = now_ns() + seconds * 1000000000u;
	while (now_ns() < end) {
		int i = rand_r(&seed) % NR_SLOTS;
		struct desc *fresh = get_desc(), *old;

		atomic_store_explicit(&fresh->state, D_LIVE, memory_order_relaxed);
		/* Release, as rcu_assign_pointer(): publishes the state above.
		 * The exchange returns the old descriptor, now unlinked. */
		old = atomic_exchange_explicit(&slots[i], fresh, memory_order_acq_rel);
		atomic_store(&old->state, D_DEFERRED);
		old->stamp = atomic_fetch_add(&clock_, 1) + 1;
		err = pgfree_defer(dom, &old->node);
		CHECK(err == 0, "defer: %d", err);
		replaced++;
		atomic_fetch_add(&deferred_n, 1);
		if (!real_sync && atomic_load_explicit(&violations, memory_order_relaxed))
			break;
	}
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	for (int r = 0; r < NR_READERS; r++)
		pthread_join(th[r], NULL);

	CHECK(pgfree_barrier(dom) == 0, "barrier");
	CHECK(pgfree_stats(dom, &ps) == 0, "stats");
	pgfree_rcu_stage_stats(&st, &rs);
	CHECK(pgfree_domain_destroy(dom) == 0, "destroy");

	printf("%s: replaced %llu, released %llu in %llu batches (largest %llu), "
	       "%llu grace periods (mean %.1f us, max %.1f us), %llu violations\n",
	       real_sync ? "rcu_readers" : "rcu_readers_negative",
	       (unsigned long long)replaced, (unsigned long long)ps.released,
	       (unsigned long long)ps.flushes, (unsigned long long)ps.largest_batch,
	       (unsigned long long)rs.grace_periods,
	       rs.grace_periods ? rs.gp_ns_total / 1e3 / rs.grace_periods : 0.0,
	       rs.gp_ns_max / 1e3, (unsigned long long)atomic_load(&violations));

	if (!real_sync) {
		/* The negative control passes when the bug was seen. */
		if (!atomic_load(&violations)) {
			fprintf(stderr, "negative control: no violation without a grace "
				"period in %llu s: the checks cannot fail\n",
				(unsigned long long)seconds);
			return 1;
		}
		return 0;
	}

	CHECK(atomic_load(&violations) == 0, "%llu violations",
	      (unsigned long long)atomic_load(&violations));
	CHECK(ps.released == replaced, "released %llu of %llu",
	      (unsigned long long)ps.released, (unsigned long long)replaced);
	CHECK(rs.grace_periods == ps.flushes && atomic_load(&sync_calls) == ps.flushes,
	      "grace periods %llu, synchronize calls %llu, flushes %llu",
	      (unsigned long long)rs.grace_periods,
	      (unsigned long long)atomic_load(&sync_calls), (unsigned long long)ps.flushes);
	CHECK(ps.largest_batch >= 2, "no batch of two or more: nothing amortized");
	CHECK(rs.flush_failures == 0, "flush failures %llu",
	      (unsigned long long)rs.flush_failures);
	return check_failures ? 1 : 0;
}
