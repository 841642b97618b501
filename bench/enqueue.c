// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The enqueue workload, with its own runner (not Google Benchmark's
 * threads), so that a timed window holds nothing but the work:
 *
 *  - a cell is (design, batching policy, producer count); a repetition runs
 *    every cell once, in an order shuffled anew for each repetition (seeded:
 *    the seed is in the JSON), so that drift on a shared machine spreads
 *    over all designs instead of landing on whichever runs last;
 *  - one run of a cell: the coordinator builds the design's instance and
 *    starts the producers (untimed); each producer pins itself (while the
 *    producers are no more than the CPUs), says it is ready and spins on a
 *    flag; the coordinator raises the flag; each producer defers for the
 *    warm-up time, then times its OWN window of @window_ns by its own clock
 *    (clock read every ENQ_CHUNK defers), then keeps deferring, untimed,
 *    until every producer has closed its window, so that every window is
 *    fully contended; no barrier, futex or thread start is inside a window;
 *  - the cell's rate in one run is the sum of the producers' rates; over
 *    the repetitions the JSON gives the median, the quartiles and the IQR.
 *
 * Descriptors are recycled through a ring per producer (ENQ_RING, > any
 * batch_max, as in real use): a producer whose next descriptor is not yet
 * released waits (counted in "stalls"), inside its window: a consumer that
 * cannot keep up lowers the sustained rate, which is what a caller sees.
 * Each run gives two rates:
 *  - sustained (items_per_second): defers over the whole window, stalls
 *    included: bounded by how fast the consumer releases;
 *  - producer side (producer_items_per_second): defers over the window
 *    less the time spent waiting for a descriptor to come back, i.e. what
 *    the defer call itself costs the caller under contention.  A kernel
 *    caller of pagetable_free_kernel() never waits for the worker to hand
 *    its page back, so this is the rate the review's objection is about;
 *    the stall is an artefact of recycling descriptors through a ring.
 *    Two clock reads per stall, none on the path without one.
 */
#include <errno.h>
#include <pthread.h>
#include <regex.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "designs.h"
#include "enqueue.h"
#ifdef BENCH_LOCKSTAT
#include "lockstat.h"
#endif

#define ENQ_CHUNK 256		/* defers between clock reads */
#define ENQ_RING 32768		/* descriptors per producer */
#define ENQ_MAX_THREADS 1024

struct producer {
	pthread_t th;
	int ti, cpu;
	struct cell_run *run;
	struct bdesc *ring;
	uint32_t pos;
	uint64_t stalls, items;
	uint64_t stall_ns;	/* time waiting for descriptors, in the window */
	bool timing;		/* inside the window: stalls are timed */
	double rate;		/* items per second in its window */
	double prate;		/* the same, the window less its stall time */
} __attribute__((aligned(128)));

struct cell_run {
	const struct bdesign *d;
	void *impl;
	struct bsink sink;
	int nthreads;
	uint64_t warm_ns, window_ns;
	_Atomic int ready __attribute__((aligned(128)));
	_Atomic int go __attribute__((aligned(128)));
	_Atomic int done __attribute__((aligned(128)));
	struct producer *p;
};

static struct bdesc *rings[ENQ_MAX_THREADS];

static struct bdesc *ring_of(int ti)
{
	if (!rings[ti]) {
		rings[ti] = aligned_alloc(64, sizeof(struct bdesc) * ENQ_RING);
		if (!rings[ti])
			abort();
		memset(rings[ti], 0, sizeof(struct bdesc) * ENQ_RING);
	}
	return rings[ti];
}

static inline struct bdesc *ring_next(struct producer *p)
{
	struct bdesc *d = &p->ring[p->pos];

	p->pos = (p->pos + 1) & (ENQ_RING - 1);
	/* Write-prefetch ahead: the consumer touched them last, for every design. */
	__builtin_prefetch(&p->ring[(p->pos + 32) & (ENQ_RING - 1)], 1);
	/* Acquire: pairs with the sink's release store; reuse after the release. */
	if (atomic_load_explicit(&d->busy, memory_order_acquire)) {
		const struct bdesign *ds = p->run->d;
		uint64_t t = p->timing ? bench_now_ns() : 0;

		p->stalls++;
		while (atomic_load_explicit(&d->busy, memory_order_acquire)) {
			if (ds->take_back)
				ds->take_back(p->run->impl);
			sched_yield();
		}
		if (p->timing)
			p->stall_ns += bench_now_ns() - t;
	}
	atomic_store_explicit(&d->busy, 1, memory_order_relaxed);
	return d;
}

static inline void chunk(struct producer *p, const struct bdesign *d, void *impl)
{
	for (int i = 0; i < ENQ_CHUNK; i++)
		d->defer(impl, ring_next(p));
	/* Take back what is ready, as a freeing CPU's allocator would: producer work. */
	if (d->take_back)
		d->take_back(impl);
}

static void *producer_main(void *arg)
{
	struct producer *p = arg;
	struct cell_run *r = p->run;
	const struct bdesign *d = r->d;
	uint64_t t0, t1, end, n = 0;

	if (p->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(p->cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	if (d->thread_enter)
		d->thread_enter(r->impl);
	/* Relaxed counters and flags: they order nothing but the start and end. */
	atomic_fetch_add_explicit(&r->ready, 1, memory_order_relaxed);
	/*
	 * Spin (untimed) for the start; yield now and then, so that spinners
	 * on a CPU with more producers than CPUs let the others (and the
	 * coordinator) reach the start line.
	 */
	for (unsigned int spins = 0; !atomic_load_explicit(&r->go, memory_order_relaxed); spins++) {
		cpu_relax();
		if ((spins & 1023) == 1023)
			sched_yield();
	}

	/* Warm-up: caches, the consumer's steady state, the CPU's clock. */
	end = bench_now_ns() + r->warm_ns;
	do
		chunk(p, d, r->impl);
	while (bench_now_ns() < end);

	/* The window: nothing but defers and a clock read per chunk. */
	p->stall_ns = 0;
	p->timing = true;
	t0 = bench_now_ns();
	do {
		chunk(p, d, r->impl);
		n += ENQ_CHUNK;
		t1 = bench_now_ns();
	} while (t1 - t0 < r->window_ns);
	p->timing = false;
	p->items = n;
	p->rate = (double)n * 1e9 / (double)(t1 - t0);
	/* Stalls lie inside [t0, t1], so the difference is positive; guard anyway. */
	p->prate = t1 - t0 > p->stall_ns ? (double)n * 1e9 / (double)(t1 - t0 - p->stall_ns)
					 : p->rate;

	/* Keep the load on until every window is closed. */
	atomic_fetch_add_explicit(&r->done, 1, memory_order_relaxed);
	while (atomic_load_explicit(&r->done, memory_order_relaxed) < r->nthreads)
		chunk(p, d, r->impl);
	if (d->thread_exit)
		d->thread_exit(r->impl);
	return NULL;
}

struct cell {
	const struct bdesign *d;
	const struct bpolicy *pol;
	int threads;
	bool oversubscribed, pinned;
	char name[160];
	double *rates;		/* per repetition: aggregate items/s */
	double *prates;		/* the same, producer side (stall time excluded) */
	double *stall_share;	/* per repetition: mean share of a window stalled */
	double *stalls;
	double flushes, released;
	double wall_ns;		/* whole runs, set-up and tear-down included */
#ifdef BENCH_LOCKSTAT
	struct pgfree_lockstat ls;
#endif
};

static double one_run(const struct enq_opts *o, struct cell *c, double *stalls, double *prate,
		      double *stall_share)
{
	struct cell_run r = { 0 };
	struct producer *p = aligned_alloc(128, sizeof(*p) * (size_t)c->threads);
	uint64_t t_start = bench_now_ns();

	if (!p)
		abort();
	memset(p, 0, sizeof(*p) * (size_t)c->threads);
	r.d = c->d;
	r.nthreads = c->threads;
	r.warm_ns = o->warm_ns;
	r.window_ns = o->window_ns;
	r.p = p;
	r.impl = c->d->create(&r.sink, c->d->arg, c->pol);
#ifdef BENCH_LOCKSTAT
	pgfree_lockstat_reset();
#endif
	for (int t = 0; t < c->threads; t++) {
		p[t].ti = t;
		p[t].run = &r;
		p[t].ring = ring_of(t);
		p[t].cpu = c->pinned ? o->cpus[t % o->nr_cpus_list] : -1;
		if (pthread_create(&p[t].th, NULL, producer_main, &p[t]))
			abort();
	}
	while (atomic_load_explicit(&r.ready, memory_order_relaxed) < c->threads)
		sched_yield();
	atomic_store_explicit(&r.go, 1, memory_order_relaxed);
	for (int t = 0; t < c->threads; t++)
		pthread_join(p[t].th, NULL);
	c->d->quiesce(r.impl);
#ifdef BENCH_LOCKSTAT
	{
		struct pgfree_lockstat ls;

		pgfree_lockstat_read(&ls);
		for (int i = 0; i < PGFREE_LOCKSTAT_BUCKETS; i++) {
			c->ls.wait[i] += ls.wait[i];
			c->ls.hold[i] += ls.hold[i];
		}
		if (ls.wait_max > c->ls.wait_max)
			c->ls.wait_max = ls.wait_max;
		if (ls.hold_max > c->ls.hold_max)
			c->ls.hold_max = ls.hold_max;
	}
#endif
	c->d->destroy(r.impl);
	c->wall_ns += (double)(bench_now_ns() - t_start);
	c->flushes += (double)atomic_load(&r.sink.flushes);
	c->released += (double)atomic_load(&r.sink.released);

	double rate = 0, st = 0, pr = 0, share = 0;

	for (int t = 0; t < c->threads; t++) {
		rate += p[t].rate;
		pr += p[t].prate;
		st += (double)p[t].stalls;
		share += p[t].rate > 0 ? 1.0 - p[t].rate / p[t].prate : 0.0;
	}
	free(p);
	*stalls = st;
	*prate = pr;
	*stall_share = share / c->threads;
	return rate;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Linear interpolation between order statistics (numpy's default). */
static double quantile(const double *sorted, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	if (i + 1 >= n)
		return sorted[n - 1];
	return sorted[i] + (pos - i) * (sorted[i + 1] - sorted[i]);
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
	return rng_state >> 33;
}

/* {"median", "q1", "q3", "iqr", "min", "max"} of @v[0..@n) */
static void write_quart(FILE *f, const double *v, int n)
{
	double *s = malloc(sizeof(double) * (size_t)n);

	if (!s)
		abort();
	memcpy(s, v, sizeof(double) * (size_t)n);
	qsort(s, (size_t)n, sizeof(double), cmp_double);
	fprintf(f, "{\"median\": %.4f, \"q1\": %.4f, \"q3\": %.4f, \"iqr\": %.4f, "
		"\"min\": %.4f, \"max\": %.4f}", quantile(s, n, 0.5), quantile(s, n, 0.25),
		quantile(s, n, 0.75), quantile(s, n, 0.75) - quantile(s, n, 0.25), s[0], s[n - 1]);
	free(s);
}

static void write_row(FILE *f, const struct cell *c, int reps, bool first)
{
	double *s = malloc(sizeof(double) * (size_t)reps);
	double q1, med, q3;

	if (!s)
		abort();
	memcpy(s, c->rates, sizeof(double) * (size_t)reps);
	qsort(s, (size_t)reps, sizeof(double), cmp_double);
	q1 = quantile(s, reps, 0.25);
	med = quantile(s, reps, 0.5);
	q3 = quantile(s, reps, 0.75);
	fprintf(f, "%s    {\"name\": \"%s\", \"workload\": \"enqueue\", \"design\": \"%s\", "
		"\"policy\": \"%s\", \"threads\": %d, \"oversubscribed\": %s, \"pinned\": %s,\n"
		"     \"flush_hook\": %s, \"peer\": %s, \"repetitions\": %d,\n"
		"     \"items_per_second\": {\"median\": %.1f, \"q1\": %.1f, \"q3\": %.1f, "
		"\"iqr\": %.1f, \"min\": %.1f, \"max\": %.1f},\n"
		"     \"ns_per_op_per_thread\": {\"median\": %.4f, \"q1\": %.4f, \"q3\": %.4f},\n"
		"     \"samples\": [",
		first ? "" : ",\n", c->name, c->d->name, c->pol->name, c->threads,
		c->oversubscribed ? "true" : "false", c->pinned ? "true" : "false",
		c->d->flush_hook ? "true" : "false", c->d->peer ? "true" : "false", reps, med, q1, q3, q3 - q1, s[0], s[reps - 1],
		c->threads * 1e9 / med, c->threads * 1e9 / q3, c->threads * 1e9 / q1);
	for (int i = 0; i < reps; i++)
		fprintf(f, "%s%.1f", i ? ", " : "", c->rates[i]);
	double st = 0;

	for (int i = 0; i < reps; i++)
		st += c->stalls[i];
	fprintf(f, "],\n     \"producer_items_per_second\": ");
	write_quart(f, c->prates, reps);
	fprintf(f, ",\n     \"producer_samples\": [");
	for (int i = 0; i < reps; i++)
		fprintf(f, "%s%.1f", i ? ", " : "", c->prates[i]);
	fprintf(f, "],\n     \"stall_share\": ");
	write_quart(f, c->stall_share, reps);
	fprintf(f, ",\n     \"stalls_per_run\": %.1f, \"flushes_per_1000\": %.4f, "
		"\"run_wall_ms\": %.1f",
		st / reps, c->released ? 1000.0 * c->flushes / c->released : 0.0,
		c->wall_ns / reps / 1e6);
#ifdef BENCH_LOCKSTAT
	if (c->d->locked) {
		fprintf(f, ",\n     \"lock_wait_ns_log2_hist\": [");
		for (int i = 0; i < PGFREE_LOCKSTAT_BUCKETS; i++)
			fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)c->ls.wait[i]);
		fprintf(f, "],\n     \"lock_hold_ns_log2_hist\": [");
		for (int i = 0; i < PGFREE_LOCKSTAT_BUCKETS; i++)
			fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)c->ls.hold[i]);
		fprintf(f, "],\n     \"lock_wait_max_ns\": %llu, \"lock_hold_max_ns\": %llu",
			(unsigned long long)c->ls.wait_max, (unsigned long long)c->ls.hold_max);
	}
#endif
	fprintf(f, "}");
	free(s);
}

int enqueue_run(const struct enq_opts *o)
{
	static struct cell cells[4096];
	int nc = 0, order[4096];
	regex_t re;
	const struct bdesign *all[BENCH_MAX_DESIGNS + 1];
	int nall = 0;

	if (o->filter && regcomp(&re, o->filter, REG_EXTENDED | REG_NOSUB)) {
		fprintf(stderr, "pgfree_bench: bad --enqueue-filter regex\n");
		return -EINVAL;
	}
	all[nall++] = &bdesign_floor;
	for (unsigned int i = 0; i < bench_nr_designs; i++)
		all[nall++] = bench_designs[i];

	for (int di = 0; di < nall; di++) {
		const struct bpolicy *pols[2];
		unsigned int np = bench_policies(all[di], pols);

		for (unsigned int pi = 0; pi < np; pi++) {
			for (int ti = 0; ti < o->nr_threads; ti++) {
				struct cell *c = &cells[nc];
				int t = o->threads[ti];

				if (nc >= 4096 || t > ENQ_MAX_THREADS)
					break;
				if (o->lockstat && !all[di]->locked)
					continue;
				c->d = all[di];
				c->pol = pols[pi];
				c->threads = t;
				c->oversubscribed = t > o->nr_cpus_list;
				c->pinned = o->pin && !c->oversubscribed;
				snprintf(c->name, sizeof(c->name), "enqueue/%s/policy:%s/threads:%d",
					 c->d->name, c->pol->name, t);
				if (o->filter && regexec(&re, c->name, 0, NULL, 0))
					continue;
				c->rates = calloc((size_t)o->reps, sizeof(double));
				c->prates = calloc((size_t)o->reps, sizeof(double));
				c->stall_share = calloc((size_t)o->reps, sizeof(double));
				c->stalls = calloc((size_t)o->reps, sizeof(double));
				if (!c->rates || !c->prates || !c->stall_share || !c->stalls)
					abort();
				order[nc] = nc;
				nc++;
			}
		}
	}
	if (o->filter)
		regfree(&re);

	FILE *f = fopen(o->out, "w");

	if (!f) {
		perror(o->out);
		return -errno;
	}
	fprintf(stderr, "enqueue: %d cells x %d repetitions (+1 warm-up pass), window %.1f ms, "
		"warm-up %.1f ms\n", nc, o->reps, o->window_ns / 1e6, o->warm_ns / 1e6);
	rng_state = o->seed;
	/* Repetition -1: a warm-up pass over every cell, discarded. */
	for (int rep = -1; rep < o->reps; rep++) {
		for (int i = nc - 1; i > 0; i--) {	/* Fisher-Yates, a new order each pass */
			int j = (int)(rng_next() % (uint64_t)(i + 1)), tmp = order[i];

			order[i] = order[j];
			order[j] = tmp;
		}
		for (int k = 0; k < nc; k++) {
			struct cell *c = &cells[order[k]];
			double st, pr, share, rate = one_run(o, c, &st, &pr, &share);

			if (rep >= 0) {
				c->rates[rep] = rate;
				c->prates[rep] = pr;
				c->stall_share[rep] = share;
				c->stalls[rep] = st;
			} else {
				c->flushes = c->released = c->wall_ns = 0;
#ifdef BENCH_LOCKSTAT
				memset(&c->ls, 0, sizeof(c->ls));
#endif
			}
		}
		fprintf(stderr, "enqueue: pass %d/%d done\n", rep + 1, o->reps);
	}

	fprintf(f, "{\n  \"enqueue_config\": {\"repetitions\": %d, \"window_ns\": %llu, "
		"\"warmup_ns\": %llu, \"chunk\": %d, \"ring\": %d, \"seed\": %llu, "
		"\"order\": \"shuffled per repetition\", \"lockstat\": %s},\n  \"rows\": [\n",
		o->reps, (unsigned long long)o->window_ns, (unsigned long long)o->warm_ns, ENQ_CHUNK,
		ENQ_RING, (unsigned long long)o->seed, o->lockstat ? "true" : "false");
	for (int i = 0; i < nc; i++)
		write_row(f, &cells[i], o->reps, i == 0);
	fprintf(f, "\n  ]\n}\n");
	fclose(f);
	for (int i = 0; i < nc; i++) {
		free(cells[i].rates);
		free(cells[i].prates);
		free(cells[i].stall_share);
		free(cells[i].stalls);
	}
	return 0;
}
