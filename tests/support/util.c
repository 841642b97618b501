// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Helpers shared by the tests (see util.h).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

#include "support/util.h"

static cpu_set_t test_process_mask;
static int test_process_mask_ok;
static double test_scale_value = 1.0;

/*
 * Runs before main(): remember the process's CPU mask before any test pins a
 * thread, and read PGFREE_TEST_SCALE once, so that neither is written while
 * test threads run.
 */
__attribute__((constructor)) static void test_util_init(void)
{
	const char *s = getenv("PGFREE_TEST_SCALE");

	test_process_mask_ok = sched_getaffinity(0, sizeof(test_process_mask),
						 &test_process_mask) == 0;
	if (s && *s) {
		char *end;
		double v = strtod(s, &end);

		if (*end == '\0' && v > 0)
			test_scale_value = v;
	}
}

double test_scale(void)
{
	return test_scale_value;
}

size_t test_scaled(size_t n, size_t min)
{
	double v = (double)n * test_scale();

	return v < (double)min ? min : (size_t)v;
}

double test_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void test_sleep_us(unsigned int us)
{
	struct timespec ts = { us / 1000000u, (long)(us % 1000000u) * 1000 };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

void test_spin_ns(uint64_t ns)
{
	double end;

	if (!ns)
		return;
	end = test_now() + (double)ns / 1e9;
	while (test_now() < end)
		;
}

int test_cpus(int *cpus, int max)
{
	int n = 0;

	if (test_process_mask_ok) {
		for (int c = 0; c < CPU_SETSIZE && n < max; c++)
			if (CPU_ISSET(c, &test_process_mask))
				cpus[n++] = c;
	}
	if (!n)
		cpus[n++] = 0;
	return n;
}

int test_pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int test_unpin_self(void)
{
	if (!test_process_mask_ok)
		return -EINVAL;
	return -pthread_setaffinity_np(pthread_self(), sizeof(test_process_mask),
				       &test_process_mask);
}
