/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
/*
 * workload.h: the two kinds of thread of the iommu_sva example: the "CPU"
 * threads that map and unmap ranges (vmalloc/vfree), each in its own
 * subtree of the address space, and the device threads that translate
 * addresses of those ranges through the IOMMU.
 */
#ifndef IOMMU_SVA_WORKLOAD_H
#define IOMMU_SVA_WORKLOAD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "iommu.h"
#include "pagetable.h"

#define NR_LIVE		16	/* live vmalloc ranges per CPU thread at any time */
#define MAX_RANGE	16	/* pages per range, at most */
#define MAX_CPUS	32	/* CPU threads: 2 PGD entries each */

/**
 * struct cpu_thread - one CPU thread (the kernel on one CPU, or one vCPU)
 * @w: the workload
 * @pc: its side of the page table (its pool part, its counters)
 * @id: 0..nr_cpus-1; its subtree is PGD entries 2 * @id and 2 * @id + 1 of
 *	the vmalloc area
 * @hint: addresses for the devices: @hint[i] the i-th live range, and
 *	@hint[NR_LIVE + i] the range last unmapped from slot i (a device may
 *	still DMA to, or prefetch, a buffer just freed); start | (pages - 1)
 * @live: the live ranges (own thread only): start | (pages - 1), 0 free
 * @ops: maps and unmaps done (own thread; read after join)
 * @seed: its random state
 * @cpu_ns: its CPU time over the run (read after join)
 * @nvcsw: voluntary context switches over the run
 * @nivcsw: involuntary ones (preempted)
 */
struct cpu_thread {
	struct workload *w;
	struct pt_cpu pc;
	unsigned int id;
	_Alignas(64) _Atomic uint64_t hint[2 * NR_LIVE];
	_Alignas(64) uint64_t live[NR_LIVE];
	unsigned long ops;
	uint64_t seed;
	uint64_t cpu_ns;
	long nvcsw, nivcsw;
	uint64_t runq_ns;
};

/**
 * struct workload - what the threads share
 * @pt: the kernel's page table
 * @go: the CPU threads start when it is set (after all threads exist)
 * @kernel_stop: tells the CPU threads to stop
 * @device_stop: tells the device threads to stop
 * @nr_cpus: CPU threads
 * @cpus: them
 */
struct workload {
	struct pagetable *pt;
	_Atomic bool go;
	_Atomic bool kernel_stop;
	_Atomic bool device_stop;
	unsigned int nr_cpus;
	struct cpu_thread *cpus;
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

void workload_init(struct workload *w, struct pagetable *pt, struct cpu_thread *cpus,
		   unsigned int nr_cpus);
void *kernel_thread(void *arg);
void *device_thread(void *arg);

#endif /* IOMMU_SVA_WORKLOAD_H */
