// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The percpu design's restartable-sequence push (lib/rseq.c) under forced
 * aborts: more producer threads than CPUs (preemption), a thread that keeps
 * moving the producers between CPUs with sched_setaffinity() (migration),
 * and a per-thread POSIX timer firing every 100 us whose signal handler
 * defers a descriptor of its own (signals; in the normal build the handler
 * may interrupt a section and run its own to the commit, nested).  A thread
 * calls pgfree_drain() beside the drain thread (the drains' membarriers
 * abort sections too) and another reads stats and calls barriers.
 *
 * Checked: the invariant on every descriptor (support/tracker), at least
 * 1,000,000 in the main run; that the kernel aborted sections
 * (pgfree_stats().rseq_aborts > 0: the run goes on in rounds, with the
 * timers on, until one was seen, and fails only if none was after 64
 * more rounds, which no working rseq does); that the domain uses the rseq
 * push wherever the library could (x86-64 or AArch64, glibc registered
 * rseq, the kernel has the membarrier command, not TSan).  The domains ask
 * for it with PGFREE_F_RSEQ (the default build's default is the CAS).
 *
 * Under ThreadSanitizer the library runs the CAS push (TSan cannot model an
 * abort): the test says so and checks the invariant only.
 *
 * Variants: the backlog mark (hint count), flushes that fail and are
 * retried, flushes that give up (->give_back()), destroy with work pending
 * instead of a barrier, and a fork() whose child defers and drains on its
 * copy (new threads, a membarrier registration that may need redoing).
 *
 * PGFREE_TEST_SCALE scales the sizes (the main run never below 10^6 at
 * scale 1).
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

#if defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define TEST_HAVE_RSEQ 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define TEST_TSAN 1
#endif
#endif

#define NR_PER_CPU 4		/* producers per CPU: more threads than CPUs */
#define SIG_POOL 65536		/* descriptors each producer's handler may defer */
#define TIMER_NS 100000		/* each producer's timer period */
#define MAX_EXTRA_ROUNDS 64
#define MAX_PRODUCERS 64

/* Whether the library should have chosen the rseq push for a default domain. */
static bool rseq_expected(void)
{
#if defined(TEST_HAVE_RSEQ) && !defined(TEST_TSAN) && (defined(__x86_64__) || defined(__aarch64__))
	long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

	return __rseq_size > 0 && cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ);
#else
	return false;
#endif
}

struct run;

/**
 * struct producer - one producer thread
 * @run: the run
 * @d: its descriptors
 * @n: how many
 * @sig: the handler's pool
 * @sig_used: how many of @sig the handler deferred (only the thread writes)
 * @sig_skipped: signals whose handler did not defer (pool empty, or a
 *	PGFREE_DEBUG library whose defer the signal interrupted: its misuse
 *	check takes a mutex)
 * @in_defer: the thread is inside tracker_defer() (for the above)
 * @tid: its kernel thread id, for the migrator
 * @id: its index
 */
struct producer {
	struct run *run;
	struct tdesc *d;
	size_t n;
	struct tdesc *sig;
	volatile sig_atomic_t sig_used;
	volatile sig_atomic_t sig_skipped;
	volatile sig_atomic_t in_defer;
	_Atomic pid_t tid;
	int id;
};

struct run {
	struct tracker *t;
	struct pgfree_domain *dom;
	struct producer pr[MAX_PRODUCERS];
	int nprod;
	const int *cpus;
	int ncpu;
	_Atomic int round;		/* bumped to start a round */
	_Atomic int done;		/* producers done with the round */
	_Atomic int running;		/* 0: helpers exit */
	_Atomic uint64_t defer_errors;
	_Atomic uint64_t pin_errors;
	_Atomic long drain_errors;
	int fail_err;
};

static __thread struct producer *self;

#ifdef TEST_LIB_DEBUG
#define LIB_DEBUG true
#else
#define LIB_DEBUG false
#endif

static void on_timer(int sig)
{
	struct producer *p = self;
	int saved = errno;

	(void)sig;
	if (!p)
		return;
	/*
	 * A PGFREE_DEBUG library's defer takes a mutex (its set of queued
	 * nodes): not async-signal-safe, so there the handler defers only
	 * when it did not interrupt one.  The signal still aborts the section.
	 */
	if (p->sig_used >= SIG_POOL || (LIB_DEBUG && p->in_defer)) {
		p->sig_skipped++;
	} else {
		/* Lock-free: atomics and pgfree_defer() only. */
		if (tracker_defer(p->run->t, p->run->dom, &p->sig[p->sig_used]))
			atomic_fetch_add(&p->run->defer_errors, 1);
		else
			p->sig_used++;
	}
	errno = saved;
}

static int timer_start(timer_t *tm)
{
	struct sigevent ev;
	struct itimerspec its = { .it_interval = { 0, TIMER_NS }, .it_value = { 0, TIMER_NS } };

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGRTMIN + 2;
	ev._sigev_un._tid = (pid_t)syscall(SYS_gettid);
	if (timer_create(CLOCK_MONOTONIC, &ev, tm))
		return -errno;
	if (timer_settime(*tm, 0, &its, NULL)) {
		timer_delete(*tm);
		return -errno;
	}
	return 0;
}

/*
 * Round r (0: the main one) defers descriptors [start, end) of the
 * thread's array, as given by range_of_round().
 */
static void round_range(const struct producer *p, int r, size_t *start, size_t *end)
{
	/* The array is split: 3/4 for round 0, the rest in MAX_EXTRA_ROUNDS pieces. */
	size_t main_n = p->n * 3 / 4, piece = (p->n - main_n) / MAX_EXTRA_ROUNDS;

	if (!r) {
		*start = 0;
		*end = main_n;
	} else {
		*start = main_n + (size_t)(r - 1) * piece;
		*end = *start + piece;
	}
}

static void *producer_fn(void *arg)
{
	struct producer *p = arg;
	struct run *run = p->run;
	timer_t tm;
	bool timer = false;
	int r = 0;

	self = p;
	atomic_store(&p->tid, (pid_t)syscall(SYS_gettid));
	if (!timer_start(&tm))
		timer = true;
	for (;;) {
		size_t start, end;

		/* Wait for round r (gate, no timing). */
		while (atomic_load(&run->round) < r && atomic_load(&run->running))
			sched_yield();
		if (atomic_load(&run->round) < r)
			break;
		round_range(p, r, &start, &end);
		for (size_t i = start; i < end; i++) {
			p->in_defer = 1;
			if (tracker_defer(run->t, run->dom, &p->d[i]))
				atomic_fetch_add(&run->defer_errors, 1);
			p->in_defer = 0;
			if (i % 4096 == 0)
				sched_yield();
		}
		atomic_fetch_add(&run->done, 1);
		r++;
	}
	if (timer)
		timer_delete(tm);
	self = NULL;
	return NULL;
}

/* Move every producer to another CPU, round after round. */
static void *migrator_fn(void *arg)
{
	struct run *run = arg;
	unsigned int k = 0;

	while (atomic_load(&run->running)) {
		for (int i = 0; i < run->nprod; i++) {
			pid_t tid = atomic_load(&run->pr[i].tid);
			cpu_set_t set;

			if (!tid)
				continue;
			CPU_ZERO(&set);
			CPU_SET(run->cpus[(k + (unsigned int)i) % (unsigned int)run->ncpu], &set);
			/* ESRCH once a thread has exited: not an error. */
			if (sched_setaffinity(tid, sizeof(set), &set) && errno != ESRCH)
				atomic_fetch_add(&run->pin_errors, 1);
		}
		k++;
		test_sleep_us(200);
	}
	return NULL;
}

/* Drain from a thread of ours beside the drain thread (drain_lock serializes). */
static void *drainer_fn(void *arg)
{
	struct run *run = arg;

	while (atomic_load(&run->running)) {
		long r = pgfree_drain(run->dom);

		if (r < 0 && r != run->fail_err && r != PGFREE_FLUSH_GIVE_UP)
			atomic_store(&run->drain_errors, r);
		test_sleep_us(300);
	}
	return NULL;
}

/**
 * struct variant - one run
 * @what: its name, for messages
 * @total: descriptors of the producers' own (handlers' come on top)
 * @backlog_max: a mark (hint count)
 * @fail_every: every Nth flush fails with @fail_err
 * @fail_err: what it returns (PGFREE_FLUSH_GIVE_UP: ->give_back())
 * @destroy: end with destroy, no barrier first
 * @need_aborts: go on in rounds until the kernel aborted a section
 */
struct variant {
	const char *what;
	size_t total;
	unsigned int backlog_max;
	unsigned int fail_every;
	int fail_err;
	bool destroy;
	bool need_aborts;
};

static void run_variant(const struct variant *v)
{
	int cpus[TEST_MAX_CPUS];
	int ncpu = test_cpus(cpus, TEST_MAX_CPUS);
	struct run *run = calloc(1, sizeof(*run));
	struct tracker *t = calloc(1, sizeof(*t));
	pthread_t tids[MAX_PRODUCERS], migrator, drainer;
	struct pgfree_config cfg;
	struct pgfree_stats st;
	struct sigaction sa;
	size_t per, problems;
	char msg[512];
	int rounds = 0;
	bool rseq;

	cr_assert(run && t);
	run->nprod = ncpu * NR_PER_CPU > MAX_PRODUCERS ? MAX_PRODUCERS : ncpu * NR_PER_CPU;
	per = (v->total * 4 / 3) / (size_t)run->nprod + MAX_EXTRA_ROUNDS;
	run->cpus = cpus;
	run->ncpu = ncpu;
	run->t = t;
	run->fail_err = v->fail_err;
	atomic_init(&run->running, 1);

	tracker_init(t);
	t->use_range = true;
	t->fail_err = v->fail_err;
	atomic_store(&t->fail_every, v->fail_every);
	cfg = tracker_config(t, PGFREE_DESIGN_PERCPU, PGFREE_F_RSEQ);
	cfg.backlog_max = v->backlog_max;
	if (v->fail_err == PGFREE_FLUSH_GIVE_UP)
		cfg.ops.give_back = tracker_give_back;
	cr_assert_eq(tracker_create(t, &cfg, &run->dom), 0, "%s: create", v->what);
	cr_assert_eq(pgfree_stats(run->dom, &st), 0);
	rseq = st.rseq;
	cr_assert_eq(rseq, rseq_expected(), "%s: stats.rseq %d, expected %d", v->what, rseq,
		     rseq_expected());
	if (!rseq)
		cr_log_info("%s: the library runs the CAS push here (%s): invariant only",
			    v->what,
#ifdef TEST_TSAN
			    "ThreadSanitizer"
#else
			    "no rseq or membarrier command"
#endif
		);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_timer;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	cr_assert_eq(sigaction(SIGRTMIN + 2, &sa, NULL), 0);

	for (int i = 0; i < run->nprod; i++) {
		struct producer *p = &run->pr[i];

		p->run = run;
		p->id = i;
		p->n = per;
		p->d = calloc(per, sizeof(*p->d));
		p->sig = calloc(SIG_POOL, sizeof(*p->sig));
		cr_assert(p->d && p->sig);
		tdesc_init(p->d, per, (uint32_t)i);
		tdesc_init(p->sig, SIG_POOL, (uint32_t)(1000 + i));
	}
	for (int i = 0; i < run->nprod; i++)
		cr_assert_eq(pthread_create(&tids[i], NULL, producer_fn, &run->pr[i]), 0);
	cr_assert_eq(pthread_create(&migrator, NULL, migrator_fn, run), 0);
	cr_assert_eq(pthread_create(&drainer, NULL, drainer_fn, run), 0);

	/* Round 0, then more rounds until an abort was seen (if asked). */
	for (int r = 0;; r++) {
		uint64_t aborts;

		while (atomic_load(&run->done) < run->nprod * (r + 1)) {
			if (r == 0 && !v->fail_every) {
				/* Barriers and stats while the producers run. */
				cr_assert_eq(pgfree_barrier(run->dom), 0);
				cr_assert_eq(pgfree_stats(run->dom, &st), 0);
			}
			test_sleep_us(2000);
		}
		rounds = r + 1;
		cr_assert_eq(pgfree_stats(run->dom, &st), 0);
		aborts = st.rseq_aborts;
		if (!v->need_aborts || !rseq || aborts || r == MAX_EXTRA_ROUNDS)
			break;
		atomic_fetch_add(&run->round, 1);	/* one more round */
	}
	/* Producers waiting for a round that will not come see this and leave. */
	atomic_store(&run->running, 0);
	for (int i = 0; i < run->nprod; i++)
		pthread_join(tids[i], NULL);
	pthread_join(migrator, NULL);
	pthread_join(drainer, NULL);
	signal(SIGRTMIN + 2, SIG_IGN);

	cr_assert_eq(pgfree_stats(run->dom, &st), 0);
	if (v->destroy) {
		cr_assert_eq(pgfree_domain_destroy(run->dom), 0);
	} else {
		int b = pgfree_barrier(run->dom);

		cr_assert(b == 0 || (b == -ECANCELED && v->fail_err == PGFREE_FLUSH_GIVE_UP),
			  "%s: barrier %d", v->what, b);
		cr_assert_eq(pgfree_stats(run->dom, &st), 0);
	}

	{
		uint64_t sig_used = 0, sig_skipped = 0, own = 0;

		for (int i = 0; i < run->nprod; i++) {
			struct producer *p = &run->pr[i];
			size_t start, end;

			round_range(p, 0, &start, &end);
			if (rounds > 1)
				round_range(p, rounds - 1, &start, &end);
			own += end;
			problems = tracker_verify(t, p->d, end, msg, sizeof(msg));
			cr_assert_eq(problems, 0, "%s: producer %d: %s", v->what, i, msg);
			problems = tracker_verify(t, p->sig, (size_t)p->sig_used, msg, sizeof(msg));
			cr_assert_eq(problems, 0, "%s: producer %d's handler: %s", v->what, i, msg);
			sig_used += (uint64_t)p->sig_used;
			sig_skipped += (uint64_t)p->sig_skipped;
		}
		cr_assert_eq(atomic_load(&run->defer_errors), 0, "%s: defer errors", v->what);
		cr_assert_eq(atomic_load(&run->pin_errors), 0, "%s: sched_setaffinity errors",
			     v->what);
		cr_assert_eq(atomic_load(&run->drain_errors), 0, "%s: pgfree_drain() gave %ld",
			     v->what, atomic_load(&run->drain_errors));
		cr_assert_eq(atomic_load(&t->deferred), own + sig_used, "%s: deferred", v->what);
		cr_assert_geq(own, v->total * 9 / 10, "%s: only %llu descriptors", v->what,
			      (unsigned long long)own);
		printf("%s: %s push, %llu descriptors (+%llu from signal handlers, %llu signals "
		       "skipped), %d round(s), %llu rseq aborts, %llu membarriers, %llu drains, "
		       "%llu flushes\n",
		       v->what, rseq ? "rseq" : "CAS", (unsigned long long)own,
		       (unsigned long long)sig_used, (unsigned long long)sig_skipped, rounds,
		       (unsigned long long)st.rseq_aborts, (unsigned long long)st.rseq_fences,
		       (unsigned long long)st.drains, (unsigned long long)atomic_load(&t->flush_ok));
		fflush(stdout);
		if (rseq && v->need_aborts)
			cr_assert_gt(st.rseq_aborts, 0,
				     "%s: no rseq abort in %d rounds: the test proved nothing",
				     v->what, rounds);
		if (rseq)
			cr_assert_gt(st.rseq_fences, 0, "%s: no membarrier", v->what);
	}

	if (!v->destroy)
		cr_assert_eq(pgfree_domain_destroy(run->dom), 0);
	for (int i = 0; i < run->nprod; i++) {
		free(run->pr[i].d);
		free(run->pr[i].sig);
	}
	free(run);
	free(t);
}

Test(rseq, forced_aborts, .timeout = 280)
{
	struct variant v = { .what = "forced_aborts", .total = test_scaled(1000000, 1000000),
			     .need_aborts = true };

	run_variant(&v);
}

Test(rseq, mark_and_destroy_pending, .timeout = 200)
{
	struct variant v = { .what = "mark_and_destroy_pending",
			     .total = test_scaled(200000, 20000), .backlog_max = 512,
			     .destroy = true };

	run_variant(&v);
}

Test(rseq, flush_failures, .timeout = 200)
{
	struct variant v = { .what = "flush_failures", .total = test_scaled(200000, 20000),
			     .fail_every = 5, .fail_err = -EIO };

	run_variant(&v);
}

Test(rseq, give_back, .timeout = 200)
{
	struct variant v = { .what = "give_back", .total = test_scaled(200000, 20000),
			     .fail_every = 7, .fail_err = PGFREE_FLUSH_GIVE_UP };

	run_variant(&v);
}

/* Which domains get the rseq push. */
#ifdef TEST_RSEQ_DEFAULT
#define RSEQ_DEFAULT true
#else
#define RSEQ_DEFAULT false
#endif
#define R PGFREE_F_RSEQ
Test(rseq, chosen_at_create, .timeout = 30)
{
	struct tracker t;
	struct pgfree_domain *dom;
	struct pgfree_stats st;
	struct {
		unsigned int design, flags, backlog, slots;
		bool rseq;
		const char *what;
	} cases[] = {
		{ PGFREE_DESIGN_PERCPU, 0, 0, 0, RSEQ_DEFAULT, "percpu, the build's default" },
		{ PGFREE_DESIGN_PERCPU, R, 0, 0, true, "percpu" },
		{ PGFREE_DESIGN_PERCPU, R | PGFREE_F_NO_THREAD, 0, 0, true, "percpu, no thread" },
		{ PGFREE_DESIGN_PERCPU, R, 64, 0, true, "percpu with a mark" },
		{ PGFREE_DESIGN_PERCPU, PGFREE_F_NO_RSEQ, 0, 0, false, "PGFREE_F_NO_RSEQ" },
		{ PGFREE_DESIGN_PERCPU, R | PGFREE_F_BOUNDED, 64, 0, false, "PGFREE_F_BOUNDED" },
		{ PGFREE_DESIGN_PERCPU, R, 0, PGFREE_MAX_SLOTS, true, "many slots" },
		{ PGFREE_DESIGN_GLOBAL_LLIST, R, 0, 0, false, "global_llist" },
		{ PGFREE_DESIGN_V5, R, 0, 0, false, "v5" },
		{ PGFREE_DESIGN_V3, R, 0, 0, false, "v3" },
	};
	long nconf = sysconf(_SC_NPROCESSORS_CONF);

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct pgfree_config cfg;

		tracker_init(&t);
		cfg = tracker_config(&t, cases[i].design, cases[i].flags);
		cfg.backlog_max = cases[i].backlog;
		cfg.nr_slots = cases[i].slots;
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0, "%s", cases[i].what);
		cr_assert_eq(pgfree_stats(dom, &st), 0);
		cr_assert_eq(st.rseq, cases[i].rseq && rseq_expected(), "%s: rseq %llu",
			     cases[i].what, (unsigned long long)st.rseq);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
	/* Fewer slots than CPUs: two CPUs would share a list. */
	if (nconf > 1) {
		struct pgfree_config cfg;

		tracker_init(&t);
		cfg = tracker_config(&t, PGFREE_DESIGN_PERCPU, PGFREE_F_RSEQ);
		cfg.nr_slots = 1;
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		cr_assert_eq(pgfree_stats(dom, &st), 0);
		cr_assert_eq(st.rseq, 0, "one slot on %ld CPUs must keep the CAS push", nconf);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

/*
 * A thread with no rseq registration (here: one that unregistered glibc's)
 * must not spin on a section it cannot run: it pushes on the spill list.
 */
#if defined(TEST_HAVE_RSEQ) && !defined(TEST_TSAN)
#define UNREG_N 50000

struct unreg {
	struct tracker *t;
	struct pgfree_domain *dom;
	struct tdesc *d;
	int unreg_err;
	int cpu_id_after;
	uint64_t defer_errors;
};

static void *unreg_fn(void *arg)
{
	struct unreg *u = arg;
	struct rseq *rs = (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
	long r = -1;

	/* The length glibc registered: the area's 32 bytes, or what it reports. */
	for (unsigned int len = 32; len && r; len = len == 32 ? __rseq_size : 0)
		r = syscall(SYS_rseq, rs, len, 1 /* RSEQ_FLAG_UNREGISTER */, RSEQ_SIG);
	u->unreg_err = r ? errno : 0;
	u->cpu_id_after = (int)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);
	if (r)
		return NULL;
	for (size_t i = 0; i < UNREG_N; i++)
		if (tracker_defer(u->t, u->dom, &u->d[i]))
			u->defer_errors++;
	return NULL;
}

Test(rseq, unregistered_thread, .timeout = 60)
{
	struct tracker *t = calloc(1, sizeof(*t));
	struct unreg u = { 0 };
	struct pgfree_config cfg;
	struct pgfree_stats st;
	pthread_t th;
	char msg[256];

	cr_assert(t);
	tracker_init(t);
	cfg = tracker_config(t, PGFREE_DESIGN_PERCPU, PGFREE_F_RSEQ);
	cr_assert_eq(tracker_create(t, &cfg, &u.dom), 0);
	cr_assert_eq(pgfree_stats(u.dom, &st), 0);
	u.t = t;
	u.d = calloc(UNREG_N, sizeof(*u.d));
	cr_assert(u.d);
	tdesc_init(u.d, UNREG_N, 9);
	cr_assert_eq(pthread_create(&th, NULL, unreg_fn, &u), 0);
	cr_assert_eq(pthread_join(th, NULL), 0);
	if (!st.rseq || u.unreg_err) {
		cr_log_info("unregistered_thread: %s", !st.rseq ? "no rseq push here" :
			    "cannot unregister glibc's rseq area: skipped");
	} else {
		cr_assert_lt(u.cpu_id_after, 0, "cpu_id %d after unregistering", u.cpu_id_after);
		cr_assert_eq(u.defer_errors, 0);
		cr_assert_eq(pgfree_barrier(u.dom), 0);
		cr_assert_eq(tracker_verify(t, u.d, UNREG_N, msg, sizeof(msg)), 0, "%s", msg);
	}
	cr_assert_eq(pgfree_domain_destroy(u.dom), 0);
	free(u.d);
	free(t);
}
#endif

/*
 * fork(): the child's copy uses the rseq push from its own (new) threads
 * and drains it with its own membarriers.
 */
#ifndef TEST_TSAN
#define FORK_N 20000

static void *fork_producer(void *arg)
{
	struct tracker *t = arg;
	struct tdesc *d = calloc(FORK_N, sizeof(*d));

	if (!d)
		return (void *)1;
	tdesc_init(d, FORK_N, 7);
	for (size_t i = 0; i < FORK_N; i++)
		if (tracker_defer(t, atomic_load(&t->dom), &d[i]))
			return (void *)1;
	if (pgfree_barrier(atomic_load(&t->dom)))
		return (void *)1;
	{
		char msg[256];

		if (tracker_verify(t, d, FORK_N, msg, sizeof(msg)))
			return (void *)1;
	}
	return NULL;
}

Test(rseq, fork_child, .timeout = 60)
{
	struct tracker *t = calloc(1, sizeof(*t));
	struct pgfree_domain *dom;
	struct pgfree_config cfg;
	struct tdesc pre[1];
	char msg[256];
	int status;
	pid_t pid;

	cr_assert(t);
	tracker_init(t);
	cfg = tracker_config(t, PGFREE_DESIGN_PERCPU, PGFREE_F_RSEQ);
	cr_assert_eq(tracker_create(t, &cfg, &dom), 0);
	/*
	 * Before fork(), let the drain thread finish starting: one drain
	 * through it, checked.  A thread still in its start-up holds
	 * ASan's allocator lock (LLVM 14's ASan takes none around fork()),
	 * and the child inherits it held: every thread the child starts
	 * then blocks in the allocator for ever.  After the barrier the
	 * drain thread has run a drain (so it has started) and holds none.
	 */
	tdesc_init(pre, 1, 5);
	cr_assert_eq(tracker_defer(t, dom, &pre[0]), 0);
	cr_assert_eq(pgfree_barrier(dom), 0);
	cr_assert_eq(tracker_verify(t, pre, 1, msg, sizeof(msg)), 0, "%s", msg);
	pid = fork();
	cr_assert(pid >= 0);
	if (!pid) {
		struct pgfree_stats st;
		pthread_t th;
		void *ret = (void *)1;
		int code = 0;

		if (pthread_create(&th, NULL, fork_producer, t) || pthread_join(th, &ret) || ret)
			code = 1;
		else if (pgfree_stats(dom, &st) || st.rseq != rseq_expected() ||
			 (st.rseq && !st.rseq_fences))
			code = 2;
		else if (pgfree_domain_destroy(dom))
			code = 3;
		_exit(code);
	}
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child failed: status %#x",
		  status);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	free(t);
}
#endif
