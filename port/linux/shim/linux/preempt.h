/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_PREEMPT_H
#define _SHIM_LINUX_PREEMPT_H
/*
 * preempt_disable()/preempt_enable() from <linux/preempt.h>.  A user-space
 * thread cannot stop the OS from preempting it, so they do nothing but
 * order the compiler, like the kernel's without CONFIG_PREEMPT_COUNT.  The
 * shim test therefore runs the ported code with the preemption window open
 * (the worst case): its checks must hold anyway, since a preempted adder
 * only delays frees, and every drain waits for the adders to return.
 */
#include <linux/compiler.h>

#define preempt_disable()	__asm__ __volatile__("" : : : "memory")
#define preempt_enable()	__asm__ __volatile__("" : : : "memory")

#endif /* _SHIM_LINUX_PREEMPT_H */
