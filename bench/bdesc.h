/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_BDESC_H
#define PGFREE_BENCH_BDESC_H
/*
 * What every design in the benchmark shares: one descriptor type, one
 * release path and one simulated flush ("the sink"), so that designs differ
 * only in how they queue.
 *
 * A descriptor carries the link fields of every queue (the kernel's
 * struct ptdesc would carry one); each design uses its own.  Descriptors
 * are recycled through per-thread rings: ->busy is 1 from defer until the
 * sink releases it, and a producer that finds the next one still busy waits
 * (back-pressure, counted as a stall).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include <atomic_ops_stack.h>
#include <ck_epoch.h>
#include <pgfree/pgfree.h>
#include <urcu/lfstack.h>
#include <urcu/wfcqueue.h>
#include <urcu.h>

#include "lathist.h"

struct bdesc {
	struct pgfree_llist_node node;		/* pgfree designs */
	union {
		struct rcu_head rcu;		/* call_rcu */
		struct cds_lfs_node lfs;	/* cds_lfs */
		struct cds_wfcq_node wfcq;	/* cds_wfcq */
		AO_t ao;			/* AO_stack */
		ck_epoch_entry_t ck;		/* ck_epoch */
	} u;
	_Atomic uint32_t busy;
	uint64_t t_defer;			/* ns, latency workload only */
	void *page;				/* memory workload: the "page" */
} __attribute__((aligned(64)));

/**
 * struct bsink - the release side every design calls into
 * @flush_ns: simulated flush cost (a spin: an IOTLB invalidation with a wait
 *	descriptor takes microseconds)
 * @flushes: flush calls
 * @released: descriptors released
 * @lat: latency histogram, or NULL
 * @free_pages: free each descriptor's ->page (memory workload)
 */
struct bsink {
	uint64_t flush_ns;
	_Atomic uint64_t flushes;
	_Atomic uint64_t released;
	struct lathist *lat;
	bool free_pages;
};

static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

void bsink_flush(struct bsink *s);
void bsink_release_one(struct bsink *s, struct bdesc *d);
void bsink_count_released(struct bsink *s, uint64_t n);

/* pgfree ops over a sink (ctx = the sink). */
int bsink_pgfree_flush(void *ctx, const struct pgfree_range *range);
void bsink_pgfree_release(void *ctx, struct pgfree_llist_node *batch);

#endif /* PGFREE_BENCH_BDESC_H */
