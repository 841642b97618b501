// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit test of the deferred freeing of kernel page tables
 * (CONFIG_ASYNC_KERNEL_PGTABLE_FREE).  Included at the end of
 * mm/pgtable-generic.c, so that it reaches the work item and sees every
 * IOMMU flush the worker issues.
 *
 * Each page the test frees through pagetable_free() must be freed exactly
 * once, and only after a flush that began after the page was queued.
 *
 * The test holds two extra references on each of its pages, so the
 * worker's free only takes the count from KPT_QUEUED to KPT_FREED: the count
 * says whether, and how many times, the page was freed, and the page stays
 * the test's to check and release.  mm/pgtable-generic.c sends its one call
 * of iommu_sva_invalidate_kva_range() to kernel_pgtable_test_flush(), which
 * numbers the flush's start on the test's clock, flushes, and then marks
 * "flushed" every page stamped before that start that the worker has not
 * freed yet: the worker frees such a page, when it does, after a flush that
 * began after the page was queued.  A page is stamped just before its
 * pagetable_free(), so a flush that began between the stamp and the add
 * also counts: the check can miss such a bug, never report a correct run.
 *
 * A lone free on each CPU must complete with nothing else to wake the
 * worker; the test waits up to KPT_STRANDED_SECS for it, a hang guard far
 * beyond any scheduling delay, not a timing assertion.  After concurrent
 * frees, once every pagetable_free() has returned, one flush_work() must
 * leave every page freed: the work that takes each page is queued or
 * running by then.
 */
#undef iommu_sva_invalidate_kva_range

#include <kunit/test.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/mutex.h>
#include <linux/page_ref.h>

/* Page counts: allocated (1) plus the test's two references. */
#define KPT_QUEUED		3
#define KPT_FREED		2

#define KPT_STRANDED_SECS	30
#define KPT_ROUNDS		16
#define KPT_PER_CPU		1024	/* pages per CPU per round */

struct kpt_page {
	struct ptdesc *pt;
	u64 queued;		/* the clock before pagetable_free(); 0: not yet */
	bool flushed;		/* under kpt_lock */
};

/* The pages the flush hook watches: kpt_pages[0 .. kpt_nr) */
static DEFINE_MUTEX(kpt_lock);
static struct kpt_page *kpt_pages;
static unsigned int kpt_nr;
static atomic64_t kpt_clock;
static atomic_t kpt_flushes;

static void kernel_pgtable_test_flush(unsigned long start, unsigned long end)
{
	/* Fully ordered: after the worker took the pages it will free. */
	u64 began = atomic64_inc_return(&kpt_clock);
	unsigned int i;

	iommu_sva_invalidate_kva_range(start, end);
	atomic_inc(&kpt_flushes);

	mutex_lock(&kpt_lock);
	for (i = 0; i < kpt_nr; i++) {
		struct kpt_page *p = &kpt_pages[i];
		u64 queued = READ_ONCE(p->queued);

		/*
		 * The worker frees after it returns from here, so a page it
		 * has not freed yet is freed after this flush.
		 */
		if (!p->flushed && queued && queued < began &&
		    page_ref_count(ptdesc_page(p->pt)) == KPT_QUEUED)
			p->flushed = true;
	}
	mutex_unlock(&kpt_lock);
}

static void kpt_watch(struct kpt_page *pages, unsigned int nr)
{
	mutex_lock(&kpt_lock);
	kpt_pages = pages;
	kpt_nr = nr;
	mutex_unlock(&kpt_lock);
}

static int kpt_alloc(struct kpt_page *p)
{
	p->pt = pagetable_alloc(GFP_KERNEL, 0);
	if (!p->pt)
		return -ENOMEM;
	page_ref_add(ptdesc_page(p->pt), KPT_QUEUED - 1);
	ptdesc_set_kernel(p->pt);
	p->queued = 0;
	p->flushed = false;
	return 0;
}

/* The call under test. */
static void kpt_free(struct kpt_page *p)
{
	WRITE_ONCE(p->queued, atomic64_inc_return(&kpt_clock));
	pagetable_free(p->pt);
}

static int kpt_count(struct kpt_page *p)
{
	return page_ref_count(ptdesc_page(p->pt));
}

/*
 * Drain whatever is queued, even with nothing queued to drain it (a
 * stranded page), so that the pages can be checked and released.
 */
static void kpt_rescue(void)
{
	queue_work(system_dfl_wq, &kernel_pgtable_work);
	flush_work(&kernel_pgtable_work);
}

/*
 * Check pages[0 .. nr) after a drain (which orders this after the frees
 * and the hook's marks), stop watching them and release them; @what names
 * the phase in messages.
 */
static void kpt_check_release(struct kunit *test, struct kpt_page *pages,
			      unsigned int nr, const char *what)
{
	unsigned int i, unfreed = 0, twice = 0, unflushed = 0;

	for (i = 0; i < nr; i++) {
		int count = kpt_count(&pages[i]);

		if (!pages[i].queued)
			continue;
		if (count > KPT_FREED)
			unfreed++;
		else if (count < KPT_FREED)
			twice++;
		else if (!pages[i].flushed)
			unflushed++;
	}
	KUNIT_EXPECT_EQ_MSG(test, unfreed, 0U, "%s: pages not freed after the drain", what);
	KUNIT_EXPECT_EQ_MSG(test, twice, 0U, "%s: pages freed more than once", what);
	KUNIT_EXPECT_EQ_MSG(test, unflushed, 0U,
			    "%s: pages freed with no flush begun after they were queued", what);

	kpt_rescue();
	kpt_watch(NULL, 0);
	for (i = 0; i < nr; i++) {
		struct page *page = ptdesc_page(pages[i].pt);
		int count = kpt_count(&pages[i]);

		/* Never handed to pagetable_free(): the test's own to free. */
		if (!pages[i].queued) {
			ptdesc_clear_kernel(pages[i].pt);
			count = KPT_FREED;
		}
		/* Still queued after the rescue: leak it rather than free it. */
		if (count > KPT_FREED || count < 1)
			continue;
		page_ref_sub(page, count - 1);
		__free_page(page);
	}
}

struct kpt_thread {
	struct kpt_page *pages;
	unsigned int nr;
	struct completion *go;
	struct completion done;
};

static int kpt_thread_fn(void *arg)
{
	struct kpt_thread *t = arg;
	unsigned int i;

	if (t->go)
		wait_for_completion(t->go);
	for (i = 0; i < t->nr; i++)
		kpt_free(&t->pages[i]);
	complete(&t->done);
	return 0;
}

/* Free @nr pages from a kthread bound to @cpu; wait for the frees to return. */
static void kpt_free_on(struct kunit *test, unsigned int cpu, struct kpt_page *pages,
			unsigned int nr)
{
	struct kpt_thread t = { .pages = pages, .nr = nr };
	struct task_struct *task;

	init_completion(&t.done);
	task = kthread_run_on_cpu(kpt_thread_fn, &t, cpu, "kpt_free/%u");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&t.done);
}

/*
 * One free on one CPU at a time, with nothing else freed meanwhile: the
 * add that makes the list non-empty must queue the work itself.
 */
static void kernel_pgtable_lone_free_test(struct kunit *test)
{
	struct kpt_page *pages;
	unsigned int cpu, n = 0;
	int flushes;

	pages = kunit_kcalloc(test, nr_cpu_ids, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	kpt_rescue();
	flushes = atomic_read(&kpt_flushes);
	for_each_online_cpu(cpu) {
		struct kpt_page *p = &pages[n];
		unsigned long deadline;

		KUNIT_ASSERT_EQ(test, kpt_alloc(p), 0);
		kpt_watch(pages, ++n);
		kpt_free_on(test, cpu, p, 1);

		deadline = jiffies + KPT_STRANDED_SECS * HZ;
		while (kpt_count(p) > KPT_FREED && time_before(jiffies, deadline))
			msleep(20);
		if (kpt_count(p) > KPT_FREED) {
			KUNIT_FAIL(test, "the lone free on CPU %u was stranded: not freed in %d s",
				   cpu, KPT_STRANDED_SECS);
			break;
		}
		/* Pairs with the fully ordered count drop after the hook's mark. */
		smp_rmb();
		KUNIT_EXPECT_EQ_MSG(test, kpt_count(p), KPT_FREED,
				    "the lone free on CPU %u was freed more than once", cpu);
		KUNIT_EXPECT_TRUE_MSG(test, p->flushed,
				      "the lone free on CPU %u was freed with no flush begun after it was queued",
				      cpu);
	}
	kpt_check_release(test, pages, n, "lone frees");
	kunit_info(test, "%u lone frees, %d flushes\n", n,
		   atomic_read(&kpt_flushes) - flushes);
}

/*
 * KPT_ROUNDS rounds: a kthread on every online CPU frees KPT_PER_CPU pages
 * at once; when all have returned, one flush_work() must have freed them.
 */
static void kernel_pgtable_concurrent_free_test(struct kunit *test)
{
	unsigned int ncpus = num_online_cpus(), nr = ncpus * KPT_PER_CPU;
	struct kpt_thread *threads;
	struct kpt_page *pages;
	unsigned int round, cpu, i;
	int flushes = atomic_read(&kpt_flushes);

	threads = kunit_kcalloc(test, ncpus, sizeof(*threads), GFP_KERNEL);
	pages = kunit_kcalloc(test, nr, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, threads);
	KUNIT_ASSERT_NOT_NULL(test, pages);

	for (round = 0; round < KPT_ROUNDS; round++) {
		DECLARE_COMPLETION_ONSTACK(go);
		char what[32];

		for (i = 0; i < nr; i++) {
			if (kpt_alloc(&pages[i])) {
				kpt_check_release(test, pages, i, "allocation");
				KUNIT_FAIL_AND_ABORT(test, "out of memory");
			}
		}
		kpt_watch(pages, nr);

		i = 0;
		for_each_online_cpu(cpu) {
			struct kpt_thread *t = &threads[i];
			struct task_struct *task;

			if (i == ncpus)
				break;
			t->pages = &pages[i * KPT_PER_CPU];
			t->nr = KPT_PER_CPU;
			t->go = &go;
			init_completion(&t->done);
			task = kthread_run_on_cpu(kpt_thread_fn, t, cpu, "kpt_free/%u");
			if (IS_ERR(task)) {
				KUNIT_FAIL(test, "no kthread on CPU %u: %pe", cpu, task);
				complete(&t->done);
			}
			i++;
		}
		complete_all(&go);
		while (i--)
			wait_for_completion(&threads[i].done);

		/* The barrier: every page's run is queued or running now. */
		flush_work(&kernel_pgtable_work);
		snprintf(what, sizeof(what), "round %u", round);
		kpt_check_release(test, pages, nr, what);
		if (test->status == KUNIT_FAILURE)
			break;
	}
	kunit_info(test, "%u rounds of %u CPUs x %u frees, %d flushes\n", round, ncpus,
		   KPT_PER_CPU, atomic_read(&kpt_flushes) - flushes);
}

static struct kunit_case kernel_pgtable_free_test_cases[] = {
	KUNIT_CASE(kernel_pgtable_lone_free_test),
	KUNIT_CASE_SLOW(kernel_pgtable_concurrent_free_test),
	{}
};

static struct kunit_suite kernel_pgtable_free_test_suite = {
	.name = "kernel_pgtable_free",
	.test_cases = kernel_pgtable_free_test_cases,
};

kunit_test_suite(kernel_pgtable_free_test_suite);
