// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The invariant checker itself (support/tracker.c), driven by hand with no
 * library in the loop: it accepts the right order of events, and each of
 * its checks fires on the wrong order it exists for, first among them the
 * seed-000 (v3) bug: a descriptor deferred while a flush is running, then
 * released after that flush without another one.  Without these negative
 * controls a checker that never fires would pass every stress test.
 */
#include <errno.h>
#include <string.h>

#include "harness/check.h"
#include "support/tracker.h"

static const struct pgfree_range everything = { 0, PGFREE_FLUSH_ALL };

static size_t verify(struct tracker *t, struct tdesc *d, size_t n, char *msg)
{
	return tracker_verify(t, d, n, msg, 512);
}

Test(tracker, accepts_defer_flush_release, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[3];
	char msg[512];

	tracker_init(&t);
	tdesc_init(d, 3, 0);
	for (int i = 0; i < 3; i++) {
		tracker_stamp(&t, &d[i]);
		/* What a successful pgfree_defer() would have counted. */
		atomic_fetch_add(&t.deferred, 1);
	}
	d[0].node.next = &d[1].node;
	d[1].node.next = &d[2].node;
	d[2].node.next = NULL;
	cr_assert_eq(tracker_flush(&t, &everything), 0);
	tracker_release(&t, &d[0].node);
	cr_assert_eq(verify(&t, d, 3, msg), 0, "correct order rejected: %s", msg);
	cr_assert_eq(atomic_load(&t.released), 3);
}

/* The v3 bug: stamp inside the flush, as if deferred while it ran. */
static void stamp_during_flush(struct tracker *t)
{
	tracker_stamp(t, t->hook_arg);
	atomic_fetch_add(&t->deferred, 1);
}

Test(tracker, flags_release_after_flush_that_began_before_defer, .timeout = 60)
{
	struct tracker t;
	struct tdesc d;
	char msg[512];

	tracker_init(&t);
	tdesc_init(&d, 1, 0);
	t.flush_hook = stamp_during_flush;
	t.hook_arg = &d;
	cr_assert_eq(tracker_flush(&t, &everything), 0);
	d.node.next = NULL;
	tracker_release(&t, &d.node);

	cr_assert_geq(atomic_load(&t.violations), 1,
		      "released after a flush that began before the defer, and not flagged");
	cr_assert(strstr(tracker_first_violation(&t), "no successful flush") != NULL,
		  "wrong violation: %s", tracker_first_violation(&t));
	cr_assert_neq(verify(&t, &d, 1, msg), 0, "tracker_verify() passed a violation");
}

Test(tracker, flags_release_without_any_flush, .timeout = 60)
{
	struct tracker t;
	struct tdesc d;

	tracker_init(&t);
	tdesc_init(&d, 1, 0);
	tracker_stamp(&t, &d);
	d.node.next = NULL;
	tracker_release(&t, &d.node);
	cr_assert_geq(atomic_load(&t.violations), 1, "release with no flush at all not flagged");
}

Test(tracker, flags_release_after_failed_flush, .timeout = 60)
{
	struct tracker t;
	struct tdesc d;

	tracker_init(&t);
	tdesc_init(&d, 1, 0);
	atomic_store(&t.fail_first, 1);
	tracker_stamp(&t, &d);
	cr_assert_eq(tracker_flush(&t, &everything), -EIO, "injected failure not returned");
	d.node.next = NULL;
	tracker_release(&t, &d.node);
	cr_assert_geq(atomic_load(&t.violations), 1, "release after a failed flush not flagged");
}

Test(tracker, flags_double_release_and_never_deferred, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[2];

	tracker_init(&t);
	tdesc_init(d, 2, 0);
	tracker_stamp(&t, &d[0]);
	cr_assert_eq(tracker_flush(&t, &everything), 0);
	d[0].node.next = NULL;
	tracker_release(&t, &d[0].node);
	cr_assert_eq(atomic_load(&t.violations), 0, "first release wrongly flagged: %s",
		     tracker_first_violation(&t));
	tracker_release(&t, &d[0].node);
	cr_assert_eq(atomic_load(&t.violations), 1, "double release not flagged");
	cr_assert(strstr(tracker_first_violation(&t), "released twice") != NULL, "%s",
		  tracker_first_violation(&t));

	d[1].node.next = NULL;
	tracker_release(&t, &d[1].node);
	cr_assert_geq(atomic_load(&t.violations), 2, "release of a never-deferred node not flagged");
}

/* Calls ->release() from inside ->flush(): the overlap pgfree must prevent. */
static void release_during_flush(struct tracker *t)
{
	struct tdesc *d = t->hook_arg;

	d->node.next = NULL;
	tracker_release(t, &d->node);
}

Test(tracker, flags_release_concurrent_with_flush, .timeout = 60)
{
	struct tracker t;
	struct tdesc d;

	tracker_init(&t);
	tdesc_init(&d, 1, 0);
	tracker_stamp(&t, &d);
	t.flush_hook = release_during_flush;
	t.hook_arg = &d;
	tracker_flush(&t, &everything);
	cr_assert_geq(atomic_load(&t.violations), 1, "->release() inside ->flush() not flagged");
	cr_assert(strstr(tracker_first_violation(&t), "was running") != NULL, "%s",
		  tracker_first_violation(&t));
}

Test(tracker, flags_range_not_covered, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[2];
	struct pgfree_range r;

	tracker_init(&t);
	t.use_range = true;
	tdesc_init(d, 2, 0);
	tracker_stamp(&t, &d[0]);
	tracker_stamp(&t, &d[1]);
	/* Flush only the first descriptor's page. */
	cr_assert_eq(tracker_range_of(&t, &d[0].node, &r), 0);
	cr_assert_eq(tracker_flush(&t, &r), 0);
	d[0].node.next = &d[1].node;
	d[1].node.next = NULL;
	tracker_release(&t, &d[0].node);
	cr_assert_eq(atomic_load(&t.violations), 1, "uncovered range: %llu violations, want 1",
		     (unsigned long long)atomic_load(&t.violations));
	cr_assert(strstr(tracker_first_violation(&t), "descriptor 1 ") != NULL, "%s",
		  tracker_first_violation(&t));
}

Test(tracker, flags_unknown_range_without_full_flush, .timeout = 60)
{
	struct tracker t;
	struct tdesc d;
	struct pgfree_range r, partial = { 0x1000, 0x2000 };

	tracker_init(&t);
	t.use_range = true;
	tdesc_init(&d, 1, 0);
	tdesc_set_unknown_range(&d);
	cr_assert_neq(tracker_range_of(&t, &d.node, &r), 0, "unknown range must be an error");
	tracker_stamp(&t, &d);
	cr_assert_eq(tracker_flush(&t, &partial), 0);
	d.node.next = NULL;
	tracker_release(&t, &d.node);
	cr_assert_eq(atomic_load(&t.violations), 1, "partial flush of an unknown range not flagged");
}

Test(tracker, verify_flags_lost_descriptor, .timeout = 60)
{
	struct tracker t;
	struct tdesc d[2];
	char msg[512];

	tracker_init(&t);
	tdesc_init(d, 2, 7);
	for (int i = 0; i < 2; i++) {
		tracker_stamp(&t, &d[i]);
		atomic_fetch_add(&t.deferred, 1);
	}
	cr_assert_eq(tracker_flush(&t, &everything), 0);
	d[0].node.next = NULL;
	tracker_release(&t, &d[0].node);
	cr_assert_neq(verify(&t, d, 2, msg), 0, "a descriptor never released was not noticed");
	cr_assert(strstr(msg, "seq 1") != NULL && strstr(msg, "DEFERRED") != NULL, "%s", msg);
}

Test(tracker, failure_injection_patterns, .timeout = 60)
{
	struct tracker t;
	int got[8];
	static const int first2[8] = { -EIO, -EIO, 0, 0, 0, 0, 0, 0 };
	static const int every3[8] = { 0, 0, -EAGAIN, 0, 0, -EAGAIN, 0, 0 };

	tracker_init(&t);
	atomic_store(&t.fail_first, 2);
	for (int i = 0; i < 8; i++)
		got[i] = tracker_flush(&t, &everything);
	cr_assert(!memcmp(got, first2, sizeof(got)), "fail_first = 2 pattern wrong");
	cr_assert_eq(atomic_load(&t.flush_failed), 2);
	cr_assert_eq(atomic_load(&t.flush_ok), 6);

	tracker_init(&t);
	t.fail_err = -EAGAIN;
	atomic_store(&t.fail_every, 3);
	for (int i = 0; i < 8; i++)
		got[i] = tracker_flush(&t, &everything);
	cr_assert(!memcmp(got, every3, sizeof(got)), "fail_every = 3 pattern wrong");
}
