/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_COMPILER_H
#define _SHIM_LINUX_COMPILER_H
/*
 * User-space stand-ins for the few <linux/compiler.h>, <linux/container_of.h>
 * and <linux/types.h> bits the ported file uses, so that the kernel source
 * compiles unchanged against these shims (see ../README.md).
 */
#include <stdbool.h>
#include <stddef.h>

#ifndef likely
#define likely(x)	__builtin_expect(!!(x), 1)
#define unlikely(x)	__builtin_expect(!!(x), 0)
#endif

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))
#endif

#endif /* _SHIM_LINUX_COMPILER_H */
