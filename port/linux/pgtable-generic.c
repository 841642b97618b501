// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CONFIG_ASYNC_KERNEL_PGTABLE_FREE part of mm/pgtable-generic.c as the
 * patch leaves it.  Below the marker line is the kernel text, line for line
 * what the patched v6.19 file holds from its "#ifdef
 * CONFIG_ASYNC_KERNEL_PGTABLE_FREE" to its end: make-patch.sh builds the
 * patch from it, check-patch.sh checks that the committed patch produces
 * exactly it.  The includes above the marker stand for the kernel file's
 * own and let the same text compile in user space against ../shim/
 * (README.md).
 */
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <asm/tlb.h>

/* ---- mm/pgtable-generic.c: #ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE to the end ---- */

#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE
/*
 * An IOMMU doing SVA may cache kernel page-table entries, so a kernel page
 * table is freed only after iommu_sva_invalidate_kva_range() has flushed
 * the IOMMU's paging-structure caches.  That flush may sleep and is costly:
 * pagetable_free_kernel() puts the ptdesc on this CPU's lock-less list, and
 * one work item empties every CPU's list, flushes once, then frees.
 *
 * Only the llist_add() that makes a list non-empty queues the work.  No
 * ptdesc is stranded: the workqueue clears PENDING, then issues a full
 * barrier, before it calls the work function, and queue_work()'s
 * test_and_set_bit() is fully ordered.  So the queue_work() after an add
 * either finds PENDING clear and queues a run that starts after the add,
 * or finds it set by a run that has not started yet and will see the add.
 * An add that finds its list non-empty rides on the add that made it so:
 * every add to a list runs on that list's CPU with preemption disabled,
 * so that add has queued the work already, unless this add interrupted
 * it, and then it queues the work as soon as the interrupt returns.
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
		struct llist_head *head = per_cpu_ptr(&kernel_pgtable_list, cpu);

		/*
		 * Read before the xchg, so idle CPUs' lists stay clean.  An add
		 * this misses came after this run cleared PENDING, so a later
		 * run, queued by its queue_work() or already pending, sees it.
		 */
		if (llist_empty(head))
			continue;
		first = llist_del_all(head);
		/* To splice, walk the ptdescs (not the page tables) to the tail. */
		for (last = first; last->next; last = last->next)
			;
		last->next = batch;
		batch = first;
	}
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
	 * there would leave its list non-empty with no work queued, and the
	 * later frees on its CPU would queue nothing until it ran again.
	 */
	if (llist_add(&pt->pt_llist, get_cpu_ptr(&kernel_pgtable_list)))
		queue_work(system_dfl_wq, &kernel_pgtable_work);
	put_cpu_ptr(&kernel_pgtable_list);
}
#endif
