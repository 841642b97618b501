/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LOCKSTAT_HOOKS_H
#define PGFREE_LOCKSTAT_HOOKS_H
/*
 * The timing hooks around the locked baselines' spinlock (lockstat.h):
 * pgfree_ls_lock() / pgfree_ls_unlock() take and drop a pthread spinlock;
 * with -DPGFREE_LOCKSTAT they also time the wait and the hold, without it
 * they are the bare calls.  Private to lib/.
 */
#include <pthread.h>
#include <stdint.h>

#ifdef PGFREE_LOCKSTAT
#include <time.h>

void pgfree_lockstat_record(uint64_t wait_ns, uint64_t hold_ns);

static inline uint64_t pgfree_ls_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* What the caller keeps between lock and unlock. */
struct pgfree_ls_stamp {
	uint64_t t_call, t_held;
};

static inline void pgfree_ls_lock(pthread_spinlock_t *l, struct pgfree_ls_stamp *s)
{
	s->t_call = pgfree_ls_now();
	pthread_spin_lock(l);
	s->t_held = pgfree_ls_now();
}

static inline void pgfree_ls_unlock(pthread_spinlock_t *l, struct pgfree_ls_stamp *s)
{
	uint64_t t = pgfree_ls_now();

	pthread_spin_unlock(l);
	/* Counted after the unlock: the counting is not part of the hold. */
	pgfree_lockstat_record(s->t_held - s->t_call, t - s->t_held);
}
#else
struct pgfree_ls_stamp {
	char unused;
};

static inline void pgfree_ls_lock(pthread_spinlock_t *l, struct pgfree_ls_stamp *s)
{
	(void)s;
	pthread_spin_lock(l);
}

static inline void pgfree_ls_unlock(pthread_spinlock_t *l, struct pgfree_ls_stamp *s)
{
	(void)s;
	pthread_spin_unlock(l);
}
#endif

#endif /* PGFREE_LOCKSTAT_HOOKS_H */
