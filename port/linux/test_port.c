// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The ported mm/pgtable-generic.c code, run in user space against shim/ and
 * checked on every descriptor for the invariant pgfree keeps:
 *
 *   a descriptor is freed only after a flush that began after its
 *   pagetable_free_kernel() call has returned; each one is freed exactly
 *   once; none is left behind once the workqueue is idle.
 *
 * The checker works like tests/support/tracker.h, adapted to the kernel
 * interface: one seq_cst logical clock.  The producer stamps a descriptor
 * just before pagetable_free_kernel(); the flush hook
 * (iommu_sva_invalidate_kva_range()) takes a stamp at entry and publishes
 * it when it returns; the free hook (__pagetable_free()) requires the last
 * published flush stamp to be larger than the descriptor's.  Stamping
 * before the call makes the check a little weaker than the contract but
 * never wrong about correct code: the worker took the descriptor (after
 * its stamp) before the flush began.  A CAS'd state (IDLE -> QUEUED ->
 * FREED) catches double frees and frees of something never queued; freed
 * memory is poisoned so that a use after free shows up (ASan, or garbage).
 *
 * Lost wake-ups are checked deterministically, without timing: first a
 * single isolated free on each CPU slot (and pairs of slots), each followed
 * by a drain (flush_workqueue(system_dfl_wq) and flush_scheduled_work():
 * the shim runs every workqueue on one worker, so either waits for all),
 * after which the descriptor must be freed; then, in the multi-threaded
 * phase, all producers meet at a barrier after every burst, one of them
 * drains, and every descriptor of that burst must be freed.  Once every
 * pagetable_free_kernel() call has returned, the run that will take each
 * queued descriptor is queued or running, so the drain must free it.
 *
 * One executable per variant of the kernel file (CMakeLists.txt):
 *   test_port_linux                 pgtable-generic.c (per-CPU llists)
 *   test_port_linux_global_llist    global-llist/pgtable-generic.c
 *   test_port_linux_v5              v5/pgtable-generic.c (v6.19)
 *   test_port_linux[_global_llist]_mutant_flush
 *                                   the flush moved after the frees
 *   test_port_linux[_global_llist]_mutant_wake
 *                                   the work queued only when llist_add()
 *                                   returns false (inverted wake)
 * (the mutants are mutant.sh's, which kernel-test.sh also uses)
 *
 * Options:
 *   --expect-violation       negative control: succeed only if the checker
 *                            reported a flush-before-free violation
 *   --expect-lost-wake       negative control: succeed only if a drain left
 *                            a queued descriptor unfreed
 *   --expect-no-empty-flush  fail if a flush had nothing to free after it
 *                            (the per-CPU version skips the flush then)
 * Environment:
 *   PGFREE_TEST_SCALE        multiplies the 10^6 descriptors (default 1)
 *   PGFREE_PORT_FLUSH_NS     time each flush spins (default 2000)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/workqueue.h>
#include <asm/tlb.h>

#define NR_PRODUCERS	8
#define BASE_TOTAL	1000000UL
#define BURST		128	/* descriptors between two drain-and-checks */
#define NR_ISOLATED	(3 * NR_CPUS)	/* descriptors of the isolated phase */

enum { PT_IDLE, PT_QUEUED, PT_FREED };

/**
 * struct tpt - a fake page-table page
 * @pt: what the kernel code queues
 * @stamp: clock value taken just before pagetable_free_kernel(); written by
 *	the producer, read by the worker after it took @pt (ordered by the
 *	list's release/acquire or by the v5 spinlock)
 * @state: PT_*, moved by CAS
 * @producer: which producer queued it (for messages)
 * @seq: its index in the producer's array
 */
struct tpt {
	struct ptdesc pt;
	uint64_t stamp;
	_Atomic int state;
	uint32_t producer;
	uint32_t seq;
};

static struct {
	/* seq_cst: the stamps of all threads must be totally ordered */
	_Atomic uint64_t clock;
	/* stamp of the last flush that returned; release/acquire */
	_Atomic uint64_t last_flush_start;
	_Atomic int in_flush;
	_Atomic uint64_t flushes;
	_Atomic uint64_t queued;
	_Atomic uint64_t freed;
	_Atomic uint64_t violations;
	/* queued descriptors a drain left unfreed (lost wake-ups) */
	_Atomic uint64_t lost;
	_Atomic int msg_state;
	char msg[320];
	uint64_t flush_ns;
	/*
	 * Only the worker thread touches these (both hooks run in the work
	 * function); the main thread reads them after flush_scheduled_work(),
	 * which synchronizes with the worker through the workqueue's mutex.
	 * Plain on purpose: a hook running on another thread would be a data
	 * race that TSan reports.
	 */
	uint64_t frees_since_flush;
	uint64_t empty_flushes;
} chk;

__attribute__((format(printf, 1, 2)))
static void violation(const char *fmt, ...)
{
	int expected = 0;
	va_list ap;

	/* Relaxed: a counter read after the threads are joined. */
	atomic_fetch_add_explicit(&chk.violations, 1, memory_order_relaxed);
	/* First message wins; acq_rel so the reader sees the text. */
	if (!atomic_compare_exchange_strong_explicit(&chk.msg_state, &expected, 1,
						     memory_order_acq_rel, memory_order_relaxed))
		return;
	va_start(ap, fmt);
	vsnprintf(chk.msg, sizeof(chk.msg), fmt, ap);
	va_end(ap);
	atomic_store_explicit(&chk.msg_state, 2, memory_order_release);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The hook behind iommu_sva_invalidate_kva_range(): an IOTLB flush. */
void iommu_sva_invalidate_kva_range(unsigned long start, unsigned long end)
{
	/* seq_cst: compared with the producers' stamps (see the top). */
	uint64_t begin = atomic_fetch_add(&chk.clock, 1) + 1;
	uint64_t until;

	if (start != PAGE_OFFSET || end != TLB_FLUSH_ALL)
		violation("flush of [%#lx, %#lx), not [PAGE_OFFSET, TLB_FLUSH_ALL)", start, end);
	/* acq_rel: a second flush at the same time must see the first. */
	if (atomic_exchange_explicit(&chk.in_flush, 1, memory_order_acq_rel))
		violation("two flushes ran at the same time");

	if (atomic_load_explicit(&chk.flushes, memory_order_relaxed) && !chk.frees_since_flush)
		chk.empty_flushes++;
	chk.frees_since_flush = 0;

	until = now_ns() + chk.flush_ns;
	while (chk.flush_ns && now_ns() < until)
		;

	atomic_store_explicit(&chk.in_flush, 0, memory_order_release);
	/*
	 * Release: a free hook that reads this stamp (acquire) is after the
	 * flush's return.  One worker thread, so the stamps only grow.
	 */
	atomic_store_explicit(&chk.last_flush_start, begin, memory_order_release);
	atomic_fetch_add_explicit(&chk.flushes, 1, memory_order_relaxed);
}

/* The hook behind __pagetable_free(): the page goes back to the allocator. */
void shim_pagetable_free(struct ptdesc *pt)
{
	struct tpt *d = container_of(pt, struct tpt, pt);
	uint64_t flushed = atomic_load_explicit(&chk.last_flush_start, memory_order_acquire);
	int expected = PT_QUEUED;

	if (flushed <= d->stamp)
		violation("descriptor %u/%u freed before a flush that began after its "
			  "pagetable_free_kernel() returned (queued at %llu, last flush "
			  "began at %llu)", d->producer, d->seq, (unsigned long long)d->stamp,
			  (unsigned long long)flushed);
	/* acq_rel: orders this free after the queueing and before a re-free. */
	if (!atomic_compare_exchange_strong_explicit(&d->state, &expected, PT_FREED,
						     memory_order_acq_rel, memory_order_acquire))
		violation("descriptor %u/%u freed in state %d (twice, or never queued)",
			  d->producer, d->seq, expected);
	if (atomic_load_explicit(&d->state, memory_order_relaxed) == PT_FREED)
		memset(&d->pt, 0x6b, sizeof(d->pt));	/* the allocator owns it now */
	chk.frees_since_flush++;
	atomic_fetch_add_explicit(&chk.freed, 1, memory_order_relaxed);
}

/*
 * Half the producers ask for an arbitrary CPU on every call: the worst case
 * of migration between choosing a list and llist_add(), which the kernel
 * code rules out by disabling preemption and the shim cannot: every list
 * shared by every producer.
 */
static _Thread_local int tl_scramble;
static _Thread_local uint32_t tl_rng;
static _Thread_local int tl_force_cpu = -1;	/* the isolated phase's slot */

static int test_cpu_id(void)
{
	if (tl_force_cpu >= 0)
		return tl_force_cpu;
	if (!tl_scramble) {
		int cpu = sched_getcpu();

		return cpu < 0 ? 0 : cpu;
	}
	tl_rng ^= tl_rng << 13;
	tl_rng ^= tl_rng >> 17;
	tl_rng ^= tl_rng << 5;
	return (int)(tl_rng >> 8);
}

struct producer {
	pthread_t thread;
	uint32_t id;
	size_t n;
	struct tpt *d;
};

static struct producer prod[NR_PRODUCERS];
static pthread_barrier_t burst_done, check_done;

/*
 * Wait until no work is queued or running.  The new code queues on
 * system_dfl_wq, v5 on system_wq; the shim's one worker serves both, so
 * each call waits for everything, but the test says what the kernel would
 * need.  Any thread may call it.
 */
static void drain(void)
{
	flush_workqueue(system_dfl_wq);
	flush_scheduled_work();
}

/*
 * After a drain, with every pagetable_free_kernel() on @d[0..n) returned:
 * each must be freed.  Returns how many were not.
 */
static size_t check_drained(const struct tpt *d, size_t n, const char *what)
{
	size_t left = 0;

	for (size_t i = 0; i < n; i++) {
		int st = atomic_load(&d[i].state);

		if (st == PT_FREED)
			continue;
		if (!left++)
			fprintf(stderr, "lost wake-up: %s: descriptor %u/%u still in state %d "
				"after the workqueue drained\n", what, d[i].producer, d[i].seq, st);
	}
	if (left)
		atomic_fetch_add(&chk.lost, left);
	return left;
}

static void queue_one(struct tpt *d)
{
	int expected = PT_IDLE;

	if (!atomic_compare_exchange_strong_explicit(&d->state, &expected, PT_QUEUED,
						     memory_order_relaxed, memory_order_relaxed))
		violation("descriptor %u/%u queued in state %d", d->producer, d->seq, expected);
	/* seq_cst: see the top; taken before the call, never after. */
	d->stamp = atomic_fetch_add(&chk.clock, 1) + 1;
	pagetable_free_kernel(&d->pt);
	atomic_fetch_add_explicit(&chk.queued, 1, memory_order_relaxed);
}

/*
 * The isolated phase, on the main thread with no producer running: one
 * free on each slot, then one on each pair of slots s and s + 3, then two
 * on the same slot; a drain after each group; each descriptor must then be
 * freed.  An inverted wake condition fails the first group.
 */
static size_t isolated_frees(struct tpt *d)
{
	char what[64];
	size_t lost = 0, k = 0;

	for (int s = 0; s < NR_CPUS; s++) {
		tl_force_cpu = s;
		queue_one(&d[k]);
		drain();
		snprintf(what, sizeof(what), "one free on CPU slot %d", s);
		lost += check_drained(&d[k], 1, what);
		k++;
	}
	for (int s = 0; s < NR_CPUS; s++) {
		tl_force_cpu = s;
		queue_one(&d[k]);
		tl_force_cpu = (s + 3) % NR_CPUS;
		queue_one(&d[k + 1]);
		drain();
		snprintf(what, sizeof(what), "frees on CPU slots %d and %d", s, (s + 3) % NR_CPUS);
		lost += check_drained(&d[k], 2, what);
		k += 2;
	}
	tl_force_cpu = -1;
	return lost;
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;

	tl_scramble = p->id & 1;
	tl_rng = 0x9e3779b9u * (p->id + 1);
	for (size_t start = 0; start < p->n; start += BURST) {
		size_t end = start + BURST < p->n ? start + BURST : p->n;
		char what[64];

		for (size_t i = start; i < end; i++)
			queue_one(&p->d[i]);
		/*
		 * Drain and check after each burst.  Every producer's calls
		 * have returned once all have passed the barrier, so a drain
		 * must free every descriptor of the burst.  It also empties the
		 * lists, so the empty -> non-empty transition (the only one
		 * that queues the work) happens in every burst.  All producers
		 * have the same n, hence the same number of bursts.
		 */
		if (pthread_barrier_wait(&burst_done) == PTHREAD_BARRIER_SERIAL_THREAD) {
			drain();
			snprintf(what, sizeof(what), "burst at %zu", start);
			for (uint32_t t = 0; t < NR_PRODUCERS; t++)
				check_drained(&prod[t].d[start], end - start, what);
		}
		pthread_barrier_wait(&check_done);
	}
	return NULL;
}

static double env_double(const char *name, double dflt)
{
	const char *s = getenv(name);
	char *end;
	double v;

	if (!s || !*s)
		return dflt;
	v = strtod(s, &end);
	return (*end || v < 0) ? dflt : v;
}

int main(int argc, char **argv)
{
	static struct tpt iso[NR_ISOLATED];
	bool expect_violation = false, expect_lost = false, expect_no_empty = false;
	size_t total, per, problems = 0;
	uint64_t t0, t1, freed, flushes;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--expect-violation")) {
			expect_violation = true;
		} else if (!strcmp(argv[i], "--expect-lost-wake")) {
			expect_lost = true;
		} else if (!strcmp(argv[i], "--expect-no-empty-flush")) {
			expect_no_empty = true;
		} else {
			fprintf(stderr, "usage: %s [--expect-violation] [--expect-lost-wake] "
				"[--expect-no-empty-flush]\n",
				argv[0]);
			return 2;
		}
	}

	total = (size_t)(BASE_TOTAL * env_double("PGFREE_TEST_SCALE", 1.0));
	if (expect_violation)
		total /= 20;	/* the first batch already shows it */
	if (total < NR_PRODUCERS * 16)
		total = NR_PRODUCERS * 16;
	per = total / NR_PRODUCERS;
	total = per * NR_PRODUCERS;
	chk.flush_ns = (uint64_t)env_double("PGFREE_PORT_FLUSH_NS", 2000);

	/* Before any thread runs: shim_cpu_id_fn is a plain variable. */
	shim_cpu_id_fn = test_cpu_id;

	for (uint32_t t = 0; t < NR_PRODUCERS; t++) {
		prod[t].id = t;
		prod[t].n = per;
		prod[t].d = calloc(per, sizeof(*prod[t].d));
		if (!prod[t].d) {
			fprintf(stderr, "out of memory\n");
			return 2;
		}
		for (size_t i = 0; i < per; i++) {
			prod[t].d[i].producer = t;
			prod[t].d[i].seq = (uint32_t)i;
			atomic_init(&prod[t].d[i].state, PT_IDLE);
		}
	}

	for (uint32_t i = 0; i < NR_ISOLATED; i++) {
		iso[i].producer = NR_PRODUCERS;	/* "producer" NR_PRODUCERS: main */
		iso[i].seq = i;
		atomic_init(&iso[i].state, PT_IDLE);
	}
	if (isolated_frees(iso)) {
		if (expect_lost) {
			printf("negative control: a lost wake-up was caught by the isolated "
			       "frees, as it must be\n");
			return 0;
		}
		fprintf(stderr, "FAILED: lost wake-up in the isolated phase\n");
		return 1;
	}
	printf("isolated frees: %d descriptors, each freed after one drain\n", NR_ISOLATED);

	if (pthread_barrier_init(&burst_done, NULL, NR_PRODUCERS) ||
	    pthread_barrier_init(&check_done, NULL, NR_PRODUCERS)) {
		fprintf(stderr, "pthread_barrier_init failed\n");
		return 2;
	}
	t0 = now_ns();
	for (uint32_t t = 0; t < NR_PRODUCERS; t++) {
		if (pthread_create(&prod[t].thread, NULL, producer_main, &prod[t])) {
			fprintf(stderr, "pthread_create failed\n");
			return 2;
		}
	}
	for (uint32_t t = 0; t < NR_PRODUCERS; t++)
		pthread_join(prod[t].thread, NULL);
	/* Every producer returned: all work they needed is queued or done. */
	drain();
	t1 = now_ns();
	pthread_barrier_destroy(&burst_done);
	pthread_barrier_destroy(&check_done);

	freed = atomic_load(&chk.freed);
	flushes = atomic_load(&chk.flushes);
	if (flushes && !chk.frees_since_flush)
		chk.empty_flushes++;

	for (uint32_t t = 0; t < NR_PRODUCERS; t++) {
		for (size_t i = 0; i < per; i++) {
			int st = atomic_load(&prod[t].d[i].state);

			if (st != PT_FREED) {
				if (!problems++)
					fprintf(stderr, "descriptor %u/%zu left in state %d "
						"(lost: the work was not rescheduled)\n", t, i, st);
			}
		}
		free(prod[t].d);
	}
	if (freed != total + NR_ISOLATED || atomic_load(&chk.queued) != total + NR_ISOLATED) {
		fprintf(stderr, "queued %llu, freed %llu, expected %zu\n",
			(unsigned long long)atomic_load(&chk.queued),
			(unsigned long long)freed, total + NR_ISOLATED);
		problems++;
	}

	printf("%zu descriptors, %d producers, %zu CPU slots: %llu flushes (%llu with nothing "
	       "to free), %lu work runs, %.1f descriptors/flush, %.0f ms\n",
	       total, NR_PRODUCERS, (size_t)NR_CPUS, (unsigned long long)flushes,
	       (unsigned long long)chk.empty_flushes, shim_workqueue_runs(),
	       flushes ? (double)freed / (double)flushes : 0.0, (double)(t1 - t0) / 1e6);

	if (atomic_load(&chk.violations))
		printf("checker: %llu violation(s), first: %s\n",
		       (unsigned long long)atomic_load(&chk.violations),
		       atomic_load_explicit(&chk.msg_state, memory_order_acquire) == 2 ?
		       chk.msg : "?");

	if (atomic_load(&chk.lost))
		printf("drains left %llu queued descriptor(s) unfreed (lost wake-ups)\n",
		       (unsigned long long)atomic_load(&chk.lost));
	if (expect_lost) {
		if (atomic_load(&chk.lost)) {
			printf("negative control: a lost wake-up was caught, as it must be\n");
			return 0;
		}
		fprintf(stderr, "negative control FAILED: no lost wake-up was seen\n");
		return 1;
	}
	if (expect_violation) {
		if (atomic_load(&chk.violations) && strstr(chk.msg, "freed before a flush")) {
			printf("negative control: the checker caught the mutant, as it must\n");
			return 0;
		}
		fprintf(stderr, "negative control FAILED: the mutant went unnoticed\n");
		return 1;
	}
	if (expect_no_empty && chk.empty_flushes) {
		fprintf(stderr, "%llu flush(es) had nothing to free\n",
			(unsigned long long)chk.empty_flushes);
		problems++;
	}
	if (atomic_load(&chk.violations) || atomic_load(&chk.lost) || problems) {
		fprintf(stderr, "FAILED\n");
		return 1;
	}
	printf("OK: every descriptor freed once, each after a flush that began after it was "
	       "queued\n");
	return 0;
}
