// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * trace: a deterministic interleaving of the real library's defers, drains
 * and take-backs, for counting cache-line transfers from a memory trace
 * (bench/model/count.sh runs it under valgrind's lackey; mesi.py replays
 * the trace through a MESI model).
 *
 * Three threads: producers P0 (CPU 0) and P1 (CPU 1), and the drainer D.
 * They take turns by a schedule: P0 defers, P1 defers, ... and every
 * DRAIN_EVERY rounds D calls pgfree_drain(); on a PGFREE_F_TAKE_BACK
 * domain P0 and P1 then each call pgfree_take_back() on their own CPU, as
 * the benchmark's producers do.  Only the thread whose turn it is runs;
 * the others wait in sched_yield() (which under valgrind also hands over
 * the one CPU it runs threads on).  So the trace is a sequence of whole
 * operations.
 *
 * Who does what is told by markers: before each part of an operation the
 * thread loads a marker word of its own (cache) and part (role), and
 * mesi.py attributes every access after it to that cache and role:
 *
 *	defer     P: pgfree_defer()                      (the library)
 *	user      P: reuse of a descriptor (a write, as a CPU fills the page
 *		     table it allocates), and the walk over what it took back
 *		     that hands each descriptor to its allocator (one write)
 *	takeback  P: pgfree_take_back()                  (the library)
 *	drain     D: pgfree_drain(), less the callbacks  (the library)
 *	release   D: the ->release() callback: it walks the batch and
 *		     writes each descriptor, as a free would  (the user's)
 *
 * Each producer recycles a ring of 2 x DRAIN_EVERY descriptors, so every
 * descriptor is reused after it was released or taken back (checked:
 * a reuse of a descriptor still in flight aborts), and warm-up rounds
 * cover one whole turn of the ring, so that the counted rounds see the
 * steady state: no first touches.
 *
 * Prints what mesi.py needs on stdout: "design ...", "warmup_ops N" and one
 * "range NAME START LEN" per tracked or marker region.  The domain has no
 * drain thread (PGFREE_F_NO_THREAD: D drains) and two lists, one per
 * producer CPU (PERCPU).
 *
 * Usage: trace DESIGN [ROUNDS] [DRAIN_EVERY]
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pgfree/pgfree.h>

#include "domain.h"
#include "model_designs.h"

#define LINE 64

struct tdesc {
	struct pgfree_llist_node node;
	uint64_t payload;
	int in_flight;		/* 1 from defer until released or taken back */
} __attribute__((aligned(LINE)));

/* The markers: each on its own line, excluded from the count. */
enum mk {
	MK_P0_DEFER, MK_P1_DEFER, MK_P0_USER, MK_P1_USER, MK_P0_TAKEBACK, MK_P1_TAKEBACK,
	MK_D_DRAIN, MK_D_RELEASE, MK_D_RESUME, MK_IDLE, MK_START, NR_MK
};
static const char *const mk_name[NR_MK] = {
	"p0.defer", "p1.defer", "p0.user", "p1.user", "p0.takeback", "p1.takeback",
	"d.drain", "d.release", "d.drain+", "idle", "start",
};
static _Alignas(LINE) volatile long marker[NR_MK][LINE / sizeof(long)];

/* Schedule entries: who runs, and what. */
enum op { OP_DEFER, OP_DRAIN, OP_TAKEBACK };
struct step {
	int who;		/* 0, 1: producers; 2: the drainer */
	enum op op;
};

static _Alignas(LINE) _Atomic long step;
static struct step *sched_tab;
static long nsteps, counted_from;

static struct pgfree_domain *dom;
static struct tdesc *ring[2];
static long ring_size, rounds, drain_every;

/*
 * Load a marker so that the load stays in the trace: valgrind drops a load
 * whose value is unused, so the value decides a (never taken) branch.
 */
static inline void mark(int i)
{
	if (marker[i][0] == 0x5a5a5a5a)
		abort();
}

static int t_flush(void *ctx, const struct pgfree_range *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

/* The user's: a free touches each descriptor; the drainer's cache, role release. */
static void t_release(void *ctx, struct pgfree_llist_node *batch)
{
	(void)ctx;
	mark(MK_D_RELEASE);
	while (batch) {
		struct pgfree_llist_node *next = batch->next;
		struct tdesc *d = (struct tdesc *)batch;

		d->payload++;
		d->in_flight = 0;
		batch = next;
	}
	mark(MK_D_RESUME);	/* back in the same drain: "drain+" begins no new op */
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static void producer_defer(int me, long *next)
{
	struct tdesc *d = &ring[me][(*next)++ % ring_size];

	mark(me ? MK_P1_USER : MK_P0_USER);
	if (d->in_flight) {
		fprintf(stderr, "trace: descriptor reused in flight: ring too small\n");
		abort();
	}
	d->payload++;		/* the CPU fills the table it allocated */
	d->in_flight = 1;
	mark(me ? MK_P1_DEFER : MK_P0_DEFER);
	pgfree_defer(dom, &d->node);
}

static void producer_take_back(int me)
{
	struct pgfree_chain c;
	struct pgfree_llist_node *n;

	mark(me ? MK_P1_TAKEBACK : MK_P0_TAKEBACK);
	if (pgfree_take_back(dom, &c) < 0)
		abort();
	mark(me ? MK_P1_USER : MK_P0_USER);
	/* Back to this CPU's allocator: one write each, as the benchmark's release. */
	for (n = c.first; n; n = n->next) {
		struct tdesc *d = (struct tdesc *)n;

		d->payload++;
		d->in_flight = 0;
	}
}

static void *role(void *arg)
{
	int me = (int)(intptr_t)arg;
	long next_desc = 0;

	pin(me == 1 ? 1 : 0);
	for (;;) {
		long s;

		/* Seq_cst: the turn passes the library's state between threads. */
		while ((s = atomic_load(&step)) < nsteps && sched_tab[s].who != me)
			sched_yield();
		if (s >= nsteps)
			return NULL;
		if (s == counted_from)
			mark(MK_START);
		switch (sched_tab[s].op) {
		case OP_DEFER:
			producer_defer(me, &next_desc);
			break;
		case OP_TAKEBACK:
			producer_take_back(me);
			break;
		case OP_DRAIN:
			mark(MK_D_DRAIN);
			if (pgfree_drain(dom) < 0)
				abort();
			break;
		}
		mark(MK_IDLE);
		/* Seq_cst, as the load above: the next thread sees this operation. */
		atomic_store(&step, s + 1);
	}
}

#define RANGE(name, p, len) printf("range %s %#lx %lu\n", name, (unsigned long)(uintptr_t)(p), (unsigned long)(len))

/* One round: P0 and P1 defer; after every drain_every rounds, D drains (and P0, P1 take back). */
static void add_round(long r, long *n, int take_back)
{
	sched_tab[(*n)++] = (struct step){ 0, OP_DEFER };
	sched_tab[(*n)++] = (struct step){ 1, OP_DEFER };
	if ((r + 1) % drain_every)
		return;
	sched_tab[(*n)++] = (struct step){ 2, OP_DRAIN };
	if (take_back) {
		sched_tab[(*n)++] = (struct step){ 0, OP_TAKEBACK };
		sched_tab[(*n)++] = (struct step){ 1, OP_TAKEBACK };
	}
}

int main(int argc, char **argv)
{
	struct pgfree_config cfg = { 0 };
	pthread_t t[3];
	long n = 0, warmup_rounds;
	int k = -1;

	for (int i = 0; argc > 1 && i < NR_MODEL_DESIGNS; i++)
		if (!strcmp(argv[1], model_designs[i].name))
			k = (int)i;
	if (k < 0) {
		fprintf(stderr, "usage: %s percpu|percpu_takeback|v5|v5_tas|v3|v3_tas|global_llist "
			"[ROUNDS] [DRAIN_EVERY]\n", argv[0]);
		return 2;
	}
	rounds = argc > 2 ? atol(argv[2]) : 64;
	drain_every = argc > 3 ? atol(argv[3]) : 8;
	if (rounds < 1 || drain_every < 1) {
		fprintf(stderr, "trace: ROUNDS and DRAIN_EVERY must be positive\n");
		return 2;
	}
	/* In flight at most: drain_every defers per producer, before a drain (and take-back). */
	ring_size = 2 * drain_every;
	/* One whole turn of the ring, ending with a drain: every line touched once before. */
	warmup_rounds = ring_size;

	cfg.design = model_designs[k].design;
	cfg.flags = PGFREE_F_NO_THREAD | model_designs[k].flags;
	cfg.nr_slots = 2;
	cfg.ops.flush = t_flush;
	cfg.ops.release = t_release;
	if (pgfree_domain_create(&cfg, &dom)) {
		fprintf(stderr, "trace: create failed\n");
		return 1;
	}
	for (int p = 0; p < 2; p++) {
		ring[p] = aligned_alloc(LINE, sizeof(struct tdesc) * (size_t)ring_size);
		memset(ring[p], 0, sizeof(struct tdesc) * (size_t)ring_size);
	}

	sched_tab = malloc(sizeof(*sched_tab) * (size_t)(5 * (rounds + warmup_rounds) + 8));
	for (long r = 0; r < warmup_rounds; r++)
		add_round(r, &n, model_designs[k].flags & PGFREE_F_TAKE_BACK);
	counted_from = n;	/* the first counted step loads the start marker */
	for (long r = 0; r < rounds; r++)
		add_round(r, &n, model_designs[k].flags & PGFREE_F_TAKE_BACK);
	nsteps = n;

	printf("design %s rounds %ld drain_every %ld ring %ld warmup_rounds %ld lists %u\n",
	       model_designs[k].name, rounds, drain_every, ring_size, warmup_rounds, dom->nr_slots);
	for (int i = 0; i < NR_MK; i++) {
		char name[64];

		snprintf(name, sizeof(name), "marker_%s", mk_name[i]);
		RANGE(name, &marker[i][0], sizeof(long));
	}
	RANGE("domain", dom, sizeof(*dom));
	if (dom->slots)
		RANGE("slots", dom->slots, sizeof(struct pgfree_slot) * dom->nr_slots);
	if (dom->tb)
		RANGE("tb", dom->tb, sizeof(struct pgfree_tb_list) * dom->nr_slots);
	if (dom->design_priv)
		RANGE("locked_list", dom->design_priv, LINE);
	RANGE("desc_p0", ring[0], sizeof(struct tdesc) * (size_t)ring_size);
	RANGE("desc_p1", ring[1], sizeof(struct tdesc) * (size_t)ring_size);
	fflush(stdout);

	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, role, (void *)(intptr_t)i);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	pgfree_domain_destroy(dom);
	return 0;
}
