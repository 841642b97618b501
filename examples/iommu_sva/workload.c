// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * workload.c: the kernel thread (vmalloc/vfree of small ranges, scattered
 * so that most vfree empties a PTE table and some a PMD or PUD table) and
 * the device threads (translations of addresses in those ranges).
 *
 * The ranges are spread over 2 PGD entries x 4 PUD entries x 8 PMD
 * entries of the vmalloc area: with 16 live ranges, tables are emptied,
 * freed and their frames recycled all the time, while devices keep cached
 * pointers to them.
 */
#include <errno.h>

#include "workload.h"

#define VMALLOC_START	0xffffc90000000000ull	/* x86-64, 4-level */

static uint64_t xorshift64(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

void workload_init(struct workload *w, struct pagetable *pt)
{
	w->pt = pt;
	atomic_init(&w->kernel_stop, false);
	atomic_init(&w->device_stop, false);
	for (unsigned int i = 0; i < 2 * NR_LIVE; i++)
		atomic_init(&w->hint[i], 0);
	for (unsigned int i = 0; i < NR_LIVE; i++)
		w->live[i] = 0;
	w->kernel_ops = 0;
	w->kernel_seed = 0x9e3779b97f4a7c15ull;
}

/* A random range that does not cross a PTE table: start | (pages - 1). */
static uint64_t pick_range(uint64_t *seed)
{
	uint64_t r = xorshift64(seed);
	unsigned int pages = 1 + r % MAX_RANGE;
	uint64_t va = VMALLOC_START;

	va += ((r >> 8) % 2) << 39;			/* PGD entry */
	va += ((r >> 16) % 4) << 30;			/* PUD entry */
	va += ((r >> 24) % 8) << 21;			/* PMD entry */
	va += ((r >> 32) % (PT_ENTRIES - pages + 1)) << PAGE_SHIFT;
	return va | (pages - 1);
}

/**
 * kernel_thread() - vfree a random live range, vmalloc a new one, repeat
 * @arg: the struct workload
 *
 * Return: NULL.
 */
void *kernel_thread(void *arg)
{
	struct workload *w = arg;
	uint64_t mask = PAGE_SIZE - 1;

	/* Relaxed: a stop request orders nothing; join does. */
	while (!atomic_load_explicit(&w->kernel_stop, memory_order_relaxed)) {
		unsigned int slot = xorshift64(&w->kernel_seed) % NR_LIVE;
		uint64_t old = w->live[slot], range;

		if (old) {
			pt_unmap(w->pt, old & ~mask, (unsigned int)(old & mask) + 1);
			w->kernel_ops++;
			/* Relaxed: a hint; the tables are what the devices
			 * read, and those are ordered on their own. */
			atomic_store_explicit(&w->hint[NR_LIVE + slot], old,
					      memory_order_relaxed);
		}
		do
			range = pick_range(&w->kernel_seed);
		while (pt_map(w->pt, range & ~mask, (unsigned int)(range & mask) + 1) == -EEXIST);
		w->kernel_ops++;
		w->live[slot] = range;
		atomic_store_explicit(&w->hint[slot], range, memory_order_relaxed);
	}
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
	uint64_t mask = PAGE_SIZE - 1;

	/* Relaxed: as in kernel_thread(). */
	while (!atomic_load_explicit(&w->device_stop, memory_order_relaxed)) {
		uint64_t r = xorshift64(&dev->seed);
		/* Relaxed: any value will do, it is only an address. */
		uint64_t range = atomic_load_explicit(&w->hint[r % (2 * NR_LIVE)],
						      memory_order_relaxed);
		uint64_t pte;

		if (!range)
			continue;
		(void)iommu_translate(dev, (range & ~mask) +
				      ((r >> 32) % ((range & mask) + 1)) * PAGE_SIZE, &pte);
	}
	return NULL;
}
