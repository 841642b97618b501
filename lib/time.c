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

void pgfree_sleep_ns(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000u),
			       .tv_nsec = (long)(ns % 1000000000u) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}
