// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * quickstart: the README's usage example, built and run by the test suite.
 *
 * Three kinds of page-table page share one pgfree queue (the wish in
 * "Re: [PATCH v3 1/1] iommu/sva: Invalidate KVA range on kernel TLB flush" (Matthew Wilcox, 26 Aug 2025)):
 * a descriptor with a destructor, an order-0 page and a higher-order page.
 * The node is embedded in the user's own struct; the user tells the kinds
 * apart in ->release().  ->range_of() lets the flush cover only the union
 * of the freed tables' ranges.
 */
#include <stdio.h>
#include <stdlib.h>

#include <pgfree/pgfree.h>

enum kind { PTDESC, PAGE_ORDER0, PAGE_HIGH_ORDER };

struct pt_page {
	struct pgfree_llist_node free_node;	/* what pgfree links */
	enum kind kind;
	unsigned int order;
	uintptr_t va_start, va_end;		/* what this table mapped */
};

struct iommu {
	unsigned long flushes, freed;
};

/* The secondary-TLB flush: an IOTLB + paging-structure-cache invalidation. */
static int iommu_flush(void *ctx, const struct pgfree_range *range)
{
	struct iommu *iommu = ctx;

	iommu->flushes++;
	printf("flush [%#lx, %#lx)\n", (unsigned long)range->start, (unsigned long)range->end);
	return 0;
}

static int pt_range(void *ctx, const struct pgfree_llist_node *node, struct pgfree_range *r)
{
	const struct pt_page *pt = pgfree_llist_entry(node, struct pt_page, free_node);

	(void)ctx;
	r->start = pt->va_start;
	r->end = pt->va_end;
	return 0;
}

static void pt_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct iommu *iommu = ctx;
	struct pt_page *pt, *next;

	pgfree_llist_for_each_entry_safe(pt, next, batch, free_node) {
		switch (pt->kind) {
		case PTDESC:		/* run the destructor, then free */
		case PAGE_ORDER0:
		case PAGE_HIGH_ORDER:	/* free 1 << order pages */
			free(pt);
			iommu->freed++;
		}
	}
}

int main(void)
{
	struct iommu iommu = { 0 };
	struct pgfree_config cfg = {
		.ops = { .flush = iommu_flush, .release = pt_release, .range_of = pt_range },
		.ctx = &iommu,
	};
	struct pgfree_domain *dom;
	int err = pgfree_domain_create(&cfg, &dom);

	if (err) {
		fprintf(stderr, "pgfree_domain_create: %s\n", pgfree_strerror(err));
		return 1;
	}

	for (unsigned int i = 0; i < 3; i++) {
		struct pt_page *pt = calloc(1, sizeof(*pt));

		if (!pt)
			return 1;
		pt->kind = (enum kind)i;
		pt->order = i == PAGE_HIGH_ORDER ? 2 : 0;
		pt->va_start = 0x1000000u * (i + 1);
		pt->va_end = pt->va_start + 0x200000u;
		/* The table is already unlinked from the page tables here. */
		err = pgfree_defer(dom, &pt->free_node);
		if (err) {
			fprintf(stderr, "pgfree_defer: %s\n", pgfree_strerror(err));
			return 1;
		}
	}

	pgfree_barrier(dom);		/* all three flushed and freed */
	pgfree_domain_destroy(dom);
	printf("freed %lu table pages with %lu flush(es)\n", iommu.freed, iommu.flushes);
	return iommu.freed == 3 && iommu.flushes >= 1 ? 0 : 1;
}
