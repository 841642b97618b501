/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_MM_TYPES_H
#define _SHIM_LINUX_MM_TYPES_H
/*
 * struct ptdesc, reduced to the words the ported code and the tests touch,
 * laid out as the patch lays out the kernel's: the second word is a union
 * in which pt_llist (the per-CPU list's node) shares pt_list's space.  In
 * the kernel that union aliases page->compound_head; a node's next pointer
 * is pointer-aligned (bit 0 clear) or NULL, so the page never reads as a
 * tail page while it is queued, exactly as with pt_list in v5.
 */
#include <linux/list.h>
#include <linux/llist.h>

struct ptdesc {
	unsigned long pt_flags;

	union {
		struct list_head pt_list;	/* v5: the global list */
		struct llist_node pt_llist;	/* the per-CPU llists */
		struct {
			unsigned long _pt_pad_1;
			void *pmd_huge_pte;
		};
	};
	unsigned long __page_mapping;
};

#endif /* _SHIM_LINUX_MM_TYPES_H */
