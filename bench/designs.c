// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* The batching policies and the list of designs in report order. */
#include <pgfree/pgfree.h>

#include "designs.h"

/* pgfree's default: gather for 50 us after a wake-up, cut short at 4096. */
struct bpolicy bpolicy_delay = {
	"delay", PGFREE_DEFAULT_BATCH_DELAY_US, PGFREE_DEFAULT_BATCH_MAX
};
/* Drain as soon as woken. */
const struct bpolicy bpolicy_nodelay = { "nodelay", 0, PGFREE_DEFAULT_BATCH_MAX };
/* The kernel's worker: no delay (v5_kernel only). */
const struct bpolicy bpolicy_kernel = { "kernel", 0, PGFREE_DEFAULT_BATCH_MAX };
/* The peer's own consumer (call_rcu's worker loop): nothing of ours applies. */
const struct bpolicy bpolicy_own = { "own", 0, 0 };
static const struct bpolicy bpolicy_none = { "none", 0, 0 };

const struct bdesign *bench_designs[BENCH_MAX_DESIGNS];
unsigned int bench_nr_designs;

void bench_designs_init(void)
{
	bench_nr_designs = 0;
	for (unsigned int i = 0; i < bench_nr_pgfree_designs && bench_nr_designs < BENCH_MAX_DESIGNS; i++)
		bench_designs[bench_nr_designs++] = &bench_pgfree_designs[i];
	for (unsigned int i = 0; i < bench_nr_peer_designs && bench_nr_designs < BENCH_MAX_DESIGNS; i++)
		bench_designs[bench_nr_designs++] = &bench_peer_designs[i];
}

unsigned int bench_policies(const struct bdesign *d, const struct bpolicy *out[2])
{
	switch (d->policy) {
	case BP_BOTH:
		out[0] = &bpolicy_delay;
		out[1] = &bpolicy_nodelay;
		return 2;
	case BP_KERNEL:
		out[0] = &bpolicy_kernel;
		return 1;
	case BP_OWN:
		out[0] = &bpolicy_own;
		return 1;
	case BP_NONE:
		break;
	}
	out[0] = &bpolicy_none;
	return 1;
}
