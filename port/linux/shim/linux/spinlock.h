/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_SPINLOCK_H
#define _SHIM_LINUX_SPINLOCK_H
/*
 * spinlock_t for the v5 baseline.  A pthread mutex, not a spinning lock:
 * user-space threads can be preempted while they hold it (the kernel's
 * spin_lock() disables preemption), and on this 2-CPU machine eight
 * producers spinning on a preempted holder would measure the scheduler,
 * not the design.  The mutex gives the same acquire/release ordering, and
 * ThreadSanitizer understands it.
 */
#include <pthread.h>

typedef struct {
	pthread_mutex_t m;
} spinlock_t;

#define __SPIN_LOCK_UNLOCKED(lockname)	{ PTHREAD_MUTEX_INITIALIZER }
#define DEFINE_SPINLOCK(x)		spinlock_t x = __SPIN_LOCK_UNLOCKED(x)

static inline void spin_lock(spinlock_t *lock)
{
	pthread_mutex_lock(&lock->m);
}

static inline void spin_unlock(spinlock_t *lock)
{
	pthread_mutex_unlock(&lock->m);
}

#endif /* _SHIM_LINUX_SPINLOCK_H */
