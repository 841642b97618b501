/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_WORKLOADS_H
#define PGFREE_BENCH_WORKLOADS_H
#include <stdbool.h>

struct bench_opts {
	bool quick;
	int nr_cpus;			/* online CPUs */
	int max_threads;		/* highest producer count */
	const int *pin;			/* CPU list to pin producers to, or NULL */
	int nr_pin;
};

/* Register every workload for every design (and the floor). */
void workloads_register(const struct bench_opts *o);

#endif
