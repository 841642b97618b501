/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_BENCH_GBENCH_H
#define PGFREE_BENCH_GBENCH_H
/*
 * A C interface to Google Benchmark, so that every benchmark body in bench/
 * is plain C.  gbench_shim.cc implements it over benchmark::State.
 *
 * Per-iteration calls cross into C++ out of line, which would add a call to
 * every item of a ~3 ns operation; bodies therefore run items in batches
 * with gb_keep_running_batch() (KeepRunningBatch), the floor included, so the
 * harness costs every design the same.
 *
 * Threading is Google Benchmark's: a benchmark registered with
 * gb_threads(b, n) runs its body on n threads at once; thread 0 does the
 * set-up before the first gb_keep_running_batch() returns and the tear-down
 * after the last, as in the C++ API.
 */
#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct gb_state gb_state;
typedef struct gb_bench gb_bench;
typedef void (*gb_fn)(gb_state *st, const void *arg);

/* Counter flags (benchmark::Counter::Flags). */
enum {
	GB_COUNTER_DEFAULT = 0,
	GB_COUNTER_RATE = 1 << 0,
	GB_COUNTER_AVG_THREADS = 1 << 1,
};

/* Inside a body. */
bool gb_keep_running_batch(gb_state *st, int64_t n);
int gb_thread_index(const gb_state *st);
int gb_threads_of(const gb_state *st);
int64_t gb_range(const gb_state *st, int i);
int64_t gb_iterations(const gb_state *st);
void gb_set_items_processed(gb_state *st, int64_t items);
void gb_set_counter(gb_state *st, const char *name, double value, int flags);
void gb_set_iteration_time(gb_state *st, double seconds);

/* Registration.  @arg is passed to @fn as is; it must outlive the run. */
gb_bench *gb_register(const char *name, gb_fn fn, const void *arg);
void gb_threads(gb_bench *b, int n);
void gb_arg(gb_bench *b, int64_t a);
void gb_use_real_time(gb_bench *b);
void gb_use_manual_time(gb_bench *b);
void gb_unit_us(gb_bench *b);
void gb_fixed_iterations(gb_bench *b, int64_t n);
void gb_min_time(gb_bench *b, double seconds);

/* A key/value recorded in the JSON "context" (the machine's description). */
void gb_add_context(const char *key, const char *value);

/* Initialize (parses and removes --benchmark_* flags), run, shut down. */
void gb_initialize(int *argc, char **argv);
int gb_run(void);

#ifdef __cplusplus
}
#endif
#endif /* PGFREE_BENCH_GBENCH_H */
