// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CONFIG_ASYNC_KERNEL_PGTABLE_FREE part of mm/pgtable-generic.c: below
 * the marker line is the kernel code, line for line what the file holds
 * from line 410 on (the patch's hunk is generated from this file, see
 * ../check-patch.sh).  The includes above the marker stand for the kernel
 * file's own (it gets these through pagemap.h, iommu.h and asm/tlb.h) and
 * let the same text compile in user space against ../shim/ (README.md).
 */
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <asm/tlb.h>

/* ---- mm/pgtable-generic.c, from line 410 ---- */

#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE
/*
 * Kernel page tables may be cached by an IOMMU doing SVA, so a page that
 * held one is freed only after iommu_sva_invalidate_kva_range() has flushed
 * the IOMMU's paging-structure caches.  That flush may sleep and is costly,
 * so the pages go through a work item that flushes once per batch.
 *
 * Producers: pagetable_free_kernel() pushes the page onto this CPU's
 * lock-less list and schedules the work only when the push made the list
 * non-empty.  Producers on different CPUs share no lock and no cache line.
 *
 * Consumer: kernel_pgtable_work_func() empties every possible CPU's list,
 * one xchg each, flushes once for all it took, then frees.  A page is thus
 * freed only after a flush that began after pagetable_free_kernel() queued
 * it: llist_del_all() took it after llist_add() put it there, and the flush
 * is called after the last llist_del_all().
 *
 * No page is stranded.  A list becomes non-empty only through an
 * llist_add() that returns true, and that caller calls schedule_work().
 * The workqueue clears PENDING before it calls the work function, with a
 * full barrier (process_one_work()).  So if schedule_work() finds PENDING
 * clear, it queues an execution that starts after the add; if it finds
 * PENDING set, the queued execution has not cleared it yet, and since
 * test_and_set_bit() is fully ordered even when the bit was already set,
 * that execution's llist_del_all() sees the add.  An add that lands after
 * the work function emptied its list finds the list empty and queues the
 * work again, which works because PENDING was cleared before the function
 * ran.  An add that finds its list non-empty schedules nothing: the entry
 * under it came from an add that did, and the llist_del_all() that takes
 * that entry takes this one too.
 *
 * raw_cpu_ptr(), not this_cpu_ptr(): callers may be preemptible, where
 * this_cpu_ptr() warns under CONFIG_DEBUG_PREEMPT.  A migration between
 * raw_cpu_ptr() and llist_add() only puts the page on the previous CPU's
 * list: llist_add() is atomic against adds from any CPU and against the
 * worker's llist_del_all(), and the worker empties every list, so it costs
 * one shared cache line, never correctness (vfree_atomic() does the same).
 * get_cpu_ptr() would disable preemption for nothing.  Possible CPUs, not
 * online ones: a page queued on a CPU that then went offline is found.
 */
static void kernel_pgtable_work_func(struct work_struct *work);

static DEFINE_PER_CPU(struct llist_head, kernel_pgtable_list);
static DECLARE_WORK(kernel_pgtable_work, kernel_pgtable_work_func);

static void kernel_pgtable_work_func(struct work_struct *work)
{
	struct llist_node *batch = NULL, *first, *last;
	struct ptdesc *pt, *next;
	int cpu;

	for_each_possible_cpu(cpu) {
		first = llist_del_all(per_cpu_ptr(&kernel_pgtable_list, cpu));
		if (!first)
			continue;
		/* The walk to the tail touches pages the loop below frees. */
		for (last = first; last->next; last = last->next)
			;
		last->next = batch;
		batch = first;
	}
	if (!batch)
		return;

	/* Once for the whole batch, after every page in it was taken. */
	iommu_sva_invalidate_kva_range(PAGE_OFFSET, TLB_FLUSH_ALL);
	llist_for_each_entry_safe(pt, next, batch, pt_llist)
		__pagetable_free(pt);
}

void pagetable_free_kernel(struct ptdesc *pt)
{
	/* Only the empty -> non-empty transition needs the work; see above. */
	if (llist_add(&pt->pt_llist, raw_cpu_ptr(&kernel_pgtable_list)))
		schedule_work(&kernel_pgtable_work);
}
#endif
