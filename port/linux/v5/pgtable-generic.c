// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CONFIG_ASYNC_KERNEL_PGTABLE_FREE part of mm/pgtable-generic.c as
 * released in Linux v6.19 (the v5 series "mm: Introduce deferred freeing for
 * kernel page tables" with the IOMMU flush of its patch 7/8), the baseline
 * of the patch and of the test.  Below the marker line is the kernel text,
 * line for line what v6.19's file holds from its "#ifdef
 * CONFIG_ASYNC_KERNEL_PGTABLE_FREE" to its end; ../check-patch.sh checks
 * that against ../shared/linux-6.19 when it is there.  The includes above
 * the marker let the same text compile in user space against ../shim/.
 */
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/llist.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/spinlock.h>
#include <linux/workqueue.h>
#include <asm/tlb.h>

/* ---- mm/pgtable-generic.c: #ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE to the end ---- */

#ifdef CONFIG_ASYNC_KERNEL_PGTABLE_FREE
static void kernel_pgtable_work_func(struct work_struct *work);

static struct {
	struct list_head list;
	/* protect above ptdesc lists */
	spinlock_t lock;
	struct work_struct work;
} kernel_pgtable_work = {
	.list = LIST_HEAD_INIT(kernel_pgtable_work.list),
	.lock = __SPIN_LOCK_UNLOCKED(kernel_pgtable_work.lock),
	.work = __WORK_INITIALIZER(kernel_pgtable_work.work, kernel_pgtable_work_func),
};

static void kernel_pgtable_work_func(struct work_struct *work)
{
	struct ptdesc *pt, *next;
	LIST_HEAD(page_list);

	spin_lock(&kernel_pgtable_work.lock);
	list_splice_tail_init(&kernel_pgtable_work.list, &page_list);
	spin_unlock(&kernel_pgtable_work.lock);

	iommu_sva_invalidate_kva_range(PAGE_OFFSET, TLB_FLUSH_ALL);
	list_for_each_entry_safe(pt, next, &page_list, pt_list)
		__pagetable_free(pt);
}

void pagetable_free_kernel(struct ptdesc *pt)
{
	spin_lock(&kernel_pgtable_work.lock);
	list_add(&pt->pt_list, &kernel_pgtable_work.list);
	spin_unlock(&kernel_pgtable_work.lock);

	schedule_work(&kernel_pgtable_work.work);
}
#endif
