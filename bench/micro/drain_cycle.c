// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * What the drain thread costs beside its producers, counted rather than
 * timed per call: two producers pinned to CPUs 0 and 1 recycle descriptors
 * through rings (as bench/enqueue.c does: 32768 each, a producer whose
 * next descriptor is not back yields), one domain, its drain thread
 * unpinned on the same two CPUs.  Per second of a round: descriptors
 * (sustained), the producers' stall share, the drain thread's CPU share
 * (/proc schedstat), its voluntary context switches (/proc status), drains
 * (pgfree_stats), and descriptors per drain.
 *
 * The take-back mode takes back after every 256 defers and while stalled,
 * and hands each descriptor back to its ring (one store); the percpu mode's
 * ->release() does the same store on the drain's CPU.  Medians of 11 rounds
 * of 0.5 s with [q1-q3]; a shared machine moves them, so compare modes
 * measured in the same session.  Needs 2 CPUs.
 *
 *   cmake -S . -B build && cmake --build build --target pgfree_static
 *   cc -O2 -pthread -D_GNU_SOURCE -Iinclude bench/micro/drain_cycle.c \
 *      build/libpgfree.a -o /tmp/drain_cycle
 *   /tmp/drain_cycle            # percpu and take-back, delay 50 us
 *   /tmp/drain_cycle --nodelay
 *
 * For the system calls behind the switches, run it under
 * `perf stat -e syscalls:sys_enter_futex,context-switches`.
 */
#include <dirent.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <pgfree/pgfree.h>

#define RING 32768
#define CHUNK 256
#define ROUNDS 11
#define ROUND_US 500000

struct desc {
	struct pgfree_llist_node node;
	_Atomic uint32_t busy;
} __attribute__((aligned(64)));

struct producer {
	pthread_t th;
	int cpu;
	struct desc *ring;
	/* Written by the producer, read by main between rounds: relaxed is enough for counts. */
	_Atomic uint64_t n, stall_ns;
} __attribute__((aligned(128)));

static struct pgfree_domain *dom;
static int take_back;
static _Atomic int go, stop;
static struct producer prod[2];

static uint64_t now_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Hand a descriptor back to its ring: release, pairs with the producer's acquire. */
static __attribute__((noinline)) void give(struct desc *d)
{
	atomic_store_explicit(&d->busy, 0, memory_order_release);
}

static int flush(void *ctx, const struct pgfree_range *r)
{
	(void)ctx;
	(void)r;
	return 0;
}

static void release(void *ctx, struct pgfree_llist_node *batch)
{
	struct desc *d, *next;

	(void)ctx;
	pgfree_llist_for_each_entry_safe(d, next, batch, node)
		give(d);
}

static void take_one(void *arg, struct pgfree_llist_node *node)
{
	(void)arg;
	give(pgfree_llist_entry(node, struct desc, node));
}

/* As bench/design_pgfree.c's take-back row: one walk, in the library. */
static void take(void)
{
	pgfree_take_back_each(dom, take_one, NULL);
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	unsigned int pos = 0;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(p->cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	/* Relaxed flags: they order nothing but the start and the end. */
	while (!atomic_load_explicit(&go, memory_order_relaxed))
		;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < CHUNK; i++) {
			struct desc *d = &p->ring[pos];

			pos = (pos + 1) & (RING - 1);
			/* Acquire: pairs with give(); reuse after the release. */
			if (atomic_load_explicit(&d->busy, memory_order_acquire)) {
				uint64_t t = now_ns(CLOCK_MONOTONIC);

				while (atomic_load_explicit(&d->busy, memory_order_acquire)) {
					if (take_back)
						take();
					sched_yield();
				}
				atomic_fetch_add_explicit(&p->stall_ns, now_ns(CLOCK_MONOTONIC) - t,
							  memory_order_relaxed);
			}
			atomic_store_explicit(&d->busy, 1, memory_order_relaxed);
			pgfree_defer(dom, &d->node);
		}
		atomic_fetch_add_explicit(&p->n, CHUNK, memory_order_relaxed);
		if (take_back)
			take();
	}
	return NULL;
}

/* The drain thread's CPU time (ns) and voluntary switches, by its name. */
static int drain_thread_counts(uint64_t *cpu_ns, long *vol)
{
	DIR *dir = opendir("/proc/self/task");
	struct dirent *e;
	char path[300], line[256];
	int found = 0;

	if (!dir)
		return -1;
	while ((e = readdir(dir)) && !found) {
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		found = fgets(line, sizeof(line), f) && !strncmp(line, "pgfree-drain", 12);
		fclose(f);
		if (!found)
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/status", e->d_name);
		f = fopen(path, "r");
		while (f && fgets(line, sizeof(line), f))
			sscanf(line, "voluntary_ctxt_switches: %ld", vol);
		if (f)
			fclose(f);
		snprintf(path, sizeof(path), "/proc/self/task/%s/schedstat", e->d_name);
		f = fopen(path, "r");
		if (!f || fscanf(f, "%lu", (unsigned long *)cpu_ns) != 1)
			found = 0;
		if (f)
			fclose(f);
	}
	closedir(dir);
	return found ? 0 : -1;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void print_stat(const char *what, double *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp);
	printf("  %-26s %10.3g [%.3g-%.3g]\n", what, v[ROUNDS / 2], v[ROUNDS / 4],
	       v[(3 * ROUNDS) / 4]);
}

static int run(int tb, int nodelay)
{
	struct pgfree_config cfg = {
		.design = PGFREE_DESIGN_PERCPU,
		.flags = (tb ? PGFREE_F_TAKE_BACK : 0) | (nodelay ? PGFREE_F_NO_DELAY : 0),
		.batch_delay_us = nodelay ? 0 : 50,
		.batch_max = 4096,
		.ops = { .flush = flush, .release = release },
	};
	double sus[ROUNDS], stall[ROUNDS], cpu[ROUNDS], sw[ROUNDS], drains[ROUNDS], per[ROUNDS];
	int err;

	take_back = tb;
	atomic_store(&go, 0);
	atomic_store(&stop, 0);
	err = pgfree_domain_create(&cfg, &dom);
	if (err) {
		fprintf(stderr, "pgfree_domain_create: %s\n", pgfree_strerror(err));
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		prod[i].cpu = i;
		atomic_store(&prod[i].n, 0);
		atomic_store(&prod[i].stall_ns, 0);
		prod[i].ring = aligned_alloc(64, sizeof(struct desc) * RING);
		if (!prod[i].ring)
			abort();
		memset(prod[i].ring, 0, sizeof(struct desc) * RING);
		pthread_create(&prod[i].th, NULL, producer_main, &prod[i]);
	}
	atomic_store(&go, 1);
	usleep(100000);		/* warm-up: caches, the drain's steady state */
	for (int r = 0; r < ROUNDS; r++) {
		struct pgfree_stats s0, s1;
		uint64_t n0 = 0, n1 = 0, st0 = 0, st1 = 0, c0 = 0, c1 = 0, t0, t1;
		long v0 = 0, v1 = 0;
		double w;

		drain_thread_counts(&c0, &v0);
		pgfree_stats(dom, &s0);
		for (int i = 0; i < 2; i++) {
			n0 += atomic_load_explicit(&prod[i].n, memory_order_relaxed);
			st0 += atomic_load_explicit(&prod[i].stall_ns, memory_order_relaxed);
		}
		t0 = now_ns(CLOCK_MONOTONIC);
		usleep(ROUND_US);
		t1 = now_ns(CLOCK_MONOTONIC);
		drain_thread_counts(&c1, &v1);
		pgfree_stats(dom, &s1);
		for (int i = 0; i < 2; i++) {
			n1 += atomic_load_explicit(&prod[i].n, memory_order_relaxed);
			st1 += atomic_load_explicit(&prod[i].stall_ns, memory_order_relaxed);
		}
		w = (double)(t1 - t0) / 1e9;
		sus[r] = (double)(n1 - n0) / w / 1e6;
		stall[r] = (double)(st1 - st0) / 1e9 / 2 / w;
		cpu[r] = (double)(c1 - c0) / 1e9 / w;
		sw[r] = (double)(v1 - v0) / w;
		drains[r] = (double)(s1.drains - s0.drains) / w;
		per[r] = (double)(n1 - n0) / (double)(s1.drains - s0.drains + 1);
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(prod[i].th, NULL);
	pgfree_domain_destroy(dom);
	for (int i = 0; i < 2; i++)
		free(prod[i].ring);
	printf("%s, policy %s: median [q1-q3] of %d rounds of %.1f s\n",
	       tb ? "percpu_takeback" : "percpu", nodelay ? "nodelay" : "delay (50 us)", ROUNDS,
	       ROUND_US / 1e6);
	print_stat("sustained M/s", sus);
	print_stat("producers' stall share", stall);
	print_stat("drain thread CPU share", cpu);
	print_stat("drain voluntary switches/s", sw);
	print_stat("drains/s", drains);
	print_stat("descriptors per drain", per);
	return 0;
}

int main(int argc, char **argv)
{
	int nodelay = argc > 1 && !strcmp(argv[1], "--nodelay");

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		fprintf(stderr, "drain_cycle: needs 2 CPUs\n");
		return 77;
	}
	/* Alternate the modes, twice, so that drift lands on both. */
	for (int k = 0; k < 2; k++)
		if (run(0, nodelay) || run(1, nodelay))
			return 1;
	return 0;
}
