// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Producers that move between CPUs while they defer: each one changes its
 * affinity between defers (round-robin over the CPUs this process may use),
 * so consecutive descriptors of one thread land on different per-CPU lists
 * and a thread may be moved in the middle of a defer.  Everything must still
 * be released exactly once, after a covering flush.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

#define NR_MIGRANTS 4

struct migrant {
	struct tracker *t;
	struct pgfree_domain *dom;
	struct tdesc *d;
	size_t n;
	const int *cpus;
	int ncpu;
	int id;
	unsigned int pin_errors, defer_errors;
	/* Defers made on another CPU than the previous one, as observed. */
	size_t moves;
};

static void *migrant_fn(void *p)
{
	struct migrant *m = p;
	int last = -1;

	for (size_t i = 0; i < m->n; i++) {
		int cpu;

		/* Every few defers, a new CPU; the next defer follows at once. */
		if (i % 3 == 0 && test_pin_self(m->cpus[(i / 3 + (size_t)m->id) % m->ncpu]))
			m->pin_errors++;
		cpu = sched_getcpu();
		if (last >= 0 && cpu != last)
			m->moves++;
		last = cpu;
		if (tracker_defer(m->t, m->dom, &m->d[i]))
			m->defer_errors++;
	}
	test_unpin_self();
	return NULL;
}

static void run_migration(unsigned int design, unsigned int flags, unsigned int nr_slots)
{
	int cpus[TEST_MAX_CPUS];
	int ncpu = test_cpus(cpus, TEST_MAX_CPUS);
	const size_t per = test_scaled(10000, 300), n = per * NR_MIGRANTS;
	struct tdesc *d = calloc(n, sizeof(*d));
	struct migrant m[NR_MIGRANTS];
	pthread_t tid[NR_MIGRANTS];
	struct tracker t;
	struct pgfree_config cfg;
	struct pgfree_domain *dom;
	const char *name = pgfree_design_name(design);
	size_t moves = 0;
	char msg[512];

	cr_assert(d != NULL);
	tracker_init(&t);
	t.use_range = true;
	tdesc_init(d, n, 0);
	cfg = tracker_config(&t, design, flags);
	cfg.nr_slots = nr_slots;
	cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
	for (int i = 0; i < NR_MIGRANTS; i++) {
		m[i] = (struct migrant){ .t = &t, .dom = dom, .d = d + (size_t)i * per, .n = per,
					 .cpus = cpus, .ncpu = ncpu, .id = i };
		cr_assert_eq(pthread_create(&tid[i], NULL, migrant_fn, &m[i]), 0);
	}
	/* Without a drain thread, this thread drains while they move. */
	if (flags & PGFREE_F_NO_THREAD) {
		for (int i = 0; i < NR_MIGRANTS; i++) {
			while (pthread_tryjoin_np(tid[i], NULL) == EBUSY) {
				long r = pgfree_drain(dom);

				cr_assert_geq(r, 0, "%s: drain returned %ld", name, r);
				if (!r)
					sched_yield();
			}
		}
	} else {
		for (int i = 0; i < NR_MIGRANTS; i++)
			pthread_join(tid[i], NULL);
	}
	for (int i = 0; i < NR_MIGRANTS; i++) {
		cr_assert_eq(m[i].pin_errors, 0, "cannot set the affinity of migrant %d", i);
		cr_assert_eq(m[i].defer_errors, 0);
		moves += m[i].moves;
	}
	cr_assert_eq(pgfree_barrier(dom), 0);
	cr_log_info("%s flags %u slots %u: %zu defers, %zu after a CPU change, %d CPUs", name,
		    flags, nr_slots, n, moves, ncpu);
	if (ncpu > 1)
		cr_assert_gt(moves, 0, "the producers never changed CPU: the test tests nothing");
	cr_assert_eq(tracker_verify(&t, d, n, msg, sizeof(msg)), 0, "%s: %s", name, msg);
	cr_assert_eq(tracker_check_stats(&t, dom, n, msg, sizeof(msg)), 0, "%s: %s", name, msg);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	free(d);
}

Test(migration, percpu_with_thread, .timeout = 240)
{
	run_migration(PGFREE_DESIGN_PERCPU, 0, 0);
}

Test(migration, percpu_more_slots_than_cpus, .timeout = 240)
{
	run_migration(PGFREE_DESIGN_PERCPU, 0, 64);
}

Test(migration, percpu_no_thread, .timeout = 240)
{
	run_migration(PGFREE_DESIGN_PERCPU, PGFREE_F_NO_THREAD, 0);
}

Test(migration, other_designs, .timeout = 240)
{
	run_migration(PGFREE_DESIGN_GLOBAL_LLIST, 0, 0);
	run_migration(PGFREE_DESIGN_V5, 0, 0);
	run_migration(PGFREE_DESIGN_V3, 0, 0);
}
