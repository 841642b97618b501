/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LIB_CPU_H
#define PGFREE_LIB_CPU_H
/*
 * pgfree_this_cpu(): the CPU the caller runs on, as a hint for choosing a
 * per-CPU list.  Private.
 *
 * glibc 2.35 and later register an rseq area for every thread; the kernel
 * keeps its cpu_id field current across migrations, so reading it is one
 * TLS load (sched_getcpu() costs a call and reads the same field).  When
 * rseq is unavailable (older glibc, GLIBC_TUNABLES=glibc.pthread.rseq=0,
 * valgrind) cpu_id is negative and sched_getcpu() answers.
 *
 * The answer may be stale by the time it is used: the caller may migrate.
 * pgfree only uses it to spread producers over lists that are shared
 * atomically, so a stale answer costs a shared cache line, never
 * correctness.
 */
/* Needs _GNU_SOURCE for sched_getcpu(): define it before any include. */
#include <sched.h>

#if defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>
#define PGFREE_HAVE_RSEQ 1
#endif
#endif

static inline unsigned int pgfree_this_cpu(void)
{
	int cpu;

#ifdef PGFREE_HAVE_RSEQ
	if (__rseq_size) {
		const struct rseq *rs =
			(const struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);

		/* Relaxed: the kernel updates it; any recent value is a good hint. */
		cpu = (int)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED);
		if (cpu >= 0)
			return (unsigned int)cpu;
	}
#endif
	cpu = sched_getcpu();
	return cpu < 0 ? 0u : (unsigned int)cpu;
}

#endif /* PGFREE_LIB_CPU_H */
