/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_RCU_TESTS_CHECK_H
#define PGFREE_RCU_TESTS_CHECK_H
/*
 * The rcu/ tests are plain programs (no Criterion, no mini runner: they
 * must also run under TSan, and each is one scenario): CHECK() prints a
 * failed condition and counts it; main() returns non-zero if any failed.
 */
#include <stdio.h>

static unsigned int check_failures;

#define CHECK(cond, ...)							\
	do {									\
		if (!(cond)) {							\
			check_failures++;					\
			fprintf(stderr, "%s:%d: CHECK(%s) failed: ",		\
				__FILE__, __LINE__, #cond);			\
			fprintf(stderr, __VA_ARGS__);				\
			fputc('\n', stderr);					\
		}								\
	} while (0)

#endif /* PGFREE_RCU_TESTS_CHECK_H */
