/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_SCHED_H
#define _SHIM_LINUX_SCHED_H
/*
 * cond_resched() from <linux/sched.h>.  In the kernel it lets a long loop
 * in process context (the work function's free loop) give the CPU away.
 * A user-space thread is preempted by the OS anyway, so the shim does
 * nothing and says it did not reschedule.
 */
#include <linux/compiler.h>

static inline int cond_resched(void)
{
	return 0;
}

#endif /* _SHIM_LINUX_SCHED_H */
