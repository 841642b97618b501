#ifdef CONFIG_KERNEL_PGTABLE_FREE_KUNIT_TEST
/*
 * The KUnit test included at the end of this file sees every IOMMU flush
 * the worker issues: it checks that each page is freed only after a flush
 * that began after the page was queued.
 */
static void kernel_pgtable_test_flush(unsigned long start, unsigned long end);
#define iommu_sva_invalidate_kva_range kernel_pgtable_test_flush
#endif

