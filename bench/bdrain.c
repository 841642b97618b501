// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* The benchmark adapters' drain thread; see bdrain.h. */
#include <linux/futex.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bdrain.h"

void bdrain_push(struct bdrain *dr, struct bdesc *d)
{
	if (dr->vec_len == dr->vec_cap) {
		dr->vec_cap = dr->vec_cap ? dr->vec_cap * 2 : 4096;
		dr->vec = realloc(dr->vec, dr->vec_cap * sizeof(*dr->vec));
		if (!dr->vec)
			abort();
	}
	dr->vec[dr->vec_len++] = d;
}

/*
 * Orders, as in pgfree's wake.h: the seq_cst fences here and before the
 * drain's sleep make a Dekker pair (each side's store of "work" / "parked"
 * is seen by the other's later load), so the loads and the exchange that
 * only elects one waker can be relaxed.  Descriptors themselves travel by
 * each queue's own release/acquire operations.
 */
void bdrain_wake_if_parked(struct bdrain *dr)
{
	atomic_thread_fence(memory_order_seq_cst);	/* pairs with the drain's */
	if (atomic_load_explicit(&dr->parked, memory_order_relaxed) &&
	    atomic_exchange_explicit(&dr->parked, 0, memory_order_relaxed))
		syscall(SYS_futex, &dr->parked, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/*
 * pgfree's gather(), for these queues: poll-take into the vector until the
 * delay has passed, batch_max are taken, or a quiesce/stop asks.  What is
 * taken here is flushed by the drain_once() that follows, like pgfree's
 * carry: every take precedes that flush.  As in pgfree (lib/batch.c), the
 * delay counts from when the batch opened (@opened: the previous drain's
 * detach, or the wake-up after a park), so a batch that waited out a long
 * flush is not made to wait again.
 */
static void gather(struct bdrain *dr, uint64_t opened)
{
	uint64_t slice = dr->delay_ns / 8, start = opened;

	if (slice < 20000u)
		slice = 20000u;
	for (;;) {
		uint64_t elapsed;

		/* Relaxed: a hint to stop early; quiesce re-checks under the lock. */
		if (atomic_load_explicit(&dr->kick, memory_order_relaxed) ||
		    atomic_load_explicit(&dr->stop, memory_order_relaxed))
			return;
		pthread_mutex_lock(&dr->lock);
		dr->take(dr->impl, dr);
		pthread_mutex_unlock(&dr->lock);
		if (dr->vec_len >= dr->batch_max)
			return;
		elapsed = bench_now_ns() - start;
		if (elapsed >= dr->delay_ns)
			return;
		uint64_t ns = dr->delay_ns - elapsed < slice ? dr->delay_ns - elapsed : slice;
		struct timespec ts = { 0, (long)ns };

		nanosleep(&ts, NULL);
	}
}

static void drain_once(struct bdrain *dr)
{
	pthread_mutex_lock(&dr->lock);
	uint64_t gen = ++dr->started;

	dr->take(dr->impl, dr);
	if (dr->vec_len) {
		bsink_flush(dr->sink);
		for (uint64_t i = 0; i < dr->vec_len; i++)
			bsink_release_one(dr->sink, dr->vec[i]);
		bsink_count_released(dr->sink, dr->vec_len);
	}
	dr->vec_len = 0;
	dr->completed = gen;
	pthread_cond_broadcast(&dr->done);
	pthread_mutex_unlock(&dr->lock);
}

static void *drain_thread(void *arg)
{
	struct bdrain *dr = arg;

	uint64_t opened = 0;	/* when the batch opened; 0: at the wake-up */

	for (;;) {
		/* Relaxed: requests are re-read after the pre-sleep fence below. */
		bool stop = atomic_load_explicit(&dr->stop, memory_order_relaxed);
		bool kick = atomic_exchange_explicit(&dr->kick, false, memory_order_relaxed);

		if (!stop && !kick && !dr->has_work(dr->impl)) {
			atomic_store_explicit(&dr->parked, 1, memory_order_relaxed);
			atomic_thread_fence(memory_order_seq_cst);
			if (!dr->has_work(dr->impl) &&
			    !atomic_load_explicit(&dr->kick, memory_order_relaxed) &&
			    !atomic_load_explicit(&dr->stop, memory_order_relaxed))
				syscall(SYS_futex, &dr->parked, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
			atomic_store_explicit(&dr->parked, 0, memory_order_relaxed);
			opened = 0;
			continue;
		}
		if (!stop && !kick && dr->delay_ns)
			gather(dr, opened ? opened : bench_now_ns());
		opened = bench_now_ns();	/* the next batch opens at this detach */
		drain_once(dr);
		if (stop && !dr->has_work(dr->impl))
			return NULL;
	}
}

void bdrain_start(struct bdrain *dr, struct bsink *sink, const struct bpolicy *pol, void *impl,
		  bool (*has_work)(void *), void (*take)(void *, struct bdrain *))
{
	dr->delay_ns = (uint64_t)pol->delay_us * 1000u;
	dr->batch_max = pol->batch_max ? pol->batch_max : UINT64_MAX;
	pthread_mutex_init(&dr->lock, NULL);
	pthread_cond_init(&dr->done, NULL);
	dr->sink = sink;
	dr->impl = impl;
	dr->has_work = has_work;
	dr->take = take;
	if (pthread_create(&dr->thread, NULL, drain_thread, dr))
		abort();
}

void bdrain_quiesce(struct bdrain *dr)
{
	pthread_mutex_lock(&dr->lock);
	uint64_t target = dr->started + 1;

	atomic_store_explicit(&dr->kick, true, memory_order_relaxed);
	bdrain_wake_if_parked(dr);
	while (dr->completed < target)
		pthread_cond_wait(&dr->done, &dr->lock);
	pthread_mutex_unlock(&dr->lock);
}

void bdrain_stop(struct bdrain *dr)
{
	atomic_store_explicit(&dr->stop, true, memory_order_relaxed);
	bdrain_wake_if_parked(dr);
	pthread_join(dr->thread, NULL);
	pthread_cond_destroy(&dr->done);
	pthread_mutex_destroy(&dr->lock);
	free(dr->vec);
}
