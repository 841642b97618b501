// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * trace: a deterministic interleaving of the real library's defers and
 * drains, for counting cache-line transfers from a memory trace
 * (bench/model/count.sh runs it under valgrind's lackey; mesi.py replays
 * the trace through a MESI model).
 *
 * Three threads: producers P0 (CPU 0) and P1 (CPU 1), and the drainer D.
 * They take turns by a schedule: P0 defers, P1 defers, ... and every
 * DRAIN_EVERY rounds D calls pgfree_drain().  Only the thread whose turn
 * it is runs library code; the others wait in sched_yield() (which under
 * valgrind also hands over the one CPU it runs threads on).  So the trace
 * is a sequence of whole operations, each opened by a load of its
 * thread's marker word: mesi.py attributes every access after a marker to
 * that thread.  Each producer defers fresh descriptors that it wrote
 * beforehand, as a freeing CPU has just written the table it frees.
 *
 * Prints the address ranges mesi.py needs on stdout (one "range NAME
 * START LEN" per line); the domain has no drain thread (PGFREE_F_NO_THREAD:
 * D drains) and two lists for PERCPU, one per producer CPU.
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

#define LINE 64
#define WARMUP_ROUNDS 8

struct tdesc {
	struct pgfree_llist_node node;
	uint64_t payload;
} __attribute__((aligned(LINE)));

/* Control words, each on its own line, excluded from the count. */
static _Alignas(LINE) _Atomic long step;
static _Alignas(LINE) volatile long marker[4][LINE / sizeof(long)];	/* P0, P1, D, idle */
static int *sched_tab;
static long nsteps;

static struct pgfree_domain *dom;

/*
 * Load a marker so that the load stays in the trace: valgrind drops a load
 * whose value is unused, so the value decides a (never taken) branch.
 */
static inline void mark(int i)
{
	if (marker[i][0] == 0x5a5a5a5a)
		abort();
}
static struct tdesc *desc[2];
static long rounds, drain_every;

static int t_flush(void *ctx, const struct pgfree_range *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static void t_release(void *ctx, struct pgfree_llist_node *batch)
{
	(void)ctx;
	while (batch) {
		struct pgfree_llist_node *next = batch->next;

		((struct tdesc *)batch)->payload++;	/* a free touches it */
		batch = next;
	}
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

static void *role(void *arg)
{
	int me = (int)(intptr_t)arg;
	long next_desc = 0;

	pin(me == 1 ? 1 : 0);
	if (me < 2)
		for (long i = 0; i < rounds + WARMUP_ROUNDS; i++)
			desc[me][i].payload = (uint64_t)i;	/* in this CPU's cache */
	for (;;) {
		long s;

		/* Seq_cst: the turn passes the library's state between threads. */
		while ((s = atomic_load(&step)) < nsteps && sched_tab[s] != me)
			sched_yield();
		if (s >= nsteps)
			return NULL;
		mark(me);
		if (me < 2)
			pgfree_defer(dom, &desc[me][next_desc++].node);
		else
			pgfree_drain(dom);
		mark(3);
		/* Seq_cst, as the load above: the next thread sees this operation. */
		atomic_store(&step, s + 1);
	}
}

static const struct {
	const char *name;
	unsigned int d;
} designs[] = {
	{ "percpu", PGFREE_DESIGN_PERCPU },
	{ "v5", PGFREE_DESIGN_V5 },
	{ "v3", PGFREE_DESIGN_V3 },
	{ "global_llist", PGFREE_DESIGN_GLOBAL_LLIST },
};

#define RANGE(name, p, len) printf("range %s %#lx %lu\n", name, (unsigned long)(uintptr_t)(p), (unsigned long)(len))

int main(int argc, char **argv)
{
	struct pgfree_config cfg = { 0 };
	pthread_t t[3];
	long n = 0;
	int k = -1;

	for (unsigned int i = 0; argc > 1 && i < sizeof(designs) / sizeof(designs[0]); i++)
		if (!strcmp(argv[1], designs[i].name))
			k = (int)i;
	if (k < 0) {
		fprintf(stderr, "usage: %s percpu|v5|v3|global_llist [ROUNDS] [DRAIN_EVERY]\n", argv[0]);
		return 2;
	}
	rounds = argc > 2 ? atol(argv[2]) : 64;
	drain_every = argc > 3 ? atol(argv[3]) : 8;

	cfg.design = designs[k].d;
	cfg.flags = PGFREE_F_NO_THREAD;
	cfg.nr_slots = 2;
	cfg.ops.flush = t_flush;
	cfg.ops.release = t_release;
	if (pgfree_domain_create(&cfg, &dom)) {
		fprintf(stderr, "trace: create failed\n");
		return 1;
	}
	for (int p = 0; p < 2; p++)
		desc[p] = aligned_alloc(LINE, sizeof(struct tdesc) * (size_t)(rounds + WARMUP_ROUNDS));

	/* The schedule: warm-up rounds and a drain, then the counted rounds
	 * with a drain every drain_every rounds. */
	sched_tab = malloc(sizeof(int) * (size_t)(3 * (rounds + WARMUP_ROUNDS) + 3));
	for (long r = 0; r < WARMUP_ROUNDS; r++) {
		sched_tab[n++] = 0;
		sched_tab[n++] = 1;
	}
	sched_tab[n++] = 2;	/* mesi.py skips these 2 x WARMUP_ROUNDS + 1 operations */
	for (long r = 0; r < rounds; r++) {
		sched_tab[n++] = 0;
		sched_tab[n++] = 1;
		if ((r + 1) % drain_every == 0)
			sched_tab[n++] = 2;
	}
	nsteps = n;

	printf("design %s rounds %ld drain_every %ld\n", designs[k].name, rounds, drain_every);
	for (int i = 0; i < 4; i++) {
		static const char *const mk[] = { "marker_p0", "marker_p1", "marker_d", "marker_idle" };
		RANGE(mk[i], &marker[i][0], sizeof(long));
	}
	RANGE("domain", dom, sizeof(*dom));
	if (dom->slots)
		RANGE("slots", dom->slots, sizeof(struct pgfree_slot) * dom->nr_slots);
	if (dom->design_priv)
		RANGE("locked_list", dom->design_priv, LINE);
	RANGE("desc_p0", desc[0], sizeof(struct tdesc) * (size_t)(rounds + WARMUP_ROUNDS));
	RANGE("desc_p1", desc[1], sizeof(struct tdesc) * (size_t)(rounds + WARMUP_ROUNDS));
	fflush(stdout);

	for (int i = 0; i < 3; i++)
		pthread_create(&t[i], NULL, role, (void *)(intptr_t)i);
	for (int i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	pgfree_domain_destroy(dom);
	return 0;
}
