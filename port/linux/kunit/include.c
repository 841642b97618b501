
#ifdef CONFIG_KERNEL_PGTABLE_FREE_KUNIT_TEST
#include "tests/kernel_pgtable_free_kunit.c"
#endif
