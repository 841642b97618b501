// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * main.c: the iommu_sva example's driver: parse the command line, run each
 * freeing mode on a fresh address space with a kernel thread and N device
 * threads, print one table row per mode, and with --check say whether the
 * bug showed where it must (none) and only there (v5, pgfree).
 *
 *   pgfree_iommu_sva [--mode=none|v5|pgfree|all] [--seconds=S] [--devices=N]
 *                    [--check] [--no-wait]
 *
 * --no-wait makes the flush invalidate the caches without waiting for the
 * walks in flight: v5 and pgfree then show stale walks too, which is why
 * the wait is there.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modes.h"
#include "workload.h"

#define POOL_PAGES	4096	/* 16 MiB of frames */
#define NONE_CAP_S	10.0	/* mode none runs on until it sees the bug, or this */
#define MAX_DEVICES	64

struct result {
	double seconds;
	uint64_t stale, translations;
	unsigned long kernel_ops, tables_freed, pool_waits;
	uint64_t flushes;
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

/**
 * run_mode() - one run: fresh pool, page table, IOMMU and threads
 * @mode: the freeing mode
 * @seconds: how long the kernel thread runs (mode none: at least that,
 *	and on until a stale walk is seen or NONE_CAP_S)
 * @nr_devs: device threads
 * @no_wait: --no-wait
 * @res: the figures
 *
 * Return: 0 or a negative errno.
 */
static int run_mode(enum mode mode, double seconds, unsigned int nr_devs, bool no_wait,
		    struct result *res)
{
	static struct pool pool;
	static struct pagetable pt;
	static struct iommu iommu;
	static struct reclaim rec;
	static struct workload w;
	struct iommu_dev *devs = calloc(nr_devs, sizeof(*devs));
	struct device_ctx *ctx = calloc(nr_devs, sizeof(*ctx));
	pthread_t *dthr = calloc(nr_devs, sizeof(*dthr));
	pthread_t kthr;
	double t0, t_kernel, t_dev;
	int err = -ENOMEM;

	if (!devs || !ctx || !dthr || pool_init(&pool, POOL_PAGES))
		goto out;
	err = pt_init(&pt, &pool);
	if (err)
		goto out_pool;
	iommu_init(&iommu, &pool, pt.root, devs, nr_devs);
	iommu.no_wait = no_wait;
	err = reclaim_start(&rec, mode, &pool, &iommu);
	if (err)
		goto out_pool;
	pt.free_table = reclaim_free_table;
	pt.ctx = &rec;
	workload_init(&w, &pt);

	t0 = now_s();
	for (unsigned int i = 0; i < nr_devs; i++) {
		devs[i].seed = 0x2545f4914f6cdd1dull * (i + 1);
		ctx[i] = (struct device_ctx){ .w = &w, .dev = &devs[i] };
		if (pthread_create(&dthr[i], NULL, device_thread, &ctx[i])) {
			fprintf(stderr, "pthread_create failed\n");
			exit(2);
		}
	}
	if (pthread_create(&kthr, NULL, kernel_thread, &w)) {
		fprintf(stderr, "pthread_create failed\n");
		exit(2);
	}

	for (;;) {
		double t = now_s() - t0;

		if (t >= seconds && (mode != MODE_NONE || stale_now(&iommu) || t >= NONE_CAP_S))
			break;
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000 * 1000 }, NULL);
	}

	/* Relaxed: join orders what matters. */
	atomic_store_explicit(&w.kernel_stop, true, memory_order_relaxed);
	pthread_join(kthr, NULL);
	t_kernel = now_s() - t0;
	/* Flush and free what is still queued, with the devices running. */
	err = reclaim_stop(&rec);
	atomic_store_explicit(&w.device_stop, true, memory_order_relaxed);
	for (unsigned int i = 0; i < nr_devs; i++)
		pthread_join(dthr[i], NULL);
	t_dev = now_s() - t0;

	memset(res, 0, sizeof(*res));
	res->seconds = t_kernel;
	res->kernel_ops = w.kernel_ops;
	res->tables_freed = pt.tables_freed;
	res->pool_waits = pt.pool_waits;
	/* Relaxed: the flushers are gone (joined or destroyed). */
	res->flushes = atomic_load_explicit(&iommu.flushes, memory_order_relaxed);
	res->stale = stale_now(&iommu);
	for (unsigned int i = 0; i < nr_devs; i++)
		res->translations += devs[i].translations;
	res->translations = (uint64_t)((double)res->translations * t_kernel / t_dev);
out_pool:
	pool_destroy(&pool);
out:
	free(devs);
	free(ctx);
	free(dthr);
	return err;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [--mode=none|v5|pgfree|all] [--seconds=S] "
		"[--devices=N] [--check] [--no-wait]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	bool run[MODE_COUNT] = { true, true, true };
	struct result res[MODE_COUNT];
	double seconds = 2.0;
	unsigned int nr_devs = 2;
	bool check = false, no_wait = false;
	int status = 0;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		char *end;

		if (!strncmp(a, "--mode=", 7)) {
			a += 7;
			for (int m = 0; m < MODE_COUNT; m++)
				run[m] = !strcmp(a, "all") || !strcmp(a, mode_name(m));
			if (!run[MODE_NONE] && !run[MODE_V5] && !run[MODE_PGFREE])
				usage(argv[0]);
		} else if (!strncmp(a, "--seconds=", 10)) {
			seconds = strtod(a + 10, &end);
			if (*end || !(seconds > 0 && seconds <= 3600))
				usage(argv[0]);
		} else if (!strncmp(a, "--devices=", 10)) {
			unsigned long n = strtoul(a + 10, &end, 10);

			if (*end || n < 1 || n > MAX_DEVICES)
				usage(argv[0]);
			nr_devs = (unsigned int)n;
		} else if (!strcmp(a, "--check")) {
			check = true;
		} else if (!strcmp(a, "--no-wait")) {
			no_wait = true;
		} else {
			usage(argv[0]);
		}
	}

	printf("iommu_sva: %u device(s), %u frames, %d live ranges of <= %d pages%s\n",
	       nr_devs, POOL_PAGES, NR_LIVE, MAX_RANGE,
	       no_wait ? ", flush does NOT wait for walks" : "");
	printf("%-7s %7s %11s %12s %14s %14s %8s %10s\n", "mode", "seconds", "stale walks",
	       "map+unmap/s", "tables freed/s", "translations/s", "flushes", "pool waits");
	for (int m = 0; m < MODE_COUNT; m++) {
		struct result *r = &res[m];
		int err;

		if (!run[m])
			continue;
		err = run_mode(m, seconds, nr_devs, no_wait, r);
		if (err) {
			fprintf(stderr, "mode %s: %s\n", mode_name(m), pgfree_strerror(err));
			return 2;
		}
		printf("%-7s %7.2f %11llu %12.0f %14.0f %14.0f %8llu %10lu\n", mode_name(m),
		       r->seconds, (unsigned long long)r->stale,
		       (double)r->kernel_ops / r->seconds, (double)r->tables_freed / r->seconds,
		       (double)r->translations / r->seconds, (unsigned long long)r->flushes,
		       r->pool_waits);
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
	if (check && !status)
		printf("check: PASS: the bug shows without a flush and never with v5 or pgfree\n");
	return status;
}
