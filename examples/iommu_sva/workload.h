/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * workload.h: the two kinds of thread of the iommu_sva example: the kernel
 * thread that maps and unmaps ranges (vmalloc/vfree), and the device
 * threads that translate addresses of those ranges through the IOMMU.
 */
#ifndef IOMMU_SVA_WORKLOAD_H
#define IOMMU_SVA_WORKLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "iommu.h"
#include "pagetable.h"

#define NR_LIVE		16	/* live vmalloc ranges at any time */
#define MAX_RANGE	16	/* pages per range, at most */

/**
 * struct workload - what the threads share
 * @pt: the kernel's page table (kernel thread only)
 * @kernel_stop: tells the kernel thread to stop
 * @device_stop: tells the device threads to stop
 * @hint: addresses for the devices: @hint[i] the i-th live range, and
 *	@hint[NR_LIVE + i] the range last unmapped from slot i (a device may
 *	still DMA to, or prefetch, a buffer just freed); start | (pages - 1)
 * @live: the live ranges (kernel thread only): start | (pages - 1), 0 free
 * @kernel_ops: maps and unmaps done (kernel thread; read after join)
 * @kernel_seed: the kernel thread's random state
 */
struct workload {
	struct pagetable *pt;
	_Atomic bool kernel_stop;
	_Atomic bool device_stop;
	_Atomic uint64_t hint[2 * NR_LIVE];
	uint64_t live[NR_LIVE];
	unsigned long kernel_ops;
	uint64_t kernel_seed;
};

/**
 * struct device_ctx - a device thread's argument
 * @w: the workload
 * @dev: the device it drives
 */
struct device_ctx {
	struct workload *w;
	struct iommu_dev *dev;
};

void workload_init(struct workload *w, struct pagetable *pt);
void *kernel_thread(void *arg);
void *device_thread(void *arg);

#endif /* IOMMU_SVA_WORKLOAD_H */
