// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree_bench: the side-by-side comparison.  Two runners in one program:
 *
 * The enqueue workload (the headline table and the targets) has its own
 * runner (enqueue.c): producers started on a spin flag, each timing its own
 * steady-state window, cells shuffled within each repetition.  It runs
 * first, when --enqueue-out is given, and writes its own JSON.
 *
 * end_to_end, latency and memory run under Google Benchmark, whose flags
 * (--benchmark_filter, --benchmark_out=FILE --benchmark_out_format=json, ...)
 * work as usual.  Unless given: --benchmark_min_time=0.05 (quick 0.02;
 * end_to_end 0.03 in the full run), --benchmark_repetitions=5 (quick 2),
 * --benchmark_min_warmup_time=0.01,
 * --benchmark_enable_random_interleaving=true.
 *
 * Ours:
 *   --quick              fewer repetitions, shorter windows
 *   --pin=LIST           the CPUs producers are pinned to, in order
 *                        ("0-7,16-23"; default: every CPU this process may
 *                        use); producer i goes to the i-th; a row with more
 *                        producers than CPUs in the list is oversubscribed
 *                        and not pinned
 *   --no-pin             pin nothing
 *   --threads=LIST       enqueue producer counts (default: 1, 2, 4, ... up
 *                        to the CPUs, the CPU count, then 2x and, up to 8
 *                        CPUs and not --quick, 8x the CPUs: oversubscribed)
 *   --max-threads=N      drop producer counts above N
 *   --reps=N             enqueue repetitions (default 11; quick 5)
 *   --window-ms=X        each producer's timed window (default 15; quick 8)
 *   --warmup-ms=X        each producer's warm-up before it (default 4; quick 2)
 *   --seed=N             the enqueue order shuffle's seed (default 1)
 *   --pgfree-delay-us=N  the gathering delay of the "delay" policy, for every
 *                        consumer (default: pgfree's, 50 us)
 *   --enqueue-out=FILE   run the enqueue workload, write its JSON to FILE
 *   --enqueue-filter=RE  only the enqueue rows whose name matches RE
 *   --enqueue-only       do not run the Google Benchmark workloads
 */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "designs.h"
#include "enqueue.h"
#include "gbench.h"
#include "sysinfo.h"
#include "workloads.h"

static int parse_cpu_list(const char *s, int *out, int max)
{
	int n = 0;

	while (*s && n < max) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s)
			return -1;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -1;
		}
		for (long c = a; c <= b && n < max; c++)
			out[n++] = (int)c;
		s = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return n;
}

static int default_threads(int ncpu, int max, bool quick, int *out)
{
	int n = 0;

	for (int t = 1; t < ncpu && n < 60; t *= 2)
		out[n++] = t;
	out[n++] = ncpu;
	out[n++] = 2 * ncpu;
	if (ncpu <= 8 && !quick)
		out[n++] = 8 * ncpu;
	int k = 0;

	for (int i = 0; i < n; i++)
		if (out[i] <= max)
			out[k++] = out[i];
	return k;
}

int main(int argc, char **argv)
{
	static int pin[4096], threads[64];
	static char pin_buf[64];
	struct bench_opts o = { 0 };
	struct enq_opts eo = { 0 };
	const char *pin_list = NULL;
	bool no_pin = false, enqueue_only = false;
	double window_ms = -1, warm_ms = -1;
	int out = 1, nr_threads = 0;

	bench_designs_init();
	o.nr_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o.nr_cpus < 1)
		o.nr_cpus = 1;
	o.max_threads = 1024;
	eo.reps = -1;
	eo.seed = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			o.quick = true;
		} else if (!strncmp(argv[i], "--pin=", 6)) {
			pin_list = argv[i] + 6;
			o.nr_pin = parse_cpu_list(pin_list, pin, 4096);
			if (o.nr_pin <= 0) {
				fprintf(stderr, "pgfree_bench: bad CPU list '%s'\n", pin_list);
				return 2;
			}
		} else if (!strcmp(argv[i], "--no-pin")) {
			no_pin = true;
		} else if (!strncmp(argv[i], "--threads=", 10)) {
			nr_threads = parse_cpu_list(argv[i] + 10, threads, 64);
			if (nr_threads <= 0) {
				fprintf(stderr, "pgfree_bench: bad --threads\n");
				return 2;
			}
		} else if (!strncmp(argv[i], "--max-threads=", 14)) {
			o.max_threads = atoi(argv[i] + 14);
			if (o.max_threads < 1) {
				fprintf(stderr, "pgfree_bench: bad --max-threads\n");
				return 2;
			}
		} else if (!strncmp(argv[i], "--reps=", 7)) {
			eo.reps = atoi(argv[i] + 7);
		} else if (!strncmp(argv[i], "--window-ms=", 12)) {
			window_ms = atof(argv[i] + 12);
		} else if (!strncmp(argv[i], "--warmup-ms=", 12)) {
			warm_ms = atof(argv[i] + 12);
		} else if (!strncmp(argv[i], "--pgfree-delay-us=", 18)) {
			bpolicy_delay.delay_us = (unsigned int)atoi(argv[i] + 18);
		} else if (!strncmp(argv[i], "--seed=", 7)) {
			eo.seed = strtoull(argv[i] + 7, NULL, 0);
		} else if (!strncmp(argv[i], "--enqueue-out=", 14)) {
			eo.out = argv[i] + 14;
		} else if (!strncmp(argv[i], "--enqueue-filter=", 17)) {
			eo.filter = argv[i] + 17;
		} else if (!strcmp(argv[i], "--enqueue-only")) {
			enqueue_only = true;
		} else {
			argv[out++] = argv[i];	/* Google Benchmark's */
		}
	}
	/* Default pin list: the CPUs this process may run on, in order. */
	if (!pin_list) {
		cpu_set_t set;
		size_t off = 0;

		if (!sched_getaffinity(0, sizeof(set), &set))
			for (int c = 0; c < CPU_SETSIZE && o.nr_pin < 4096; c++)
				if (CPU_ISSET(c, &set))
					pin[o.nr_pin++] = c;
		if (o.nr_pin <= 0)
			for (; o.nr_pin < o.nr_cpus; o.nr_pin++)
				pin[o.nr_pin] = o.nr_pin;
		if (pin[o.nr_pin - 1] - pin[0] == o.nr_pin - 1)
			snprintf(pin_buf, sizeof(pin_buf), "%d-%d", pin[0], pin[o.nr_pin - 1]);
		else
			off = (size_t)snprintf(pin_buf, sizeof(pin_buf), "%d of CPUs %d..%d",
					       o.nr_pin, pin[0], pin[o.nr_pin - 1]);
		(void)off;
		pin_list = pin_buf;
	}
	o.pin = no_pin ? NULL : pin;
	if (!nr_threads)
		nr_threads = default_threads(o.nr_pin, o.max_threads, o.quick, threads);
	else {
		int k = 0;

		for (int i = 0; i < nr_threads; i++)
			if (threads[i] <= o.max_threads)
				threads[k++] = threads[i];
		nr_threads = k;
	}

	/* Defaults for Google Benchmark's own flags, unless the user set them. */
	bool have_min_time = false, have_reps = false, have_warm = false, have_il = false;

	for (int i = 1; i < out; i++) {
		have_min_time |= !strncmp(argv[i], "--benchmark_min_time=", 21);
		have_reps |= !strncmp(argv[i], "--benchmark_repetitions=", 24);
		have_warm |= !strncmp(argv[i], "--benchmark_min_warmup_time=", 28);
		have_il |= !strncmp(argv[i], "--benchmark_enable_random_interleaving", 38);
	}
	static char *gb_argv[4096];
	int n = 0;

	gb_argv[n++] = argv[0];
	if (!have_min_time)
		gb_argv[n++] = o.quick ? "--benchmark_min_time=0.02" : "--benchmark_min_time=0.05";
	if (!have_reps) {
		gb_argv[n++] = o.quick ? "--benchmark_repetitions=2" : "--benchmark_repetitions=5";
		gb_argv[n++] = "--benchmark_display_aggregates_only=true";
	}
	if (!have_warm)
		gb_argv[n++] = "--benchmark_min_warmup_time=0.01";
	if (!have_il)
		gb_argv[n++] = "--benchmark_enable_random_interleaving=true";
	for (int i = 1; i < out && n < 4095; i++)
		gb_argv[n++] = argv[i];
	gb_argv[n] = NULL;
	argc = n;
	argv = gb_argv;

	gb_initialize(&argc, argv);
	if (argc > 1) {
		fprintf(stderr, "pgfree_bench: unknown argument '%s'\n", argv[1]);
		return 2;
	}
	sysinfo_record(no_pin ? NULL : pin_list);
	gb_add_context("pgfree_mode", o.quick ? "quick" : "full");
	{
		char buf[32];

		snprintf(buf, sizeof(buf), "%u", bpolicy_delay.delay_us);
		gb_add_context("pgfree_batch_delay_us", buf);
	}

	if (eo.out) {
		eo.reps = eo.reps > 0 ? eo.reps : o.quick ? 5 : 11;
		eo.window_ns = (uint64_t)((window_ms > 0 ? window_ms : o.quick ? 8 : 15) * 1e6);
		eo.warm_ns = (uint64_t)((warm_ms >= 0 ? warm_ms : o.quick ? 2 : 4) * 1e6);
		eo.threads = threads;
		eo.nr_threads = nr_threads;
		eo.pin = !no_pin;
		eo.cpus = pin;
		eo.nr_cpus_list = o.nr_pin;
#ifdef BENCH_LOCKSTAT
		eo.lockstat = true;
#endif
		if (enqueue_run(&eo))
			return 1;
	}
	if (enqueue_only)
		return 0;
	workloads_register(&o);
	return gb_run();
}
