// SPDX-License-Identifier: GPL-2.0-only
/*
 * The CONFIG_ASYNC_KERNEL_PGTABLE_FREE part of mm/pgtable-generic.c as
 * merged in Linux 6.19 (v5 of the series, with the IOMMU flush of its patch
 * 7/8), the baseline of 0001-*.patch and of the test.  Below the marker
 * line is the kernel code, line for line what the file holds from line 410
 * on (the patch's hunk is generated from this file, see
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
