/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_DESIGNS_H
#define PGFREE_BENCH_DESIGNS_H
/*
 * The designs under comparison, behind one small interface so that every
 * workload drives each the same way.
 *
 * @name: the row name in bench.json ("enqueue/<name>/policy:<p>/threads:<n>")
 * @flush_hook: whether the design has a place for the once-per-batch flush
 * @policy: which batching policies it runs under (enum bpolicy_set)
 * @note: one line for the report
 * @arg: passed to @create as is (the table-driven variants' parameters)
 * @create: build an instance releasing into @sink under @pol (coordinator
 *	thread, untimed)
 * @defer: queue one descriptor (the timed hot path, any producer thread)
 * @quiesce: return once everything deferred so far is released
 * @destroy: quiesce and free the instance
 * @thread_enter/@thread_exit: per producer thread, around its work
 *	(liburcu's call_rcu wants registered threads); may be NULL
 * @take_back: may be NULL; a design whose released descriptors come back
 *	to the producer that freed them (pgfree's PGFREE_F_TAKE_BACK) takes
 *	back what is ready and releases it to the sink.  The producer calls
 *	it once per chunk of defers and while it waits for a descriptor.
 * @locked: a lib/design_locked.c port (the lockstat build times its lock)
 * @peer: another library (the targets compare percpu with every peer)
 *
 * Adding a variant of a pgfree design is one line in design_pgfree.c's
 * table (BENCH_PGFREE_VARIANT); of a peer, one entry in design_peers.c's.
 */
#include <stdbool.h>

#include "bdesc.h"

/*
 * One batching policy for every consumer: pgfree's drain and the peers'
 * drain (bdrain.c) both gather for @delay_us after a wake-up, cut short at
 * @batch_max queued; 0 = drain at once.
 */
struct bpolicy {
	const char *name;		/* "delay", "nodelay", "kernel", "own" */
	unsigned int delay_us;
	unsigned int batch_max;
};

extern struct bpolicy bpolicy_delay;	/* --pgfree-delay-us sets its delay */
extern const struct bpolicy bpolicy_nodelay, bpolicy_kernel, bpolicy_own;

enum bpolicy_set {
	BP_BOTH,	/* "delay" and "nodelay" */
	BP_KERNEL,	/* only "kernel": the v5 port as the kernel runs it */
	BP_OWN,		/* only "own": the library's own consumer (call_rcu) */
	BP_NONE,	/* only "none": no consumer at all (the floor) */
};

struct bdesign {
	const char *name;
	bool flush_hook;
	enum bpolicy_set policy;
	const char *note;
	const void *arg;
	void *(*create)(struct bsink *sink, const void *arg, const struct bpolicy *pol);
	void (*defer)(void *impl, struct bdesc *d);
	void (*quiesce)(void *impl);
	void (*destroy)(void *impl);
	void (*thread_enter)(void *impl);
	void (*thread_exit)(void *impl);
	void (*take_back)(void *impl);
	/* A lib/design_locked.c design: the lockstat build reports its lock. */
	bool locked;
	/* A library a user would pick instead of pgfree (judged by the targets). */
	bool peer;
};

/* The tables (design_pgfree.c, design_peers.c) and the floor. */
extern const struct bdesign bench_pgfree_designs[], bench_peer_designs[], bdesign_floor;
extern const unsigned int bench_nr_pgfree_designs, bench_nr_peer_designs;

/* Every design but the floor, in report order (bench_designs_init() fills it). */
#define BENCH_MAX_DESIGNS 64
extern const struct bdesign *bench_designs[BENCH_MAX_DESIGNS];
extern unsigned int bench_nr_designs;
void bench_designs_init(void);

/* The policies a design runs under, in order; returns how many (<= 2). */
unsigned int bench_policies(const struct bdesign *d, const struct bpolicy *out[2]);

#endif
