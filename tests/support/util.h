/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_TESTS_UTIL_H
#define PGFREE_TESTS_UTIL_H
/*
 * Small helpers shared by the tests: scaling of work sizes, clocks, CPU
 * affinity.  Nothing here asserts; callers check the return values.
 */
#include <stddef.h>
#include <stdint.h>

/* The most CPUs test_cpus() reports. */
#define TEST_MAX_CPUS 256

/**
 * test_scale() - the PGFREE_TEST_SCALE factor
 *
 * Read once at start-up from the environment (a positive decimal, e.g. "0.1"
 * or "4"); 1.0 when unset or invalid.
 */
double test_scale(void);

/**
 * test_scaled() - @n times test_scale(), at least @min
 * @n: the default size
 * @min: the floor, so that a small scale still tests something
 */
size_t test_scaled(size_t n, size_t min);

/* Monotonic time in seconds. */
double test_now(void);

/* Sleep for @us microseconds (restarts on EINTR). */
void test_sleep_us(unsigned int us);

/* Busy-wait for @ns nanoseconds: a stand-in for a flush's cost. */
void test_spin_ns(uint64_t ns);

/**
 * test_cpus() - the CPUs this process may run on
 * @cpus: filled with up to @max CPU numbers
 * @max: size of @cpus
 *
 * Return: how many were stored (>= 1; { 0 } if the mask cannot be read).
 */
int test_cpus(int *cpus, int max);

/**
 * test_pin_self() - move the calling thread to one CPU
 * @cpu: the CPU number
 *
 * Return: 0 or a negative errno.
 */
int test_pin_self(int cpu);

/* Undo test_pin_self(): allow every CPU of the process again. */
int test_unpin_self(void);

#endif /* PGFREE_TESTS_UTIL_H */
