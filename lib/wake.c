// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The futex under pgfree_park() / pgfree_wake(); the protocol and why no
 * wake-up is lost are in wake.h.
 */
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "wake.h"

static void futex_wait(_Atomic uint32_t *word, uint32_t val)
{
	/* EAGAIN (word changed), EINTR and spurious returns all mean "look again". */
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake_one(_Atomic uint32_t *word)
{
	syscall(SYS_futex, (uint32_t *)word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
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
 *
 * Drain thread only.  Returns when work may be queued, a request (kick or
 * stop) is pending, or spuriously: the caller re-checks.
 */
void pgfree_park(struct pgfree_domain *dom)
{
	/* Relaxed: ordered before the checks below by the fence. */
	atomic_store_explicit(&dom->parked, 1, memory_order_relaxed);
	/* Pairs with the fence in pgfree_wake_if_parked(): see wake.h. */
	pgfree_full_fence();

	if (!dom->dops->has_work(dom) &&
	    !atomic_load_explicit(&dom->kick, memory_order_relaxed) &&
	    !atomic_load_explicit(&dom->stop, memory_order_relaxed))
		futex_wait(&dom->parked, 1);

	/* Relaxed: the word only gates wakers' system calls. */
	atomic_store_explicit(&dom->parked, 0, memory_order_relaxed);
}
