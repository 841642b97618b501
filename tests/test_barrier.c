// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree_barrier(): everything deferred before the call is released when it
 * returns, on every CPU's list, for every design, with and without the drain
 * thread; an empty barrier is quick; barriers from several threads while
 * producers run each cover what was deferred before them; the batching
 * delay does not hold a barrier up; and a barrier from inside a callback of
 * its own domain is refused with -EDEADLK.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

static struct pgfree_domain *make(struct tracker *t, unsigned int design, unsigned int flags,
				  unsigned int nr_slots, unsigned int delay_us)
{
	struct pgfree_config cfg = tracker_config(t, design, flags);
	struct pgfree_domain *dom = NULL;
	int err;

	cfg.nr_slots = nr_slots;
	cfg.batch_delay_us = delay_us;
	err = tracker_create(t, &cfg, &dom);
	cr_assert_eq(err, 0, "%s: create failed: %d", pgfree_design_name(design), err);
	return dom;
}

Test(barrier, empty_returns_quickly, .timeout = 60)
{
	struct tracker t;

	for_each_design(design) {
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++) {
			struct pgfree_domain *dom;
			double t0;

			tracker_init(&t);
			dom = make(&t, design, flags, 0, 0);
			t0 = test_now();
			for (int i = 0; i < 10; i++)
				cr_assert_eq(pgfree_barrier(dom), 0);
			/*
			 * Quick means no work: no flush, no release.  (A time limit
			 * would measure the machine's load; a barrier that hangs is
			 * caught by the test's timeout.)
			 */
			cr_log_info("%s flags %u: 10 empty barriers in %.3f ms",
				    pgfree_design_name(design), flags, (test_now() - t0) * 1e3);
			cr_assert_eq(atomic_load(&t.flush_calls), 0, "%s flags %u: an empty barrier "
				     "flushed", pgfree_design_name(design), flags);
			cr_assert_eq(atomic_load(&t.release_calls), 0);
			cr_assert_eq(pgfree_domain_destroy(dom), 0);
		}
	}
}

/**
 * struct pinned - a producer pinned to one CPU, for one round
 * @t: the tracker
 * @dom: the domain
 * @d: its descriptors
 * @n: how many
 * @cpu: where it runs
 * @pin_err: what pinning returned
 * @defer_errors: failed defers
 */
struct pinned {
	struct tracker *t;
	struct pgfree_domain *dom;
	struct tdesc *d;
	size_t n;
	int cpu;
	int pin_err;
	unsigned int defer_errors;
};

static void *pinned_fn(void *p)
{
	struct pinned *pp = p;

	pp->pin_err = test_pin_self(pp->cpu);
	for (size_t i = 0; i < pp->n; i++)
		if (tracker_defer(pp->t, pp->dom, &pp->d[i]))
			pp->defer_errors++;
	return NULL;
}

/*
 * Each round: one producer per CPU defers a few descriptors, then (after
 * they are joined) one barrier, and every descriptor of the round must be
 * RELEASED at once: not a poll, a single check right after the return.
 */
Test(barrier, covers_every_cpu_list, .timeout = 240)
{
	int cpus[TEST_MAX_CPUS];
	int ncpu = test_cpus(cpus, TEST_MAX_CPUS);
	static const unsigned int slot_counts[] = { 0, 1, 3 };
	const size_t per = 7;
	int rounds = (int)test_scaled(60, 5);
	struct tracker t;
	char msg[512];

	if (ncpu > 16)
		ncpu = 16;
	for_each_design(design) {
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++) {
			for (size_t sc = 0; sc < 3; sc++) {
				size_t n = (size_t)rounds * (size_t)ncpu * per;
				struct tdesc *d = calloc(n, sizeof(*d));
				struct pgfree_domain *dom;

				cr_assert(d != NULL);
				tracker_init(&t);
				tdesc_init(d, n, 0);
				dom = make(&t, design, flags, slot_counts[sc], 0);
				for (int r = 0; r < rounds; r++) {
					struct tdesc *rd = d + (size_t)r * ncpu * per;
					struct pinned pp[16];
					pthread_t tid[16];

					for (int c = 0; c < ncpu; c++) {
						pp[c] = (struct pinned){ &t, dom, rd + c * per, per,
									 cpus[c], 0, 0 };
						cr_assert_eq(pthread_create(&tid[c], NULL,
									    pinned_fn, &pp[c]), 0);
					}
					for (int c = 0; c < ncpu; c++) {
						pthread_join(tid[c], NULL);
						cr_assert_eq(pp[c].pin_err, 0, "cannot pin to CPU %d",
							     cpus[c]);
						cr_assert_eq(pp[c].defer_errors, 0);
					}
					cr_assert_eq(pgfree_barrier(dom), 0);
					for (size_t i = 0; i < (size_t)ncpu * per; i++)
						cr_assert_eq(atomic_load(&rd[i].state),
							     TDESC_RELEASED, "%s flags %u slots %u "
							     "round %d: descriptor of CPU %d not "
							     "released when the barrier returned",
							     pgfree_design_name(design), flags,
							     slot_counts[sc], r,
							     cpus[i / per]);
				}
				cr_assert_eq(tracker_verify(&t, d, n, msg, sizeof(msg)), 0, "%s",
					     msg);
				cr_assert_eq(tracker_check_stats(&t, dom, n, msg, sizeof(msg)), 0,
					     "%s: %s", pgfree_design_name(design), msg);
				cr_assert_eq(pgfree_domain_destroy(dom), 0);
				free(d);
			}
		}
	}
}

#define NR_CB_PRODUCERS 4
#define NR_BARRIERS 3

/**
 * struct concurrent - producers and barrier callers on one domain
 * @t: the tracker
 * @dom: the domain
 * @d: NR_CB_PRODUCERS * @per descriptors, producer-major
 * @per: descriptors per producer
 * @done: per producer, how many it has deferred (store-release after each)
 * @producers_left: producers still running
 * @late: barrier rounds that found a covered descriptor not yet released
 * @barrier_errors: barriers that did not return 0
 * @rounds: barrier rounds done
 * @first_late: description of the first late descriptor
 */
struct concurrent {
	struct tracker *t;
	struct pgfree_domain *dom;
	struct tdesc *d;
	size_t per;
	_Atomic size_t done[NR_CB_PRODUCERS];
	atomic_int producers_left;
	_Atomic uint64_t late, barrier_errors, rounds;
	_Atomic int first_late_set;
	char first_late[160];
};

struct cb_producer {
	struct concurrent *c;
	int id;
};

static void *cb_producer_fn(void *p)
{
	struct cb_producer *cp = p;
	struct concurrent *c = cp->c;
	struct tdesc *mine = c->d + (size_t)cp->id * c->per;

	for (size_t i = 0; i < c->per; i++) {
		tracker_defer(c->t, c->dom, &mine[i]);
		/* Release: a barrier thread that reads i + 1 sees the defer done. */
		atomic_store_explicit(&c->done[cp->id], i + 1, memory_order_release);
		if (i % 64 == 0)
			sched_yield();
	}
	atomic_fetch_sub(&c->producers_left, 1);
	return NULL;
}

/*
 * Snapshot how far every producer got, barrier, then check that all of
 * it was released.  Repeats until the producers are done.
 */
static void *cb_barrier_fn(void *p)
{
	struct concurrent *c = p;
	/* Below this, already seen RELEASED (a state this test never leaves). */
	size_t checked[NR_CB_PRODUCERS] = { 0 };

	while (atomic_load(&c->producers_left)) {
		size_t snap[NR_CB_PRODUCERS];

		for (int i = 0; i < NR_CB_PRODUCERS; i++)
			snap[i] = atomic_load_explicit(&c->done[i], memory_order_acquire);
		if (pgfree_barrier(c->dom)) {
			atomic_fetch_add(&c->barrier_errors, 1);
			continue;
		}
		atomic_fetch_add(&c->rounds, 1);
		for (int i = 0; i < NR_CB_PRODUCERS; i++) {
			for (size_t k = checked[i]; k < snap[i]; k++) {
				struct tdesc *d = &c->d[(size_t)i * c->per + k];
				int expect = 0;

				if (atomic_load(&d->state) == TDESC_RELEASED) {
					checked[i] = k + 1;
					continue;
				}
				atomic_fetch_add(&c->late, 1);
				if (atomic_compare_exchange_strong(&c->first_late_set, &expect, 1))
					snprintf(c->first_late, sizeof(c->first_late),
						 "producer %d descriptor %zu of %zu deferred before "
						 "the barrier, not released after it", i, k,
						 snap[i]);
				break;
			}
		}
	}
	return NULL;
}

Test(barrier, concurrent_barriers_while_producing, .timeout = 240)
{
	struct tracker t;
	char msg[512];

	for_each_design(design) {
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++) {
			struct concurrent *c = calloc(1, sizeof(*c));
			struct cb_producer cp[NR_CB_PRODUCERS];
			pthread_t ptid[NR_CB_PRODUCERS], btid[NR_BARRIERS];
			size_t n;

			cr_assert(c != NULL);
			c->per = test_scaled(20000, 500);
			n = c->per * NR_CB_PRODUCERS;
			c->d = calloc(n, sizeof(*c->d));
			cr_assert(c->d != NULL);
			tracker_init(&t);
			tdesc_init(c->d, n, 0);
			c->t = &t;
			c->dom = make(&t, design, flags, 0, 0);
			atomic_init(&c->producers_left, NR_CB_PRODUCERS);

			for (int i = 0; i < NR_BARRIERS; i++)
				cr_assert_eq(pthread_create(&btid[i], NULL, cb_barrier_fn, c), 0);
			for (int i = 0; i < NR_CB_PRODUCERS; i++) {
				cp[i] = (struct cb_producer){ c, i };
				cr_assert_eq(pthread_create(&ptid[i], NULL, cb_producer_fn,
							    &cp[i]), 0);
			}
			for (int i = 0; i < NR_CB_PRODUCERS; i++)
				pthread_join(ptid[i], NULL);
			for (int i = 0; i < NR_BARRIERS; i++)
				pthread_join(btid[i], NULL);

			cr_log_info("%s flags %u: %llu barrier rounds", pgfree_design_name(design),
				    flags, (unsigned long long)atomic_load(&c->rounds));
			cr_assert_eq(atomic_load(&c->barrier_errors), 0);
			cr_assert_eq(atomic_load(&c->late), 0, "%s flags %u: %s",
				     pgfree_design_name(design), flags, c->first_late);
			cr_assert_eq(pgfree_barrier(c->dom), 0);
			cr_assert_eq(tracker_verify(&t, c->d, n, msg, sizeof(msg)), 0, "%s: %s",
				     pgfree_design_name(design), msg);
			cr_assert_eq(tracker_check_stats(&t, c->dom, n, msg, sizeof(msg)), 0,
				     "%s: %s", pgfree_design_name(design), msg);
			cr_assert_eq(pgfree_domain_destroy(c->dom), 0);
			free(c->d);
			free(c);
		}
	}
}

/*
 * A 1 s batching delay must not hold a barrier up: it wakes the drain
 * thread and skips the delay.  Checked both with the thread asleep and
 * with it already gathering (the defer woke it 10 ms earlier).
 */
Test(barrier, skips_batch_delay, .timeout = 120)
{
	struct tracker t;
	struct tdesc d[10];
	char msg[512];

	for_each_design(design) {
		struct pgfree_domain *dom;

		tracker_init(&t);
		tdesc_init(d, 10, 0);
		dom = make(&t, design, 0, 0, PGFREE_MAX_BATCH_DELAY_US);
		unsigned int cut[2] = { 0, 0 };

		/*
		 * A barrier that returns less than 1 s after the defer proves the
		 * delay was skipped (the drain thread began it after the defer).
		 * A slower one proves nothing (the machine may have stalled), so
		 * each case, asleep and gathering, needs one proof in five tries;
		 * a barrier that waits out the delay fails all of them.
		 */
		for (int i = 0; i < 10; i++) {
			double t0, dt;

			t0 = test_now();
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
			if (i % 2)
				test_sleep_us(10000);
			cr_assert_eq(pgfree_barrier(dom), 0);
			dt = test_now() - t0;
			cr_assert_eq(atomic_load(&d[i].state), TDESC_RELEASED);
			if (dt < PGFREE_MAX_BATCH_DELAY_US / 1e6)
				cut[i % 2]++;
			else
				cr_log_info("%s: barrier %d returned %.3f s after the defer: no proof "
					    "either way", pgfree_design_name(design), i, dt);
		}
		cr_assert(cut[0] && cut[1], "%s: no barrier returned before a 1 s batching delay "
			  "could end (thread asleep: %u of 5, gathering: %u of 5)",
			  pgfree_design_name(design), cut[0], cut[1]);
		cr_assert_eq(tracker_verify(&t, d, 10, msg, sizeof(msg)), 0, "%s", msg);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

static void barrier_in_release(struct tracker *t, struct pgfree_llist_node *batch)
{
	(void)batch;
	atomic_fetch_add(&t->hook_calls, 1);
	atomic_store(&t->hook_result, pgfree_barrier(atomic_load(&t->dom)));
}

static void barrier_in_flush(struct tracker *t)
{
	barrier_in_release(t, NULL);
}

Test(barrier, from_own_callback_is_edeadlk, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[2];
	char msg[512];

	for_each_design(design) {
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++) {
			for (int where = 0; where < 2; where++) {
				struct pgfree_domain *dom;

				tracker_init(&t);
				tdesc_init(d, 2, 0);
				if (where)
					t.release_hook = barrier_in_release;
				else
					t.flush_hook = barrier_in_flush;
				atomic_store(&t.hook_result, 1);
				dom = make(&t, design, flags, 0, 0);
				cr_assert_eq(tracker_defer(&t, dom, &d[0]), 0);
				cr_assert_eq(pgfree_barrier(dom), 0);
				cr_assert_geq(atomic_load(&t.hook_calls), 1);
				cr_assert_eq(atomic_load(&t.hook_result), -EDEADLK,
					     "%s flags %u: barrier inside %s returned %ld",
					     pgfree_design_name(design), flags,
					     where ? "->release()" : "->flush()",
					     atomic_load(&t.hook_result));
				cr_assert_eq(tracker_defer(&t, dom, &d[1]), 0);
				cr_assert_eq(pgfree_barrier(dom), 0);
				cr_assert_eq(tracker_verify(&t, d, 2, msg, sizeof(msg)), 0, "%s",
					     msg);
				cr_assert_eq(pgfree_domain_destroy(dom), 0);
			}
		}
	}
}
