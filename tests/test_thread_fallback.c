// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The drain thread cannot start: pgfree_domain_create() fails cleanly with
 * the error (nothing leaked: ASan's leak check runs on this), or, with
 * PGFREE_F_THREAD_FALLBACK, creates a caller-driven domain that works.
 * And when it starts slowly, create returns only once it runs.
 *
 * The failure is made with the linker: this executable is linked with
 * -Wl,--wrap=pthread_create against the static library, so the library's
 * call lands in __wrap_pthread_create() below, which fails on demand, or
 * starts the thread through a slow trampoline.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

int __real_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);
int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg);

static _Atomic int fail_creates, slow_starts;

/* A slow thread start: 20 ms before the start routine, then a mark. */
static struct slow_start {
	void *(*fn)(void *);
	void *arg;
	_Atomic int entered;
} slow;

static void *slow_trampoline(void *unused)
{
	(void)unused;
	test_sleep_us(20000);
	atomic_store(&slow.entered, 1);
	return slow.fn(slow.arg);
}

int __wrap_pthread_create(pthread_t *th, const pthread_attr_t *attr, void *(*fn)(void *),
			  void *arg)
{
	if (atomic_load(&fail_creates))
		return EAGAIN;
	if (atomic_load(&slow_starts)) {
		slow.fn = fn;
		slow.arg = arg;
		atomic_store(&slow.entered, 0);
		return __real_pthread_create(th, attr, slow_trampoline, NULL);
	}
	return __real_pthread_create(th, attr, fn, arg);
}

/*
 * pgfree_domain_create() returns once its drain thread runs pgfree's code
 * (drain_thread.c says why: a fork() at the thread's start).  The thread
 * takes 20 ms to reach its start routine; without the wait create returns
 * first.  No timing is asserted: with the wait, entered is 1 whatever the
 * scheduler does.
 */
Test(thread_fallback, create_returns_once_the_thread_runs, .timeout = 30)
{
	for_each_design(design) {
		struct tracker t;
		struct pgfree_config cfg;
		struct pgfree_domain *dom = NULL;

		tracker_init(&t);
		cfg = tracker_config(&t, design, 0);
		atomic_store(&slow_starts, 1);
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		atomic_store(&slow_starts, 0);
		cr_assert_eq(atomic_load(&slow.entered), 1,
			     "%s: create returned before its drain thread ran",
			     pgfree_design_name(design));
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

Test(thread_fallback, create_fails_cleanly_without_the_flag, .timeout = 30)
{
	for_each_design(design) {
		struct tracker t;
		struct pgfree_config cfg;
		struct pgfree_domain *dom = (struct pgfree_domain *)&t;
		int err;

		tracker_init(&t);
		cfg = tracker_config(&t, design, 0);
		atomic_store(&fail_creates, 1);
		err = pgfree_domain_create(&cfg, &dom);
		atomic_store(&fail_creates, 0);
		cr_assert_eq(err, -EAGAIN, "%s: create returned %d when the thread cannot start",
			     pgfree_design_name(design), err);
		cr_assert(dom == NULL, "the out pointer was not cleared");
	}
}

Test(thread_fallback, falls_back_to_caller_driven, .timeout = 30)
{
	for_each_design(design) {
		struct tracker t;
		struct tdesc d[16];
		struct pgfree_config cfg;
		struct pgfree_domain *dom = NULL;
		struct pgfree_stats s;
		char msg[512];
		int err;

		tracker_init(&t);
		tdesc_init(d, 16, 0);
		cfg = tracker_config(&t, design, PGFREE_F_THREAD_FALLBACK);
		atomic_store(&fail_creates, 1);
		err = tracker_create(&t, &cfg, &dom);
		atomic_store(&fail_creates, 0);
		cr_assert_eq(err, 0, "%s: create with fallback failed: %d",
			     pgfree_design_name(design), err);
		cr_assert_eq(pgfree_stats(dom, &s), 0);
		cr_assert_eq(s.drain_thread, 0, "stats say a drain thread runs");

		for (int i = 0; i < 16; i++)
			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
		/* Nobody drains but the caller: a barrier does it. */
		cr_assert_eq(pgfree_barrier(dom), 0);
		cr_assert_eq(atomic_load(&t.released), 16);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
		cr_assert_eq(tracker_verify(&t, d, 16, msg, sizeof(msg)), 0, "%s", msg);
	}
}

Test(thread_fallback, thread_runs_when_it_can, .timeout = 30)
{
	struct tracker t;
	struct pgfree_config cfg;
	struct pgfree_domain *dom = NULL;
	struct pgfree_stats s;

	tracker_init(&t);
	cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_THREAD_FALLBACK);
	cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
	cr_assert_eq(pgfree_stats(dom, &s), 0);
	cr_assert_eq(s.drain_thread, 1);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
}
