// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * fork() while producers run.  The child must get working domains: its
 * drain thread restarted, its copies of whatever was queued (or detached
 * and not yet flushed) flushed and released by the child, new defers
 * drained; the parent must go on undisturbed and release everything.  For
 * every design, with a slow flush so that forks land inside drains too, and
 * for a take-back domain, whose child may also take back (or, at destroy,
 * release) its copies of the chains handed back before the fork.
 *
 * In the child, a descriptor whose producer was between its stamp and its
 * pgfree_defer() at the fork is "deferred" in the tracker but was never
 * queued there (its producer thread does not exist in the child): at most
 * one per producer may be left over.  Everything queued must come out.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

#define PRODUCERS 4
#define FORKS 3

struct fork_run {
	struct tracker t;
	bool take_back;			/* a PGFREE_F_TAKE_BACK domain */
	struct pgfree_domain *dom;
	struct tdesc *d;
	size_t per_producer;
	_Atomic int errors;
	_Atomic unsigned int started;	/* producers past their first defer */
};

struct producer_arg {
	struct fork_run *run;
	unsigned int id;
};

static void *producer(void *arg)
{
	struct producer_arg *pa = arg;
	struct fork_run *run = pa->run;
	struct tdesc *d = run->d + (size_t)pa->id * run->per_producer;

	for (size_t i = 0; i < run->per_producer; i++) {
		if (tracker_defer(&run->t, run->dom, &d[i]))
			atomic_fetch_add(&run->errors, 1);
		if (i == 0)
			atomic_fetch_add(&run->started, 1);
		if (i % 64 == 0)
			test_sleep_us(50);	/* spread the defers over the forks */
	}
	return NULL;
}

/* In the child: everything the copy had queued is released by the child. */
static int child_checks(struct fork_run *run, size_t n)
{
	struct pgfree_stats s;
	struct tdesc extra[8];
	size_t stuck = 0;

	if (pgfree_barrier(run->dom))
		return 10;
	/* A new defer in the child is drained by the child's new thread. */
	tdesc_init(extra, 8, 99);
	for (int i = 0; i < 8; i++)
		if (tracker_defer(&run->t, run->dom, &extra[i]))
			return 11;
	if (pgfree_barrier(run->dom))
		return 12;
	if (pgfree_stats(run->dom, &s) || s.backlog != 0)
		return 13;
	if (!s.drain_thread)
		return 14;
	if (run->take_back) {
		/*
		 * Flushed and handed back in the child: what this CPU's list
		 * holds can be taken back (checked by the tracker); destroy
		 * releases the rest, the parent's copies included.
		 */
		if (tracker_take_back(&run->t, run->dom, NULL) < 0)
			return 19;
		if (pgfree_domain_destroy(run->dom))
			return 18;
	}
	for (int i = 0; i < 8; i++)
		if (atomic_load(&extra[i].state) != TDESC_RELEASED)
			return 15;
	if (atomic_load(&run->t.violations))
		return 16;
	for (size_t i = 0; i < n; i++)
		if (atomic_load(&run->d[i].state) == TDESC_DEFERRED)
			stuck++;
	if (stuck > PRODUCERS)
		return 17;
	if (!run->take_back && pgfree_domain_destroy(run->dom))
		return 18;
	return 0;
}

static void fork_while_producing(unsigned int design, unsigned int flags)
{
	const char *name = pgfree_design_name(design);
	struct fork_run *run = calloc(1, sizeof(*run));
	struct producer_arg pa[PRODUCERS];
	pthread_t th[PRODUCERS];
	struct pgfree_config cfg;
	char msg[512];
	size_t n;

	cr_assert(run);
	tracker_init(&run->t);
	run->t.flush_cost_ns = 200000;	/* 0.2 ms: forks land inside flushes */
	run->per_producer = test_scaled(3000, 300);
	n = run->per_producer * PRODUCERS;
	run->d = calloc(n, sizeof(*run->d));
	cr_assert(run->d);
	tdesc_init(run->d, n, 0);
	run->take_back = flags & PGFREE_F_TAKE_BACK;
	cfg = tracker_config(&run->t, design, flags);
	cr_assert_eq(tracker_create(&run->t, &cfg, &run->dom), 0);

	for (unsigned int i = 0; i < PRODUCERS; i++) {
		pa[i].run = run;
		pa[i].id = i;
		cr_assert_eq(pthread_create(&th[i], NULL, producer, &pa[i]), 0);
	}
	/*
	 * Fork only once every thread has finished starting: each producer has
	 * deferred, and the drain thread has run a drain (the barrier).  A
	 * thread still in its start-up may hold ASan's allocator lock, which
	 * LLVM 14's ASan does not take around fork(): the child would inherit
	 * it held and block in its first allocation (test_rseq's fork_child
	 * hung that way).  A count and a barrier, not a sleep: on a loaded
	 * machine a thread's start can take longer than any fixed wait.
	 */
	while (atomic_load(&run->started) < PRODUCERS)
		test_sleep_us(100);
	cr_assert_eq(pgfree_barrier(run->dom), 0);
	for (int f = 0; f < FORKS; f++) {
		pid_t pid;
		int status;

		test_sleep_us(20000);
		pid = fork();
		cr_assert_neq(pid, -1, "fork failed");
		if (pid == 0)
			_exit(child_checks(run, n));
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
			  "%s: fork %d: the child failed its checks (status %#x; see child_checks() "
			  "for the code)", name, f, status);
	}
	for (unsigned int i = 0; i < PRODUCERS; i++)
		pthread_join(th[i], NULL);
	cr_assert_eq(atomic_load(&run->errors), 0);
	cr_assert_eq(pgfree_barrier(run->dom), 0);
	cr_assert_eq(pgfree_domain_destroy(run->dom), 0);
	cr_assert_eq(tracker_verify(&run->t, run->d, n, msg, sizeof(msg)), 0, "%s (parent): %s",
		     name, msg);
	free(run->d);
	free(run);
}

Test(fork, percpu, .timeout = 120)
{
	fork_while_producing(PGFREE_DESIGN_PERCPU, 0);
}

Test(fork, v5, .timeout = 120)
{
	fork_while_producing(PGFREE_DESIGN_V5, 0);
}

Test(fork, v3, .timeout = 120)
{
	fork_while_producing(PGFREE_DESIGN_V3, 0);
}

Test(fork, global_llist, .timeout = 120)
{
	fork_while_producing(PGFREE_DESIGN_GLOBAL_LLIST, 0);
}

/* Take-back: the child takes back or releases its copies of the handed-back chains. */
Test(fork, percpu_take_back, .timeout = 120)
{
	fork_while_producing(PGFREE_DESIGN_PERCPU, PGFREE_F_TAKE_BACK);
}
