// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Monotonic time and sleeping, for the batching delay and retry back-off. */
#include <errno.h>
#include <time.h>

#include "domain.h"

uint64_t pgfree_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

struct timespec pgfree_timespec(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	return ts;
}

void pgfree_sleep_ns(uint64_t ns)
{
	struct timespec ts = pgfree_timespec(ns);

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/*
 * The CLOCK_MONOTONIC deadline of a *_timeout() call.  0 means "none" to
 * the waits, so a zero timeout is one nanosecond, and one too long to add
 * is none.
 */
uint64_t pgfree_deadline_ns(uint64_t timeout_ns)
{
	uint64_t now = pgfree_now_ns();

	if (!timeout_ns)
		timeout_ns = 1;
	return timeout_ns > UINT64_MAX - now ? 0 : now + timeout_ns;
}
