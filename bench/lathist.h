/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_LATHIST_H
#define PGFREE_BENCH_LATHIST_H
/*
 * A log-linear latency histogram: 16 sub-buckets per power of two of
 * nanoseconds (about 6% resolution) up to 2^40 ns.  Recording is a relaxed
 * atomic increment, so several consumer threads (call_rcu's per-CPU
 * workers) may record at once.
 */
#include <stdatomic.h>
#include <stdint.h>

#define LATHIST_SUB 16
#define LATHIST_POW 40

struct lathist {
	_Atomic uint64_t b[LATHIST_POW * LATHIST_SUB];
	_Atomic uint64_t max;
	_Atomic uint64_t n;
};

void lathist_reset(struct lathist *h);
void lathist_record(struct lathist *h, uint64_t ns);
uint64_t lathist_percentile(const struct lathist *h, double p);

#endif
