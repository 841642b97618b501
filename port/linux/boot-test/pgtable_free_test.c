// SPDX-License-Identifier: GPL-2.0-only
/*
 * Boot-time test of kernel page-table freeing: a kthread on each of the
 * first nr_cpus online CPUs frees nr_frees kernel page tables through
 * pagetable_free() at once, and the test reports what pagetable_free()
 * cost each CPU and how long it took until every page was freed.  It uses
 * only pagetable_free() and the page's reference count, so the same test
 * measures a kernel that frees kernel page tables deferred
 * (CONFIG_ASYNC_KERNEL_PGTABLE_FREE) whatever its design, or directly:
 * boot each kernel once with the same parameters and compare.
 *
 * Parameters, on the kernel command line:
 *   pgtable_free_test.nr_cpus=N    CPUs to free from (0, the default: all)
 *   pgtable_free_test.nr_frees=N   page tables each CPU frees
 *   pgtable_free_test.timeout=S    seconds to wait for every page to be freed
 *
 * The test holds two extra references on each page, so the free it
 * measures only takes the count from 3 to 2: the count says whether, and
 * how many times, each page was freed, and returning the page to the
 * allocator is left out of the time.  The main thread sees the pages come
 * back by polling their counts, so the time until every page is back is
 * late by up to one sweep over the pages still out.
 */
#define pr_fmt(fmt) "pgtable_free_test: " fmt

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/init.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/page_ref.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/timekeeping.h>
#include <linux/vmalloc.h>

static unsigned int nr_cpus;
module_param(nr_cpus, uint, 0444);
MODULE_PARM_DESC(nr_cpus, "Number of CPUs to free from, the first online ones (0: all)");

static unsigned int nr_frees = 16384;
module_param(nr_frees, uint, 0444);
MODULE_PARM_DESC(nr_frees, "Number of page tables each CPU frees");

static unsigned int timeout = 60;
module_param(timeout, uint, 0444);
MODULE_PARM_DESC(timeout, "Seconds to wait for every page to be freed");

/* Page counts: allocated (1) plus the test's two references. */
#define PT_QUEUED	3
#define PT_FREED	2

struct pt_worker {
	struct ptdesc **pts;
	unsigned int cpu;
	u64 ns;				/* the free loop, on this CPU */
	struct completion done;
};

static DECLARE_COMPLETION(pt_go);

static int pt_worker_fn(void *arg)
{
	struct pt_worker *w = arg;
	unsigned int i;
	u64 start;

	wait_for_completion(&pt_go);
	start = ktime_get_ns();
	for (i = 0; i < nr_frees; i++)
		pagetable_free(w->pts[i]);
	w->ns = ktime_get_ns() - start;
	complete(&w->done);
	return 0;
}

static int pt_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

static int pt_count(struct ptdesc *pt)
{
	return page_ref_count(ptdesc_page(pt));
}

/*
 * Wait until every page in @pts[0 .. @n) has been freed, or @deadline
 * (ktime ns); reorders @pts.  Returns how many pages are still out.
 */
static unsigned long pt_wait_back(struct ptdesc **pts, unsigned long n, u64 deadline)
{
	while (n) {
		unsigned long i = 0;

		while (i < n) {
			if (pt_count(pts[i]) <= PT_FREED) {
				n--;
				swap(pts[i], pts[n]);
			} else {
				i++;
			}
		}
		if (!n || ktime_get_ns() > deadline)
			break;
		cond_resched();
	}
	return n;
}

static int __init pgtable_free_test_init(void)
{
	unsigned int ncpus = num_online_cpus(), cpu, i, j, started = 0;
	unsigned long total, out, twice = 0;
	struct pt_worker *workers;
	struct ptdesc **pts;
	u64 *ns, start, back;

	if (nr_cpus && nr_cpus < ncpus)
		ncpus = nr_cpus;
	total = (unsigned long)ncpus * nr_frees;
	workers = kcalloc(ncpus, sizeof(*workers), GFP_KERNEL);
	ns = kcalloc(ncpus, sizeof(*ns), GFP_KERNEL);
	pts = vmalloc_array(total, sizeof(*pts));
	if (!workers || !ns || !pts) {
		pr_err("FAIL: out of memory for %u CPUs x %u frees\n", ncpus, nr_frees);
		goto out_free;
	}
	for (i = 0; i < total; i++) {
		pts[i] = pagetable_alloc(GFP_KERNEL, 0);
		if (!pts[i]) {
			pr_err("FAIL: out of memory after %u of %lu page tables\n", i, total);
			while (i--) {
				ptdesc_clear_kernel(pts[i]);
				page_ref_sub(ptdesc_page(pts[i]), PT_QUEUED - 1);
				pagetable_free(pts[i]);
			}
			goto out_free;
		}
		page_ref_add(ptdesc_page(pts[i]), PT_QUEUED - 1);
		ptdesc_set_kernel(pts[i]);
	}

	pr_info("%u CPUs x %u frees, %s\n", ncpus, nr_frees,
		IS_ENABLED(CONFIG_ASYNC_KERNEL_PGTABLE_FREE) ?
		"deferred (CONFIG_ASYNC_KERNEL_PGTABLE_FREE)" : "direct");
	i = 0;
	for_each_online_cpu(cpu) {
		struct pt_worker *w = &workers[i];
		struct task_struct *task;

		if (i == ncpus)
			break;
		w->pts = &pts[(unsigned long)i * nr_frees];
		w->cpu = cpu;
		init_completion(&w->done);
		task = kthread_run_on_cpu(pt_worker_fn, w, cpu, "pgtable_free_test/%u");
		if (IS_ERR(task)) {
			pr_err("FAIL: no kthread on CPU %u: %pe\n", cpu, task);
			break;
		}
		i++;
	}
	started = i;
	start = ktime_get_ns();
	complete_all(&pt_go);
	for (i = 0; i < started; i++)
		wait_for_completion(&workers[i].done);

	/* The pages of CPUs without a kthread were never handed over. */
	for (j = started * nr_frees; j < total; j++) {
		ptdesc_clear_kernel(pts[j]);
		page_ref_sub(ptdesc_page(pts[j]), PT_QUEUED - PT_FREED);
	}
	total = (unsigned long)started * nr_frees;
	out = pt_wait_back(pts, total, start + (u64)timeout * NSEC_PER_SEC);
	back = ktime_get_ns() - start;

	for (i = 0; i < started; i++) {
		ns[i] = workers[i].ns;
		pr_info("CPU %u: %llu ns per pagetable_free()\n", workers[i].cpu,
			div_u64(workers[i].ns, nr_frees ?: 1));
	}
	if (started) {
		sort(ns, started, sizeof(*ns), pt_cmp_u64, NULL);
		pr_info("pagetable_free() ns per call over %u CPUs: min %llu median %llu max %llu\n",
			started, div_u64(ns[0], nr_frees ?: 1),
			div_u64(ns[started / 2], nr_frees ?: 1),
			div_u64(ns[started - 1], nr_frees ?: 1));
	}
	if (out) {
		pr_err("FAIL: %lu of %lu pages not freed within %u s\n", out, total, timeout);
	} else {
		pr_info("all %lu pages freed %llu us after the start\n", total,
			div_u64(back, NSEC_PER_USEC));
	}

	/* Release the pages back; leave those still out (they may be queued). */
	for (j = out; j < (unsigned long)ncpus * nr_frees; j++) {
		struct page *page = ptdesc_page(pts[j]);
		int count = pt_count(pts[j]);

		if (count < PT_FREED) {
			twice++;
			if (count < 1)
				continue;
		}
		page_ref_sub(page, count - 1);
		__free_page(page);
	}
	if (twice)
		pr_err("FAIL: %lu pages freed more than once\n", twice);
	if (!out && !twice && started == ncpus)
		pr_info("PASS\n");
out_free:
	vfree(pts);
	kfree(ns);
	kfree(workers);
	return 0;
}
late_initcall(pgtable_free_test_init);
