// SPDX-License-Identifier: MIT OR GPL-2.0-only
// The C shim over Google Benchmark declared in gbench.h.  Nothing else in
// bench/ is C++.
#include <benchmark/benchmark.h>

#include "gbench.h"

// gb_state and gb_bench are never defined: a gb_state * is a
// benchmark::State *, a gb_bench * a benchmark::internal::Benchmark *.
static benchmark::State &S(gb_state *s) { return *reinterpret_cast<benchmark::State *>(s); }
static const benchmark::State &S(const gb_state *s)
{
	return *reinterpret_cast<const benchmark::State *>(s);
}
static benchmark::internal::Benchmark *B(gb_bench *b)
{
	return reinterpret_cast<benchmark::internal::Benchmark *>(b);
}

extern "C" {

bool gb_keep_running_batch(gb_state *st, int64_t n) { return S(st).KeepRunningBatch(n); }
int gb_thread_index(const gb_state *st) { return S(st).thread_index(); }
int gb_threads_of(const gb_state *st) { return S(st).threads(); }
int64_t gb_range(const gb_state *st, int i) { return S(st).range(i); }
int64_t gb_iterations(const gb_state *st) { return S(st).iterations(); }
void gb_set_items_processed(gb_state *st, int64_t items) { S(st).SetItemsProcessed(items); }
void gb_set_iteration_time(gb_state *st, double seconds) { S(st).SetIterationTime(seconds); }

void gb_set_counter(gb_state *st, const char *name, double value, int flags)
{
	int f = benchmark::Counter::kDefaults;

	if (flags & GB_COUNTER_RATE)
		f |= benchmark::Counter::kIsRate;
	if (flags & GB_COUNTER_AVG_THREADS)
		f |= benchmark::Counter::kAvgThreads;
	S(st).counters[name] =
		benchmark::Counter(value, static_cast<benchmark::Counter::Flags>(f));
}

gb_bench *gb_register(const char *name, gb_fn fn, const void *arg)
{
	auto *b = benchmark::RegisterBenchmark(
		name, [fn, arg](benchmark::State &st) { fn(reinterpret_cast<gb_state *>(&st), arg); });
	return reinterpret_cast<gb_bench *>(b);
}

void gb_threads(gb_bench *b, int n) { B(b)->Threads(n); }
void gb_arg(gb_bench *b, int64_t a) { B(b)->Arg(a); }
void gb_use_real_time(gb_bench *b) { B(b)->UseRealTime(); }
void gb_use_manual_time(gb_bench *b) { B(b)->UseManualTime(); }
void gb_unit_us(gb_bench *b) { B(b)->Unit(benchmark::kMicrosecond); }
void gb_fixed_iterations(gb_bench *b, int64_t n) { B(b)->Iterations(n); }
void gb_min_time(gb_bench *b, double seconds) { B(b)->MinTime(seconds); }

void gb_add_context(const char *key, const char *value)
{
	benchmark::AddCustomContext(key, value);
}

void gb_initialize(int *argc, char **argv) { benchmark::Initialize(argc, argv); }

int gb_run(void)
{
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return 0;
}

} // extern "C"
