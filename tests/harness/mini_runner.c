// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * A tiny in-process test runner for the ThreadSanitizer build, where
 * Criterion cannot start (see check.h).  Every Test() registers itself from a
 * constructor; main() runs them one after the other in this process, in
 * source order, prints one line per test and then "N passed, N failed".
 *
 * A failed assertion in the test's own thread longjmps back here, the test
 * counts as failed and the next one runs (a test asserts after it joined its
 * threads, so little is left behind).  A failed assertion in any other
 * thread, or a timeout, cannot be unwound: it prints the summary so far and
 * ends the process with a failure status.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef PGFREE_TEST_MINI
#define PGFREE_TEST_MINI 1
#endif
#include "harness/check.h"

static struct mini_test *mini_tests;
static const struct mini_test *mini_current;
static pthread_t mini_runner_thread;
static jmp_buf mini_jmp;
static atomic_int mini_passed, mini_failed;

/**
 * mini_register() - add a test to the registry, kept sorted by line
 * @t: the test, static storage
 *
 * Constructors run in an order the toolchain picks; sorting by line gives
 * source order, the order a reader expects.
 */
void mini_register(struct mini_test *t)
{
	struct mini_test **pp = &mini_tests;

	while (*pp && (*pp)->line < t->line)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
}

static void mini_summary(void)
{
	printf("%d passed, %d failed\n", atomic_load(&mini_passed), atomic_load(&mini_failed));
	fflush(stdout);
}

void mini_log_(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("[info] ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

void mini_fail_(const char *file, int line, const char *expr, const char *fmt, ...)
{
	va_list ap;

	flockfile(stderr);
	fprintf(stderr, "%s:%d: assertion failed: %s:", file, line, expr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	funlockfile(stderr);

	if (mini_current && pthread_equal(pthread_self(), mini_runner_thread))
		longjmp(mini_jmp, 1);

	/* Another thread: nothing to unwind to.  Report and stop. */
	atomic_fetch_add(&mini_failed, 1);
	fprintf(stderr, "[FAIL] %s::%s (assertion outside the test thread)\n",
		mini_current ? mini_current->suite : "?", mini_current ? mini_current->name : "?");
	mini_summary();
	abort();
}

static void mini_on_alarm(int sig)
{
	const struct mini_test *t = mini_current;
	char buf[320];
	int n;

	(void)sig;
	/* No stdio here: format into a local buffer and write() it. */
	n = snprintf(buf, sizeof(buf), "[FAIL] %s::%s (timed out)\n%d passed, %d failed\n",
		     t ? t->suite : "?", t ? t->name : "?", atomic_load(&mini_passed),
		     atomic_load(&mini_failed) + 1);
	if (n > 0 && write(1, buf, (size_t)n) < 0)
		_exit(1);
	_exit(1);
}

static double mini_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/**
 * mini_run_one() - run one test, with its timeout and init/fini
 * @t: the test
 *
 * Return: true when the test passed.
 */
static bool mini_run_one(const struct mini_test *t)
{
	volatile bool ok = false;

	mini_current = t;
	if (t->opts.timeout > 0)
		alarm((unsigned int)(t->opts.timeout + 0.999));
	if (setjmp(mini_jmp) == 0) {
		if (t->opts.init)
			t->opts.init();
		t->fn();
		if (t->opts.fini)
			t->opts.fini();
		ok = true;
	}
	alarm(0);
	mini_current = NULL;
	return ok;
}

int main(int argc, char **argv)
{
	const char *filter = NULL;
	struct mini_test *t;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--filter") && i + 1 < argc) {
			filter = argv[++i];
		} else if (!strncmp(argv[i], "--filter=", 9)) {
			filter = argv[i] + 9;
		} else {
			fprintf(stderr, "usage: %s [--filter SUBSTRING]\n", argv[0]);
			return 2;
		}
	}

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGALRM, mini_on_alarm);
	mini_runner_thread = pthread_self();

	for (t = mini_tests; t; t = t->next) {
		char full[256];
		double t0;
		bool ok;

		snprintf(full, sizeof(full), "%s::%s", t->suite, t->name);
		if (t->opts.disabled || (filter && !strstr(full, filter)))
			continue;
		t0 = mini_now();
		ok = mini_run_one(t);
		atomic_fetch_add(ok ? &mini_passed : &mini_failed, 1);
		printf("[%s] %s (%.2fs)\n", ok ? "PASS" : "FAIL", full, mini_now() - t0);
	}
	mini_summary();
	return atomic_load(&mini_failed) ? 1 : 0;
}
