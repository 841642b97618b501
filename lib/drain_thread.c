// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The drain thread: it sleeps until a producer wakes it (wake.h), gathers
 * for the batching delay, drains (drain.c), lingers for the rest of the
 * delay before it parks again, retries a batch a failed flush kept, and,
 * on a take-back domain, wakes for the chains that waited too long
 * (takeback.c).  Nothing here decides what is released when: that is
 * drain.c's; this file only decides when a drain runs.
 */
#include <signal.h>
#include <stdint.h>

#include "domain.h"
#include "wake.h"

/*
 * The batching policy: how long gather() may still wait for more
 * descriptors before the drain flushes.
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

/**
 * batch_wait_ns() - how much longer the batch may gather
 * @dom: the domain; drain thread only
 * @opened_ns: CLOCK_MONOTONIC time the batch opened (see above)
 * @now_ns: the time now
 *
 * Return: nanoseconds left of the batching delay, 0 to drain at once.
 */
static uint64_t batch_wait_ns(const struct pgfree_domain *dom, uint64_t opened_ns,
			     uint64_t now_ns)
{
	uint64_t delay = (uint64_t)dom->cfg.batch_delay_us * 1000u;
	uint64_t waited = now_ns > opened_ns ? now_ns - opened_ns : 0;

	return waited >= delay ? 0 : delay - waited;
}

static void *drain_thread(void *arg);

/*
 * Start the drain thread and return once it runs drain_thread(), not
 * before: create (and a fork child's restart, fork.c) hand the caller a
 * domain whose thread is past the C library's thread start, and a
 * sanitizer's.  Why it matters: a fork() while a thread is in that start
 * can leave the child with a lock nobody will release.  Clang 14's
 * AddressSanitizer allocates there (pthread_getattr_np(), for the stack
 * bounds) and does not lock its allocator around fork(): a soak that
 * forked just after creating its domains had the child's own drain threads
 * hang for good in that same allocation (docs/testing.md).  With the wait,
 * a fork() after create returns finds pgfree's thread in its loop.
 * The cost is one thread start's latency per create, never on a hot path.
 * The drain thread runs no signal handler of the application's.
 */
int pgfree_start_drain_thread(struct pgfree_domain *dom)
{
	sigset_t all, old;
	int err;

	/* Relaxed: no thread reads it yet (a fork child's copy says 1). */
	atomic_store_explicit(&dom->thread_running, 0, memory_order_relaxed);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&dom->thread, NULL, drain_thread, dom);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		return -err;
	pthread_setname_np(dom->thread, "pgfree-drain");
	pgfree_flag_wait(&dom->thread_running);
	dom->has_thread = true;
	return 0;
}

/*
 * Wait until the batching delay since @opened (above) has passed, or
 * until batch_max (or backlog_max) are queued, or until a request comes: a
 * barrier's or destroy's, or a producer's whose list reached its share of
 * the backlog mark, which also cuts the sleep short (pgfree_gather_sleep()).
 * Drain thread only.
 *
 * Each poll detaches what is queued into dom->carry (one exchange per
 * non-empty list) instead of walking the live lists to count them: a walk
 * would pull the cache lines producers are writing, while detached nodes
 * are never touched by a producer again.  Nothing here releases; the next
 * __pgfree_drain() flushes once for all of carry, so the correctness
 * argument (step 3) is unchanged: every detach precedes that flush.
 */
static uint64_t gather_slice(const struct pgfree_domain *dom)
{
	uint64_t slice = (uint64_t)dom->cfg.batch_delay_us * 1000u / 8;

	if (slice < 20000u)
		slice = 20000u;
	if (slice > 1000000u)
		slice = 1000000u;
	return slice;
}

/**
 * gather_sleep_ns() - how long the next gathering sleep may be
 * @dom: the domain; drain thread only
 * @queued: what the last look found queued
 * @counted: when the producers' counts last restarted from 0, as far as
 *	this thread knows (its last detach, or its start)
 * @now_ns: the time of that look
 * @left: what is left of the batching delay (batch_wait_ns())
 * @slice: gather_slice()
 *
 * A drain that walks looks once a slice, detaching as it goes.  One that
 * does not reads its producers' counts (enum pgfree_mark_mode's HINT),
 * which each detach restarts: when, at the rate they rose since @counted,
 * they would stay below batch_max until the delay ends, one sleep of the
 * rest does; otherwise it looks once a slice.  Why not always a slice: a
 * timed sleep costs the sleeper CPU (15-30 us on this project's KVM
 * guests) and overruns, so slices made a slow stream's batches smaller
 * (examples/iommu_sva: 30% more flushes).  Why not always the rest: the
 * producers no longer cut it short for batch_max (domain.c), so a fast
 * stream's batch would wait out the delay however large it grew.  A
 * stream that speeds up during one long sleep is seen when it ends,
 * within the delay.
 *
 * Return: nanoseconds to sleep.
 */
static uint64_t gather_sleep_ns(const struct pgfree_domain *dom, uint64_t queued,
				uint64_t counted, uint64_t now_ns, uint64_t left, uint64_t slice)
{
	uint64_t since = now_ns > counted ? now_ns - counted : 0;

	if (left <= slice)
		return left;
	if (dom->walk)
		return slice;
	/* Would the count reach batch_max by the end, at its rate so far?  (Doubles: no overflow.) */
	if ((double)queued * (double)(since + left) < (double)dom->cfg.batch_max * (double)since)
		return left;
	return slice;
}

static void gather(struct pgfree_domain *dom, uint64_t opened, uint64_t counted)
{
	uint64_t slice = gather_slice(dom);

	for (;;) {
		struct pgfree_cb_frame frame;
		uint64_t queued, left, now;

		/*
		 * Relaxed: hints to stop gathering early.  A caller's drain
		 * whose flush kept its batch sets kept (its wake-up reaches a
		 * parked thread, not this sleep, so this thread sees it within
		 * one slice); leaving here lets the loop retry the batch now
		 * and then after its back-off, instead of after the rest of
		 * the delay.
		 */
		if (atomic_load_explicit(&dom->kick, memory_order_relaxed) ||
		    atomic_load_explicit(&dom->stop, memory_order_relaxed) ||
		    atomic_load_explicit(&dom->kept, memory_order_relaxed))
			return;

		if (dom->walk) {
			pthread_mutex_lock(&dom->drain_lock);
			if (!dom->carry.nonempty)
				pgfree_batch_reset(&dom->carry);
			pgfree_cb_enter(&frame, dom);	/* ->range_of() may run */
			dom->dops->__take(dom, &dom->carry);
			pgfree_cb_exit(&frame);
			queued = dom->carry.count;
			pthread_mutex_unlock(&dom->drain_lock);
		} else {
			/*
			 * A drain that does not walk cannot count what it
			 * detaches: read the lists' counts instead (the
			 * producers keep them, enum pgfree_mark_mode's HINT),
			 * a load of each list's line per look.
			 */
			queued = pgfree_hint_backlog(dom);
		}
		if (queued >= dom->cfg.batch_max ||
		    (dom->cfg.backlog_max && queued >= dom->cfg.backlog_max))
			return;

		now = pgfree_now_ns();
		left = batch_wait_ns(dom, opened, now);
		if (!left)
			return;
		/*
		 * The drain looks again at the end of this sleep, to hold what
		 * is queued against batch_max.  Producers do not cut the sleep
		 * short for batch_max (they would pay a futex wake per batch:
		 * domain.c says what that cost); only requests and
		 * backlog_max's mark do (pgfree_gather_sleep()).
		 */
		pgfree_gather_sleep(dom, gather_sleep_ns(dom, queued, counted, now, left, slice));
	}
}

/*
 * Linger: after a drain that left nothing queued, sleep out the rest of the
 * batching delay since its detach (@opened) before parking.  Under a
 * steady stream the next descriptor comes within it; its producer finds
 * the thread not parked and makes no futex call, and the thread saves a
 * park and its wake-up (and, where the drain does not walk, the gathering
 * sleep that followed the wake-up from its start).  When the stream has
 * stopped it costs one sleep before parking.
 *
 * It ends early, like gather(): at a request (a barrier's, destroy's, a
 * producer's at its list's share of backlog_max: pgfree_gather_sleep());
 * and it looks for work at the end of each sleep and hands over to
 * gather() when some came, which holds it against batch_max.  Its sleeps
 * are gather's (gather_sleep_ns(), with nothing queued when it began): a
 * slice where the drain walks, the rest of the delay where it does not.
 * A batch another drain kept is seen when a sleep ends, as in gather().
 * On a take-back domain it ends when the first published chain is due, so
 * the take_back_us bound holds.  Drain thread only.
 */
static void linger(struct pgfree_domain *dom, uint64_t opened)
{
	uint64_t slice = gather_slice(dom);

	for (;;) {
		uint64_t now = pgfree_now_ns(), left = batch_wait_ns(dom, opened, now);

		if (left && dom->take_back) {
			uint64_t due = pgfree_tb_due(dom);

			if (due)
				left = due <= now ? 0 : (due - now < left ? due - now : left);
		}
		if (!left)
			return;
		pgfree_gather_sleep(dom, gather_sleep_ns(dom, 0, opened, now, left, slice));
		/* Relaxed: hints, as in gather(); the loop re-reads them after. */
		if (atomic_load_explicit(&dom->kick, memory_order_relaxed) ||
		    atomic_load_explicit(&dom->stop, memory_order_relaxed) ||
		    atomic_load_explicit(&dom->kept, memory_order_relaxed) ||
		    dom->dops->has_work(dom))
			return;
	}
}

/**
 * drain_thread() - the domain's drain thread
 * @arg: the domain
 *
 * Sleeps until woken, optionally gathers, drains, lingers; retries a batch kept by
 * a failed flush (its own or any other drain's) with back-off; on stop,
 * drains until nothing is left and exits.
 *
 * Return: NULL.
 */
static void *drain_thread(void *arg)
{
	struct pgfree_domain *dom = arg;
	uint64_t pause = 0, opened = 0;	/* when the batch opened; 0: at the wake-up */
	uint64_t counted = pgfree_now_ns();	/* the last detach: gather_sleep_ns() */
	bool lingered = false;		/* since the last drain */

	/* Past the thread start: pgfree_start_drain_thread() may return. */
	pgfree_flag_set(&dom->thread_running);
	for (;;) {
		/* Relaxed: all three are re-read after the fence in pgfree_park(). */
		bool stop = atomic_load_explicit(&dom->stop, memory_order_relaxed);
		bool kick = atomic_exchange_explicit(&dom->kick, false, memory_order_relaxed);
		bool kept = atomic_load_explicit(&dom->kept, memory_order_relaxed);
		bool idle;

		if (!stop && !kick && !kept && !dom->dops->has_work(dom)) {
			/* Lingering first (above): at most once per drain. */
			if (opened && dom->cfg.batch_delay_us && !lingered) {
				linger(dom, opened);
				lingered = true;
				continue;	/* look again: work, requests */
			}
			/* Flushed chains waiting for take-back: wake when the first is due. */
			uint64_t due = dom->take_back ? pgfree_tb_due(dom) : 0, now = 0;

			if (due && due > (now = pgfree_now_ns()))
				pgfree_park(dom, due - now);
			else if (!due)
				pgfree_park(dom, 0);
			if (due)
				pgfree_tb_expire(dom, false);
			opened = 0;
			lingered = false;
			continue;
		}
		if (kept) {
			/* A batch kept by a failed flush, whoever's: retry after a pause. */
			pgfree_backoff(&pause);
		} else {
			pause = 0;	/* some drain succeeded since: start again at 1 ms */
			if (!stop && !kick && dom->cfg.batch_delay_us)
				gather(dom, opened ? opened : pgfree_now_ns(), counted);
		}

		/* The next batch opens at this drain's detach (the policy above). */
		opened = pgfree_now_ns();
		counted = opened;
		lingered = false;
		pthread_mutex_lock(&dom->drain_lock);
		__pgfree_drain(dom);
		kept = dom->carry.nonempty != 0;
		idle = !kept && !dom->dops->has_work(dom);
		pthread_mutex_unlock(&dom->drain_lock);

		if (stop && idle)
			return NULL;
	}
}
