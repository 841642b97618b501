// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Do the two vCPUs share a core?  Each thread, pinned to CPU 0 (and CPU 1
 * with "2"), runs one of two loops and prints ns per iteration:
 *   alu: six independent multiply-adds (throughput-bound: two threads on
 *        one core's SMT siblings would each run at about half speed);
 *   cas: an llist-style push with a release CAS on a private head, over
 *        4096 private 64-byte nodes, held in cache (no line is shared
 *        between threads);
 *   stream: the same push over 2^20 distinct nodes (64 MiB per thread),
 *        each pushed once, as defer_levels.c defers them: the loop
 *        streams from memory, without the library.
 * Usage: alu_cas alu|cas|stream [2]
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct node {
	struct node *next;
	long pad[7];
};

#define N (1L << 26)
#define NSTREAM (1L << 20)
static _Atomic int go;
static double ns_per_op[2];
static int alu, stream;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void *run(void *arg)
{
	int cpu = (int)(long)arg;
	cpu_set_t set;
	long nn = stream ? NSTREAM : 4096, iters = stream ? NSTREAM : N;
	struct node *nodes = aligned_alloc(64, nn * sizeof(*nodes));
	_Atomic(struct node *) head = NULL;
	unsigned long a = 1, b = 2, c = 3, d = 4, e = 5, f = 6;
	double t0;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	memset(nodes, 0, nn * sizeof(*nodes));
	while (!atomic_load(&go))
		;
	t0 = now_ns();
	for (long i = 0; i < iters; i++) {
		if (alu) {
			a = a * 6364136223846793005UL + 1;
			b = b * 6364136223846793005UL + 3;
			c = c * 6364136223846793005UL + 5;
			d = d * 6364136223846793005UL + 7;
			e = e * 6364136223846793005UL + 9;
			f = f * 6364136223846793005UL + 11;
		} else {
			struct node *n = &nodes[i & (nn - 1)];
			struct node *old = atomic_load_explicit(&head, memory_order_relaxed);

			do
				n->next = old;
			while (!atomic_compare_exchange_weak_explicit(&head, &old, n,
					memory_order_release, memory_order_relaxed));
			if (!stream && (i & 4095) == 4095)
				atomic_store_explicit(&head, NULL, memory_order_relaxed);
		}
	}
	ns_per_op[cpu] = (now_ns() - t0) / iters;
	if ((a ^ b ^ c ^ d ^ e ^ f) == 42)	/* keep the multiplies */
		puts("");
	free(nodes);
	return NULL;
}

int main(int argc, char **argv)
{
	int two = argc > 2 && !strcmp(argv[2], "2");
	pthread_t t[2];

	alu = argc > 1 && !strcmp(argv[1], "alu");
	stream = argc > 1 && !strcmp(argv[1], "stream");
	for (int i = 0; i < 1 + two; i++)
		pthread_create(&t[i], NULL, run, (void *)(long)i);
	atomic_store(&go, 1);
	for (int i = 0; i < 1 + two; i++)
		pthread_join(t[i], NULL);
	printf("%s, %d thread(s): %.2f", alu ? "alu" : stream ? "stream" : "cas", 1 + two,
	       ns_per_op[0]);
	if (two)
		printf(" / %.2f", ns_per_op[1]);
	printf(" ns per iteration\n");
	return 0;
}
