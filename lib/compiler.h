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

#endif /* PGFREE_LIB_COMPILER_H */
