/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_MM_H
#define _SHIM_LINUX_MM_H
/*
 * The <linux/mm.h> declarations the ported file uses.  __pagetable_free(),
 * which in the kernel returns the page to the page allocator, calls a hook
 * the test defines (shim_pagetable_free()): that is where the test checks
 * that the descriptor was flushed before it was freed.
 */
#include <linux/compiler.h>
#include <linux/mm_types.h>

/* x86-64's direct map base; the value only has to be passed through. */
#define PAGE_OFFSET	0xffff888000000000UL

/* Defined by the test: the page is back in the allocator. */
void shim_pagetable_free(struct ptdesc *pt);

static inline void __pagetable_free(struct ptdesc *pt)
{
	shim_pagetable_free(pt);
}

/* CONFIG_ASYNC_KERNEL_PGTABLE_FREE=y: defined by mm/pgtable-generic.c. */
void pagetable_free_kernel(struct ptdesc *pt);

#endif /* _SHIM_LINUX_MM_H */
