// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The measurement behind where a take-back drain gets a batch's range from
 * when ->range_of is set (issue: "measure reading the ranges in the drain
 * against an accumulation the producer keeps on its own list's line, and
 * keep the cheaper"), as a standalone program with the take-back cycle's
 * shape: one producer (CPU 0) pushes descriptors onto its list with a CAS,
 * one drain (CPU 1) detaches the list with an exchange and hands the chain
 * back through a second word, which the producer empties with an exchange
 * and walks (its own lines) to reuse the descriptors.  Two ways to know the
 * chain's range:
 *
 *   walk:  the drain reads every descriptor's range (what lib/batch.c does
 *          when ->range_of is set): one read of a line the producer wrote,
 *          per descriptor, on the drain's CPU;
 *   accum: the producer widens a [start, end) kept on its list's line with
 *          two CAS loops (min, max) before each push; the drain takes it
 *          with two exchanges before detaching and reads it again after
 *          (what is widened between the two belongs to nodes that may be in
 *          either chain: keeping both makes the range cover every node).
 *
 * Prints, per mode, the producer's ns per defer (its whole loop: push,
 * widen, take back, reuse) and the drain's ns per descriptor (the detach
 * and the range only, not its wait for the producer to take the previous
 * chain), medians of 11 rounds with the spread.  Needs 2 CPUs.
 *
 *   cc -O2 -pthread -D_GNU_SOURCE bench/micro/range_costs.c -o /tmp/range_costs
 *   /tmp/range_costs
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RING 8192
#define ROUNDS 11
#define PER_ROUND 4000000L

struct desc {
	struct desc *next;
	uintptr_t start, end;
	int free;			/* owned by the producer: its own line */
} __attribute__((aligned(64)));

static struct desc ring[RING];
static _Alignas(128) _Atomic(struct desc *) head;
static _Alignas(128) _Atomic uintptr_t acc_start, acc_end;	/* accum: the list's line */
static _Alignas(128) _Atomic(struct desc *) handed;		/* the chain handed back */
static _Alignas(128) _Atomic int stop, mode_accum;
static _Alignas(128) _Atomic uint64_t drain_ns, drained;

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	pthread_setaffinity_np(pthread_self(), sizeof(s), &s);
}

/* Relaxed CAS loops: the push's release CAS publishes the widening with the node. */
static void widen(uintptr_t s, uintptr_t e)
{
	uintptr_t v = atomic_load_explicit(&acc_start, memory_order_relaxed);

	while (s < v && !atomic_compare_exchange_weak_explicit(&acc_start, &v, s,
							       memory_order_relaxed,
							       memory_order_relaxed))
		;
	v = atomic_load_explicit(&acc_end, memory_order_relaxed);
	while (e > v && !atomic_compare_exchange_weak_explicit(&acc_end, &v, e,
							       memory_order_relaxed,
							       memory_order_relaxed))
		;
}

static void *drain_fn(void *arg)
{
	volatile uintptr_t sink;

	(void)arg;
	pin(1);
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		uint64_t t0 = now_ns(), n = 0;
		uintptr_t lo = UINTPTR_MAX, hi = 0;
		struct desc *c;

		if (atomic_load_explicit(&mode_accum, memory_order_relaxed)) {
			/* R1, then the detach, then R2 (see the header). */
			lo = atomic_exchange_explicit(&acc_start, UINTPTR_MAX, memory_order_relaxed);
			hi = atomic_exchange_explicit(&acc_end, 0, memory_order_relaxed);
			c = atomic_exchange_explicit(&head, NULL, memory_order_acquire);
			if (!c)
				continue;
			uintptr_t s2 = atomic_load_explicit(&acc_start, memory_order_relaxed);
			uintptr_t e2 = atomic_load_explicit(&acc_end, memory_order_relaxed);

			lo = s2 < lo ? s2 : lo;
			hi = e2 > hi ? e2 : hi;
			n = 1;		/* the chain is not walked: count it as one */
		} else {
			c = atomic_exchange_explicit(&head, NULL, memory_order_acquire);
			if (!c)
				continue;
			for (struct desc *d = c; d; d = d->next, n++) {
				lo = d->start < lo ? d->start : lo;
				hi = d->end > hi ? d->end : hi;
			}
		}
		sink = lo ^ hi;
		/* Timed: the detach and the range, not the wait below. */
		atomic_fetch_add_explicit(&drain_ns, now_ns() - t0, memory_order_relaxed);
		atomic_fetch_add_explicit(&drained, n, memory_order_relaxed);
		/* Hand the chain back; wait while the producer has not taken the last. */
		while (atomic_load_explicit(&handed, memory_order_relaxed) &&
		       !atomic_load_explicit(&stop, memory_order_relaxed))
			;
		atomic_store_explicit(&handed, c, memory_order_release);
	}
	(void)sink;
	return NULL;
}

/* One round: PER_ROUND defers; returns the producer's ns per defer. */
static double produce(void)
{
	uint64_t t0 = now_ns();
	long i = 0, pos = 0;

	while (i < PER_ROUND) {
		struct desc *d = &ring[pos];

		if (!d->free) {
			/* Take back what the drain handed over: our own lines. */
			struct desc *c = atomic_exchange_explicit(&handed, NULL,
								  memory_order_acquire);

			for (; c; c = c->next)
				c->free = 1;
			continue;
		}
		pos = (pos + 1) % RING;
		d->free = 0;
		d->start = (uintptr_t)i << 12;
		d->end = d->start + 4096;
		if (atomic_load_explicit(&mode_accum, memory_order_relaxed))
			widen(d->start, d->end);
		struct desc *f = atomic_load_explicit(&head, memory_order_relaxed);

		do
			d->next = f;
		while (!atomic_compare_exchange_weak_explicit(&head, &f, d, memory_order_release,
							      memory_order_relaxed));
		i++;
	}
	return (double)(now_ns() - t0) / PER_ROUND;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(void)
{
	double prod[2][ROUNDS], drn[2][ROUNDS];
	pthread_t th;

	for (int i = 0; i < RING; i++)
		ring[i].free = 1;
	pin(0);
	pthread_create(&th, NULL, drain_fn, NULL);
	for (int r = 0; r < ROUNDS + 1; r++) {
		for (int m = 0; m < 2; m++) {		/* interleaved: walk, accum */
			atomic_store(&mode_accum, m);
			atomic_store(&drain_ns, 0);
			atomic_store(&drained, 0);
			double p = produce();
			uint64_t dn = atomic_load(&drain_ns), dd = atomic_load(&drained);

			if (r == 0)
				continue;	/* warm-up round */
			prod[m][r - 1] = p;
			/* accum counts chains: per descriptor, spread over what was produced */
			drn[m][r - 1] = (double)dn / (m ? PER_ROUND : (dd ? dd : 1));
		}
	}
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	for (int m = 0; m < 2; m++) {
		qsort(prod[m], ROUNDS, sizeof(double), cmp);
		qsort(drn[m], ROUNDS, sizeof(double), cmp);
		printf("%-6s producer %.2f ns/defer [%.2f-%.2f], drain %.2f ns/descriptor "
		       "[%.2f-%.2f] (median [q1-q3] of %d rounds)\n", m ? "accum" : "walk",
		       prod[m][ROUNDS / 2], prod[m][ROUNDS / 4], prod[m][3 * ROUNDS / 4],
		       drn[m][ROUNDS / 2], drn[m][ROUNDS / 4], drn[m][3 * ROUNDS / 4], ROUNDS);
	}
	return 0;
}
