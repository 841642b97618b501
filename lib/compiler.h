/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LIB_COMPILER_H
#define PGFREE_LIB_COMPILER_H
/* Compiler helpers shared by the implementation files.  Private. */

#define pgfree_likely(x) __builtin_expect(!!(x), 1)
#define pgfree_unlikely(x) __builtin_expect(!!(x), 0)

/*
 * 128, not 64: on x86 the L2 "adjacent line" prefetcher pulls cache lines in
 * pairs, so two per-CPU heads 64 bytes apart still bounce between CPUs.
 */
#define PGFREE_CACHELINE 128
#define pgfree_cacheline_aligned __attribute__((aligned(PGFREE_CACHELINE)))

/*
 * Schedule perturbation (the PGFREE_DEBUG_YIELD build, run under TSan in
 * CI): a call between the steps of every atomic protocol that sometimes
 * yields the CPU, so that the interleavings a 2-CPU machine rarely produces
 * (a producer preempted between its add and its wake check, the drain
 * thread between parked = 1 and its fence...) are tried.  debug_yield.c.
 */
#ifdef PGFREE_DEBUG_YIELD
void pgfree_debug_yield_slow(void);
#define pgfree_debug_yield() pgfree_debug_yield_slow()
#else
#define pgfree_debug_yield() \
	do {                 \
	} while (0)
#endif

/* PGFREE_TSAN: built with ThreadSanitizer (GCC says __SANITIZE_THREAD__, Clang a feature). */
#if defined(__SANITIZE_THREAD__)
#define PGFREE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PGFREE_TSAN 1
#endif
#endif

#endif /* PGFREE_LIB_COMPILER_H */
