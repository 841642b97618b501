/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_TESTS_CHECK_H
#define PGFREE_TESTS_CHECK_H
/*
 * The one header every test source includes.
 *
 * Normally it is Criterion.  Criterion cannot run under ThreadSanitizer (its
 * fork arena fails to initialize, Snaipe/Criterion#274), so a TSan build
 * defines PGFREE_TEST_MINI and gets a small in-process runner instead
 * (mini_runner.c) behind the same macro names.  Tests use only this subset:
 *
 *   Test(suite, name, .timeout = seconds)
 *   cr_assert(cond [, fmt, ...])          cr_assert_not(cond [, fmt, ...])
 *   cr_assert_eq/neq/lt/leq/gt/geq(a, b [, fmt, ...])
 *   cr_assert_fail(fmt, ...)              cr_log_info(fmt, ...)
 *
 * Assertions belong in the test's own thread: Criterion's abort path and the
 * mini runner's longjmp both assume it.  Checks made in other threads
 * (library callbacks, producers) are recorded and asserted afterwards; the
 * mini runner aborts the process if one slips through anyway.
 *
 * Note that Criterion's old assertion API spells "fail unconditionally"
 * cr_assert_fail(); its cr_fail() is an internal macro with another
 * signature, so the mini runner does not provide cr_fail() either.
 */

#ifndef PGFREE_TEST_MINI

#include <criterion/criterion.h>

#else /* PGFREE_TEST_MINI */

#include <stdbool.h>

/**
 * struct mini_test_opts - the designated initializers Test() accepts
 * @dummy_: keeps "{ 0, __VA_ARGS__ }" valid when no option is given
 * @timeout: seconds; 0 means none (honored with alarm())
 * @init: run before the test, in its thread
 * @fini: run after the test when it passed
 * @description: ignored
 * @disabled: skip the test
 * @exit_code: ignored (accepted for Criterion compatibility)
 * @signal: ignored (accepted for Criterion compatibility)
 */
struct mini_test_opts {
	int dummy_;
	double timeout;
	void (*init)(void);
	void (*fini)(void);
	const char *description;
	bool disabled;
	int exit_code;
	int signal;
};

/**
 * struct mini_test - one registered test
 * @suite: the suite name
 * @name: the test name
 * @fn: the body
 * @line: where Test() appears, to run tests in source order
 * @opts: the options given to Test()
 * @next: the registry's link
 */
struct mini_test {
	const char *suite;
	const char *name;
	void (*fn)(void);
	int line;
	struct mini_test_opts opts;
	struct mini_test *next;
};

void mini_register(struct mini_test *t);
__attribute__((format(printf, 4, 5), noreturn))
void mini_fail_(const char *file, int line, const char *expr, const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
void mini_log_(const char *fmt, ...);

#define MINI_CAT2_(a, b) a##b
#define MINI_CAT_(a, b) MINI_CAT2_(a, b)

/*
 * The test's options are "{ 0, __VA_ARGS__ }": the leading 0 fills the dummy
 * member so that a Test() without options still has a valid initializer and
 * a .timeout = N does not override anything already set.
 */
#define Test(suite, name, ...)						\
	static void mini_fn_##suite##_##name(void);			\
	static struct mini_test mini_t_##suite##_##name = {		\
		#suite, #name, mini_fn_##suite##_##name, __LINE__,	\
		{ 0, __VA_ARGS__ }, 0					\
	};								\
	__attribute__((constructor))					\
	static void mini_reg_##suite##_##name(void)			\
	{								\
		mini_register(&mini_t_##suite##_##name);		\
	}								\
	static void mini_fn_##suite##_##name(void)

/*
 * " " __VA_ARGS__ pastes the optional message onto a one-space literal: it
 * keeps printf format checking and works when no message is given.
 */
#define cr_assert(cond, ...)						\
	do {								\
		if (!(cond))						\
			mini_fail_(__FILE__, __LINE__, #cond, " " __VA_ARGS__); \
	} while (0)
#define cr_assert_not(cond, ...)					\
	do {								\
		if (cond)						\
			mini_fail_(__FILE__, __LINE__, "!(" #cond ")", " " __VA_ARGS__); \
	} while (0)
#define MINI_CMP_(a, op, b, ...)					\
	do {								\
		if (!((a) op (b)))					\
			mini_fail_(__FILE__, __LINE__, #a " " #op " " #b, " " __VA_ARGS__); \
	} while (0)
#define cr_assert_eq(a, b, ...)  MINI_CMP_(a, ==, b, __VA_ARGS__)
#define cr_assert_neq(a, b, ...) MINI_CMP_(a, !=, b, __VA_ARGS__)
#define cr_assert_lt(a, b, ...)  MINI_CMP_(a, <, b, __VA_ARGS__)
#define cr_assert_leq(a, b, ...) MINI_CMP_(a, <=, b, __VA_ARGS__)
#define cr_assert_gt(a, b, ...)  MINI_CMP_(a, >, b, __VA_ARGS__)
#define cr_assert_geq(a, b, ...) MINI_CMP_(a, >=, b, __VA_ARGS__)
#define cr_assert_fail(...) mini_fail_(__FILE__, __LINE__, "cr_assert_fail", " " __VA_ARGS__)
#define cr_log_info(...) mini_log_(__VA_ARGS__)

#endif /* PGFREE_TEST_MINI */
#endif /* PGFREE_TESTS_CHECK_H */
