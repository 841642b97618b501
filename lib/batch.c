// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The batching policy of the drain thread: how long gather() may still
 * wait for more descriptors before the drain flushes.
 *
 * The batching delay (struct pgfree_config.batch_delay_us) trades the wait
 * of the oldest descriptor for fewer flushes.  It is measured from the
 * moment the batch opened, not from the moment the drain thread looks:
 *  - after the drain thread was woken from park, the batch opened at the
 *    wake-up: the first descriptor of an idle spell has just come, and
 *    waiting the whole delay lets the ones behind it join the same flush;
 *  - after a drain, the next batch opened at that drain's detach: anything
 *    queued since waited while the drain flushed and released.  When the
 *    flush took longer than the delay (a slow IOMMU flush that waits for
 *    walks in flight), that batch has had its delay already, and waiting
 *    again only makes every descriptor wait longer, for no fewer flushes.
 *
 * Why measuring from the opening matters more than it seems: the wait is a
 * timed sleep (pgfree_gather_sleep()), and a thread that sleeps on a busy
 * machine gives its CPU away and gets it back only when the scheduler
 * picks it again.  On a 2-CPU machine with the producer and two device
 * threads runnable (examples/iommu_sva), a 20 us sleep returned after
 * about 300 us, so under a steady stream each batch cost a flush plus
 * about 300 us of nothing, and the frames came back that much later.  The
 * old policy (a delay from the look) paid it on every batch; this one pays
 * it only when the batch has not yet had its delay.
 *
 * Nothing here affects correctness: it only decides when the drain thread
 * stops gathering; every descriptor gathered is still detached before the
 * drain's flush (drain.c, correctness argument, step 3).
 */
#include "domain.h"

/**
 * pgfree_batch_wait_ns() - how much longer the batch may gather
 * @dom: the domain; drain thread only
 * @opened_ns: CLOCK_MONOTONIC time the batch opened (see above)
 * @now_ns: the time now
 *
 * Return: nanoseconds left of the batching delay, 0 to drain at once.
 */
uint64_t pgfree_batch_wait_ns(const struct pgfree_domain *dom, uint64_t opened_ns,
			      uint64_t now_ns)
{
	uint64_t delay = (uint64_t)dom->cfg.batch_delay_us * 1000u;
	uint64_t waited = now_ns > opened_ns ? now_ns - opened_ns : 0;

	return waited >= delay ? 0 : delay - waited;
}
