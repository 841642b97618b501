/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_BDRAIN_H
#define PGFREE_BENCH_BDRAIN_H
/*
 * A drain thread for the benchmark's adapters over queues that have none of
 * their own (liburcu's cds_lfs and cds_wfcq, libatomic_ops' AO_stack).  It
 * does what pgfree's drain does, so that those queues are compared with the
 * same consumer: park on a futex, woken by the producer that made work
 * visible (Dekker pairing: store, seq_cst fence, load on both sides); then,
 * as pgfree's drain (lib/drain.c, gather()), gather for the policy's delay,
 * polling in slices of delay/8 (20 us at least) and stopping early once
 * batch_max are taken or a quiesce asks; take everything, flush once per
 * batch, release each.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bdesc.h"
#include "designs.h"

struct bdrain {
	_Atomic uint32_t parked __attribute__((aligned(128)));
	_Atomic bool kick;
	_Atomic bool stop;
	pthread_mutex_t lock;
	pthread_cond_t done;
	uint64_t started, completed;		/* under lock */
	struct bsink *sink;
	uint64_t delay_ns, batch_max;	/* the batching policy */
	void *impl;
	bool (*has_work)(void *impl);
	/* Append every queued descriptor to the vector; return how many. */
	void (*take)(void *impl, struct bdrain *dr);
	struct bdesc **vec;
	uint64_t vec_len, vec_cap;
	pthread_t thread;
};

void bdrain_start(struct bdrain *dr, struct bsink *sink, const struct bpolicy *pol, void *impl,
		  bool (*has_work)(void *), void (*take)(void *, struct bdrain *));
void bdrain_push(struct bdrain *dr, struct bdesc *d);	/* from take() */
void bdrain_wake_if_parked(struct bdrain *dr);		/* producers */
void bdrain_quiesce(struct bdrain *dr);
void bdrain_stop(struct bdrain *dr);

#endif
