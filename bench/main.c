// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * pgfree_bench: the side-by-side comparison.  Google Benchmark's own flags
 * (--benchmark_filter, --benchmark_out=FILE --benchmark_out_format=json, ...)
 * work as usual; ours come first:
 *
 *   --quick            thread counts 1,2,4,16, short runs, no repetitions
 *
 * Unless given, --benchmark_min_time is 0.3 s (quick: 0.05 s) and
 * --benchmark_repetitions 3 (quick: 1): the report uses the median.
 *   --pin=LIST         pin producer i to the i-th CPU of LIST ("0-7,16-23")
 *   --max-threads=N    highest producer count (default: max(64, 4 x CPUs))
 *   --pgfree-delay-us=N  batch_delay_us of the pgfree domains (default: the
 *                      library's default)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "designs.h"
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

int main(int argc, char **argv)
{
	static int pin[4096];
	struct bench_opts o = { 0 };
	const char *pin_list = NULL;
	int out = 1;

	o.nr_cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (o.nr_cpus < 1)
		o.nr_cpus = 1;
	o.max_threads = o.nr_cpus * 4 > 64 ? o.nr_cpus * 4 : 64;

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
			o.pin = pin;
		} else if (!strncmp(argv[i], "--pgfree-delay-us=", 18)) {
			bench_pgfree_delay_us = atol(argv[i] + 18);
		} else if (!strncmp(argv[i], "--max-threads=", 14)) {
			o.max_threads = atoi(argv[i] + 14);
			if (o.max_threads < 1) {
				fprintf(stderr, "pgfree_bench: bad --max-threads\n");
				return 2;
			}
		} else {
			argv[out++] = argv[i];	/* Google Benchmark's */
		}
	}
	/* Defaults for Google Benchmark's own flags, unless the user set them. */
	bool have_min_time = false, have_reps = false;

	for (int i = 1; i < out; i++) {
		have_min_time |= !strncmp(argv[i], "--benchmark_min_time=", 21);
		have_reps |= !strncmp(argv[i], "--benchmark_repetitions=", 24);
	}
	static char *gb_argv[4096];
	int n = 0;

	gb_argv[n++] = argv[0];
	if (!have_min_time)
		gb_argv[n++] = o.quick ? "--benchmark_min_time=0.05" : "--benchmark_min_time=0.3";
	if (!have_reps) {
		gb_argv[n++] = o.quick ? "--benchmark_repetitions=1" : "--benchmark_repetitions=3";
		gb_argv[n++] = "--benchmark_display_aggregates_only=true";
	}
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
	sysinfo_record(pin_list);
	gb_add_context("pgfree_mode", o.quick ? "quick" : "full");
	if (bench_pgfree_delay_us >= 0) {
		char buf[32];

		snprintf(buf, sizeof(buf), "%ld", bench_pgfree_delay_us);
		gb_add_context("pgfree_batch_delay_us", buf);
	}
	workloads_register(&o);
	return gb_run();
}
