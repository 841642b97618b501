// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The measurements behind two hot-path decisions of pgfree_defer(), as a
 * standalone program (no Google Benchmark, so nothing else is in the loop):
 *   - no second atomic RMW (a counter) beside the push: compare "push" with
 *     "push + xadd";
 *   - read the CPU from glibc's rseq area, not through sched_getcpu():
 *     compare "push + sched_getcpu" with "push + rseq cpu_id".
 *
 * Build and run (prints three rounds; quote medians):
 *   cc -O2 -D_GNU_SOURCE bench/micro/hotpath_costs.c -o /tmp/hotpath && /tmp/hotpath
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/rseq.h>
#include <time.h>

#define N 50000000L

struct node {
	struct node *next;
};

static _Alignas(128) _Atomic(struct node *) head;
static _Alignas(128) _Atomic unsigned long counter;
static struct node nodes[1 << 16];

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static inline void push(long i)
{
	struct node *x = &nodes[i & 0xffff];
	struct node *f = atomic_load_explicit(&head, memory_order_relaxed);

	do
		x->next = f;
	while (!atomic_compare_exchange_weak_explicit(&head, &f, x, memory_order_release,
						      memory_order_relaxed));
	if ((i & 63) == 0)		/* a consumer's del_all, now and then */
		atomic_store_explicit(&head, NULL, memory_order_relaxed);
}

static inline int rseq_cpu(void)
{
	const struct rseq *rs = (const struct rseq *)((char *)__builtin_thread_pointer() +
						      __rseq_offset);

	return __rseq_size ? (int)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED) : -1;
}

int main(void)
{
	volatile int sink = 0;

	for (int round = 0; round < 3; round++) {
		double t = now_ns();

		for (long i = 0; i < N; i++)
			atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
		printf("floor (xadd, private line)  %.2f ns\n", (now_ns() - t) / N);
		t = now_ns();
		for (long i = 0; i < N; i++)
			push(i);
		printf("push (llist_add)            %.2f ns\n", (now_ns() - t) / N);
		t = now_ns();
		for (long i = 0; i < N; i++) {
			push(i);
			atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed);
		}
		printf("push + xadd counter         %.2f ns\n", (now_ns() - t) / N);
		t = now_ns();
		for (long i = 0; i < N; i++) {
			push(i);
			sink += sched_getcpu();
		}
		printf("push + sched_getcpu()       %.2f ns\n", (now_ns() - t) / N);
		t = now_ns();
		for (long i = 0; i < N; i++) {
			push(i);
			sink += rseq_cpu();
		}
		printf("push + rseq cpu_id          %.2f ns\n\n", (now_ns() - t) / N);
	}
	return sink == 42;
}
