// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The workloads, each registered for every design:
 *
 *  enqueue/<design>/threads:N      producer cost per descriptor, drain running
 *  end_to_end/<design>/flush_ns:F  descriptors deferred and released per second
 *				    with a simulated flush of F ns, at one
 *				    producer per CPU
 *  latency/<design>                defer-to-release p50/p99/max at a steady load
 *  memory/<design>                 peak backlog and RSS for a burst, slow flush
 *  enqueue/floor/threads:N         one private atomic RMW per item: the floor
 *
 * enqueue runs in bursts: every producer defers BURST descriptors from one
 * half of its ring, all producers starting together at a barrier; the
 * burst's wall time (first start to last finish) is the iteration's manual
 * time, so items_per_second is descriptors per second of wall time however
 * the threads were scheduled.  Between bursts, untimed, each producer waits
 * until the other half of its ring (two bursts old) has been released.
 *
 * end_to_end and latency recycle descriptors through one ring per producer
 * thread; a producer whose next descriptor is still queued waits (counted in
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
#define BURST 16384			/* enqueue: descriptors per producer per burst */
#define RING_E2E 16384			/* > batch_max in flight, as in real use */
#define LATENCY_PERIOD_NS 20000u	/* 50 000 descriptors/s offered */
#define MEMORY_BURST 20000		/* descriptors per producer per burst */
#define MEMORY_FLUSH_NS 100000u		/* 100 us */
#define PAGE 4096

enum kind { K_ENQUEUE, K_E2E, K_LATENCY, K_MEMORY };

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
	pthread_barrier_t burst_bar;	/* enqueue: all producers, between bursts */
	uint64_t burst_t0;		/* written by the barrier's serial thread */
	double burst_secs;
	pthread_t sampler;
	_Atomic bool sampling;
	_Atomic uint64_t peak_backlog, peak_rss;
	uint64_t rss0;
};

struct wl {
	const struct bdesign *design;
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
	uint32_t ring = w->kind == K_E2E ? RING_E2E : 2 * BURST;

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
	pthread_barrier_init(&r->burst_bar, NULL, (unsigned int)nthreads);
	r->impl = w->design->create(&r->sink);
	return r;
}

static void run_destroy(struct wl *w, struct run *r)
{
	w->design->destroy(r->impl);
	pthread_barrier_destroy(&r->burst_bar);
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

/* The next descriptor of the ring, once its last use has been released. */
static inline struct bdesc *ring_next(struct ring *rg)
{
	struct bdesc *d = &rg->d[rg->pos];

	rg->pos = (rg->pos + 1) & rg->mask;
	/* Write-prefetch a few ahead: the consumer touched them last, for every design. */
	__builtin_prefetch(&rg->d[(rg->pos + 32) & rg->mask], 1);
	if (atomic_load_explicit(&d->busy, memory_order_acquire)) {
		rg->stalls++;
		while (atomic_load_explicit(&d->busy, memory_order_acquire))
			sched_yield();
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
			ds->defer(r->impl, ring_next(rg));
	}
	if (rg)
		gb_set_counter(st, "stalls", (double)rg->stalls, GB_COUNTER_DEFAULT);
	producer_leave(st, w, r, ti, gb_iterations(st));
}

/* All producers start a burst together; the serial thread stamps the start. */
static void burst_start(struct run *r)
{
	if (pthread_barrier_wait(&r->burst_bar) == PTHREAD_BARRIER_SERIAL_THREAD)
		r->burst_t0 = bench_now_ns();
	pthread_barrier_wait(&r->burst_bar);
}

/* All producers finished: the burst took from the first start to now. */
static double burst_end(struct run *r)
{
	if (pthread_barrier_wait(&r->burst_bar) == PTHREAD_BARRIER_SERIAL_THREAD)
		r->burst_secs = (double)(bench_now_ns() - r->burst_t0) / 1e9;
	pthread_barrier_wait(&r->burst_bar);
	return r->burst_secs;
}

static void body_enqueue(gb_state *st, struct wl *w, int ti)
{
	const struct bdesign *ds = w->design;
	struct run *r = NULL;
	struct ring *rg = NULL;
	unsigned int half = 0;

	while (gb_keep_running_batch(st, BURST)) {
		struct bdesc *base;

		if (!r) {
			r = producer_join(w, ti);
			rg = &r->rings[ti];
			burst_start(r);
		}
		base = &rg->d[half * BURST];
		for (int i = 0; i < BURST; i++) {
			struct bdesc *d = &base[i];

			/* Write-prefetch ahead: the consumer touched them last, for every design. */
			__builtin_prefetch(&base[(i + 32) & (BURST - 1)], 1);
			atomic_store_explicit(&d->busy, 1, memory_order_relaxed);
			ds->defer(r->impl, d);
		}
		gb_set_iteration_time(st, burst_end(r));

		/* Untimed: the other half was deferred two bursts ago; wait for its release. */
		half ^= 1;
		base = &rg->d[half * BURST];
		for (int i = 0; i < BURST; i++) {
			if (atomic_load_explicit(&base[i].busy, memory_order_acquire)) {
				rg->stalls++;
				while (atomic_load_explicit(&base[i].busy, memory_order_acquire))
					sched_yield();
			}
		}
		burst_start(r);
	}
	if (rg)
		gb_set_counter(st, "waits", (double)rg->stalls, GB_COUNTER_DEFAULT);
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
			next = bench_now_ns();
		}
		while (bench_now_ns() < next)
			cpu_relax();
		next += LATENCY_PERIOD_NS;
		d = ring_next(rg);
		d->t_defer = bench_now_ns();
		ds->defer(r->impl, d);
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

			while (atomic_load_explicit(&d->busy, memory_order_acquire))
				sched_yield();
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
	case K_ENQUEUE:
		body_enqueue(st, w, ti);
		break;
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
	if (w->kind != K_ENQUEUE || w->design->flush_hook) {
		gb_set_counter(st, "flushes_per_1000",
			       released ? 1000.0 * (double)flushes / (double)released : 0, 0);
		gb_set_counter(st, "batch", flushes ? (double)released / (double)flushes : 0, 0);
	}
	run_destroy(w, r);
	w->run = NULL;
}

static struct wl *wl_new(const struct bdesign *d, enum kind k, uint64_t flush_ns)
{
	struct wl *w = calloc(1, sizeof(*w));

	if (!w)
		abort();
	w->design = d;
	w->kind = k;
	w->flush_ns = flush_ns;
	w->opts = g_opts;
	return w;
}

void workloads_register(const struct bench_opts *o)
{
	static const uint64_t flush_costs[] = { 0, 1000, 10000 };
	char name[128];

	g_opts = o;

	/* enqueue, the floor first */
	for (int di = -1; di < (int)bench_nr_designs; di++) {
		const struct bdesign *d = di < 0 ? &bdesign_floor : bench_designs[di];

		snprintf(name, sizeof(name), "enqueue/%s", d->name);
		gb_bench *b = gb_register(name, bench_body, wl_new(d, K_ENQUEUE, 0));
		for (int t = 1; t <= o->max_threads; t *= 2)
			if (!o->quick || t == 1 || t == 2 || t == 4 || t == 16)
				gb_threads(b, t);
		gb_use_manual_time(b);
	}

	for (unsigned int di = 0; di < bench_nr_designs; di++) {
		const struct bdesign *d = bench_designs[di];

		for (unsigned int f = 0; f < sizeof(flush_costs) / sizeof(flush_costs[0]); f++) {
			snprintf(name, sizeof(name), "end_to_end/%s/flush_ns:%llu", d->name,
				 (unsigned long long)flush_costs[f]);
			gb_bench *b = gb_register(name, bench_body, wl_new(d, K_E2E, flush_costs[f]));
			gb_threads(b, o->nr_cpus);
			gb_use_real_time(b);
		}
	}

	for (unsigned int di = 0; di < bench_nr_designs; di++) {
		const struct bdesign *d = bench_designs[di];

		snprintf(name, sizeof(name), "latency/%s", d->name);
		gb_bench *b = gb_register(name, bench_body, wl_new(d, K_LATENCY, 0));
		gb_threads(b, 1);
		gb_use_real_time(b);
		gb_fixed_iterations(b, o->quick ? 5000 : 25000);
	}

	for (unsigned int di = 0; di < bench_nr_designs; di++) {
		const struct bdesign *d = bench_designs[di];

		snprintf(name, sizeof(name), "memory/%s", d->name);
		gb_bench *b = gb_register(name, bench_body, wl_new(d, K_MEMORY, 0));
		gb_threads(b, o->nr_cpus);
		gb_use_real_time(b);
		gb_fixed_iterations(b, 1);
		gb_unit_us(b);
	}
}
