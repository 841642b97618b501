// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* The CPU number behind linux/percpu.h's raw_cpu_ptr()/this_cpu_ptr(). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>

#include <linux/percpu.h>

shim_cpu_id_t shim_cpu_id_fn;

int shim_smp_processor_id(void)
{
	/* Written only while no other thread reads it: a plain variable. */
	int cpu = shim_cpu_id_fn ? shim_cpu_id_fn() : sched_getcpu();

	/* sched_getcpu() fails only without kernel support: use slot 0. */
	if (cpu < 0)
		cpu = 0;
	return cpu % NR_CPUS;
}
