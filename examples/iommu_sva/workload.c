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
 *
 * The devices walk in bursts and sleep between them (struct workload's
 * @walk_rate): a real IOMMU walks in hardware, beside the CPUs, and a
 * device thread that never slept would take a CPU from the threads
 * measured.  Each thread measures its own CPU and run-queue time over the
 * timed window, for the stage's count of runnable threads.
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

/**
 * workload_init() - set up the shared state and the CPU threads' contexts
 * @w: the workload
 * @pt: the page table
 * @cpus: @nr_cpus contexts
 * @nr_cpus: CPU threads
 * @walk_rate: translations a second per device, 0 for no pause
 * @walk_burst: translations per burst, >= 1
 */
void workload_init(struct workload *w, struct pagetable *pt, struct cpu_thread *cpus,
		   unsigned int nr_cpus, unsigned long walk_rate, unsigned int walk_burst)
{
	w->pt = pt;
	atomic_init(&w->go, false);
	atomic_init(&w->kernel_stop, false);
	atomic_init(&w->device_stop, false);
	w->walk_rate = walk_rate;
	w->walk_burst = walk_burst;
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

/* The calling thread's /proc schedstat: time on a CPU, time runnable but
 * waiting for one, times given one.  Zeros where the kernel has no
 * schedstat (then the stage reports the waits as 0). */
static void thread_schedstat(uint64_t *run, uint64_t *wait, uint64_t *slices)
{
	unsigned long long r = 0, w = 0, s = 0;
	FILE *f = fopen("/proc/thread-self/schedstat", "r");

	if (f) {
		if (fscanf(f, "%llu %llu %llu", &r, &w, &s) != 3)
			r = w = s = 0;
		fclose(f);
	}
	*run = r;
	*wait = w;
	*slices = s;
}

/* The calling thread's time runnable but waiting for a CPU (schedstat). */
static uint64_t thread_runq_ns(void)
{
	uint64_t run, wait, slices;

	thread_schedstat(&run, &wait, &slices);
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

/* One translation of an address of a recent range of any CPU thread. */
static void device_translate_one(struct workload *w, struct iommu_dev *dev)
{
	uint64_t mask = PAGE_SIZE - 1, pte;
	uint64_t r = xorshift64(&dev->seed);
	struct cpu_thread *t = &w->cpus[(r >> 40) % w->nr_cpus];
	/* Relaxed: any value will do, it is only an address. */
	uint64_t range = atomic_load_explicit(&t->hint[r % (2 * NR_LIVE)], memory_order_relaxed);

	if (!range)
		return;
	(void)iommu_translate(dev, (range & ~mask) +
			      ((r >> 32) % ((range & mask) + 1)) * PAGE_SIZE, &pte);
}

/* The end of a device's timed window: its figures since @go (@t0, @cpu0,
 * @rq0, @sl0 taken then).  The CPU time comes from the thread's clock, the
 * run-queue wait and the slices from schedstat. */
static void device_window_end(struct device_ctx *ctx, uint64_t t0, uint64_t cpu0,
			      uint64_t rq0, uint64_t sl0)
{
	uint64_t run, rq, sl;

	thread_schedstat(&run, &rq, &sl);
	ctx->wall_ns = pool_now_ns() - t0;
	ctx->cpu_ns = thread_cpu_ns() - cpu0;
	ctx->runq_ns = rq - rq0;
	ctx->slices = sl - sl0;
}

/**
 * device_thread() - translate addresses of recent ranges until told to stop
 * @arg: a struct device_ctx
 *
 * Paced (@walk_rate > 0): a burst of @walk_burst translations, then a
 * sleep until the next burst is due (an absolute deadline, so that the
 * rate holds however long a burst takes).  A thread that wakes more than a
 * burst late (it was preempted) drops the bursts it missed rather than
 * catch up: its CPU share stays bounded on a loaded machine, and the rate
 * it reached is in the translations it counted.
 *
 * Return: NULL.
 */
void *device_thread(void *arg)
{
	struct device_ctx *ctx = arg;
	struct iommu_dev *dev = ctx->dev;
	struct workload *w = ctx->w;
	uint64_t period = w->walk_rate ?
		(uint64_t)w->walk_burst * 1000000000u / w->walk_rate : 0;
	uint64_t t0, cpu0, run0, rq0, sl0, next;
	bool timing = true;

	/* Acquire: as in kernel_thread(); the devices' window opens with the
	 * CPU threads'. */
	while (!atomic_load_explicit(&w->go, memory_order_acquire))
		sched_yield();
	thread_schedstat(&run0, &rq0, &sl0);
	(void)run0;
	cpu0 = thread_cpu_ns();
	t0 = next = pool_now_ns();
	ctx->bursts = ctx->dropped = 0;
	/* Relaxed: as in kernel_thread(). */
	while (!atomic_load_explicit(&w->device_stop, memory_order_relaxed)) {
		uint64_t now;

		/* Relaxed: the window's end needs no ordering, only an end. */
		if (timing && atomic_load_explicit(&w->kernel_stop, memory_order_relaxed)) {
			device_window_end(ctx, t0, cpu0, rq0, sl0);
			timing = false;
		}
		for (unsigned int i = 0; i < w->walk_burst; i++)
			device_translate_one(w, dev);
		if (timing)
			ctx->bursts++;
		if (!period)
			continue;
		next += period;
		now = pool_now_ns();
		if (now < next) {
			struct timespec ts = { .tv_sec = (time_t)(next / 1000000000u),
					       .tv_nsec = (long)(next % 1000000000u) };

			/* pool_now_ns() reads CLOCK_MONOTONIC too. */
			while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
				;
		} else if (now - next > period) {
			if (timing)
				ctx->dropped += (now - next) / period;
			next = now;
		}
	}
	if (timing)
		device_window_end(ctx, t0, cpu0, rq0, sl0);
	return NULL;
}
