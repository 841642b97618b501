// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The futex under pgfree_park() / pgfree_wake(); the protocol and why no
 * wake-up is lost are in wake.h.  Also a one-shot flag on the same system
 * call, for the drain thread's start (drain_thread.c).
 */
#include <linux/futex.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "wake.h"

static void futex_wait(_Atomic uint32_t *word, uint32_t val, const struct timespec *rel)
{
	/*
	 * EAGAIN (word changed), EINTR, ETIMEDOUT and spurious returns all
	 * mean "look again".
	 */
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, val, rel, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *word, int nr)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, nr, NULL, NULL, 0);
}

static void futex_wake_one(_Atomic uint32_t *word)
{
	futex_wake(word, 1);
}

/**
 * pgfree_wake() - wake the drain thread
 * @dom: the domain
 *
 * Any thread.  Of several concurrent wakers only the one whose exchange
 * takes parked from 1 to 0 pays for the system call.
 */
void pgfree_wake(struct pgfree_domain *dom)
{
	/*
	 * Relaxed: the exchange only elects one waker; what the drain thread
	 * must see (the work) is ordered by the fences of the protocol, and the
	 * futex system call is itself a full barrier.
	 */
	if (atomic_exchange_explicit(&dom->parked, 0, memory_order_relaxed)) {
		atomic_fetch_add_explicit(&dom->wakeups, 1, memory_order_relaxed);
		futex_wake_one(&dom->parked);
	}
}

/**
 * pgfree_park() - sleep until there is work or a request
 * @dom: the domain
 * @timeout_ns: wake after this long at most; 0 for no limit (a limit is
 *	for flushed chains that wait for take-back: takeback.c)
 *
 * Drain thread only.  Returns when work may be queued, a batch is kept
 * after a failed flush, a request (kick or stop) is pending, the time is
 * up, or spuriously: the caller re-checks.
 */
void pgfree_park(struct pgfree_domain *dom, uint64_t timeout_ns)
{
	struct timespec rel = pgfree_timespec(timeout_ns);

	/* Relaxed: ordered before the checks below by the fence. */
	atomic_store_explicit(&dom->parked, 1, memory_order_relaxed);
	pgfree_debug_yield();
	/* Pairs with the fence in pgfree_wake_if_parked(): see wake.h. */
	pgfree_full_fence();
	pgfree_debug_yield();

	/*
	 * Relaxed loads: the fence above orders them after parked = 1, and
	 * each writer (producer, __keep(), a request) fences before it reads
	 * parked.
	 */
	if (!dom->dops->has_work(dom) &&
	    !atomic_load_explicit(&dom->kept, memory_order_relaxed) &&
	    !atomic_load_explicit(&dom->kick, memory_order_relaxed) &&
	    !atomic_load_explicit(&dom->stop, memory_order_relaxed))
		futex_wait(&dom->parked, 1, timeout_ns ? &rel : NULL);

	/* Relaxed: the word only gates wakers' system calls. */
	atomic_store_explicit(&dom->parked, 0, memory_order_relaxed);
}

/**
 * pgfree_gather_sleep() - the batching delay's sleep, cut short by a mark
 * @dom: the domain
 * @ns: how long to sleep at most
 *
 * Drain thread only.  The same Dekker pair as park (wake.h), on its own
 * word so that the producers' empty-to-non-empty wake-ups, which the delay
 * is there to spare, do not cut it short: only pgfree_gather_wake() does.
 */
void pgfree_gather_sleep(struct pgfree_domain *dom, uint64_t ns)
{
	struct timespec rel = pgfree_timespec(ns);

	/* Relaxed: ordered before the checks below by the fence. */
	atomic_store_explicit(&dom->gathering, 1, memory_order_relaxed);
	/* Pairs with the fence in pgfree_gather_wake(). */
	pgfree_full_fence();
	pgfree_debug_yield();
	if (!atomic_load_explicit(&dom->kick, memory_order_relaxed) &&
	    !atomic_load_explicit(&dom->stop, memory_order_relaxed))
		futex_wait(&dom->gathering, 1, &rel);
	/* Relaxed: the word only gates wakers' system calls. */
	atomic_store_explicit(&dom->gathering, 0, memory_order_relaxed);
}

/**
 * pgfree_gather_wake() - ask the drain thread to drain now
 * @dom: the domain
 *
 * Any thread: a producer whose list reached its share of the backlog mark.
 * Sets the kick request, then wakes the drain thread from its batching
 * delay or, should it sleep, from park.
 */
void pgfree_gather_wake(struct pgfree_domain *dom)
{
	/* Relaxed: fenced before the words are read; the drain thread fences
	 * before it reads the request (pgfree_gather_sleep(), pgfree_park()). */
	atomic_store_explicit(&dom->kick, true, memory_order_relaxed);
	pgfree_wake_requests(dom);
}

/**
 * pgfree_wake_requests() - make the drain thread see a request now
 * @dom: the domain; the caller has just stored a request (kick or stop)
 *
 * Wakes it from its batching delay's sleep and from park: the same Dekker
 * pair as pgfree_wake_if_parked(), on both words (pgfree_gather_sleep() and
 * pgfree_park() read the requests after their fences).
 */
void pgfree_wake_requests(struct pgfree_domain *dom)
{
	pgfree_full_fence();
	/* Relaxed: the fence orders them after the request. */
	if (atomic_load_explicit(&dom->gathering, memory_order_relaxed) &&
	    atomic_exchange_explicit(&dom->gathering, 0, memory_order_relaxed))
		futex_wake_one(&dom->gathering);
	if (atomic_load_explicit(&dom->parked, memory_order_relaxed))
		pgfree_wake(dom);
}

/**
 * pgfree_flag_wait() - sleep until a one-shot flag is set
 * @flag: 0 until pgfree_flag_set() makes it 1
 *
 * Any thread that may sleep.  Acquire: what the setter did before it set
 * the flag happens-before the return.
 */
void pgfree_flag_wait(_Atomic uint32_t *flag)
{
	while (!atomic_load_explicit(flag, memory_order_acquire))
		futex_wait(flag, 0, NULL);
}

/**
 * pgfree_flag_set() - set a one-shot flag and wake whoever waits for it
 * @flag: the flag
 *
 * Release, pairing with pgfree_flag_wait()'s acquire.  The futex re-checks
 * the word in the kernel, so a waiter between its load and its sleep
 * returns at once: no wake-up is lost.
 */
void pgfree_flag_set(_Atomic uint32_t *flag)
{
	atomic_store_explicit(flag, 1, memory_order_release);
	futex_wake(flag, INT32_MAX);
}
