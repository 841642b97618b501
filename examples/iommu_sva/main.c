// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * main.c: the iommu_sva example's driver: parse the command line, run each
 * freeing mode on a fresh address space with N CPU threads and M device
 * threads, print one table row per mode (or one JSON line with --json), and
 * with --check say whether the bug showed where it must (none) and only
 * there (v5, pgfree, pgfree_release).
 *
 *   pgfree_iommu_sva [--mode=none|v5|pgfree|pgfree_release|all] [--seconds=S]
 *                    [--threads=N] [--devices=M] [--walk-rate=R] [--walk-burst=B]
 *                    [--pool=P] [--take-back-every=N] [--take-back-us=U]
 *                    [--batch-delay-us=U] [--no-delay] [--check] [--no-wait]
 *                    [--yield-wait] [--json]
 *
 * --no-wait makes the flush invalidate the caches without waiting for the
 * walks in flight: v5 and pgfree then show stale walks too, which is why
 * the wait is there.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "modes.h"
#include "workload.h"

#define POOL_PAGES	16384	/* frames per CPU thread (64 MiB); see README, "The pool" */
#define POOL_MIN	512	/* > the 331 frames one thread can hold mapped */
#define POOL_MAX_TOTAL	(1u << 20)	/* pte_pfn() has 20 bits */
#define NONE_CAP_S	10.0	/* mode none runs on until it sees the bug, or this */
#define MAX_DEVICES	64

static bool yield_wait;	/* --yield-wait: see iommu_flush_all() */

struct result {
	double seconds;
	uint64_t stale, translations;
	unsigned long kernel_ops, tables_freed, pool_waits;
	uint64_t flushes, flush_ns, wakeups;
	uint64_t sampled, free_ns, lock_wait_ns, lock_hold_ns;
	uint64_t consumer_cpu_ns, producer_cpu_ns;
	uint64_t consumer_run_ns, consumer_wait_ns, consumer_slices;
	long nvcsw, nivcsw;
	unsigned long pool_dry;
	uint64_t pool_wait_ns, producer_runq_ns;
	uint64_t flush_slow, flush_slow_ns, flush_yields;
	uint64_t dev_run_ns, dev_runq_ns, dev_slices, dev_bursts, dev_dropped;
	double dev_cpu_share, dev_runnable_share;
	uint64_t reuse_p50_ns, reuse_p99_ns;
	long low_water;
	uint64_t take_backs, taken_back, taken_foreign, take_back_sampled, take_back_ns;
	uint64_t lib_taken_back, lib_expired, lib_released;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t stale_now(const struct iommu *iommu)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < iommu->nr_devs; i++)
		/* Relaxed: a progress poll. */
		sum += atomic_load_explicit(&iommu->devs[i].stale_walks, memory_order_relaxed);
	return sum;
}

/* The flusher's /proc schedstat: CPU time, time runnable but waiting for a
 * CPU, and times it was given a CPU, since it started (it sleeps until the
 * first free, so that is the timed window and the few frees after it). */
static void flusher_schedstat(struct iommu *iommu, struct result *res)
{
	/* Relaxed: see iommu_flush_all(). */
	int tid = atomic_load_explicit(&iommu->flusher_tid, memory_order_relaxed);
	unsigned long long run, wait, slices;
	char path[64];
	FILE *f;

	if (!tid)
		return;
	snprintf(path, sizeof(path), "/proc/self/task/%d/schedstat", tid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fscanf(f, "%llu %llu %llu", &run, &wait, &slices) == 3) {
		res->consumer_run_ns = run;
		res->consumer_wait_ns = wait;
		res->consumer_slices = slices;
	}
	fclose(f);
}

static void start(pthread_t *thr, void *(*fn)(void *), void *arg)
{
	if (pthread_create(thr, NULL, fn, arg)) {
		fprintf(stderr, "pthread_create failed\n");
		exit(2);
	}
}

/**
 * struct options - the command line, as run_mode() needs it
 * @seconds: how long the CPU threads run (mode none: at least that,
 *	and on until a stale walk is seen or NONE_CAP_S)
 * @nr_cpus: CPU threads
 * @nr_devs: device threads
 * @pool_pages: frames per CPU thread
 * @walk_rate: translations a second per device, 0 for no pause
 * @walk_burst: translations per burst
 * @rc: the pgfree modes' settings (--take-back-every, --take-back-us,
 *	--batch-delay-us, --no-delay)
 * @no_wait: --no-wait
 */
struct options {
	double seconds;
	unsigned int nr_cpus, nr_devs, pool_pages;
	unsigned long walk_rate;
	unsigned int walk_burst;
	struct reclaim_cfg rc;
	bool no_wait;
};

/* The devices' figures over their timed windows, summed (after join). */
static void devices_result(const struct device_ctx *ctx, unsigned int nr_devs,
			   struct result *res)
{
	for (unsigned int i = 0; i < nr_devs; i++) {
		const struct device_ctx *c = &ctx[i];
		double wall = c->wall_ns ? (double)c->wall_ns : 1.0;

		res->dev_run_ns += c->cpu_ns;
		res->dev_runq_ns += c->runq_ns;
		res->dev_slices += c->slices;
		res->dev_bursts += c->bursts;
		res->dev_dropped += c->dropped;
		/* Each over its own window (they end when each sees the stop). */
		res->dev_cpu_share += (double)c->cpu_ns / wall;
		res->dev_runnable_share += (double)(c->cpu_ns + c->runq_ns) / wall;
	}
}

/**
 * run_mode() - one run: fresh pool, page table, IOMMU and threads
 * @mode: the freeing mode
 * @o: the options
 * @res: the figures
 *
 * Return: 0 or a negative errno.
 */
static int run_mode(enum mode mode, const struct options *o, struct result *res)
{
	unsigned int nr_cpus = o->nr_cpus, nr_devs = o->nr_devs;
	double seconds = o->seconds;
	static struct pool pool;
	static struct pagetable pt;
	static struct iommu iommu;
	static struct reclaim rec;
	static struct workload w;
	struct iommu_dev *devs = calloc(nr_devs, sizeof(*devs));
	struct device_ctx *ctx = calloc(nr_devs, sizeof(*ctx));
	pthread_t *dthr = calloc(nr_devs, sizeof(*dthr));
	pthread_t *kthr = calloc(nr_cpus, sizeof(*kthr));
	struct cpu_thread *cpus = aligned_alloc(64, nr_cpus * sizeof(*cpus));
	uint64_t cons0, cons1;
	struct pgfree_stats st;
	double t0, t_kernel, t_dev;
	int err = -ENOMEM, serr;

	memset(res, 0, sizeof(*res));
	if (!devs || !ctx || !dthr || !kthr || !cpus ||
	    pool_init(&pool, o->pool_pages * nr_cpus, nr_cpus))
		goto out;
	err = pt_init(&pt, &pool);
	if (err)
		goto out_pool;
	iommu_init(&iommu, &pool, pt.root, devs, nr_devs);
	iommu.no_wait = o->no_wait;
	iommu.yield_wait = yield_wait;
	err = reclaim_start(&rec, mode, &pool, &iommu, &o->rc);
	if (err)
		goto out_pool;
	pt.free_table = reclaim_free_table;
	pt.refill = reclaim_refill;
	pt.ctx = &rec;
	workload_init(&w, &pt, cpus, nr_cpus, o->walk_rate, o->walk_burst);

	for (unsigned int i = 0; i < nr_devs; i++) {
		devs[i].seed = 0x2545f4914f6cdd1dull * (i + 1);
		ctx[i] = (struct device_ctx){ .w = &w, .dev = &devs[i] };
		start(&dthr[i], device_thread, &ctx[i]);
	}
	for (unsigned int i = 0; i < nr_cpus; i++)
		start(&kthr[i], kernel_thread, &cpus[i]);

	cons0 = reclaim_consumer_cpu_ns(&rec);
	t0 = now_s();
	/* Release: pairs with the CPU threads' acquire (nothing to publish
	 * really; the gate keeps thread start out of the timed window). */
	atomic_store_explicit(&w.go, true, memory_order_release);
	for (;;) {
		double t = now_s() - t0;

		if (t >= seconds && (mode != MODE_NONE || stale_now(&iommu) || t >= NONE_CAP_S))
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}

	/* Relaxed: join orders what matters. */
	atomic_store_explicit(&w.kernel_stop, true, memory_order_relaxed);
	t_kernel = now_s() - t0;
	for (unsigned int i = 0; i < nr_cpus; i++)
		pthread_join(kthr[i], NULL);
	/* The consumer's CPU time over the run, from the same thread clock
	 * in every mode: the v5 worker's less what it had at the gate, the
	 * drain thread's since it started (it is known from its first flush
	 * on, and it sleeps until the first free).  Both end here, after the
	 * CPU threads' join, before the final flush of reclaim_stop(). */
	cons1 = reclaim_consumer_cpu_ns(&rec);
	res->consumer_cpu_ns = cons1 - (mode == MODE_V5 ? cons0 : 0);
	serr = reclaim_lib_stats(&rec, &st);
	res->wakeups = st.wakeups;
	res->lib_taken_back = st.taken_back;
	res->lib_expired = st.take_back_expired;
	res->lib_released = st.released;
	flusher_schedstat(&iommu, res);
	/* Flush and free what is still queued, with the devices running. */
	err = reclaim_stop(&rec);
	if (!err)
		err = serr;	/* after the threads are stopped and joined */
	atomic_store_explicit(&w.device_stop, true, memory_order_relaxed);
	for (unsigned int i = 0; i < nr_devs; i++)
		pthread_join(dthr[i], NULL);
	t_dev = now_s() - t0;
	devices_result(ctx, nr_devs, res);

	res->seconds = t_kernel;
	for (unsigned int i = 0; i < nr_cpus; i++) {
		struct cpu_thread *c = &cpus[i];

		res->kernel_ops += c->ops;
		res->tables_freed += c->pc.tables_freed;
		res->pool_waits += c->pc.pool_waits;
		res->sampled += c->pc.sampled;
		res->free_ns += c->pc.free_ns;
		res->lock_wait_ns += c->pc.lock_wait_ns;
		res->lock_hold_ns += c->pc.lock_hold_ns;
		res->wakeups += c->pc.wakeups;
		res->producer_cpu_ns += c->cpu_ns;
		res->nvcsw += c->nvcsw;
		res->nivcsw += c->nivcsw;
		res->pool_dry += c->pc.pool_dry;
		res->pool_wait_ns += c->pc.pool_wait_ns;
		res->producer_runq_ns += c->runq_ns;
		res->take_backs += c->pc.take_backs;
		res->taken_back += c->pc.taken_back;
		res->taken_foreign += c->pc.taken_foreign;
		res->take_back_sampled += c->pc.take_back_sampled;
		res->take_back_ns += c->pc.take_back_ns;
	}
	/* Relaxed: the flushers are gone (joined or destroyed). */
	res->flushes = atomic_load_explicit(&iommu.flushes, memory_order_relaxed);
	res->flush_ns = atomic_load_explicit(&iommu.flush_ns, memory_order_relaxed);
	res->flush_slow = atomic_load_explicit(&iommu.flush_slow, memory_order_relaxed);
	res->flush_slow_ns = atomic_load_explicit(&iommu.flush_slow_ns, memory_order_relaxed);
	res->flush_yields = atomic_load_explicit(&iommu.flush_yields, memory_order_relaxed);
	res->stale = stale_now(&iommu);
	for (unsigned int i = 0; i < nr_devs; i++)
		res->translations += devs[i].translations;
	res->translations = (uint64_t)((double)res->translations * t_kernel / t_dev);
	res->reuse_p50_ns = pool_reuse_quantile_ns(&pool, 0.50);
	res->reuse_p99_ns = pool_reuse_quantile_ns(&pool, 0.99);
	res->low_water = pool_low_water(&pool);
out_pool:
	pool_destroy(&pool);
out:
	free(devs);
	free(ctx);
	free(dthr);
	free(kthr);
	free(cpus);
	return err;
}

static double per(uint64_t a, uint64_t b)
{
	return b ? (double)a / (double)b : 0.0;
}

/* Wall time per table freed that the CPU threads spent taking back
 * (sampled: one take-back in FREE_SAMPLE), poisoning included. */
static double take_back_ns_per_free(const struct result *r)
{
	return per(r->take_back_ns, r->take_back_sampled) * per(r->take_backs, r->tables_freed);
}

static void print_json(enum mode m, const struct result *r, const struct options *o)
{
	printf("{\"mode\":\"%s\",\"threads\":%u,\"devices\":%u,\"seconds\":%.3f,"
	       "\"pool_pages\":%u,\"walk_rate\":%lu,\"walk_burst\":%u,"
	       "\"map_unmap\":%lu,\"tables_freed\":%lu,\"flushes\":%llu,\"stale_walks\":%llu,"
	       "\"translations\":%llu,\"pool_waits\":%lu,\"pool_low_water\":%ld,"
	       "\"reuse_p50_us\":%.2f,\"reuse_p99_us\":%.2f,\"wakeups\":%llu,"
	       "\"free_ns_per_free\":%.1f,\"lock_wait_ns_per_free\":%.1f,"
	       "\"lock_hold_ns_per_free\":%.1f,\"worker_cpu_ns\":%llu,\"flush_ns_total\":%llu,"
	       "\"producer_cpu_ns\":%llu,\"producer_nvcsw\":%ld,\"producer_nivcsw\":%ld,"
	       "\"worker_run_ns\":%llu,\"worker_runq_wait_ns\":%llu,\"worker_slices\":%llu,"
	       "\"pool_dry\":%lu,\"pool_wait_ns\":%llu,\"producer_runq_ns\":%llu,"
	       "\"flush_slow\":%llu,\"flush_slow_ns\":%llu,\"flush_yields\":%llu,"
	       "\"dev_run_ns\":%llu,\"dev_runq_ns\":%llu,\"dev_slices\":%llu,"
	       "\"dev_bursts\":%llu,\"dev_dropped\":%llu,"
	       "\"dev_cpu_share\":%.4f,\"dev_runnable_share\":%.4f,"
	       "\"take_back_every\":%u,\"take_back_us\":%u,\"take_backs\":%llu,"
	       "\"taken_back\":%llu,\"taken_foreign\":%llu,\"take_back_ns_per_free\":%.1f,"
	       "\"take_back_expired\":%llu,\"lib_taken_back\":%llu,\"lib_released\":%llu,"
	       "\"batch_delay_us\":%u}\n",
	       mode_name(m), o->nr_cpus, o->nr_devs, r->seconds, o->pool_pages, o->walk_rate,
	       o->walk_burst, r->kernel_ops, r->tables_freed,
	       (unsigned long long)r->flushes, (unsigned long long)r->stale,
	       (unsigned long long)r->translations, r->pool_waits, r->low_water,
	       (double)r->reuse_p50_ns / 1e3, (double)r->reuse_p99_ns / 1e3,
	       (unsigned long long)r->wakeups, per(r->free_ns, r->sampled),
	       per(r->lock_wait_ns, r->sampled), per(r->lock_hold_ns, r->sampled),
	       (unsigned long long)r->consumer_cpu_ns, (unsigned long long)r->flush_ns,
	       (unsigned long long)r->producer_cpu_ns, r->nvcsw, r->nivcsw,
	       (unsigned long long)r->consumer_run_ns, (unsigned long long)r->consumer_wait_ns,
	       (unsigned long long)r->consumer_slices, r->pool_dry,
	       (unsigned long long)r->pool_wait_ns, (unsigned long long)r->producer_runq_ns,
	       (unsigned long long)r->flush_slow, (unsigned long long)r->flush_slow_ns,
	       (unsigned long long)r->flush_yields, (unsigned long long)r->dev_run_ns,
	       (unsigned long long)r->dev_runq_ns, (unsigned long long)r->dev_slices,
	       (unsigned long long)r->dev_bursts, (unsigned long long)r->dev_dropped,
	       r->dev_cpu_share, r->dev_runnable_share,
	       m == MODE_PGFREE ? o->rc.take_back_every : 0,
	       m == MODE_PGFREE ? (o->rc.take_back_us ? o->rc.take_back_us :
				   PGFREE_DEFAULT_TAKE_BACK_US) : 0,
	       (unsigned long long)r->take_backs, (unsigned long long)r->taken_back,
	       (unsigned long long)r->taken_foreign, take_back_ns_per_free(r),
	       (unsigned long long)r->lib_expired, (unsigned long long)r->lib_taken_back,
	       (unsigned long long)r->lib_released,
	       m != MODE_PGFREE && m != MODE_PGFREE_RELEASE ? 0 : o->rc.no_delay ? 0 :
	       o->rc.batch_delay_us ? o->rc.batch_delay_us : PGFREE_DEFAULT_BATCH_DELAY_US);
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--mode=none|v5|pgfree|pgfree_release|all] [--seconds=S] "
		"[--threads=N] [--devices=M] [--walk-rate=R] [--walk-burst=B] [--pool=P] "
		"[--take-back-every=N] [--take-back-us=U] [--batch-delay-us=U] [--no-delay] "
		"[--check] [--no-wait] [--yield-wait] [--json]\n", argv0);
	exit(2);
}

/* An unsigned option value in [@lo, @hi], or usage(). */
static unsigned long arg_ul(const char *argv0, const char *val, unsigned long lo,
			    unsigned long hi)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(val, &end, 10);
	if (errno || end == val || *end || *val == '-' || n < lo || n > hi)
		usage(argv0);
	return n;
}

int main(int argc, char **argv)
{
	bool run[MODE_COUNT] = { true, true, true, true };
	struct result res[MODE_COUNT];
	struct options o = {
		.seconds = 2.0, .nr_cpus = 1, .nr_devs = 2, .pool_pages = POOL_PAGES,
		.walk_rate = WALK_RATE, .walk_burst = WALK_BURST,
		.rc = { .take_back_every = TAKE_BACK_EVERY },
	};
	bool check = false, json = false;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;

		if (!strncmp(a, "--mode=", 7)) {
			bool any = false;

			a += 7;
			for (int m = 0; m < MODE_COUNT; m++) {
				run[m] = !strcmp(a, "all") || !strcmp(a, mode_name(m));
				any |= run[m];
			}
			if (!any)
				usage(argv[0]);
		} else if (!strncmp(a, "--seconds=", 10)) {
			o.seconds = strtod(a + 10, &end);
			if (*end || !(o.seconds > 0 && o.seconds <= 3600))
				usage(argv[0]);
		} else if (!strncmp(a, "--devices=", 10)) {
			o.nr_devs = (unsigned int)arg_ul(argv[0], a + 10, 1, MAX_DEVICES);
		} else if (!strncmp(a, "--threads=", 10)) {
			o.nr_cpus = (unsigned int)arg_ul(argv[0], a + 10, 1, MAX_CPUS);
		} else if (!strncmp(a, "--walk-rate=", 12)) {
			o.walk_rate = arg_ul(argv[0], a + 12, 0, 1000000000ul);
		} else if (!strncmp(a, "--walk-burst=", 13)) {
			o.walk_burst = (unsigned int)arg_ul(argv[0], a + 13, 1, 1000000ul);
		} else if (!strncmp(a, "--pool=", 7)) {
			o.pool_pages = (unsigned int)arg_ul(argv[0], a + 7, POOL_MIN,
							    POOL_MAX_TOTAL / MAX_CPUS);
		} else if (!strncmp(a, "--take-back-every=", 18)) {
			o.rc.take_back_every = (unsigned int)arg_ul(argv[0], a + 18, 0, 1000000ul);
		} else if (!strncmp(a, "--take-back-us=", 15)) {
			o.rc.take_back_us = (unsigned int)arg_ul(argv[0], a + 15, 1,
								 PGFREE_MAX_TAKE_BACK_US);
		} else if (!strncmp(a, "--batch-delay-us=", 17)) {
			o.rc.batch_delay_us = (unsigned int)arg_ul(argv[0], a + 17, 1,
								   PGFREE_MAX_BATCH_DELAY_US);
		} else if (!strcmp(a, "--no-delay")) {
			o.rc.no_delay = true;
		} else if (!strcmp(a, "--check")) {
			check = true;
		} else if (!strcmp(a, "--no-wait")) {
			o.no_wait = true;
		} else if (!strcmp(a, "--yield-wait")) {
			yield_wait = true;
		} else if (!strcmp(a, "--json")) {
			json = true;
		} else {
			usage(argv[0]);
		}
	}
	/* A burst longer than a second's walks would pace nothing. */
	if (o.walk_rate && o.walk_burst > o.walk_rate)
		usage(argv[0]);

	if (!json) {
		printf("iommu_sva: %u CPU thread(s), %u device(s) %s, %u frames, "
		       "%d live ranges of <= %d pages per CPU thread%s\n",
		       o.nr_cpus, o.nr_devs, o.walk_rate ? "paced" : "walking without pause",
		       o.pool_pages * o.nr_cpus, NR_LIVE, MAX_RANGE,
		       o.no_wait ? ", flush does NOT wait for walks" : "");
		if (o.walk_rate)
			printf("devices: %lu translations/s each, in bursts of %u\n",
			       o.walk_rate, o.walk_burst);
		printf("%-14s %7s %11s %12s %14s %14s %8s %10s %9s %8s %10s\n", "mode",
		       "seconds", "stale walks", "map+unmap/s", "tables freed/s",
		       "translations/s", "flushes", "pool waits", "reuse p99", "dev CPU",
		       "taken back");
	}
	for (int m = 0; m < MODE_COUNT; m++) {
		struct result *r = &res[m];
		int err;

		if (!run[m])
			continue;
		err = run_mode(m, &o, r);
		if (err) {
			fprintf(stderr, "mode %s: %s\n", mode_name(m), pgfree_strerror(err));
			return 2;
		}
		if (json)
			print_json(m, r, &o);
		else
			printf("%-14s %7.2f %11llu %12.0f %14.0f %14.0f %8llu %10lu %7.0fus %7.1f%% "
			       "%9.1f%%\n",
			       mode_name(m), r->seconds, (unsigned long long)r->stale,
			       (double)r->kernel_ops / r->seconds,
			       (double)r->tables_freed / r->seconds,
			       (double)r->translations / r->seconds,
			       (unsigned long long)r->flushes, r->pool_waits,
			       (double)r->reuse_p99_ns / 1e3, 100 * r->dev_cpu_share,
			       100 * per(r->taken_back, r->tables_freed));
		fflush(stdout);
		if (check && m == MODE_NONE && !r->stale) {
			printf("check: FAIL: mode none saw no stale walk (the detector is blind)\n");
			status = 1;
		}
		if (check && m != MODE_NONE && r->stale) {
			printf("check: FAIL: mode %s saw %llu stale walk(s)\n", mode_name(m),
			       (unsigned long long)r->stale);
			status = 1;
		}
	}
	if (check && !status) {
		const char *sep = " (";

		printf("check: PASS:%s", run[MODE_NONE] ? " the bug shows without a flush" : "");
		for (int m = MODE_NONE + 1; m < MODE_COUNT; m++)
			if (run[m]) {
				if (*sep == ' ')
					printf("%s", run[MODE_NONE] ? ", and never with one" :
					       " no stale walk with a flush");
				printf("%s%s", sep, mode_name(m));
				sep = ", ";
			}
		printf("%s\n", *sep == ',' ? ")" : "");
	}
	return status;
}
