// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree_domain_destroy(): it releases everything still queued (none lost,
 * every design, with and without the drain thread, with a long batching
 * delay and with a failing flush); afterwards every call on the domain
 * returns -ESHUTDOWN and a refused defer leaves the node the caller's;
 * destroy from inside a callback of its own domain is -EDEADLK; and many
 * short-lived domains come and go cleanly.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

static struct pgfree_domain *make(struct tracker *t, unsigned int design, unsigned int flags,
				  unsigned int delay_us)
{
	struct pgfree_config cfg = tracker_config(t, design, flags);
	struct pgfree_domain *dom = NULL;
	int err;

	cfg.batch_delay_us = delay_us;
	err = tracker_create(t, &cfg, &dom);
	cr_assert_eq(err, 0, "%s: create failed: %d", pgfree_design_name(design), err);
	return dom;
}

struct filler {
	struct tracker *t;
	struct pgfree_domain *dom;
	struct tdesc *d;
	size_t n;
	unsigned int errors;
};

static void *filler_fn(void *p)
{
	struct filler *f = p;

	for (size_t i = 0; i < f->n; i++)
		if (tracker_defer(f->t, f->dom, &f->d[i]))
			f->errors++;
	return NULL;
}

/*
 * Four threads queue descriptors (with a 1 s delay or no thread, most are
 * still queued), then destroy: each must have been released once.
 */
static void destroy_with_pending(unsigned int design, unsigned int flags, unsigned int fail_first)
{
	const size_t per = test_scaled(5000, 100), n = per * 4;
	struct tdesc *d = calloc(n, sizeof(*d));
	struct filler f[4];
	pthread_t tid[4];
	struct tracker t;
	struct pgfree_domain *dom;
	char msg[512];

	cr_assert(d != NULL);
	tracker_init(&t);
	atomic_store(&t.fail_first, fail_first);
	tdesc_init(d, n, 0);
	dom = make(&t, design, flags, PGFREE_MAX_BATCH_DELAY_US);
	for (int i = 0; i < 4; i++) {
		f[i] = (struct filler){ &t, dom, d + (size_t)i * per, per, 0 };
		cr_assert_eq(pthread_create(&tid[i], NULL, filler_fn, &f[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(tid[i], NULL);
		cr_assert_eq(f[i].errors, 0);
	}
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(tracker_verify(&t, d, n, msg, sizeof(msg)), 0, "%s flags %u fail %u: %s",
		     pgfree_design_name(design), flags, fail_first, msg);
	cr_assert_geq(atomic_load(&t.flush_failed), fail_first);
	free(d);
}

Test(destroy, releases_everything_pending, .timeout = 120)
{
	for_each_design(design)
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++)
			destroy_with_pending(design, flags, 0);
}

/* A flush that fails a few times: destroy retries it, as barrier does. */
Test(destroy, retries_failing_flush, .timeout = 120)
{
	for_each_design(design)
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++)
			destroy_with_pending(design, flags, 3);
}

Test(destroy, calls_after_destroy_get_eshutdown, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[2];
	struct pgfree_stats s;
	char msg[512];

	for_each_design(design) {
		for (unsigned int flags = 0; flags <= PGFREE_F_NO_THREAD; flags++) {
			struct pgfree_domain *dom;
			const char *name = pgfree_design_name(design);

			tracker_init(&t);
			tdesc_init(d, 2, 0);
			dom = make(&t, design, flags, 0);
			cr_assert_eq(tracker_defer(&t, dom, &d[0]), 0);
			cr_assert_eq(pgfree_domain_destroy(dom), 0);
			cr_assert_eq(atomic_load(&t.released), 1);

			pgfree_init_llist_node(&d[1].node);
			cr_assert_eq(tracker_defer(&t, dom, &d[1]), -ESHUTDOWN,
				     "%s flags %u: defer after destroy", name, flags);
			cr_assert_not(pgfree_llist_on_list(&d[1].node),
				      "%s: a refused node was linked", name);
			cr_assert_eq(pgfree_drain(dom), -ESHUTDOWN, "%s: drain after destroy", name);
			cr_assert_eq(pgfree_barrier(dom), -ESHUTDOWN, "%s: barrier after destroy",
				     name);
			cr_assert_eq(pgfree_stats(dom, &s), -ESHUTDOWN, "%s: stats after destroy",
				     name);
			cr_assert_eq(pgfree_domain_destroy(dom), -ESHUTDOWN,
				     "%s: second destroy", name);
			/* Still nothing released twice, and the refused node untouched. */
			cr_assert_eq(atomic_load(&t.released), 1);
			cr_assert_eq(atomic_load(&d[1].state), TDESC_IDLE);
			cr_assert_eq(tracker_verify(&t, d, 1, msg, sizeof(msg)), 0, "%s", msg);
		}
	}
}

static void destroy_in_release(struct tracker *t, struct pgfree_llist_node *batch)
{
	(void)batch;
	atomic_fetch_add(&t->hook_calls, 1);
	atomic_store(&t->hook_result, pgfree_domain_destroy(atomic_load(&t->dom)));
}

static void destroy_in_flush(struct tracker *t)
{
	destroy_in_release(t, NULL);
}

Test(destroy, from_own_callback_is_edeadlk, .timeout = 60)
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
					t.release_hook = destroy_in_release;
				else
					t.flush_hook = destroy_in_flush;
				atomic_store(&t.hook_result, 1);
				dom = make(&t, design, flags, 0);
				cr_assert_eq(tracker_defer(&t, dom, &d[0]), 0);
				cr_assert_eq(pgfree_barrier(dom), 0);
				cr_assert_geq(atomic_load(&t.hook_calls), 1);
				cr_assert_eq(atomic_load(&t.hook_result), -EDEADLK,
					     "%s flags %u: destroy inside %s returned %ld",
					     pgfree_design_name(design), flags,
					     where ? "->release()" : "->flush()",
					     atomic_load(&t.hook_result));
				/*
				 * The refused destroy left the domain alive.  Nothing
				 * runs a callback until the next defer: the hooks can
				 * be cleared here without a race.
				 */
				t.release_hook = NULL;
				t.flush_hook = NULL;
				cr_assert_eq(tracker_defer(&t, dom, &d[1]), 0);
				cr_assert_eq(pgfree_domain_destroy(dom), 0);
				cr_assert_eq(tracker_verify(&t, d, 2, msg, sizeof(msg)), 0, "%s",
					     msg);
			}
		}
	}
}

/*
 * Create, queue a little, destroy, many times: the drain thread is stopped
 * at every point of its life (starting, parked, draining).
 */
Test(destroy, many_short_lived_domains, .timeout = 120)
{
	struct tracker t;
	struct tdesc d[4];
	char msg[512];
	int cycles = (int)test_scaled(100, 10);

	for_each_design(design) {
		for (int i = 0; i < cycles; i++) {
			struct pgfree_domain *dom;
			int k = i % 5;

			tracker_init(&t);
			tdesc_init(d, 4, 0);
			dom = make(&t, design, 0, i % 3 ? 0 : 200);
			for (int j = 0; j < k && j < 4; j++)
				cr_assert_eq(tracker_defer(&t, dom, &d[j]), 0);
			cr_assert_eq(pgfree_domain_destroy(dom), 0);
			cr_assert_eq(tracker_verify(&t, d, k < 4 ? k : 4, msg, sizeof(msg)), 0,
				     "%s cycle %d: %s", pgfree_design_name(design), i, msg);
		}
	}
}
