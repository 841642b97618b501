// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The Google Benchmark workloads, each registered for every design under
 * each of its batching policies (designs.h):
 *
 *  end_to_end/<design>/policy:<p>/flush_ns:F  descriptors deferred and
 *				    released per second with a simulated flush
 *				    of F ns, at one producer per CPU
 *  latency/<design>/policy:<p>     defer-to-release p50/p99/max at a steady
 *				    load (after an unrecorded warm-up)
 *  memory/<design>/policy:<p>      peak backlog and RSS for a burst, slow flush
 *
 * The enqueue workload has its own runner (enqueue.c), whose timed windows
 * hold no barrier or thread start.  These workloads measure a whole
 * pipeline (end_to_end: items released per second of wall time; latency:
 * per descriptor, timestamps in the descriptor), which Google Benchmark's
 * start/stop barriers do not distort the same way.
 *
 * They recycle descriptors through one ring per producer thread; a
 * producer whose next descriptor is still queued waits (counted in
 * "stalls"), so the number in flight is bounded.  Thread 0 builds the design
 * instance before the first batch and quiesces and destroys it after the
 * last; Google Benchmark's start/stop barriers order that against the other
 * threads.
 */
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "designs.h"
#include "gbench.h"
#include "workloads.h"

#define BATCH 256			/* items per KeepRunningBatch() */
#define RING_E2E 16384			/* > batch_max in flight, as in real use */
#define LATENCY_PERIOD_NS 20000u	/* 50 000 descriptors/s offered */
#define LATENCY_WARMUP 2000		/* unrecorded defers before the first timed one */
#define MEMORY_BURST 20000		/* descriptors per producer per burst */
#define MEMORY_FLUSH_NS 100000u		/* 100 us */
#define PAGE 4096

enum kind { K_E2E, K_LATENCY, K_MEMORY };

struct ring {
	struct bdesc *d;
	uint32_t mask, pos;
	uint64_t stalls;
	_Atomic uint64_t deferred;	/* for the memory sampler */
} __attribute__((aligned(128)));

struct run {
	void *impl;
	struct bsink sink;
	struct lathist lat;
	struct ring *rings;
	int nthreads;
	pthread_t sampler;
	_Atomic bool sampling;
	_Atomic uint64_t peak_backlog, peak_rss;
	uint64_t rss0;
};

struct wl {
	const struct bdesign *design;
	const struct bpolicy *pol;
	enum kind kind;
	uint64_t flush_ns;
	const struct bench_opts *opts;
	struct run *run;
};

static const struct bench_opts *g_opts;

static uint64_t rss_bytes(void)
{
	long pages = 0, rss = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &rss) != 2)
			rss = 0;
		fclose(f);
	}
	return (uint64_t)rss * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void *sampler(void *arg)
{
	struct run *r = arg;

	while (atomic_load_explicit(&r->sampling, memory_order_relaxed)) {
		uint64_t in = 0, out, rss = rss_bytes();

		for (int t = 0; t < r->nthreads; t++)
			in += atomic_load_explicit(&r->rings[t].deferred, memory_order_relaxed);
		out = atomic_load_explicit(&r->sink.released, memory_order_relaxed);
		if (in > out && in - out > r->peak_backlog)
			r->peak_backlog = in - out;
		if (rss > r->peak_rss)
			r->peak_rss = rss;
		usleep(100);
	}
	return NULL;
}

static struct run *run_create(struct wl *w, int nthreads)
{
	struct run *r = calloc(1, sizeof(*r));
	uint32_t ring = RING_E2E;

	if (!r)
		abort();
	r->nthreads = nthreads;
	r->sink.flush_ns = w->kind == K_MEMORY ? MEMORY_FLUSH_NS : w->flush_ns;
	r->sink.free_pages = w->kind == K_MEMORY;
	if (w->kind == K_LATENCY) {
		lathist_reset(&r->lat);
		r->sink.lat = &r->lat;
	}
	r->rings = aligned_alloc(128, sizeof(*r->rings) * (size_t)nthreads);
	if (!r->rings)
		abort();
	memset(r->rings, 0, sizeof(*r->rings) * (size_t)nthreads);
	if (w->kind == K_MEMORY)
		ring = MEMORY_BURST;	/* one burst per thread, not recycled */
	for (int t = 0; t < nthreads; t++) {
		r->rings[t].d = aligned_alloc(64, sizeof(struct bdesc) * ring);
		if (!r->rings[t].d)
			abort();
		memset(r->rings[t].d, 0, sizeof(struct bdesc) * ring);
		r->rings[t].mask = ring - 1;
	}
	r->impl = w->design->create(&r->sink, w->design->arg, w->pol);
	return r;
}

static void run_destroy(struct wl *w, struct run *r)
{
	w->design->destroy(r->impl);
	for (int t = 0; t < r->nthreads; t++)
		free(r->rings[t].d);
	free(r->rings);
	free(r);
}

static void pin_self(int ti)
{
	cpu_set_t set;

	if (!g_opts->pin)
		return;
	CPU_ZERO(&set);
	CPU_SET(g_opts->pin[ti % g_opts->nr_pin], &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * A design's take-back (designs.h), if it has one: once per batch of
 * defers and while a producer waits for a descriptor.
 */
static inline void take_back(const struct bdesign *ds, void *impl)
{
	if (ds->take_back)
		ds->take_back(impl);
}

/* The next descriptor of the ring, once its last use has been released. */
static inline struct bdesc *ring_next(const struct bdesign *ds, void *impl, struct ring *rg)
{
	struct bdesc *d = &rg->d[rg->pos];

	rg->pos = (rg->pos + 1) & rg->mask;
	/* Write-prefetch a few ahead: the consumer touched them last, for every design. */
	__builtin_prefetch(&rg->d[(rg->pos + 32) & rg->mask], 1);
	if (atomic_load_explicit(&d->busy, memory_order_acquire)) {
		rg->stalls++;
		while (atomic_load_explicit(&d->busy, memory_order_acquire)) {
			take_back(ds, impl);
			sched_yield();
		}
	}
	atomic_store_explicit(&d->busy, 1, memory_order_relaxed);
	return d;
}

/* A producer's first batch: pin it, and the design's per-thread hook. */
static struct run *producer_join(struct wl *w, int ti)
{
	struct run *r = w->run;

	pin_self(ti);
	if (w->design->thread_enter)
		w->design->thread_enter(r->impl);
	return r;
}

/*
 * After a producer's last batch.  Thread 0 waits for every release before
 * bench_body() tears the run down; Google Benchmark's stop barrier has
 * already ordered the other producers' last defers before this.
 */
static void producer_leave(gb_state *st, struct wl *w, struct run *r, int ti, int64_t items)
{
	gb_set_items_processed(st, items);
	if (!r)
		return;
	if (ti == 0)
		w->design->quiesce(r->impl);
	if (w->design->thread_exit)
		w->design->thread_exit(r->impl);
}

static void body_stream(gb_state *st, struct wl *w, int ti)
{
	const struct bdesign *ds = w->design;
	struct run *r = NULL;
	struct ring *rg = NULL;

	while (gb_keep_running_batch(st, BATCH)) {
		if (!r) {
			r = producer_join(w, ti);
			rg = &r->rings[ti];
		}
		for (int i = 0; i < BATCH; i++)
			ds->defer(r->impl, ring_next(ds, r->impl, rg));
		take_back(ds, r->impl);
	}
	if (rg)
		gb_set_counter(st, "stalls", (double)rg->stalls, GB_COUNTER_DEFAULT);
	producer_leave(st, w, r, ti, gb_iterations(st));
}

static void body_latency(gb_state *st, struct wl *w, int ti)
{
	const struct bdesign *ds = w->design;
	struct run *r = NULL;
	struct ring *rg = NULL;
	uint64_t next = 0;

	while (gb_keep_running_batch(st, 1)) {
		struct bdesc *d;

		if (!r) {
			r = producer_join(w, ti);
			rg = &r->rings[ti];
			/*
			 * Unrecorded warm-up at the same pace: the first
			 * descriptors pay for cold caches, page faults and the
			 * consumer's first wake-up, not the design.
			 */
			next = bench_now_ns();
			for (int i = 0; i < LATENCY_WARMUP; i++) {
				while (bench_now_ns() < next)
					cpu_relax();
				next += LATENCY_PERIOD_NS;
				d = ring_next(ds, r->impl, rg);
				d->t_defer = 0;
				ds->defer(r->impl, d);
				take_back(ds, r->impl);
			}
			ds->quiesce(r->impl);
			next = bench_now_ns();
		}
		while (bench_now_ns() < next)
			cpu_relax();
		next += LATENCY_PERIOD_NS;
		d = ring_next(ds, r->impl, rg);
		d->t_defer = bench_now_ns();
		ds->defer(r->impl, d);
		/* Latency: defer to release, or to take-back, whichever the design does. */
		take_back(ds, r->impl);
	}
	producer_leave(st, w, r, ti, gb_iterations(st));
}

static void body_memory(gb_state *st, struct wl *w, int ti)
{
	const struct bdesign *ds = w->design;
	struct run *r = NULL;

	while (gb_keep_running_batch(st, 1)) {
		struct ring *rg;

		if (!r)
			r = producer_join(w, ti);
		rg = &r->rings[ti];
		for (int i = 0; i < MEMORY_BURST; i++) {
			struct bdesc *d = &rg->d[i];

			while (atomic_load_explicit(&d->busy, memory_order_acquire)) {
				take_back(ds, r->impl);
				sched_yield();
			}
			d->page = malloc(PAGE);
			if (!d->page)
				abort();
			memset(d->page, 0x5a, PAGE);	/* a page table that was in use */
			atomic_store_explicit(&d->busy, 1, memory_order_relaxed);
			ds->defer(r->impl, d);
			atomic_fetch_add_explicit(&rg->deferred, 1, memory_order_relaxed);
		}
	}
	producer_leave(st, w, r, ti, gb_iterations(st) * MEMORY_BURST);
}

static void bench_body(gb_state *st, const void *arg)
{
	struct wl *w = (struct wl *)arg;
	int ti = gb_thread_index(st);

	if (ti == 0)
		w->run = run_create(w, gb_threads_of(st));

	switch (w->kind) {
	case K_E2E:
		body_stream(st, w, ti);
		break;
	case K_LATENCY:
		body_latency(st, w, ti);
		break;
	case K_MEMORY:
		if (ti == 0) {
			/* Hand back what earlier bursts freed, so RSS growth is this burst's. */
			malloc_trim(0);
			w->run->rss0 = rss_bytes();
			atomic_store(&w->run->sampling, true);
			pthread_create(&w->run->sampler, NULL, sampler, w->run);
		}
		body_memory(st, w, ti);
		break;
	}

	if (ti != 0)
		return;

	struct run *r = w->run;
	uint64_t released = atomic_load(&r->sink.released);
	uint64_t flushes = atomic_load(&r->sink.flushes);

	if (w->kind == K_MEMORY) {
		atomic_store(&r->sampling, false);
		pthread_join(r->sampler, NULL);
		gb_set_counter(st, "peak_backlog", (double)r->peak_backlog, GB_COUNTER_DEFAULT);
		gb_set_counter(st, "peak_rss_MiB",
			       (double)(r->peak_rss > r->rss0 ? r->peak_rss - r->rss0 : 0) / 1048576.0,
			       GB_COUNTER_DEFAULT);
	}
	if (w->kind == K_LATENCY) {
		gb_set_counter(st, "p50_us", (double)lathist_percentile(&r->lat, 0.50) / 1e3, 0);
		gb_set_counter(st, "p99_us", (double)lathist_percentile(&r->lat, 0.99) / 1e3, 0);
		gb_set_counter(st, "max_us", (double)atomic_load(&r->lat.max) / 1e3, 0);
	}
	if (w->design->flush_hook) {
		gb_set_counter(st, "flushes_per_1000",
			       released ? 1000.0 * (double)flushes / (double)released : 0, 0);
		gb_set_counter(st, "batch", flushes ? (double)released / (double)flushes : 0, 0);
	}
	run_destroy(w, r);
	w->run = NULL;
}

static struct wl *wl_new(const struct bdesign *d, const struct bpolicy *pol, enum kind k,
			 uint64_t flush_ns)
{
	struct wl *w = calloc(1, sizeof(*w));

	if (!w)
		abort();
	w->design = d;
	w->pol = pol;
	w->kind = k;
	w->flush_ns = flush_ns;
	w->opts = g_opts;
	return w;
}

void workloads_register(const struct bench_opts *o)
{
	static const uint64_t flush_costs[] = { 0, 1000, 10000 };
	char name[160];
	int e2e_threads = o->nr_pin > 0 ? o->nr_pin : o->nr_cpus;

	g_opts = o;

	for (unsigned int di = 0; di < bench_nr_designs; di++) {
		const struct bdesign *d = bench_designs[di];
		const struct bpolicy *pols[2];
		unsigned int np = bench_policies(d, pols);

		for (unsigned int pi = 0; pi < np; pi++) {
			const struct bpolicy *p = pols[pi];

			for (unsigned int f = 0; f < sizeof(flush_costs) / sizeof(flush_costs[0]); f++) {
				if (o->quick && flush_costs[f] == 1000)
					continue;
				snprintf(name, sizeof(name), "end_to_end/%s/policy:%s/flush_ns:%llu",
					 d->name, p->name, (unsigned long long)flush_costs[f]);
				gb_bench *b = gb_register(name, bench_body,
							  wl_new(d, p, K_E2E, flush_costs[f]));
				gb_threads(b, e2e_threads);
				gb_use_real_time(b);
				if (!o->quick)
					gb_min_time(b, 0.03);
			}

			snprintf(name, sizeof(name), "latency/%s/policy:%s", d->name, p->name);
			gb_bench *b = gb_register(name, bench_body, wl_new(d, p, K_LATENCY, 0));
			gb_threads(b, 1);
			gb_use_real_time(b);
			gb_fixed_iterations(b, o->quick ? 3000 : 5000);

			snprintf(name, sizeof(name), "memory/%s/policy:%s", d->name, p->name);
			b = gb_register(name, bench_body, wl_new(d, p, K_MEMORY, 0));
			gb_threads(b, e2e_threads);
			gb_use_real_time(b);
			gb_fixed_iterations(b, 1);
			gb_unit_us(b);
		}
	}
}
