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
 *   lock_hold_ns      v5's use of its shared line, uncontended and cache-hot:
 *                     a replica of design_locked.c's struct (lock, list head,
 *                     pending on one line): lock; link; unlock; exchange
 *                     pending (what v5_defer() does, less the call)
 *   lock_contended_ns the same from A and B at once: aggregate ns per defer
 *   cas_contended_ns  A and B push onto one llist head (global_llist's defer):
 *                     aggregate ns per push
 *   cas_local_ns      one llist push (load, link, release CAS) on an own line
 *   defer_ns.<d>      pgfree_defer() into a design <d> domain, one producer on
 *                     A, descriptors last written by a drain on B (as in the
 *                     benchmark, where the drain's release touches them)
 *   defer_hot_ns.<d>  the same with descriptors hot in A's cache
 *   drain_ns.<d>      pgfree_drain() on B per descriptor A deferred: the
 *                     consumer's cost (detach, reverse, flush once, release)
 *   defer2_ns.<d>     A and B defer at once into one domain: aggregate ns per
 *                     descriptor (the model's two-CPU check, without a harness)
 *   wake_ns           FUTEX_WAKE of a sleeping thread: the waker's cost
 *   wake_nowaiter_ns  FUTEX_WAKE with nobody waiting (a bare system call)
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

#define LINE 64
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

struct locked_replica {	/* design_locked.c's struct locked_list, same layout */
	pthread_spinlock_t lock;
	void *first;
	_Atomic uint32_t pending;
} __attribute__((aligned(LINE)));

/*
 * A times chunks of HM_CHUNK operations and reads how many B did meanwhile
 * (B publishes its count on its own line after each operation); a chunk in
 * which B did not advance was not contended (B was descheduled) and is
 * dropped.
 */
#define HM_CHUNK 2000

struct hammer {
	_Alignas(LINE) _Atomic uint64_t ctr;
	_Alignas(LINE) struct locked_replica l;
	_Alignas(LINE) _Atomic uint64_t b_ops;
	_Alignas(LINE) _Atomic int stop;
	_Alignas(LINE) _Atomic int go;
	_Alignas(LINE) _Atomic(void *) head;	/* an llist head */
	int lock;		/* 0: atomic add; 1: the v5 critical section; 2: llist push */
	long chunks;
	double *samples;
	int nsamples;
};

static inline void hammer_op(struct hammer *h, void **node)
{
	if (h->lock == 2) {
		/* Relaxed load: re-read by the CAS on failure. */
		void *old = atomic_load_explicit(&h->head, memory_order_relaxed);

		do
			*node = old;
		/* Release: what llist.h's add uses. */
		while (!atomic_compare_exchange_weak_explicit(&h->head, &old, (void *)node,
							      memory_order_release,
							      memory_order_relaxed));
	} else if (h->lock) {
		pthread_spin_lock(&h->l.lock);
		*node = h->l.first;
		h->l.first = node;
		pthread_spin_unlock(&h->l.lock);
		/* schedule_work()'s PENDING exchange, after the unlock (v5_defer). */
		atomic_exchange_explicit(&h->l.pending, 1, memory_order_relaxed);
	} else {
		/* Relaxed: the line transfer is what is measured. */
		atomic_fetch_add_explicit(&h->ctr, 1, memory_order_relaxed);
	}
}

static void *hammer_a(void *p)
{
	struct hammer *h = p;
	void *node[8];
	uint64_t t_end;

	/* Relaxed: a start gate only. */
	while (!atomic_load_explicit(&h->go, memory_order_relaxed))
		cpu_relax();
	/* Until enough contended chunks, or a time cap (B may not get a CPU). */
	t_end = now_ns() + (scale > 1 ? 300000000u : 1000000000u);
	for (long c = 0; h->nsamples < h->chunks && now_ns() < t_end; c++) {
		/* Relaxed: a count, read at chunk edges only. */
		uint64_t b0 = atomic_load_explicit(&h->b_ops, memory_order_relaxed), b1;
		uint64_t t0 = now_ns(), t1;

		for (int i = 0; i < HM_CHUNK; i++)
			hammer_op(h, node);
		t1 = now_ns();
		b1 = atomic_load_explicit(&h->b_ops, memory_order_relaxed);
		if (b1 - b0 >= 1 && h->nsamples < MAXS)
			h->samples[h->nsamples++] = (double)(t1 - t0) / (double)(HM_CHUNK + b1 - b0);
	}
	/* Relaxed: a stop flag; B reads nothing A wrote. */
	atomic_store_explicit(&h->stop, 1, memory_order_relaxed);
	return NULL;
}

static void *hammer_b(void *p)
{
	struct hammer *h = p;
	void *node[8];
	uint64_t n = 0;

	/* Relaxed: a start gate only. */
	atomic_store_explicit(&h->go, 1, memory_order_relaxed);
	/* Relaxed: a stop flag. */
	while (!atomic_load_explicit(&h->stop, memory_order_relaxed)) {
		hammer_op(h, node);
		/* Relaxed: a count on B's own line, read at A's chunk edges. */
		atomic_store_explicit(&h->b_ops, ++n, memory_order_relaxed);
	}
	return NULL;
}

static void m_hammer(int lock, const char *name)
{
	static double v[MAXS];
	struct hammer *h = aligned_alloc(LINE, sizeof(*h));

	memset(h, 0, sizeof(*h));
	pthread_spin_init(&h->l.lock, PTHREAD_PROCESS_PRIVATE);
	h->lock = lock;
	h->chunks = scale > 1 ? 100 : 400;	/* contended chunks wanted */
	h->samples = v;
	run_duo(hammer_a, hammer_b, h);
	if (h->nsamples < 5) {
		fprintf(stderr, "calib: %s: B hardly ran (%d contended chunks)\n", name, h->nsamples);
		v[h->nsamples++] = -1;
	}
	emit(name, summarize(v, h->nsamples));
	free(h);
}

/* ---- single-thread loops: floor, lock hold, local CAS ---- */

static void m_single(void)
{
	static double vf[MAXS], vl[MAXS], vc[MAXS];
	long n = 100000 / scale;
	struct locked_replica *l = aligned_alloc(LINE, sizeof(*l));
	_Atomic(void *) *head = aligned_alloc(LINE, LINE);
	_Atomic uint64_t *priv = aligned_alloc(LINE, LINE);
	void **nodes = aligned_alloc(LINE, 1024 * LINE);

	pin(cpu_a);
	pthread_spin_init(&l->lock, PTHREAD_PROCESS_PRIVATE);
	atomic_init(&l->pending, 0);
	atomic_init(head, NULL);
	atomic_init(priv, 0);
	for (int r = 0; r < nsamp; r++) {
		uint64_t t0 = now_ns();

		for (long i = 0; i < n; i++)
			/* Relaxed: the floor is one private atomic RMW per item. */
			atomic_fetch_add_explicit(priv, 1, memory_order_relaxed);
		vf[r] = (double)(now_ns() - t0) / (double)n;

		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			void **node = &nodes[(i & 1023) * (LINE / sizeof(void *))];

			pthread_spin_lock(&l->lock);
			*node = l->first;
			l->first = node;
			pthread_spin_unlock(&l->lock);
			/* Relaxed: as schedule_work() in design_locked.c. */
			atomic_exchange_explicit(&l->pending, 1, memory_order_relaxed);
		}
		vl[r] = (double)(now_ns() - t0) / (double)n;

		t0 = now_ns();
		for (long i = 0; i < n; i++) {
			void **node = &nodes[(i & 1023) * (LINE / sizeof(void *))];
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
	emit("cas_local_ns", summarize(vc, nsamp));
	free(l);
	free((void *)head);
	free((void *)priv);
	free(nodes);
}

/* ---- the library: defer on A, drain on B ---- */

struct cdesc {
	struct pgfree_llist_node node;
	uint64_t released;
} __attribute__((aligned(LINE)));

static int c_flush(void *ctx, const struct pgfree_range *range)
{
	(void)ctx;
	(void)range;
	return 0;
}

static void c_release(void *ctx, struct pgfree_llist_node *batch)
{
	(void)ctx;
	while (batch) {
		struct pgfree_llist_node *next = batch->next;

		/* The release touches each descriptor, as a free would. */
		((struct cdesc *)batch)->released++;
		batch = next;
	}
}

#define KDESC 4096

struct lib {
	struct pgfree_domain *dom;
	struct cdesc *d;
	_Alignas(LINE) _Atomic int phase;	/* A: 1 = deferred; B: 2 = drained */
	long rounds;
	int hot;
	double *s_defer, *s_drain;	/* per round, ns per descriptor */
	int *n_defer, *n_drain;		/* samples stored so far */
};

static void add_sample(double *v, int *n, double x)
{
	if (*n < MAXS)
		v[(*n)++] = x;
}

static void *lib_a(void *p)
{
	struct lib *x = p;

	for (long r = 0; r < x->rounds; r++) {
		uint64_t t0 = now_ns();

		for (int i = 0; i < KDESC; i++)
			pgfree_defer(x->dom, &x->d[i].node);
		if (x->s_defer)
			add_sample(x->s_defer, x->n_defer, (double)(now_ns() - t0) / KDESC);
		if (x->hot) {
			pgfree_drain(x->dom);
			/* Touch them again here, so that the next round finds them hot. */
			for (int i = 0; i < KDESC; i++)
				x->d[i].released++;
			continue;
		}
		/* Release/acquire: the drain on B must see every defer (and A the drain). */
		atomic_store_explicit(&x->phase, 1, memory_order_release);
		while (atomic_load_explicit(&x->phase, memory_order_acquire) != 2)
			cpu_relax();
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
		uint64_t t0;

		/* Acquire: pairs with A's release of 1, so every defer is visible. */
		while ((ph = atomic_load_explicit(&x->phase, memory_order_acquire)) != 1 && ph != 3)
			cpu_relax();
		if (ph == 3)
			return NULL;
		t0 = now_ns();
		pgfree_drain(x->dom);
		if (x->s_drain)
			add_sample(x->s_drain, x->n_drain, (double)(now_ns() - t0) / KDESC);
		/* Release: the drain's writes (the descriptors) before A goes on. */
		atomic_store_explicit(&x->phase, 2, memory_order_release);
	}
}

static const struct {
	const char *name;
	unsigned int design;
} designs[] = {
	{ "percpu", PGFREE_DESIGN_PERCPU },
	{ "v5", PGFREE_DESIGN_V5 },
	{ "v3", PGFREE_DESIGN_V3 },
	{ "global_llist", PGFREE_DESIGN_GLOBAL_LLIST },
};

static void m_lib(int hot)
{
	int nd = (int)(sizeof(designs) / sizeof(designs[0]));
	static double vd[4][MAXS], vr[4][MAXS];
	int nvd[4] = { 0 }, nvr[4] = { 0 };
	int reps = scale > 1 ? 3 : 7;
	char name[64];

	/* Designs interleaved within each repetition; a sample is one round. */
	for (int r = 0; r < reps; r++) {
		for (int k = 0; k < nd; k++) {
			struct pgfree_config cfg = { 0 };
			struct lib x = { 0 };
			int err;

			cfg.design = designs[k].design;
			cfg.flags = PGFREE_F_NO_THREAD;
			cfg.ops.flush = c_flush;
			cfg.ops.release = c_release;
			err = pgfree_domain_create(&cfg, &x.dom);
			if (err) {
				fprintf(stderr, "calib: create %s: %d\n", designs[k].name, err);
				exit(1);
			}
			x.d = aligned_alloc(LINE, sizeof(*x.d) * KDESC);
			memset(x.d, 0, sizeof(*x.d) * KDESC);
			x.rounds = 1;
			x.hot = hot;
			/* One warm-up round, untimed, then the timed ones. */
			run_duo(lib_a, lib_b, &x);
			/* Relaxed: thread creation in run_duo() orders it. */
			atomic_store_explicit(&x.phase, 0, memory_order_relaxed);
			x.rounds = 64 / scale + 1;
			x.s_defer = vd[k];
			x.n_defer = &nvd[k];
			x.s_drain = vr[k];
			x.n_drain = &nvr[k];
			run_duo(lib_a, lib_b, &x);
			pgfree_domain_destroy(x.dom);
			free(x.d);
		}
	}
	for (int k = 0; k < nd; k++) {
		snprintf(name, sizeof(name), "%s.%s", hot ? "defer_hot_ns" : "defer_ns",
			 designs[k].name);
		emit(name, summarize(vd[k], nvd[k]));
		if (!hot) {
			snprintf(name, sizeof(name), "drain_ns.%s", designs[k].name);
			emit(name, summarize(vr[k], nvr[k]));
		}
	}
}

/* ---- the library, two producers at once: the model's 2-CPU check ---- */

/*
 * A and B each defer KDESC of their own descriptors into one domain at
 * the same time (started by A's round number); A then drains, untimed.
 * A sample is the round's aggregate: 2 x KDESC / (last end - first start),
 * CLOCK_MONOTONIC being one clock on both CPUs.  A round in which one
 * thread was descheduled is a low outlier the median ignores.
 */
struct lib2 {
	struct pgfree_domain *dom;
	struct cdesc *d[2];
	_Alignas(LINE) _Atomic long round;	/* A: start round r */
	_Alignas(LINE) _Atomic long done;	/* producers finished this round */
	long rounds;
	uint64_t t0[2], t1[2];
};

static void lib2_round(struct lib2 *x, int me)
{
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
	return NULL;
}

static void m_lib2(void)
{
	int nd = (int)(sizeof(designs) / sizeof(designs[0]));
	static double v[4][MAXS];
	int nv[4] = { 0 };
	char name[64];
	int reps = scale > 1 ? 3 : 7;

	for (int r = 0; r < reps; r++) {
		for (int k = 0; k < nd; k++) {
			struct pgfree_config cfg = { 0 };
			struct lib2 *x = aligned_alloc(LINE, sizeof(*x));

			memset(x, 0, sizeof(*x));
			cfg.design = designs[k].design;
			cfg.flags = PGFREE_F_NO_THREAD;
			cfg.ops.flush = c_flush;
			cfg.ops.release = c_release;
			if (pgfree_domain_create(&cfg, &x->dom)) {
				fprintf(stderr, "calib: create %s failed\n", designs[k].name);
				exit(1);
			}
			for (int t = 0; t < 2; t++) {
				x->d[t] = aligned_alloc(LINE, sizeof(struct cdesc) * KDESC);
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
	for (int k = 0; k < nd; k++) {
		snprintf(name, sizeof(name), "defer2_ns.%s", designs[k].name);
		emit(name, summarize(v[k], nv[k]));
	}
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
	m_hammer(0, "rmw_contended_ns");
	m_hammer(1, "lock_contended_ns");
	m_hammer(2, "cas_contended_ns");
	m_single();
	m_lib(0);
	m_lib(1);
	m_lib2();
	m_wake();
	printf("\n}\n");
	return 0;
}
