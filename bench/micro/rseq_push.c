// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The rseq push against the CAS push (lib/rseq.c), for development: a
 * standalone program on libpgfree.a, designs interleaved in every round,
 * medians of ROUNDS rounds with their spread (min..max).
 *
 *   enqueue, 1 thread   ns per pgfree_defer() over a burst of BURST, drain
 *                       thread running (default delay); the floor is one
 *                       private `lock xadd` per item on the thread's own line
 *   end_to_end          descriptors deferred and released per second, one
 *                       producer per CPU recycling a ring, ->flush() spinning
 *                       FLUSH_NS; with drains/s and membarriers per drain
 *   drain               ns per pgfree_drain() of one queued node on this
 *                       CPU's list (thread-less domain): the flip +
 *                       membarrier against one exchange
 *   membarrier          the raw syscall, all CPUs vs one CPU (own, other),
 *                       with a thread of ours spinning on the other CPU
 *
 * Build and run (from the repository root, after building build/bench):
 *   cc -O2 -D_GNU_SOURCE -Iinclude bench/micro/rseq_push.c build/bench/libpgfree.a \
 *      -lpthread -o /tmp/rseq_push && /tmp/rseq_push [flush_ns]
 */
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <pgfree/pgfree.h>

#define ROUNDS 11
#define BURST 16384
#define BURSTS 64		/* per round and design */
#define E2E_RING 16384
#define E2E_PER_PRODUCER 400000
#define MAXP 8

static uint64_t flush_ns = 10000;

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static void spin_ns(uint64_t ns)
{
	double end = now_ns() + (double)ns;

	while (now_ns() < end)
		;
}

struct desc {
	struct pgfree_llist_node node;
	_Atomic int queued;
};

static int flush_cb(void *ctx, const struct pgfree_range *r)
{
	(void)ctx;
	(void)r;
	if (flush_ns)
		spin_ns(flush_ns);
	return 0;
}

static void release_cb(void *ctx, struct pgfree_llist_node *batch)
{
	(void)ctx;
	while (batch) {
		struct pgfree_llist_node *next = batch->next;

		/* Release: the producer may reuse it after its acquire load. */
		atomic_store_explicit(&((struct desc *)batch)->queued, 0, memory_order_release);
		batch = next;
	}
}

static struct pgfree_domain *make(unsigned int flags)
{
	struct pgfree_config cfg = { .design = PGFREE_DESIGN_PERCPU, .flags = flags,
				     .ops = { .flush = flush_cb, .release = release_cb } };
	struct pgfree_domain *dom;

	if (pgfree_domain_create(&cfg, &dom))
		abort();
	return dom;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n, const char *unit)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	printf("  %-34s median %9.2f %s  (min %.2f, max %.2f)\n", what, v[n / 2], unit, v[0],
	       v[n - 1]);
}

/* ---- enqueue at 1 thread ---- */
static struct desc *edesc;
static _Alignas(128) _Atomic unsigned long floor_counter;

/*
 * Mean ns per pgfree_defer() over BURSTS bursts of BURST; between bursts,
 * untimed, everything is released again: by a barrier (the drain thread)
 * for enqueue_ns(), by pgfree_drain() in the caller for push_only_ns() (a
 * thread-less domain: the push alone).
 */
static double timed_bursts_ns(struct pgfree_domain *dom, bool drain_in_caller)
{
	double total = 0;

	for (int b = 0; b < BURSTS; b++) {
		double t0, t1;

		t0 = now_ns();
		for (int i = 0; i < BURST; i++)
			pgfree_defer(dom, &edesc[i].node);
		t1 = now_ns();
		total += t1 - t0;
		if (drain_in_caller)
			pgfree_drain(dom);
		else
			pgfree_barrier(dom);
	}
	return total / (BURSTS * (double)BURST);
}

static double enqueue_ns(struct pgfree_domain *dom)
{
	return timed_bursts_ns(dom, false);
}

static double push_only_ns(struct pgfree_domain *dom)
{
	return timed_bursts_ns(dom, true);
}

static double floor_ns(void)
{
	double t0 = now_ns();

	for (long i = 0; i < (long)BURSTS * BURST; i++)
		atomic_fetch_add_explicit(&floor_counter, 1, memory_order_relaxed);
	return (now_ns() - t0) / (BURSTS * (double)BURST);
}

/* ---- end_to_end ---- */
struct e2e {
	struct pgfree_domain *dom;
	struct desc *ring;
	_Atomic int *go;
	uint64_t stalls;
};

static void *e2e_producer(void *arg)
{
	struct e2e *e = arg;

	while (!atomic_load_explicit(e->go, memory_order_acquire))
		;
	for (long i = 0; i < E2E_PER_PRODUCER; i++) {
		struct desc *d = &e->ring[i % E2E_RING];

		/* Acquire: pairs with release_cb's store. */
		while (atomic_load_explicit(&d->queued, memory_order_acquire)) {
			e->stalls++;
			sched_yield();
		}
		atomic_store_explicit(&d->queued, 1, memory_order_relaxed);
		pgfree_defer(e->dom, &d->node);
	}
	return NULL;
}

static double e2e_rate(unsigned int flags, int nprod, double *drains_s, double *fences_drain)
{
	struct pgfree_domain *dom = make(flags);
	struct e2e e[MAXP];
	pthread_t th[MAXP];
	_Atomic int go = 0;
	struct pgfree_stats st;
	double t0, t1;

	for (int p = 0; p < nprod; p++) {
		e[p] = (struct e2e){ .dom = dom, .go = &go };
		e[p].ring = calloc(E2E_RING, sizeof(struct desc));
		pthread_create(&th[p], NULL, e2e_producer, &e[p]);
	}
	t0 = now_ns();
	atomic_store_explicit(&go, 1, memory_order_release);
	for (int p = 0; p < nprod; p++)
		pthread_join(th[p], NULL);
	pgfree_barrier(dom);
	t1 = now_ns();
	pgfree_stats(dom, &st);
	*drains_s = (double)st.drains / ((t1 - t0) / 1e9);
	*fences_drain = st.drains ? (double)st.rseq_fences / (double)st.drains : 0;
	pgfree_domain_destroy(dom);
	for (int p = 0; p < nprod; p++)
		free(e[p].ring);
	return (double)nprod * E2E_PER_PRODUCER / ((t1 - t0) / 1e3);	/* per us */
}

/* ---- one drain of one node ---- */
static double drain_one_ns(unsigned int flags)
{
	struct pgfree_domain *dom = make(flags | PGFREE_F_NO_THREAD);
	struct desc d = { 0 };
	double total = 0;
	const int n = 20000;
	uint64_t saved = flush_ns;

	flush_ns = 0;
	for (int i = 0; i < n; i++) {
		double t0;

		pgfree_defer(dom, &d.node);
		t0 = now_ns();
		pgfree_drain(dom);
		total += now_ns() - t0;
	}
	flush_ns = saved;
	pgfree_domain_destroy(dom);
	return total / n;
}

/* ---- raw membarrier ---- */
static _Atomic int spin_stop;

static void *spinner(void *arg)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET((int)(long)arg, &s);
	sched_setaffinity(0, sizeof(s), &s);
	while (!atomic_load_explicit(&spin_stop, memory_order_relaxed))
		;
	return NULL;
}

static double mb_ns(unsigned int flag, int cpu)
{
	const int n = 5000;
	double t0 = now_ns();

	for (int i = 0; i < n; i++)
		syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, flag, cpu);
	return (now_ns() - t0) / n;
}

int main(int argc, char **argv)
{
	double v[8][ROUNDS], la[3] = { 0 };
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);
	int nprod = ncpu > MAXP ? MAXP : ncpu;
	struct pgfree_domain *rs, *cas;
	struct pgfree_stats st;
	FILE *f;

	if (argc > 1)
		flush_ns = strtoull(argv[1], NULL, 10);
	f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf %lf %lf", &la[0], &la[1], &la[2]) != 3)
			la[0] = -1;
		fclose(f);
	}
	edesc = calloc(BURST, sizeof(*edesc));
	rs = make(PGFREE_F_RSEQ);
	cas = make(PGFREE_F_NO_RSEQ);
	pgfree_stats(rs, &st);
	printf("rseq_push: %d CPUs, load average %.2f %.2f %.2f; PGFREE_F_RSEQ domain uses the "
	       "%s push\n", ncpu, la[0], la[1], la[2], st.rseq ? "rseq" : "CAS");
	if (!st.rseq) {
		printf("no rseq push here: nothing to compare\n");
		return 0;
	}

	/* Warm up, then interleave. */
	enqueue_ns(rs);
	enqueue_ns(cas);
	floor_ns();
	for (int r = 0; r < ROUNDS; r++) {
		v[0][r] = floor_ns();
		v[1][r] = enqueue_ns(rs);
		v[2][r] = enqueue_ns(cas);
		v[3][r] = v[1][r] / v[0][r];
		v[4][r] = v[2][r] / v[0][r];
		v[5][r] = v[1][r] / v[2][r];
	}
	pgfree_stats(rs, &st);
	printf("enqueue, 1 thread, bursts of %d, drain thread on (%d rounds):\n", BURST, ROUNDS);
	report("floor (private lock xadd)", v[0], ROUNDS, "ns");
	report("percpu rseq", v[1], ROUNDS, "ns");
	report("percpu cas", v[2], ROUNDS, "ns");
	report("rseq / floor", v[3], ROUNDS, "x");
	report("cas / floor", v[4], ROUNDS, "x");
	report("rseq / cas", v[5], ROUNDS, "x");
	printf("  (rseq domain: %llu aborts in %llu defers)\n", (unsigned long long)st.rseq_aborts,
	       (unsigned long long)st.released);
	pgfree_domain_destroy(rs);
	pgfree_domain_destroy(cas);

	rs = make(PGFREE_F_NO_THREAD | PGFREE_F_RSEQ);
	cas = make(PGFREE_F_NO_THREAD | PGFREE_F_NO_RSEQ);
	push_only_ns(rs);
	push_only_ns(cas);
	for (int r = 0; r < ROUNDS; r++) {
		v[0][r] = floor_ns();
		v[1][r] = push_only_ns(rs);
		v[2][r] = push_only_ns(cas);
		v[3][r] = v[1][r] / v[0][r];
		v[4][r] = v[2][r] / v[0][r];
	}
	printf("enqueue, 1 thread, thread-less domain drained between bursts (no drain in the "
	       "window):\n");
	report("floor (private lock xadd)", v[0], ROUNDS, "ns");
	report("percpu rseq", v[1], ROUNDS, "ns");
	report("percpu cas", v[2], ROUNDS, "ns");
	report("rseq / floor", v[3], ROUNDS, "x");
	report("cas / floor", v[4], ROUNDS, "x");
	pgfree_domain_destroy(rs);
	pgfree_domain_destroy(cas);

	{
		double ds[2][ROUNDS], fd[ROUNDS], dummy;

		for (int r = 0; r < ROUNDS; r++) {
			v[0][r] = e2e_rate(PGFREE_F_RSEQ, nprod, &ds[0][r], &fd[r]);
			v[1][r] = e2e_rate(PGFREE_F_NO_RSEQ, nprod, &ds[1][r], &dummy);
			v[2][r] = v[0][r] / v[1][r];
		}
		printf("end_to_end, %d producers, flush %llu ns (%d rounds):\n", nprod,
		       (unsigned long long)flush_ns, ROUNDS);
		report("percpu rseq", v[0], ROUNDS, "M/s");
		report("percpu cas", v[1], ROUNDS, "M/s");
		report("rseq / cas", v[2], ROUNDS, "x");
		report("rseq drains/s", ds[0], ROUNDS, "/s");
		report("cas drains/s", ds[1], ROUNDS, "/s");
		report("rseq membarriers per drain", fd, ROUNDS, "");
		for (int r = 0; r < ROUNDS; r++) {
			v[0][r] = e2e_rate(PGFREE_F_NO_DELAY | PGFREE_F_RSEQ, nprod, &ds[0][r], &fd[r]);
			v[1][r] = e2e_rate(PGFREE_F_NO_DELAY | PGFREE_F_NO_RSEQ, nprod, &ds[1][r],
					   &dummy);
			v[2][r] = v[0][r] / v[1][r];
		}
		printf("end_to_end, PGFREE_F_NO_DELAY (no gathering polls):\n");
		report("percpu rseq", v[0], ROUNDS, "M/s");
		report("percpu cas", v[1], ROUNDS, "M/s");
		report("rseq / cas", v[2], ROUNDS, "x");
		report("rseq drains/s", ds[0], ROUNDS, "/s");
		report("cas drains/s", ds[1], ROUNDS, "/s");
		report("rseq membarriers per drain", fd, ROUNDS, "");
	}

	for (int r = 0; r < ROUNDS; r++) {
		v[0][r] = drain_one_ns(PGFREE_F_RSEQ);
		v[1][r] = drain_one_ns(PGFREE_F_NO_RSEQ);
	}
	printf("pgfree_drain() of one node on this CPU's list, no flush cost:\n");
	report("percpu rseq", v[0], ROUNDS, "ns");
	report("percpu cas", v[1], ROUNDS, "ns");

	{
		pthread_t th;
		cpu_set_t s;

		CPU_ZERO(&s);
		CPU_SET(0, &s);
		sched_setaffinity(0, sizeof(s), &s);
		for (int pass = 0; pass < 2; pass++) {
			if (pass == 1 && ncpu > 1)
				pthread_create(&th, NULL, spinner, (void *)1L);
			for (int r = 0; r < ROUNDS; r++) {
				v[0][r] = mb_ns(0, 0);
				v[1][r] = mb_ns(MEMBARRIER_CMD_FLAG_CPU, 0);
				v[2][r] = ncpu > 1 ? mb_ns(MEMBARRIER_CMD_FLAG_CPU, 1) : 0;
			}
			printf("membarrier(PRIVATE_EXPEDITED_RSEQ), caller on CPU 0, %s:\n",
			       pass ? "a thread of ours spinning on CPU 1" : "nothing else running");
			report("all CPUs", v[0], ROUNDS, "ns");
			report("FLAG_CPU, own CPU", v[1], ROUNDS, "ns");
			report("FLAG_CPU, CPU 1", v[2], ROUNDS, "ns");
		}
		atomic_store(&spin_stop, 1);
		if (ncpu > 1)
			pthread_join(th, NULL);
	}
	return 0;
}
