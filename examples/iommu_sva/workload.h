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

/*
 * The devices' pace (README, "How the devices are paced").  A real IOMMU
 * walks in hardware and takes no CPU; a simulated one is a thread, which
 * walking without pause would take a whole CPU from the threads measured.
 * So each device translates in bursts of WALK_BURST addresses and sleeps
 * until its next burst is due: WALK_RATE translations a second, about 1 %
 * of a CPU per device on the machines measured (the stage reports it).
 */
#define WALK_RATE	100000	/* translations per second per device */
#define WALK_BURST	100	/* translations per wake-up: 1 ms apart */

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
 * @go: every thread starts its timed work when it is set (after all
 *	threads exist)
 * @kernel_stop: tells the CPU threads to stop (the end of the timed window)
 * @device_stop: tells the device threads to stop (after the last flush)
 * @walk_rate: translations a second per device, 0: without pause
 * @walk_burst: translations per burst (per wake-up when paced)
 * @nr_cpus: CPU threads
 * @cpus: them
 */
struct workload {
	struct pagetable *pt;
	_Atomic bool go;
	_Atomic bool kernel_stop;
	_Atomic bool device_stop;
	unsigned long walk_rate;
	unsigned int walk_burst;
	unsigned int nr_cpus;
	struct cpu_thread *cpus;
};

/**
 * struct device_ctx - a device thread's argument, and what it measured
 * @w: the workload
 * @dev: the device it drives
 * @wall_ns: its timed window: from @w->go to the first burst that saw
 *	@w->kernel_stop (read after join, as the rest)
 * @cpu_ns: its CPU time in that window
 * @runq_ns: its time runnable but waiting for a CPU in that window
 *	(/proc schedstat)
 * @slices: times it was given a CPU in that window
 * @bursts: bursts done in that window
 * @dropped: bursts skipped because the thread was more than a burst
 *	late (preempted): a paced device does not catch up, so that its CPU
 *	share stays bounded whatever the load
 */
struct device_ctx {
	struct workload *w;
	struct iommu_dev *dev;
	uint64_t wall_ns, cpu_ns, runq_ns, slices;
	uint64_t bursts, dropped;
};

void workload_init(struct workload *w, struct pagetable *pt, struct cpu_thread *cpus,
		   unsigned int nr_cpus, unsigned long walk_rate, unsigned int walk_burst);
void *kernel_thread(void *arg);
void *device_thread(void *arg);

#endif /* IOMMU_SVA_WORKLOAD_H */
