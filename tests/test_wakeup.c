// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * No lost wake-up.  With the drain thread and no barrier or drain call,
 * thousands of rounds of small bursts from 1..4 threads must each be
 * released on their own; the drain thread sleeps with
 * no timeout, so a lost wake-up leaves a round unreleased and the test
 * fails after 5 s.
 *
 * A wake-up can only be lost in the short window in which the drain thread,
 * having found nothing more to do, goes to sleep.  So in each round worker
 * 0 defers 1..3 descriptors and worker 1 "chases" them: it spins until
 * worker 0's last one has been released, then spins from zero to about a
 * microsecond and a half more (a different amount each time) and defers,
 * landing right around the drain thread's trip to sleep; it repeats that
 * with its own descriptor, up to 8 times a round.  Workers 2 and 3 start after a
 * random pause.  Also: the batching delay is cut short by batch_max, and a
 * short delay still releases everything without any barrier.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "harness/check.h"
#include "support/tracker.h"
#include "support/util.h"

#define NR_WORKERS 4
#define MAX_BURST 3
/* A safety net, not a speed: a lost wake-up never releases at all. */
#define ROUND_TIMEOUT_S 10.0
#define CHASER 1		/* the worker that chases worker 0's release */
#define MAX_CHASES 8		/* descriptors the chaser defers one by one */
#define MAX_CHASE_SPINS 1500	/* loop iterations, about a nanosecond each */

/**
 * struct wake_test - workers that defer a burst per round
 * @t: the tracker
 * @dom: the domain
 * @d: the descriptors, used in order
 * @burst: per round and worker, how many to defer (0..MAX_BURST)
 * @pause: per round and worker: for the chaser, iterations to spin after
 *	worker 0's burst was released; for workers 2 and 3, microseconds to
 *	sleep before their burst
 * @first: per round and worker, index of its first descriptor
 * @rounds: number of rounds
 * @start: the workers wait here at the start of each round
 * @end: and here at the end of it
 * @defer_errors: failed defers
 * @abort: a round was lost: stop chasing, just finish the rounds
 */
struct wake_test {
	struct tracker *t;
	struct pgfree_domain *dom;
	struct tdesc *d;
	uint8_t *burst;
	uint16_t *pause;
	size_t *first;
	int rounds;
	pthread_barrier_t start, end;
	_Atomic unsigned int defer_errors;
	atomic_bool abort;
};

struct worker {
	struct wake_test *w;
	int id;
};

/*
 * Spin until @prev is released (or the round's time is up: the main
 * thread reports that), then @spins iterations more.
 */
static void chase(struct wake_test *w, struct tdesc *prev, unsigned int spins, double deadline)
{
	unsigned int n = 0;

	while (atomic_load_explicit(&prev->state, memory_order_relaxed) != TDESC_RELEASED &&
	       test_now() < deadline && !atomic_load_explicit(&w->abort, memory_order_relaxed)) {
		/* On a busy machine, let the drain thread have this CPU now and then. */
		if (++n % 256 == 0)
			sched_yield();
	}
	/* A counted loop: finer than a clock, and the window is that narrow. */
	for (volatile unsigned int k = 0; k < spins; k++)
		;
}

static void *worker_fn(void *p)
{
	struct worker *wk = p;
	struct wake_test *w = wk->w;

	for (int r = 0; r < w->rounds; r++) {
		size_t i = (size_t)r * NR_WORKERS + wk->id;
		size_t lead = (size_t)r * NR_WORKERS;
		double deadline;

		pthread_barrier_wait(&w->start);
		deadline = test_now() + ROUND_TIMEOUT_S;
		if (w->burst[i] && w->pause[i] && wk->id != CHASER)
			test_sleep_us(w->pause[i]);
		for (unsigned int k = 0; k < w->burst[i]; k++) {
			struct tdesc *d = &w->d[w->first[i] + k];

			/*
			 * The chaser defers each descriptor only once the one
			 * before it (worker 0's last, then its own) is released:
			 * one attempt at the window per descriptor.
			 */
			if (wk->id == CHASER)
				chase(w, k ? d - 1 : &w->d[w->first[lead] + w->burst[lead] - 1],
				      (w->pause[i] + k * 397u) % MAX_CHASE_SPINS, deadline);
			if (tracker_defer(w->t, w->dom, d))
				atomic_fetch_add(&w->defer_errors, 1);
		}
		pthread_barrier_wait(&w->end);
	}
	return NULL;
}

/* A small deterministic generator, so that a failing schedule repeats. */
static uint32_t xorshift(uint32_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 17;
	*s ^= *s << 5;
	return *s;
}

static void no_lost_wakeup(unsigned int design, unsigned int flags, unsigned int nr_slots,
			   int rounds)
{
	struct wake_test w = { .rounds = rounds };
	struct worker wk[NR_WORKERS];
	pthread_t tid[NR_WORKERS];
	struct tracker *t = calloc(1, sizeof(*t));
	size_t slots = (size_t)rounds * NR_WORKERS, total = 0;
	struct pgfree_config cfg;
	struct pgfree_stats s;
	const char *name = pgfree_design_name(design);
	uint32_t seed = 0x9e3779b9u ^ design;
	char msg[512];
	int lost_round = -1;
	double worst = 0;

	cr_assert(t != NULL);
	w.burst = calloc(slots, sizeof(*w.burst));
	w.pause = calloc(slots, sizeof(*w.pause));
	w.first = calloc(slots, sizeof(*w.first));
	cr_assert(w.burst && w.pause && w.first);
	/*
	 * Plan every round: 1..4 active workers, 1..3 descriptors each.  The
	 * chaser is active in most rounds: it is the one that finds races.
	 */
	for (int r = 0; r < rounds; r++) {
		unsigned int active = 2 + xorshift(&seed) % (NR_WORKERS - 1);

		if (xorshift(&seed) % 8 == 0)
			active = 1;

		for (unsigned int k = 0; k < NR_WORKERS; k++) {
			size_t i = (size_t)r * NR_WORKERS + k;

			w.first[i] = total;
			if (k < active) {
				w.burst[i] = (uint8_t)(1 + xorshift(&seed) %
						       (k == CHASER ? MAX_CHASES : MAX_BURST));
				if (k == CHASER)
					w.pause[i] = (uint16_t)(xorshift(&seed) % MAX_CHASE_SPINS);
				else if (k > CHASER)
					w.pause[i] = xorshift(&seed) % 2 ? 0 :
						(uint16_t)(xorshift(&seed) % 200);
			}
			total += w.burst[i];
		}
	}
	w.d = calloc(total, sizeof(*w.d));
	cr_assert(w.d != NULL);
	tracker_init(t);
	tdesc_init(w.d, total, 0);
	w.t = t;
	cfg = tracker_config(t, design, flags);
	cfg.nr_slots = nr_slots;
	cr_assert_eq(tracker_create(t, &cfg, &w.dom), 0);
	pthread_barrier_init(&w.start, NULL, NR_WORKERS + 1);
	pthread_barrier_init(&w.end, NULL, NR_WORKERS + 1);
	for (int k = 0; k < NR_WORKERS; k++) {
		wk[k] = (struct worker){ &w, k };
		cr_assert_eq(pthread_create(&tid[k], NULL, worker_fn, &wk[k]), 0);
	}

	for (int r = 0; r < rounds; r++) {
		size_t want = w.first[(size_t)(r + 1) * NR_WORKERS - 1] +
			      w.burst[(size_t)(r + 1) * NR_WORKERS - 1];
		double t0, dt;

		pthread_barrier_wait(&w.start);
		pthread_barrier_wait(&w.end);
		/* No barrier, no drain: only the drain thread can release them. */
		t0 = test_now();
		while (atomic_load(&t->released) < want && test_now() - t0 < ROUND_TIMEOUT_S)
			test_sleep_us(50);
		dt = test_now() - t0;
		if (dt > worst)
			worst = dt;
		if (atomic_load(&t->released) < want) {
			lost_round = r;
			break;
		}
	}
	if (lost_round >= 0) {
		/* Let the workers finish so that the test can end cleanly. */
		atomic_store(&w.abort, true);
		for (int r = lost_round + 1; r < rounds; r++) {
			pthread_barrier_wait(&w.start);
			pthread_barrier_wait(&w.end);
		}
	}
	for (int k = 0; k < NR_WORKERS; k++)
		pthread_join(tid[k], NULL);

	cr_log_info("%s flags %u slots %u: %d rounds, %zu descriptors, slowest round %.1f ms",
		    name, flags, nr_slots, rounds, total, worst * 1e3);
	cr_assert_eq(lost_round, -1, "%s flags %u slots %u: round %d not released within %.0f s "
		     "(released %llu): lost wake-up", name, flags, nr_slots, lost_round,
		     ROUND_TIMEOUT_S, (unsigned long long)atomic_load(&t->released));
	cr_assert_eq(atomic_load(&w.defer_errors), 0);
	cr_assert_eq(pgfree_stats(w.dom, &s), 0);
	cr_assert_geq(s.wakeups, 1, "%s: stats.wakeups is 0 after %d woken rounds", name, rounds);
	cr_assert_eq(tracker_verify(t, w.d, total, msg, sizeof(msg)), 0, "%s: %s", name, msg);
	cr_assert_eq(tracker_check_stats(t, w.dom, total, msg, sizeof(msg)), 0, "%s: %s", name,
		     msg);
	cr_assert_eq(pgfree_domain_destroy(w.dom), 0);
	pthread_barrier_destroy(&w.start);
	pthread_barrier_destroy(&w.end);
	free(w.d);
	free(w.burst);
	free(w.pause);
	free(w.first);
	free(t);
}

Test(wakeup, percpu_no_lost_wakeup, .timeout = 240)
{
	no_lost_wakeup(PGFREE_DESIGN_PERCPU, 0, 0, (int)test_scaled(2000, 100));
}

/* No batching delay: the drain thread parks after every batch. */
Test(wakeup, percpu_no_delay_no_lost_wakeup, .timeout = 240)
{
	no_lost_wakeup(PGFREE_DESIGN_PERCPU, PGFREE_F_NO_DELAY, 0, (int)test_scaled(2000, 100));
}

/* One list for every producer: the empty-to-non-empty race is tightest. */
Test(wakeup, percpu_one_slot_no_lost_wakeup, .timeout = 240)
{
	no_lost_wakeup(PGFREE_DESIGN_PERCPU, PGFREE_F_NO_DELAY, 1, (int)test_scaled(2000, 100));
}

Test(wakeup, other_designs_no_lost_wakeup, .timeout = 240)
{
	for_each_design(design) {
		if (design == PGFREE_DESIGN_PERCPU)
			continue;
		no_lost_wakeup(design, 0, 0, (int)test_scaled(500, 50));
		no_lost_wakeup(design, PGFREE_F_NO_DELAY, 0, (int)test_scaled(1000, 100));
	}
}

/*
 * A 1 s batching delay with batch_max = 8: eight descriptors end the wait
 * early.  (One alone would wait up to the full delay.)  A release seen
 * less than 1 s after the first defer proves it (the delay began after
 * that defer); a slower one proves nothing, as the machine may have
 * stalled, and is tried again, up to 5 times: a delay that is not cut
 * short fails all five.  The drain thread looks once a slice of the delay
 * (drain_thread.c), so the eight are flushed at its next look.  Each design, and the take-back domains, whose
 * drain does not walk and holds its producers' counts against batch_max
 * instead (there the flush that hands the chains back is what ends the
 * wait; destroy releases them).
 */
static const struct {
	enum pgfree_design design;
	unsigned int flags;
} batch_max_cases[] = {
	{ PGFREE_DESIGN_PERCPU, 0 },
	{ PGFREE_DESIGN_V5, 0 },
	{ PGFREE_DESIGN_V3, 0 },
	{ PGFREE_DESIGN_GLOBAL_LLIST, 0 },
	{ PGFREE_DESIGN_PERCPU, PGFREE_F_TAKE_BACK },
	{ PGFREE_DESIGN_GLOBAL_LLIST, PGFREE_F_TAKE_BACK },
};
_Static_assert(PGFREE_DESIGN_COUNT == 4, "a new design belongs in batch_max_cases");

Test(wakeup, batch_max_cuts_delay_short, .timeout = 180)
{
	struct tracker t;
	struct tdesc d[8];
	char msg[512];

	for (size_t c = 0; c < sizeof(batch_max_cases) / sizeof(batch_max_cases[0]); c++) {
		enum pgfree_design design = batch_max_cases[c].design;
		bool tb = batch_max_cases[c].flags & PGFREE_F_TAKE_BACK;
		double dt = -1;

		for (int attempt = 0; attempt < 5; attempt++) {
			struct pgfree_config cfg;
			struct pgfree_domain *dom;
			double t0;

			tracker_init(&t);
			tdesc_init(d, 8, 0);
			cfg = tracker_config(&t, design, batch_max_cases[c].flags);
			cfg.batch_delay_us = PGFREE_MAX_BATCH_DELAY_US;
			cfg.batch_max = 8;
			if (tb)
				cfg.take_back_us = PGFREE_MAX_TAKE_BACK_US;
			cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
			t0 = test_now();
			/*
			 * One, then a pause, so that the drain thread is
			 * usually asleep in its gathering when the other seven
			 * come: batch_max must then end the sleep at its next
			 * look, a slice (1 ms) later, not after the 1 s delay.
			 * (Should it look late, it finds all eight at once: the
			 * round is then weaker, never failed.)
			 */
			cr_assert_eq(tracker_defer(&t, dom, &d[0]), 0);
			test_sleep_us(20000);
			for (int i = 1; i < 8; i++)
				cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
			/* Take-back: flushed (handed back) is the end of the wait. */
			while ((tb ? atomic_load(&t.flush_ok) < 1 : atomic_load(&t.released) < 8) &&
			       test_now() - t0 < ROUND_TIMEOUT_S)
				test_sleep_us(100);
			dt = test_now() - t0;
			if (tb) {
				cr_assert_geq(atomic_load(&t.flush_ok), 1, "%s take-back: not flushed "
					      "in %.0f s", pgfree_design_name(design), ROUND_TIMEOUT_S);
				/* Nobody takes back: destroy releases all eight. */
				cr_assert_eq(pgfree_domain_destroy(dom), 0);
				cr_assert_eq(tracker_verify(&t, d, 8, msg, sizeof(msg)), 0, "%s", msg);
			} else {
				cr_assert_eq(atomic_load(&t.released), 8, "%s: not released in %.0f s",
					     pgfree_design_name(design), ROUND_TIMEOUT_S);
				cr_assert_eq(tracker_verify(&t, d, 8, msg, sizeof(msg)), 0, "%s", msg);
				cr_assert_eq(pgfree_domain_destroy(dom), 0);
			}
			if (dt < PGFREE_MAX_BATCH_DELAY_US / 1e6)
				break;
			cr_log_info("%s%s: flushed after %.3f s, no sooner than the delay could end: "
				    "trying again", pgfree_design_name(design), tb ? " take-back" : "",
				    dt);
		}
		cr_assert_lt(dt, PGFREE_MAX_BATCH_DELAY_US / 1e6,
			     "%s%s: batch_max reached, yet never flushed before a 1 s delay could "
			     "end (5 tries, last %.3f s)", pgfree_design_name(design),
			     tb ? " take-back" : "", dt);
	}
}

/* A short delay: descriptors still go without any barrier. */
Test(wakeup, released_without_barrier_under_delay, .timeout = 120)
{
	for_each_design(design) {
		struct tracker t;
		struct tdesc d[64];
		struct pgfree_config cfg;
		struct pgfree_domain *dom;
		char msg[512];

		tracker_init(&t);
		tdesc_init(d, 64, 0);
		cfg = tracker_config(&t, design, 0);
		cfg.batch_delay_us = 300;
		cr_assert_eq(tracker_create(&t, &cfg, &dom), 0);
		for (int i = 0; i < 64; i++) {
			double t0 = test_now();

			cr_assert_eq(tracker_defer(&t, dom, &d[i]), 0);
			while (atomic_load(&t.released) < (uint64_t)i + 1 &&
			       test_now() - t0 < ROUND_TIMEOUT_S)
				test_sleep_us(50);
			cr_assert_eq(atomic_load(&t.released), (uint64_t)i + 1,
				     "%s: descriptor %d not released within %.0f s",
				     pgfree_design_name(design), i, ROUND_TIMEOUT_S);
		}
		cr_assert_eq(tracker_verify(&t, d, 64, msg, sizeof(msg)), 0, "%s", msg);
		cr_assert_eq(pgfree_domain_destroy(dom), 0);
	}
}

/*
 * Linger (drain_thread.c): after a drain, the drain thread sleeps out the
 * rest of the batching delay D before it parks, so a descriptor deferred
 * in that time needs no wake-up.  Each round defers one descriptor after
 * the previous one was released.  Why round i (i >= 1) lands in a linger
 * when it is deferred before t0 + (i + 1) D, t0 the time before the first
 * defer: the first batch opens no earlier than t0 and gathers D, so the
 * first drain's opening time is at least t0 + D; each later drain opens
 * when the linger before it (or the gathering it handed a descriptor to)
 * has slept out D from the previous opening, so
 * drain i opens no earlier than t0 + (i + 1) D, and its linger lasts until
 * that + D.  Each defer time is read after pgfree_defer() returned, so it
 * is no earlier than the defer.  A round later than that (the machine held
 * this thread up) proves nothing and the attempt is retried: nothing here
 * asserts a speed.  Without the linger the thread parks right after each
 * drain, and every round costs a wake-up.
 */
#define LINGER_DELAY_US 200000u
#define LINGER_ROUNDS 5

struct linger_probe {
	_Atomic long released;
};

static int linger_flush(void *ctx, const struct pgfree_range *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static void linger_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct linger_probe *p = ctx;

	for (; batch; batch = batch->next)
		atomic_fetch_add(&p->released, 1);
}

/* Return: the wake-ups of one attempt, or -1 if a round came too late to judge. */
static long linger_attempt(unsigned int design)
{
	struct linger_probe p;
	struct pgfree_config cfg = { 0 };
	struct pgfree_domain *dom;
	struct pgfree_llist_node node[LINGER_ROUNDS + 1];
	struct pgfree_stats st;
	double t0 = test_now(), d = LINGER_DELAY_US / 1e6;
	bool judged = true;

	atomic_init(&p.released, 0);
	cfg.design = design;
	cfg.ops.flush = linger_flush;
	cfg.ops.release = linger_release;
	cfg.ctx = &p;
	cfg.batch_delay_us = LINGER_DELAY_US;
	cr_assert_eq(pgfree_domain_create(&cfg, &dom), 0);
	for (int i = 0; i <= LINGER_ROUNDS; i++) {
		double since;

		cr_assert_eq(pgfree_defer(dom, &node[i]), 0);
		since = test_now();
		if (i > 0 && since - t0 >= (i + 1) * d)
			judged = false;
		/* A safety net for a lost wake-up, not a speed. */
		while (atomic_load(&p.released) < i + 1 && test_now() - since < ROUND_TIMEOUT_S)
			test_sleep_us(1000);
		cr_assert_eq(atomic_load(&p.released), i + 1, "%s: round %d not released",
			     pgfree_design_name(design), i);
	}
	cr_assert_eq(pgfree_stats(dom, &st), 0);
	cr_assert_eq(pgfree_domain_destroy(dom), 0);
	return judged ? (long)st.wakeups : -1;
}

Test(wakeup, drain_thread_lingers_after_a_drain, .timeout = 240)
{
	for_each_design(design) {
		long w = -1;

		for (int attempt = 0; attempt < 3 && w < 0; attempt++)
			w = linger_attempt(design);
		if (w < 0) {
			cr_log_info("%s: every attempt had a round too late to judge",
				    pgfree_design_name(design));
			continue;
		}
		/* The first defer may find the new thread parked: one wake-up. */
		cr_assert_leq(w, 1, "%s: %ld wake-ups for %d rounds that each came while the "
			      "drain thread lingered", pgfree_design_name(design), w,
			      LINGER_ROUNDS + 1);
	}
}
