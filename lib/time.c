// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* Monotonic time and sleeping, for the batching delay and retry back-off. */
#include <errno.h>
#include <pthread.h>
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

/* The back-off after a failed flush, for every drain that retries one. */
#define BACKOFF_MIN_NS 1000000u		/* 1 ms */
#define BACKOFF_MAX_NS 100000000u	/* 100 ms */

/**
 * pgfree_backoff_until() - sleep after a failed flush, longer each time
 * @pause: in: the last pause (0 at first); out: the next one
 * @deadline: CLOCK_MONOTONIC time not to sleep past; 0 for none
 *
 * Return: 0, or -ETIMEDOUT (without sleeping) once @deadline has passed.
 */
int pgfree_backoff_until(uint64_t *pause, uint64_t deadline)
{
	uint64_t now = deadline ? pgfree_now_ns() : 0;

	if (deadline && now >= deadline)
		return -ETIMEDOUT;
	*pause = *pause ? *pause * 2 : BACKOFF_MIN_NS;
	if (*pause > BACKOFF_MAX_NS)
		*pause = BACKOFF_MAX_NS;
	pgfree_sleep_ns(deadline && deadline - now < *pause ? deadline - now : *pause);
	return 0;
}

/* pgfree_backoff_until() with no deadline. */
void pgfree_backoff(uint64_t *ns)
{
	pgfree_backoff_until(ns, 0);
}

/* Barriers wait with a deadline on CLOCK_MONOTONIC, immune to clock steps. */
void pgfree_cond_init_monotonic(pthread_cond_t *cond)
{
	pthread_condattr_t attr;

	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(cond, &attr);
	pthread_condattr_destroy(&attr);
}
