// SPDX-License-Identifier: MIT OR GPL-2.0-only
#include <string.h>

#include "lathist.h"

void lathist_reset(struct lathist *h)
{
	memset(h, 0, sizeof(*h));
}

static unsigned int bucket_of(uint64_t ns)
{
	unsigned int pow, sub;

	if (ns < LATHIST_SUB)
		return (unsigned int)ns;
	pow = 63u - (unsigned int)__builtin_clzll(ns);		/* >= 4 */
	sub = (unsigned int)(ns >> (pow - 4)) & (LATHIST_SUB - 1);
	if (pow - 3 >= LATHIST_POW)
		return LATHIST_POW * LATHIST_SUB - 1;
	return (pow - 3) * LATHIST_SUB + sub;
}

/* The upper bound of a bucket, in ns: what a percentile reports. */
static uint64_t bucket_top(unsigned int b)
{
	unsigned int pow = b / LATHIST_SUB, sub = b % LATHIST_SUB;

	if (pow == 0)
		return sub;
	pow += 3;
	return ((uint64_t)(LATHIST_SUB + sub + 1) << (pow - 4)) - 1;
}

void lathist_record(struct lathist *h, uint64_t ns)
{
	uint64_t m = atomic_load_explicit(&h->max, memory_order_relaxed);

	/* Relaxed: a statistic, read after the run is quiesced. */
	atomic_fetch_add_explicit(&h->b[bucket_of(ns)], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->n, 1, memory_order_relaxed);
	while (ns > m && !atomic_compare_exchange_weak_explicit(&h->max, &m, ns, memory_order_relaxed,
							       memory_order_relaxed))
		;
}

uint64_t lathist_percentile(const struct lathist *h, double p)
{
	uint64_t n = atomic_load_explicit(&h->n, memory_order_relaxed), seen = 0;
	uint64_t rank = (uint64_t)(p * (double)n);

	if (!n)
		return 0;
	if (rank >= n)
		rank = n - 1;
	for (unsigned int b = 0; b < LATHIST_POW * LATHIST_SUB; b++) {
		seen += atomic_load_explicit(&h->b[b], memory_order_relaxed);
		if (seen > rank)
			return bucket_top(b);
	}
	return atomic_load_explicit(&h->max, memory_order_relaxed);
}
