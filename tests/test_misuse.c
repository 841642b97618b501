// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Misuse a PGFREE_DEBUG build detects (built only with -DPGFREE_DEBUG=ON,
 * which the CI's asan build sets): a node deferred twice, to the same
 * domain or to another one while it is queued in the first, gets -EEXIST
 * and is not linked again; nothing is lost, and once released the node may
 * be deferred again.
 */
#include <errno.h>

#include "harness/check.h"
#include "support/tracker.h"

Test(misuse, double_defer_is_refused, .timeout = 30)
{
	for_each_design(design) {
		struct tracker t, t2;
		struct tdesc d[4];
		struct pgfree_config cfg;
		struct pgfree_domain *dom = NULL, *other = NULL;
		char msg[512];

		tracker_init(&t);
		tracker_init(&t2);
		tdesc_init(d, 4, 0);
		cfg = tracker_config(&t, design, PGFREE_F_NO_THREAD);
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		cfg = tracker_config(&t2, design, PGFREE_F_NO_THREAD);
		cr_assert_eq(tracker_create(&t2, &cfg, &other), 0);

		for (int i = 0; i < 4; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		/* Again, bypassing the tracker (its state machine would object first). */
		cr_assert_eq(pgfree_defer(dom, &d[1].node), -EEXIST,
			     "%s: a queued node deferred again was accepted",
			     pgfree_design_name(design));
		cr_assert_eq(pgfree_defer(other, &d[2].node), -EEXIST,
			     "%s: a node queued in another domain was accepted",
			     pgfree_design_name(design));
		cr_assert_eq(pgfree_drain(other), 0, "the other domain got a node");
		cr_assert_eq(pgfree_drain(dom), 4, "%s: lost or doubled a node",
			     pgfree_design_name(design));
		/* Released: it is the user's again and may be queued anew. */
		cr_assert_eq(tracker_defer(&t, dom, &d[1]), 0);
		d[1].redefers_done++;	/* for tracker_verify(): released twice, rightly */
		cr_assert_eq(pgfree_drain(dom), 1);
		cr_assert_eq(pgfree_domain_destroy(other), 0);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
		cr_assert_eq(tracker_verify(&t, d, 4, msg, sizeof(msg)), 0, "%s", msg);
	}
}

Test(misuse, double_defer_wait_is_refused, .timeout = 30)
{
	struct tracker t;
	struct tdesc d[2];
	struct pgfree_config cfg;
	struct pgfree_domain *dom = NULL;

	tracker_init(&t);
	tdesc_init(d, 2, 0);
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_NO_THREAD | PGFREE_F_BOUNDED);
	cfg.backlog_max = 64;
	cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
	tracker_stamp(&t, &d[0]);
	cr_assert_eq(pgfree_defer_wait(dom, &d[0].node), 0);
	atomic_fetch_add(&t.deferred, 1);
	cr_assert_eq(pgfree_defer_wait(dom, &d[0].node), -EEXIST);
	cr_assert_eq(pgfree_defer(dom, &d[0].node), -EEXIST);
	cr_assert_eq(pgfree_drain(dom), 1);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	cr_assert_eq(atomic_load(&t.released), 1);
}
