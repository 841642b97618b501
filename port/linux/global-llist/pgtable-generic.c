// SPDX-License-Identifier: GPL-2.0-only
/*
 * The alternative the changelog weighs: the CONFIG_ASYNC_KERNEL_PGTABLE_FREE
 * part of mm/pgtable-generic.c with one global lock-less list instead of
 * one per CPU, and the same PENDING protocol.  Below the marker line is the
 * kernel text, line for line what the patched v6.19 file holds from its
 * "#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE" to its end: make-patch.sh
 * builds global-llist/0001-*.patch from it, check-patch.sh checks it.  The
 * includes above the marker let the same text compile in user space
 * against ../shim/ (../README.md).
 */
#include <linux/iommu.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/preempt.h>
#include <linux/sched.h>
#include <linux/workqueue.h>
#include <asm/tlb.h>

/* ---- mm/pgtable-generic.c: #ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE to the end ---- */

#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE
/*
 * An IOMMU doing SVA may cache kernel page-table entries, so a kernel page
 * table is freed only after iommu_sva_invalidate_kva_range() has flushed
 * the IOMMU's paging-structure caches.  That flush may sleep and is costly:
 * pagetable_free_kernel() puts the ptdesc on a lock-less list, and a work
 * item empties the list, flushes once, then frees.
 *
 * Only the llist_add() that makes the list non-empty queues the work.  No
 * ptdesc is stranded: the workqueue clears PENDING, then issues a full
 * barrier, before it calls the work function, and queue_work()'s
 * test_and_set_bit() is fully ordered.  So the queue_work() after an add
 * either finds PENDING clear and queues a run that starts after the add,
 * or finds it set by a run that has not started yet and will see the add.
 * An add that finds the list non-empty rides on the add that made it so,
 * which has queued the work already or will as soon as its CPU runs it
 * again: adders run with preemption disabled, so only an interrupt (or a
 * hypervisor) can hold one up there, and it holds up every CPU's frees.
 */
static void kernel_pgtable_work_func(struct work_struct *work);

static LLIST_HEAD(kernel_pgtable_list);
static DECLARE_WORK(kernel_pgtable_work, kernel_pgtable_work_func);

static void kernel_pgtable_work_func(struct work_struct *work)
{
	struct llist_node *batch = llist_del_all(&kernel_pgtable_list);
	struct ptdesc *pt, *next;

	if (!batch)
		return;

	/* Once for the whole batch, after every ptdesc in it was taken. */
	iommu_sva_invalidate_kva_range(PAGE_OFFSET, TLB_FLUSH_ALL);
	llist_for_each_entry_safe(pt, next, batch, pt_llist) {
		__pagetable_free(pt);
		cond_resched();
	}
}

void pagetable_free_kernel(struct ptdesc *pt)
{
	/*
	 * No preemption between the add and queue_work(): an adder preempted
	 * there would leave the list non-empty with no work queued, and every
	 * later free, on any CPU, would queue nothing until it ran again.
	 */
	preempt_disable();
	if (llist_add(&pt->pt_llist, &kernel_pgtable_list))
		queue_work(system_dfl_wq, &kernel_pgtable_work);
	preempt_enable();
}
#endif
