// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * workload.c: the CPU threads (vmalloc/vfree of small ranges, scattered so
 * that most vfree empties a PTE table and some a PMD or PUD table) and the
 * device threads (translations of addresses in those ranges).
 *
 * Each CPU thread's ranges are spread over its own 2 PGD entries x 4 PUD
 * entries x 8 PMD entries of the vmalloc area: with 16 live ranges per
 * thread, tables are emptied, freed and their frames recycled all the time,
 * while devices keep cached pointers to them.  The subtrees are disjoint,
 * so the threads never write the same table: what they share is only the
 * way emptied tables are freed (the mode under test), as CPUs running
 * vfree() on different vmap areas, or vCPUs unmapping guest memory in
 * different ranges, share the kernel's deferred page-table free.
 */
#define _GNU_SOURCE	/* RUSAGE_THREAD */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/resource.h>
#include <time.h>

#include "workload.h"

#define VMALLOC_START	0xffffc90000000000ull	/* x86-64, 4-level: PGD entry 402 */

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

void workload_init(struct workload *w, struct pagetable *pt, struct cpu_thread *cpus,
		   unsigned int nr_cpus)
{
	w->pt = pt;
	atomic_init(&w->go, false);
	atomic_init(&w->kernel_stop, false);
	atomic_init(&w->device_stop, false);
	w->nr_cpus = nr_cpus;
	w->cpus = cpus;
	for (unsigned int c = 0; c < nr_cpus; c++) {
		struct cpu_thread *t = &cpus[c];

		t->w = w;
		t->id = c;
		t->pc = (struct pt_cpu){ .pt = pt, .part = c };
		for (unsigned int i = 0; i < 2 * NR_LIVE; i++)
			atomic_init(&t->hint[i], 0);
		for (unsigned int i = 0; i < NR_LIVE; i++)
			t->live[i] = 0;
		t->ops = 0;
		t->seed = 0x9e3779b97f4a7c15ull * (c + 1);
		t->cpu_ns = 0;
		t->nvcsw = t->nivcsw = 0;
		t->runq_ns = 0;
	}
}

/* A random range of CPU thread @id that does not cross a PTE table:
 * start | (pages - 1). */
static uint64_t pick_range(uint64_t *seed, unsigned int id)
{
	uint64_t r = xorshift64(seed);
	unsigned int pages = 1 + r % MAX_RANGE;
	uint64_t va = VMALLOC_START;

	va += (uint64_t)(2 * id + (r >> 8) % 2) << 39;	/* PGD entry: own pair */
	va += ((r >> 16) % 4) << 30;			/* PUD entry */
	va += ((r >> 24) % 8) << 21;			/* PMD entry */
	va += ((r >> 32) % (PT_ENTRIES - pages + 1)) << PAGE_SHIFT;
	return va | (pages - 1);
}

/* The calling thread's time runnable but waiting for a CPU (schedstat). */
static uint64_t thread_runq_ns(void)
{
	unsigned long long run = 0, wait = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (!f)
		return 0;
	if (fscanf(f, "%llu %llu", &run, &wait) != 2)
		wait = 0;
	fclose(f);
	return wait;
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/**
 * kernel_thread() - one CPU thread: vfree a random live range, vmalloc a
 *	new one, repeat
 * @arg: its struct cpu_thread
 *
 * Return: NULL.
 */
void *kernel_thread(void *arg)
{
	struct cpu_thread *t = arg;
	struct workload *w = t->w;
	uint64_t mask = PAGE_SIZE - 1, cpu0, rq0;
	struct rusage ru0, ru1;

	/* Acquire: nothing to order really; the start gate, polled so that no
	 * futex or barrier is inside the timed window. */
	while (!atomic_load_explicit(&w->go, memory_order_acquire))
		sched_yield();
	rq0 = thread_runq_ns();
	cpu0 = thread_cpu_ns();
	getrusage(RUSAGE_THREAD, &ru0);
	/* Relaxed: a stop request orders nothing; join does. */
	while (!atomic_load_explicit(&w->kernel_stop, memory_order_relaxed)) {
		unsigned int slot = xorshift64(&t->seed) % NR_LIVE;
		uint64_t old = t->live[slot], range;

		if (old) {
			pt_unmap(&t->pc, old & ~mask, (unsigned int)(old & mask) + 1);
			t->ops++;
			/* Relaxed: a hint; the tables are what the devices
			 * read, and those are ordered on their own. */
			atomic_store_explicit(&t->hint[NR_LIVE + slot], old, memory_order_relaxed);
		}
		do
			range = pick_range(&t->seed, t->id);
		while (pt_map(&t->pc, range & ~mask, (unsigned int)(range & mask) + 1) == -EEXIST);
		t->ops++;
		t->live[slot] = range;
		atomic_store_explicit(&t->hint[slot], range, memory_order_relaxed);
	}
	t->cpu_ns = thread_cpu_ns() - cpu0;
	t->runq_ns = thread_runq_ns() - rq0;
	getrusage(RUSAGE_THREAD, &ru1);
	t->nvcsw = ru1.ru_nvcsw - ru0.ru_nvcsw;
	t->nivcsw = ru1.ru_nivcsw - ru0.ru_nivcsw;
	return NULL;
}

/**
 * device_thread() - translate addresses of recent ranges until told to stop
 * @arg: a struct device_ctx
 *
 * Return: NULL.
 */
void *device_thread(void *arg)
{
	struct device_ctx *ctx = arg;
	struct iommu_dev *dev = ctx->dev;
	struct workload *w = ctx->w;
	uint64_t mask = PAGE_SIZE - 1, pte;

	/* Relaxed: an id for main to read our schedstat by, after join of
	 * the CPU threads; orders nothing. */
	atomic_store_explicit(&dev->tid, (int)gettid(), memory_order_relaxed);
	/* Relaxed: as in kernel_thread(). */
	while (!atomic_load_explicit(&w->device_stop, memory_order_relaxed)) {
		uint64_t r = xorshift64(&dev->seed);
		struct cpu_thread *t = &w->cpus[(r >> 40) % w->nr_cpus];
		/* Relaxed: any value will do, it is only an address. */
		uint64_t range = atomic_load_explicit(&t->hint[r % (2 * NR_LIVE)],
						      memory_order_relaxed);

		if (!range)
			continue;
		(void)iommu_translate(dev, (range & ~mask) +
				      ((r >> 32) % ((range & mask) + 1)) * PAGE_SIZE, &pte);
	}
	return NULL;
}
