/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_PERCPU_H
#define _SHIM_LINUX_PERCPU_H
/*
 * Per-CPU variables in user space: an array of NR_CPUS slots, each on its
 * own cache line (as the kernel's per-CPU areas are apart), indexed by
 * sched_getcpu() modulo NR_CPUS.
 *
 * "This CPU" is only a hint here: the thread may migrate right after
 * sched_getcpu(), and several threads share a slot.  get_cpu_ptr() cannot
 * disable preemption, so the ported code runs with more than the kernel
 * allows it (there, with preemption disabled, every add to a CPU's list
 * comes from that CPU): adds from several threads on one list, and an
 * adder preempted between its llist_add() and its queue_work().  The
 * test's checks must hold anyway, since llist_add() is atomic on whichever
 * list it got and a preempted adder only delays the frees behind it until
 * it queues the work, which every drain waits for.  The tests can also
 * replace the CPU number source (shim_cpu_id_fn) to make every call land
 * on an arbitrary slot, the worst case.
 *
 * this_cpu_ptr() cannot check "preemption disabled" here (the kernel warns
 * under CONFIG_DEBUG_PREEMPT); it is the same as raw_cpu_ptr().
 */
#include <linux/compiler.h>

#ifndef NR_CPUS
#define NR_CPUS		8
#endif
#define nr_cpu_ids	NR_CPUS
#define SHIM_CACHELINE	64

/* Returns a CPU number >= 0 (reduced modulo NR_CPUS by the caller). */
typedef int (*shim_cpu_id_t)(void);

/*
 * NULL (the default) means sched_getcpu().  Set it only while no other
 * thread uses per-CPU variables (e.g. before starting the producers).
 */
extern shim_cpu_id_t shim_cpu_id_fn;

/* The current CPU's slot, 0 .. NR_CPUS - 1. */
int shim_smp_processor_id(void);

#define DEFINE_PER_CPU(type, name) \
	struct { __typeof__(type) v __attribute__((aligned(SHIM_CACHELINE))); } name[NR_CPUS]

/* The kernel passes &var; the shim's var is an array of padded slots. */
#define per_cpu_ptr(ptr, cpu)	(&(*(ptr))[(cpu)].v)
#define raw_cpu_ptr(ptr)	per_cpu_ptr(ptr, shim_smp_processor_id())
#define this_cpu_ptr(ptr)	raw_cpu_ptr(ptr)
#define per_cpu(var, cpu)	(*per_cpu_ptr(&(var), cpu))

/* No preemption to disable in user space: get/put are raw accesses. */
#define get_cpu_ptr(ptr)	raw_cpu_ptr(ptr)
#define put_cpu_ptr(ptr)	((void)(ptr))

#define for_each_possible_cpu(cpu) for ((cpu) = 0; (cpu) < NR_CPUS; (cpu)++)

#endif /* _SHIM_LINUX_PERCPU_H */
