/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_ASM_TLB_H
#define _SHIM_ASM_TLB_H
/* x86's "flush everything" end address (asm/tlbflush.h, via asm/tlb.h). */
#define TLB_FLUSH_ALL	-1UL

#endif /* _SHIM_ASM_TLB_H */
