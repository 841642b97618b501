// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * calib: the inputs of the many-core model (model.py), measured on this
 * machine in the same run as the benchmark.  Two pinned threads at most
 * (CPUs A and B, default 0 and 1); each figure is the median of REPS
 * repetitions, printed with its min and max, as one JSON object on stdout.
 *
 *   handoff_ns        one-way cache-line hand-off: ping-pong of one line
 *                     between A and B, round trip / 2
 *   rmw_contended_ns  A and B both atomic-add one line: aggregate ns per add
 *                     (the line as a server: its service time under contention)
 *   floor_ns          the benchmark's floor: one private atomic add per item
 *   lock_hold_ns      v5's use of its shared line on the old lock
 *                     (PGFREE_F_TAS_LOCK: glibc's pthread_spin_lock()),
 *                     uncontended and cache-hot: a replica of
 *                     design_locked.c's struct (both locks, the lock choice,
 *                     list head, pending on one line): lock; link; unlock;
 *                     exchange pending (what v5_defer() does, less the call)
 *   qlock_hold_ns     the same on the queued lock (lib/qspinlock.h, the
 *                     default of the v5/v3 ports)
 *   lock_contended_ns the TAS section from A and B at once: aggregate ns per
 *                     defer; lock_handoffs_per_op: the share of sections
 *                     whose holder differs from the previous one (the
 *                     owner changes: a hand-off of the line and the lock)
 *   qlock_contended_ns, qlock_handoffs_per_op  the same on the queued lock
 *   cas_contended_ns  A and B push onto one llist head (global_llist's defer):
 *                     aggregate ns per push; cas_handoffs_per_op likewise
 *   cas_local_ns      one llist push (load, link, release CAS) on an own line
 *   defer_ns.<d>      pgfree_defer() into a design <d> domain, one producer on
 *                     A, descriptors last written by a drain on B (as in the
 *                     benchmark, where the drain's release touches them);
 *                     percpu_takeback: descriptors A took back itself
 *   defer_hot_ns.<d>  the same with descriptors hot in A's cache
 *   drain_ns.<d>      pgfree_drain() on B per descriptor A deferred: the
 *                     consumer's cost (detach, walk, flush once, release;
 *                     percpu_takeback: detach, flush, hand the chain back)
 *   release_ns.<d>    the part of it inside ->release() (the user's callback,
 *                     one write per descriptor as a free would)
 *   drain_pass_ns.<d> the whole pgfree_drain() on B (one list non-empty)
 *   takeback_ns       percpu_takeback: pgfree_take_back_each() on A per
 *                     descriptor it got back (a load per place, an exchange
 *                     per chain, the one walk of its own nodes), with one
 *                     write per descriptor in its function (the benchmark's
 *                     hand-out to its ring)
 *   takeback_empty_ns a pgfree_take_back_each() that finds nothing (per call)
 *   defer2_ns.<d>     A and B defer at once into one domain: aggregate ns per
 *                     descriptor (the model's two-CPU check, without a harness)
 *   wake_ns           FUTEX_WAKE of a sleeping thread: the waker's cost
 *   wake_nowaiter_ns  FUTEX_WAKE with nobody waiting (a bare system call)
 *   sleep_cpu_ns      the CPU time one short timed sleep costs the sleeper
 *                     (a drain thread's batching poll: futex wait with a
 *                     20 us timeout), thread CPU clock
 *   sleep_wall_ns     the same sleep's wall time (timer slack, wake-up)
 *
 * Timed windows hold only the work: threads start on a spin flag, and the
 * hand-offs between the producer and the untimed drain are spin flags too.
 *
 * Usage: calib [--quick] [--cpus=A,B]
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <pgfree/pgfree.h>

#include "model_designs.h"
#include "qspinlock.h"

/*
 * 128: what separates lines that must not share (the library's
 * PGFREE_CACHELINE: x86's adjacent-line prefetcher pulls pairs).
 * Descriptors are 64-byte aligned, as the benchmark's.
 */
#define LINE 128
#define DESC_LINE 64
#define MAXS 4096		/* samples per figure, at most */

static int cpu_a = 0, cpu_b = 1;
static int nsamp = 101;		/* samples of the short measurements */
static long scale = 1;		/* --quick divides the work */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void pin(int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	if (pthread_setaffinity_np(pthread_self(), sizeof(s), &s))
		fprintf(stderr, "calib: cannot pin to CPU %d (continuing unpinned)\n", cpu);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

struct stat3 {
	double med, q1, q3;
	int n;
};

/*
 * Median and quartiles of short samples: on a shared machine a sample that
 * a preemption hit is an outlier, which the median ignores as long as most
 * samples are shorter than a scheduler time slice.
 */
static struct stat3 summarize(double *v, int n)
{
	struct stat3 s;

	qsort(v, (size_t)n, sizeof(*v), cmp_d);
	s.med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.q1 = v[n / 4];
	s.q3 = v[(3 * n) / 4 < n ? (3 * n) / 4 : n - 1];
	s.n = n;
	return s;
}

static int first_out = 1;

static void emit(const char *name, struct stat3 s)
{
	printf("%s\n  \"%s\": {\"median\": %.3f, \"q1\": %.3f, \"q3\": %.3f, \"samples\": %d}",
	       first_out ? "" : ",", name, s.med, s.q1, s.q3, s.n);
	first_out = 0;
	fflush(stdout);
}

/* ---- two-thread scaffolding: B runs fn_b(arg) while A runs fn_a(arg) ---- */

struct duo {
	void *(*fn_b)(void *);
	void *arg;
};

static void *duo_b(void *p)
{
	struct duo *d = p;

	pin(cpu_b);
	return d->fn_b(d->arg);
}

static void run_duo(void *(*fn_a)(void *), void *(*fn_b)(void *), void *arg)
{
	struct duo d = { fn_b, arg };
	pthread_t t;

	if (pthread_create(&t, NULL, duo_b, &d)) {
		fprintf(stderr, "calib: pthread_create failed\n");
		exit(1);
	}
	fn_a(arg);
	pthread_join(t, NULL);
}

/* ---- handoff: ping-pong ---- */

/*
 * A times each group of PP_GROUP round trips; a group in which B was
 * descheduled (this machine is shared) is an outlier the median drops.
 */
#define PP_GROUP 16

struct pp {
	_Alignas(LINE) _Atomic uint64_t word;
	_Alignas(LINE) _Atomic int go;
	long groups;
	double *samples;	/* ns per one-way hand-off, per group */
};

static void *pp_a(void *p)
{
	struct pp *x = p;
	uint64_t v = 0;

	/* Relaxed go flag: only a start gate, no data travels with it. */
	atomic_store_explicit(&x->go, 1, memory_order_relaxed);
	for (long g = 0; g < x->groups; g++) {
		uint64_t t0 = now_ns();

		for (int i = 0; i < PP_GROUP; i++) {
			/* Relaxed: the value itself is the message; nothing else is read. */
			atomic_store_explicit(&x->word, ++v, memory_order_relaxed);
			while (atomic_load_explicit(&x->word, memory_order_relaxed) != v + 1)
				cpu_relax();
			v++;
		}
		x->samples[g] = (double)(now_ns() - t0) / (2.0 * PP_GROUP);
	}
	/* Relaxed: the value itself tells B to stop. */
	atomic_store_explicit(&x->word, UINT64_MAX, memory_order_relaxed);
	return NULL;
}

static void *pp_b(void *p)
{
	struct pp *x = p;
	uint64_t v;

	/* Relaxed, here and below: gate and message are the values themselves. */
	while (!atomic_load_explicit(&x->go, memory_order_relaxed))
		cpu_relax();
	for (;;) {
		while (((v = atomic_load_explicit(&x->word, memory_order_relaxed)) & 1) == 0)
			cpu_relax();
		if (v == UINT64_MAX)
			return NULL;
		atomic_store_explicit(&x->word, v + 1, memory_order_relaxed);
	}
}

static void m_handoff(void)
{
	static double v[MAXS];
	struct pp *x = aligned_alloc(LINE, sizeof(*x));
	long groups = scale > 1 ? 1000 : MAXS;

	memset(x, 0, sizeof(*x));
	x->groups = groups;
	x->samples = v;
	run_duo(pp_a, pp_b, x);
	free(x);
	emit("handoff_ns", summarize(v, (int)groups));
}

/* ---- contended RMW and contended lock: both threads hammer one line ---- */

/*
 * design_locked.c's struct locked_list: both locks, the choice between
 * them (read before every lock and unlock, as v5_defer() does), the list
 * head and the pending word on one line.  @owner is calib's own: who
 * linked last, written under the lock (plain: the lock orders it), so that
 * the sections whose holder changed, the hand-offs, can be counted.
 */
struct locked_replica {
	struct pgfree_qspin qlock;
	pthread_spinlock_t tas;
	bool use_tas;
	void *first;
	_Atomic uint32_t pending;
	int owner;
} __attribute__((aligned(LINE)));

static void replica_init(struct locked_replica *l, bool use_tas)
{
	memset(l, 0, sizeof(*l));
	pgfree_qspin_init(&l->qlock);
	pthread_spin_init(&l->tas, PTHREAD_PROCESS_PRIVATE);
	l->use_tas = use_tas;
	atomic_init(&l->pending, 0);
	l->owner = -1;
}

/* v5_defer()'s section: lock, link, unlock, schedule_work()'s exchange. */
static inline void v5_section(struct locked_replica *l, void **node, int me, uint64_t *handoffs)
{
	if (l->use_tas)
		pthread_spin_lock(&l->tas);
	else
		pgfree_qspin_lock(&l->qlock);
	*node = l->first;
	l->first = node;
	if (l->owner != me) {
		l->owner = me;
		++*handoffs;
	}
	if (l->use_tas)
		pthread_spin_unlock(&l->tas);
	else
		pgfree_qspin_unlock(&l->qlock);
	/* Relaxed: as schedule_work() in design_locked.c (after the unlock). */
	atomic_exchange_explicit(&l->pending, 1, memory_order_relaxed);
}

/*
 * A times chunks of HM_CHUNK operations and reads how many B did meanwhile
 * (B publishes its counts on its own line after each operation); a chunk in
 * which B did not advance was not contended (B was descheduled) and is
 * dropped.  Both count their hand-offs (operations that found the line's
 * last user was the other thread), so a sample also gives the share of
 * operations that changed owner.
 */
#define HM_CHUNK 2000

enum hm_kind { HM_RMW, HM_TAS, HM_LLIST, HM_QLOCK };

struct hammer {
	_Alignas(LINE) _Atomic uint64_t ctr;
	_Alignas(LINE) struct locked_replica l;
	_Alignas(LINE) _Atomic uint64_t b_ops;
	_Atomic uint64_t b_handoffs;
	_Alignas(LINE) _Atomic int stop;
	_Alignas(LINE) _Atomic int go;
	_Alignas(LINE) _Atomic(void *) head;	/* an llist head */
	_Atomic int head_owner;			/* on its line: who pushed last */
	enum hm_kind kind;
	long chunks;
	double *samples, *hsamples;
	int nsamples;
};

static inline void hammer_op(struct hammer *h, void **node, int me, uint64_t *handoffs)
{
	if (h->kind == HM_LLIST) {
		/* Relaxed load: re-read by the CAS on failure. */
		void *old = atomic_load_explicit(&h->head, memory_order_relaxed);

		do
			*node = old;
		/* Release: what llist.h's add uses. */
		while (!atomic_compare_exchange_weak_explicit(&h->head, &old, (void *)node,
							      memory_order_release,
							      memory_order_relaxed));
		/*
		 * Relaxed: a statistic on the line the CAS just took; a race
		 * between the pushers only blurs the count of owner changes.
		 */
		if (atomic_load_explicit(&h->head_owner, memory_order_relaxed) != me) {
			atomic_store_explicit(&h->head_owner, me, memory_order_relaxed);
			++*handoffs;
		}
	} else if (h->kind == HM_TAS || h->kind == HM_QLOCK) {
		v5_section(&h->l, node, me, handoffs);
	} else {
		/* Relaxed: the line transfer is what is measured. */
		atomic_fetch_add_explicit(&h->ctr, 1, memory_order_relaxed);
	}
}

static void *hammer_a(void *p)
{
	struct hammer *h = p;
	void *node[8];
	uint64_t t_end, hand = 0;

	/* Relaxed: a start gate only. */
	while (!atomic_load_explicit(&h->go, memory_order_relaxed))
		cpu_relax();
	/* Until enough contended chunks, or a time cap (B may not get a CPU). */
	t_end = now_ns() + (scale > 1 ? 300000000u : 1000000000u);
	for (long c = 0; h->nsamples < h->chunks && now_ns() < t_end; c++) {
		/* Relaxed: counts, read at chunk edges only. */
		uint64_t b0 = atomic_load_explicit(&h->b_ops, memory_order_relaxed), b1;
		uint64_t bh0 = atomic_load_explicit(&h->b_handoffs, memory_order_relaxed), bh1;
		uint64_t t0 = now_ns(), t1, h0 = hand;

		for (int i = 0; i < HM_CHUNK; i++)
			hammer_op(h, node, 0, &hand);
		t1 = now_ns();
		b1 = atomic_load_explicit(&h->b_ops, memory_order_relaxed);
		bh1 = atomic_load_explicit(&h->b_handoffs, memory_order_relaxed);
		if (b1 - b0 >= 1 && h->nsamples < MAXS) {
			double ops = (double)(HM_CHUNK + b1 - b0);

			h->samples[h->nsamples] = (double)(t1 - t0) / ops;
			h->hsamples[h->nsamples++] = (double)(hand - h0 + bh1 - bh0) / ops;
		}
	}
	/* Relaxed: a stop flag; B reads nothing A wrote. */
	atomic_store_explicit(&h->stop, 1, memory_order_relaxed);
	return NULL;
}

static void *hammer_b(void *p)
{
	struct hammer *h = p;
	void *node[8];
	uint64_t n = 0, hand = 0;

	/* Relaxed: a start gate only. */
	atomic_store_explicit(&h->go, 1, memory_order_relaxed);
	/* Relaxed: a stop flag. */
	while (!atomic_load_explicit(&h->stop, memory_order_relaxed)) {
		hammer_op(h, node, 1, &hand);
		/* Relaxed: counts on B's own line, read at A's chunk edges. */
		atomic_store_explicit(&h->b_handoffs, hand, memory_order_relaxed);
		atomic_store_explicit(&h->b_ops, ++n, memory_order_relaxed);
	}
	return NULL;
}

/* @name: "<x>_contended_ns"; also emits "<x>_handoffs_per_op" (not for the RMW). */
static void m_hammer(enum hm_kind kind, const char *name)
{
	static double v[MAXS], vh[MAXS];
	struct hammer *h = aligned_alloc(LINE, sizeof(*h));
	char hname[64];

	memset(h, 0, sizeof(*h));
	replica_init(&h->l, kind == HM_TAS);
	atomic_init(&h->head_owner, -1);
	h->kind = kind;
	h->chunks = scale > 1 ? 100 : 400;	/* contended chunks wanted */
	h->samples = v;
	h->hsamples = vh;
	run_duo(hammer_a, hammer_b, h);
	if (h->nsamples < 5) {
		fprintf(stderr, "calib: %s: B hardly ran (%d contended chunks)\n", name, h->nsamples);
		v[h->nsamples] = -1;
		vh[h->nsamples++] = -1;
	}
	emit(name, summarize(v, h->nsamples));
	if (kind != HM_RMW) {
		snprintf(hname, sizeof(hname), "%.*s_handoffs_per_op",
			 (int)(strlen(name) - strlen("_contended_ns")), name);
		emit(hname, summarize(vh, h->nsamples));
	}
	pthread_spin_destroy(&h->l.tas);
	free(h);
}

/* ---- single-thread loops: floor, lock holds, local CAS ---- */

static void m_single(void)
{
	static double vf[MAXS], vl[MAXS], vq[MAXS], vc[MAXS];
	long n = 100000 / scale;
	struct locked_replica *l = aligned_alloc(LINE, sizeof(*l));
	struct locked_replica *q = aligned_alloc(LINE, sizeof(*q));
	_Atomic(void *) *head = aligned_alloc(LINE, LINE);
	_Atomic uint64_t *priv = aligned_alloc(LINE, LINE);
	void **nodes = aligned_alloc(LINE, 1024 * DESC_LINE);
	uint64_t hand = 0;

	pin(cpu_a);
	replica_init(l, true);
	replica_init(q, false);
	atomic_init(head, NULL);
	atomic_init(priv, 0);
	for (int r = 0; r < nsamp; r++) {
		uint64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			/* Relaxed: the floor is one private atomic RMW per item. */
			atomic_fetch_add_explicit(priv, 1, memory_order_relaxed);
		vf[r] = (double)(now_ns() - t0) / (double)n;

		t0 = now_ns();
		for (long i = 0; i < n; i++)
			v5_section(l, &nodes[(i & 1023) * (DESC_LINE / sizeof(void *))], 0, &hand);
		vl[r] = (double)(now_ns() - t0) / (double)n;

		t0 = now_ns();
		for (long i = 0; i < n; i++)
			v5_section(q, &nodes[(i & 1023) * (DESC_LINE / sizeof(void *))], 0, &hand);
		vq[r] = (double)(now_ns() - t0) / (double)n;

		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			void **node = &nodes[(i & 1023) * (DESC_LINE / sizeof(void *))];
			/* Relaxed load: re-read by the CAS on failure. */
			void *old = atomic_load_explicit(head, memory_order_relaxed);

			do
				*node = old;
			/* Release: what llist.h's add uses (the node travels with it). */
			while (!atomic_compare_exchange_weak_explicit(head, &old, (void *)node,
								      memory_order_release,
								      memory_order_relaxed));
		}
		vc[r] = (double)(now_ns() - t0) / (double)n;
	}
	emit("floor_ns", summarize(vf, nsamp));
	emit("lock_hold_ns", summarize(vl, nsamp));
	emit("qlock_hold_ns", summarize(vq, nsamp));
	emit("cas_local_ns", summarize(vc, nsamp));
	pthread_spin_destroy(&l->tas);
	pthread_spin_destroy(&q->tas);
	free(l);
	free(q);
	free((void *)head);
	free((void *)priv);
	free(nodes);
}

/* ---- the library: defer on A, drain on B ---- */

struct cdesc {
	struct pgfree_llist_node node;
	uint64_t released;
} __attribute__((aligned(DESC_LINE)));

static int c_flush(void *ctx, const struct pgfree_range *range)
{
	(void)ctx;
	(void)range;
	return 0;
}

/* ->release(): the user's; its time is added to *ctx (B's only: the drain's thread). */
static void c_release(void *ctx, struct pgfree_llist_node *batch)
{
	uint64_t t0 = now_ns();

	while (batch) {
		struct pgfree_llist_node *next = batch->next;

		/* The release touches each descriptor, as a free would. */
		((struct cdesc *)batch)->released++;
		batch = next;
	}
	if (ctx)
		*(uint64_t *)ctx += now_ns() - t0;
}

static void take_one(void *arg, struct pgfree_llist_node *node)
{
	(void)arg;
	((struct cdesc *)node)->released++;
}

/*
 * What a taker does with what it gets back: one write each, as the
 * benchmark's hand-out, through pgfree_take_back_each() as the benchmark's
 * row takes back (bench/design_pgfree.c).
 */
static uint64_t take_back_all(struct pgfree_domain *dom)
{
	long n = pgfree_take_back_each(dom, take_one, NULL);

	if (n < 0) {
		fprintf(stderr, "calib: pgfree_take_back_each: %ld\n", n);
		exit(1);
	}
	return (uint64_t)n;
}

#define KDESC 4096
#define EMPTY_CALLS 64

#define ND NR_MODEL_DESIGNS

/* Per design: the samples of each figure of m_lib(). */
enum { S_DEFER, S_DRAIN, S_RELEASE, S_PASS, S_TAKE, S_EMPTY, NR_S };

struct lib {
	struct pgfree_domain *dom;
	struct cdesc *d;
	_Alignas(LINE) _Atomic int phase;	/* A: 1 = deferred; B: 2 = drained */
	_Alignas(LINE) uint64_t rel_ns;		/* time in ->release(), B's */
	long rounds;
	int hot, take_back;
	double *s[NR_S];	/* per round; NULL: not sampled */
	int *n[NR_S];		/* samples stored so far */
};

static void add_sample(struct lib *x, int k, double v)
{
	if (x->s[k] && *x->n[k] < MAXS)
		x->s[k][(*x->n[k])++] = v;
}

static void *lib_a(void *p)
{
	struct lib *x = p;

	for (long r = 0; r < x->rounds; r++) {
		uint64_t t0 = now_ns(), got;

		for (int i = 0; i < KDESC; i++)
			pgfree_defer(x->dom, &x->d[i].node);
		add_sample(x, S_DEFER, (double)(now_ns() - t0) / KDESC);
		if (x->hot) {
			pgfree_drain(x->dom);
			if (x->take_back) {
				take_back_all(x->dom);
				continue;
			}
			/* Touch them again here, so that the next round finds them hot. */
			for (int i = 0; i < KDESC; i++)
				x->d[i].released++;
			continue;
		}
		/* Release/acquire: the drain on B must see every defer (and A the drain). */
		atomic_store_explicit(&x->phase, 1, memory_order_release);
		while (atomic_load_explicit(&x->phase, memory_order_acquire) != 2)
			cpu_relax();
		if (!x->take_back)
			continue;
		t0 = now_ns();
		got = take_back_all(x->dom);
		if (got)
			add_sample(x, S_TAKE, (double)(now_ns() - t0) / (double)got);
		t0 = now_ns();
		for (int i = 0; i < EMPTY_CALLS; i++)
			take_back_all(x->dom);
		add_sample(x, S_EMPTY, (double)(now_ns() - t0) / EMPTY_CALLS);
	}
	if (!x->hot)
		/* Release: B's last drain is done (A saw 2); 3 only says stop. */
		atomic_store_explicit(&x->phase, 3, memory_order_release);
	return NULL;
}

static void *lib_b(void *p)
{
	struct lib *x = p;

	if (x->hot)
		return NULL;
	for (;;) {
		int ph;
		uint64_t t0, rel0;

		/* Acquire: pairs with A's release of 1, so every defer is visible. */
		while ((ph = atomic_load_explicit(&x->phase, memory_order_acquire)) != 1 && ph != 3)
			cpu_relax();
		if (ph == 3)
			return NULL;
		rel0 = x->rel_ns;
		t0 = now_ns();
		pgfree_drain(x->dom);
		t0 = now_ns() - t0;
		add_sample(x, S_DRAIN, (double)t0 / KDESC);
		add_sample(x, S_PASS, (double)t0);
		add_sample(x, S_RELEASE, (double)(x->rel_ns - rel0) / KDESC);
		/* Release: the drain's writes (the descriptors) before A goes on. */
		atomic_store_explicit(&x->phase, 2, memory_order_release);
	}
}

static void m_lib(int hot)
{
	static double v[ND][NR_S][MAXS];
	int nv[ND][NR_S] = { { 0 } };
	int reps = scale > 1 ? 3 : 7;
	char name[64];

	/* Designs interleaved within each repetition; a sample is one round. */
	for (int r = 0; r < reps; r++) {
		for (int k = 0; k < ND; k++) {
			struct pgfree_config cfg = { 0 };
			struct lib *x = aligned_alloc(LINE, sizeof(*x));
			int err;

			memset(x, 0, sizeof(*x));
			cfg.design = model_designs[k].design;
			cfg.flags = PGFREE_F_NO_THREAD | model_designs[k].flags;
			cfg.ops.flush = c_flush;
			cfg.ops.release = c_release;
			cfg.ctx = &x->rel_ns;
			err = pgfree_domain_create(&cfg, &x->dom);
			if (err) {
				fprintf(stderr, "calib: create %s: %d\n", model_designs[k].name, err);
				exit(1);
			}
			x->d = aligned_alloc(DESC_LINE, sizeof(*x->d) * KDESC);
			memset(x->d, 0, sizeof(*x->d) * KDESC);
			x->rounds = 1;
			x->hot = hot;
			x->take_back = !!(model_designs[k].flags & PGFREE_F_TAKE_BACK);
			/* One warm-up round, untimed, then the timed ones. */
			run_duo(lib_a, lib_b, x);
			/* Relaxed: thread creation in run_duo() orders it. */
			atomic_store_explicit(&x->phase, 0, memory_order_relaxed);
			x->rounds = 64 / scale + 1;
			for (int i = 0; i < NR_S; i++) {
				x->s[i] = v[k][i];
				x->n[i] = &nv[k][i];
			}
			run_duo(lib_a, lib_b, x);
			pgfree_domain_destroy(x->dom);
			free(x->d);
			free(x);
		}
	}
	for (int k = 0; k < ND; k++) {
		static const char *const what[NR_S] = {
			"defer_ns", "drain_ns", "release_ns", "drain_pass_ns", "takeback_ns",
			"takeback_empty_ns",
		};

		for (int i = 0; i < NR_S; i++) {
			if (hot && i != S_DEFER)
				continue;
			if (!nv[k][i])
				continue;
			if (i >= S_TAKE)	/* the take-back design's own figures */
				snprintf(name, sizeof(name), "%s", what[i]);
			else
				snprintf(name, sizeof(name), "%s.%s",
					 hot ? "defer_hot_ns" : what[i], model_designs[k].name);
			emit(name, summarize(v[k][i], nv[k][i]));
		}
	}
}

/* ---- the library, two producers at once: the model's 2-CPU check ---- */

/*
 * A and B each defer KDESC of their own descriptors into one domain at
 * the same time (started by A's round number); A then drains, untimed.
 * A sample is the round's aggregate: 2 x KDESC / (last end - first start),
 * CLOCK_MONOTONIC being one clock on both CPUs.  A round in which one
 * thread was descheduled is a low outlier the median ignores.  On a
 * take-back domain each producer first takes back (untimed) what the last
 * drain handed back to its list.
 */
struct lib2 {
	struct pgfree_domain *dom;
	struct cdesc *d[2];
	_Alignas(LINE) _Atomic long round;	/* A: start round r */
	_Alignas(LINE) _Atomic long done;	/* producers finished this round */
	long rounds;
	int take_back;
	uint64_t t0[2], t1[2];
};

static void lib2_round(struct lib2 *x, int me)
{
	if (x->take_back)
		take_back_all(x->dom);
	x->t0[me] = now_ns();
	for (int i = 0; i < KDESC; i++)
		pgfree_defer(x->dom, &x->d[me][i].node);
	x->t1[me] = now_ns();
	/* Release: A reads t0/t1 after it sees the count. */
	atomic_fetch_add_explicit(&x->done, 1, memory_order_release);
}

static void *lib2_b(void *p)
{
	struct lib2 *x = p;

	for (long r = 1; r <= x->rounds; r++) {
		/* Acquire: the previous drain is visible before B defers again. */
		while (atomic_load_explicit(&x->round, memory_order_acquire) < r)
			cpu_relax();
		lib2_round(x, 1);
	}
	/*
	 * B's last chain: taken back here, on B's CPU, before destroy.
	 * Acquire: pairs with A's release of rounds + 1, so A's last drain
	 * (which handed B's chain back) is done before B looks.
	 */
	while (atomic_load_explicit(&x->round, memory_order_acquire) <= x->rounds)
		cpu_relax();
	if (x->take_back)
		take_back_all(x->dom);
	return NULL;
}

static double *lib2_samples;
static int lib2_n;

static void *lib2_a(void *p)
{
	struct lib2 *x = p;

	for (long r = 1; r <= x->rounds; r++) {
		uint64_t a, b;

		/* Release: B starts after A's drain of the previous round. */
		atomic_store_explicit(&x->round, r, memory_order_release);
		lib2_round(x, 0);
		/* Acquire: pairs with B's count; its defers and times are visible. */
		while (atomic_load_explicit(&x->done, memory_order_acquire) < 2 * r)
			cpu_relax();
		a = x->t0[0] < x->t0[1] ? x->t0[0] : x->t0[1];
		b = x->t1[0] > x->t1[1] ? x->t1[0] : x->t1[1];
		if (lib2_n < MAXS)
			lib2_samples[lib2_n++] = (double)(b - a) / (2.0 * KDESC);
		pgfree_drain(x->dom);
	}
	/* Release: the last drain happens-before B's last take-back. */
	atomic_store_explicit(&x->round, x->rounds + 1, memory_order_release);
	if (x->take_back)
		take_back_all(x->dom);
	return NULL;
}

static void m_lib2(void)
{
	static double v[ND][MAXS];
	int nv[ND] = { 0 };
	char name[64];
	int reps = scale > 1 ? 3 : 7;

	for (int r = 0; r < reps; r++) {
		for (int k = 0; k < ND; k++) {
			struct pgfree_config cfg = { 0 };
			struct lib2 *x = aligned_alloc(LINE, sizeof(*x));

			memset(x, 0, sizeof(*x));
			cfg.design = model_designs[k].design;
			cfg.flags = PGFREE_F_NO_THREAD | model_designs[k].flags;
			cfg.ops.flush = c_flush;
			cfg.ops.release = c_release;
			if (pgfree_domain_create(&cfg, &x->dom)) {
				fprintf(stderr, "calib: create %s failed\n", model_designs[k].name);
				exit(1);
			}
			x->take_back = !!(model_designs[k].flags & PGFREE_F_TAKE_BACK);
			for (int t = 0; t < 2; t++) {
				x->d[t] = aligned_alloc(DESC_LINE, sizeof(struct cdesc) * KDESC);
				memset(x->d[t], 0, sizeof(struct cdesc) * KDESC);
			}
			x->rounds = 64 / scale + 1;
			lib2_samples = v[k];
			lib2_n = nv[k];
			run_duo(lib2_a, lib2_b, x);
			/* The first round of each run is the warm-up: drop it. */
			if (lib2_n > nv[k]) {
				memmove(&v[k][nv[k]], &v[k][nv[k] + 1],
					sizeof(double) * (size_t)(lib2_n - nv[k] - 1));
				lib2_n--;
			}
			nv[k] = lib2_n;
			pgfree_domain_destroy(x->dom);
			free(x->d[0]);
			free(x->d[1]);
			free(x);
		}
	}
	for (int k = 0; k < ND; k++) {
		snprintf(name, sizeof(name), "defer2_ns.%s", model_designs[k].name);
		emit(name, summarize(v[k], nv[k]));
	}
}

/* ---- a timed sleep: what the drain thread's batching poll costs it ---- */

static void m_sleep(void)
{
	static double v[MAXS], w[MAXS];
	_Atomic uint32_t word = 0;
	struct timespec rel = { 0, 20000 };	/* gather()'s 20 us slice */

	for (int r = 0; r < nsamp; r++) {
		struct timespec c0, c1;
		uint64_t t0 = now_ns();

		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c0);
		for (int i = 0; i < 8; i++)
			syscall(SYS_futex, (uint32_t *)&word, FUTEX_WAIT_PRIVATE, 0, &rel, NULL, 0);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &c1);
		v[r] = ((double)(c1.tv_sec - c0.tv_sec) * 1e9 + (double)(c1.tv_nsec - c0.tv_nsec)) / 8;
		w[r] = (double)(now_ns() - t0) / 8;
	}
	emit("sleep_cpu_ns", summarize(v, nsamp));
	emit("sleep_wall_ns", summarize(w, nsamp));
}

/* ---- futex wake: the waker's cost ---- */

struct wk {
	_Alignas(LINE) _Atomic uint32_t word;
	_Alignas(LINE) _Atomic int ack;
	long rounds;
	double *samples;	/* per wake, ns */
};

static long futex(_Atomic uint32_t *w, int op, uint32_t val)
{
	return syscall(SYS_futex, (uint32_t *)w, op, val, NULL, NULL, 0);
}

static void *wk_a(void *p)
{
	struct wk *x = p;

	for (long i = 0; i < x->rounds; i++) {
		uint64_t t0;

		/* B sleeps on word == 0: wait until it says it is about to. */
		while (atomic_load_explicit(&x->ack, memory_order_acquire) != 1)
			cpu_relax();
		usleep(50);	/* untimed: let B reach the futex sleep */
		/* Relaxed: ordered before B's next ack by the release below. */
		atomic_store_explicit(&x->ack, 0, memory_order_relaxed);
		/* Release: B, acquiring it, sets the next ack after this reset. */
		atomic_store_explicit(&x->word, 1, memory_order_release);
		t0 = now_ns();
		futex(&x->word, FUTEX_WAKE_PRIVATE, 1);
		x->samples[i] = (double)(now_ns() - t0);
	}
	return NULL;
}

static void *wk_b(void *p)
{
	struct wk *x = p;

	for (long i = 0; i < x->rounds; i++) {
		/* Relaxed: ordered before A's wake by the release of ack. */
		atomic_store_explicit(&x->word, 0, memory_order_relaxed);
		/* Release: orders the reset before A's wake. */
		atomic_store_explicit(&x->ack, 1, memory_order_release);
		/* Acquire: pairs with A's release of word (see there). */
		while (atomic_load_explicit(&x->word, memory_order_acquire) == 0)
			futex(&x->word, FUTEX_WAIT_PRIVATE, 0);
	}
	return NULL;
}

static void m_wake(void)
{
	static double v[MAXS], v0[MAXS];
	_Atomic uint32_t lone = 0;
	struct wk *x = aligned_alloc(LINE, sizeof(*x));
	long n = 2000;
	int rounds = scale > 1 ? 40 : 200;

	memset(x, 0, sizeof(*x));
	x->rounds = rounds;
	x->samples = v;
	run_duo(wk_a, wk_b, x);
	free(x);
	emit("wake_ns", summarize(v, rounds));

	for (int r = 0; r < nsamp; r++) {
		uint64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			futex(&lone, FUTEX_WAKE_PRIVATE, 1);
		v0[r] = (double)(now_ns() - t0) / (double)n;
	}
	emit("wake_nowaiter_ns", summarize(v0, nsamp));
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			scale = 4;
			nsamp = 31;
		} else if (!strncmp(argv[i], "--cpus=", 7)) {
			if (sscanf(argv[i] + 7, "%d,%d", &cpu_a, &cpu_b) != 2) {
				fprintf(stderr, "calib: --cpus=A,B\n");
				return 2;
			}
		} else {
			fprintf(stderr, "usage: %s [--quick] [--cpus=A,B]\n", argv[0]);
			return 2;
		}
	}
	pin(cpu_a);
	printf("{\n  \"cpus\": [%d, %d],\n  \"samples\": %d,\n  \"quick\": %s,\n  \"units\": \"ns\"",
	       cpu_a, cpu_b, nsamp, scale > 1 ? "true" : "false");
	first_out = 0;
	m_handoff();
	m_hammer(HM_RMW, "rmw_contended_ns");
	m_hammer(HM_TAS, "lock_contended_ns");
	m_hammer(HM_QLOCK, "qlock_contended_ns");
	m_hammer(HM_LLIST, "cas_contended_ns");
	m_single();
	m_lib(0);
	m_lib(1);
	m_lib2();
	m_wake();
	m_sleep();
	printf("\n}\n");
	return 0;
}
