/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_IOMMU_H
#define _SHIM_LINUX_IOMMU_H
/*
 * iommu_sva_invalidate_kva_range(): in the kernel, flush every SVA
 * domain's IOTLB and paging-structure caches for a kernel VA range and wait
 * for completion.  Here the test defines it: it records when the flush
 * began, so the free hook can check each descriptor against it.
 */
void iommu_sva_invalidate_kva_range(unsigned long start, unsigned long end);

#endif /* _SHIM_LINUX_IOMMU_H */
