/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LOCKSTAT_HOOKS_H
#define PGFREE_LOCKSTAT_HOOKS_H
/*
 * The timing hooks around the locked baselines' spinlock (lockstat.h),
 * whichever lock a domain uses (the queued lock or PGFREE_F_TAS_LOCK's):
 * the caller brackets its lock and unlock calls with them.  With
 * -DPGFREE_LOCKSTAT they time the wait (from before the lock call to
 * holding it) and the hold (from holding it to the unlock call); without
 * it they are empty and cost nothing.  Private to lib/.
 */
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
	uint64_t t_call, t_held, t_unlock;
};

static inline void pgfree_ls_before_lock(struct pgfree_ls_stamp *s)
{
	s->t_call = pgfree_ls_now();
}

static inline void pgfree_ls_locked(struct pgfree_ls_stamp *s)
{
	s->t_held = pgfree_ls_now();
}

static inline void pgfree_ls_before_unlock(struct pgfree_ls_stamp *s)
{
	s->t_unlock = pgfree_ls_now();
}

/* Counted after the unlock: the counting is not part of the hold. */
static inline void pgfree_ls_unlocked(struct pgfree_ls_stamp *s)
{
	pgfree_lockstat_record(s->t_held - s->t_call, s->t_unlock - s->t_held);
}
#else
struct pgfree_ls_stamp {
	char unused;
};

static inline void pgfree_ls_before_lock(struct pgfree_ls_stamp *s)
{
	(void)s;
}

static inline void pgfree_ls_locked(struct pgfree_ls_stamp *s)
{
	(void)s;
}

static inline void pgfree_ls_before_unlock(struct pgfree_ls_stamp *s)
{
	(void)s;
}

static inline void pgfree_ls_unlocked(struct pgfree_ls_stamp *s)
{
	(void)s;
}
#endif

#endif /* PGFREE_LOCKSTAT_HOOKS_H */
