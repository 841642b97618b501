/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_DESIGNS_H
#define PGFREE_BENCH_DESIGNS_H
/*
 * The designs under comparison, behind one small interface so that every
 * workload drives each the same way.
 *
 * @create: build an instance releasing into @sink (thread 0, untimed)
 * @defer: queue one descriptor (the timed hot path, any producer thread)
 * @quiesce: return once everything deferred so far is released
 * @destroy: quiesce and free the instance
 * @thread_enter/@thread_exit: per producer thread, around its work
 *	(liburcu's call_rcu wants registered threads); may be NULL
 * @flush_hook: whether the design has a place for the once-per-batch flush
 */
#include <stdbool.h>

#include "bdesc.h"

struct bdesign {
	const char *name;
	bool flush_hook;
	const char *note;
	void *(*create)(struct bsink *sink);
	void (*defer)(void *impl, struct bdesc *d);
	void (*quiesce)(void *impl);
	void (*destroy)(void *impl);
	void (*thread_enter)(void *impl);
	void (*thread_exit)(void *impl);
};

extern const struct bdesign bdesign_percpu, bdesign_v5, bdesign_v3, bdesign_global_llist;
extern const struct bdesign bdesign_percpu_mark, bdesign_percpu_bounded;
extern const struct bdesign bdesign_call_rcu, bdesign_lfs_percpu, bdesign_lfs_global;
extern const struct bdesign bdesign_wfcq, bdesign_ao_stack, bdesign_floor;

extern long bench_pgfree_delay_us;

/* Every design but the floor, in report order. */
extern const struct bdesign *const bench_designs[];
extern const unsigned int bench_nr_designs;

#endif
