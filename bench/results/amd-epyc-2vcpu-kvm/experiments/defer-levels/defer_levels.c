// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * What one pgfree_defer() costs, with no drain and no harness: a PERCPU
 * domain without a drain thread (take-back with "tb"), and a thread pinned
 * to CPU 0 (and one to CPU 1 with "2") that defers 2^20 distinct 64-byte
 * descriptors of its own.  Prints ns per defer for each thread; destroy
 * then releases everything (untimed).
 * Usage: defer_levels 1|2 [tb]
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pgfree/pgfree.h>

struct desc {
	struct pgfree_llist_node node;
	long pad[7];
};

#define N (1 << 20)
static struct pgfree_domain *dom;
static struct desc *descs[2];
static _Atomic int go;
static double ns_per_defer[2];

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int flush(void *ctx, const struct pgfree_range *range)
{
	(void)ctx;
	(void)range;
	return 0;
}

static void release(void *ctx, struct pgfree_llist_node *batch)
{
	(void)ctx;
	(void)batch;
}

static void *run(void *arg)
{
	int cpu = (int)(long)arg;
	cpu_set_t set;
	double t0;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	while (!atomic_load(&go))
		;
	t0 = now_ns();
	for (int i = 0; i < N; i++)
		pgfree_defer(dom, &descs[cpu][i].node);
	ns_per_defer[cpu] = (now_ns() - t0) / N;
	return NULL;
}

int main(int argc, char **argv)
{
	struct pgfree_config cfg = { 0 };
	int n = argc > 1 ? atoi(argv[1]) : 1;
	pthread_t t[2];
	int err;

	if (n < 1 || n > 2)
		n = 1;
	cfg.design = PGFREE_DESIGN_PERCPU;
	cfg.flags = PGFREE_F_NO_THREAD | (argc > 2 && !strcmp(argv[2], "tb") ? PGFREE_F_TAKE_BACK : 0);
	cfg.ops.flush = flush;
	cfg.ops.release = release;
	err = pgfree_domain_create(&cfg, &dom);
	if (err) {
		fprintf(stderr, "create: %s\n", pgfree_strerror(err));
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		descs[i] = aligned_alloc(64, sizeof(struct desc) * N);
		memset(descs[i], 0, sizeof(struct desc) * N);
	}
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, run, (void *)(long)i);
	atomic_store(&go, 1);
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("%s, %d producer(s): %.2f", cfg.flags & PGFREE_F_TAKE_BACK ? "take-back" : "percpu",
	       n, ns_per_defer[0]);
	if (n == 2)
		printf(" / %.2f", ns_per_defer[1]);
	printf(" ns per defer\n");
	pgfree_domain_destroy(dom);
	free(descs[0]);
	free(descs[1]);
	return 0;
}
