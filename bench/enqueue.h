/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_ENQUEUE_H
#define PGFREE_BENCH_ENQUEUE_H
/* The enqueue workload's own runner (enqueue.c). */
#include <stdbool.h>
#include <stdint.h>

struct enq_opts {
	int reps;			/* timed repetitions (after one warm-up pass) */
	uint64_t window_ns, warm_ns;	/* per producer, per run */
	const int *threads;		/* producer counts */
	int nr_threads;
	bool pin;			/* pin producers while they are <= the CPUs */
	const int *cpus;		/* the CPUs to pin to, in order */
	int nr_cpus_list;		/* their number: more producers = oversubscribed */
	const char *filter;		/* POSIX extended regex on row names, or NULL */
	const char *out;		/* the JSON file */
	uint64_t seed;			/* the order shuffle's */
	bool lockstat;			/* only the locked designs, with lock statistics */
};

/* Run every cell, write the JSON; 0 or a negative errno. */
int enqueue_run(const struct enq_opts *o);

#endif
