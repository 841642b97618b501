/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_MODEL_DESIGNS_H
#define PGFREE_BENCH_MODEL_DESIGNS_H
/*
 * The designs calib.c measures and trace.c counts, by the names model.py,
 * transfers.json and the benchmark's rows use: a queueing design and the
 * flags that make the row.  Included by each program once.
 */
#include <pgfree/pgfree.h>

static const struct model_design {
	const char *name;
	unsigned int design, flags;
} model_designs[] = {
	{ "percpu", PGFREE_DESIGN_PERCPU, 0 },
	{ "percpu_takeback", PGFREE_DESIGN_PERCPU, PGFREE_F_TAKE_BACK },
	{ "v5", PGFREE_DESIGN_V5, 0 },
	{ "v5_tas", PGFREE_DESIGN_V5, PGFREE_F_TAS_LOCK },
	{ "v3", PGFREE_DESIGN_V3, 0 },
	{ "v3_tas", PGFREE_DESIGN_V3, PGFREE_F_TAS_LOCK },
	{ "global_llist", PGFREE_DESIGN_GLOBAL_LLIST, 0 },
};

#define NR_MODEL_DESIGNS ((int)(sizeof(model_designs) / sizeof(model_designs[0])))

#endif /* PGFREE_BENCH_MODEL_DESIGNS_H */
