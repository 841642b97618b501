// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The lock statistics of lockstat.h (benchmark builds with
 * -DPGFREE_LOCKSTAT only; otherwise this file is empty).
 */
#ifdef PGFREE_LOCKSTAT
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "lockstat.h"
#include "lockstat_hooks.h"

struct ls_thread {
	_Atomic uint64_t wait[PGFREE_LOCKSTAT_BUCKETS];
	_Atomic uint64_t hold[PGFREE_LOCKSTAT_BUCKETS];
	_Atomic uint64_t wait_max, hold_max;
	struct ls_thread *next;		/* ls_live or ls_free, under ls_mu */
};

static pthread_mutex_t ls_mu = PTHREAD_MUTEX_INITIALIZER;
static struct ls_thread *ls_live, *ls_free;
static struct pgfree_lockstat ls_exited;	/* under ls_mu */
static pthread_key_t ls_key;
static pthread_once_t ls_once = PTHREAD_ONCE_INIT;
static __thread struct ls_thread *ls_me;

static void ls_unlink(struct ls_thread *t)
{
	for (struct ls_thread **p = &ls_live; *p; p = &(*p)->next)
		if (*p == t) {
			*p = t->next;
			return;
		}
}

/* Thread exit: fold this thread's counts into ls_exited, recycle its buckets. */
static void ls_exit(void *arg)
{
	struct ls_thread *t = arg;

	pthread_mutex_lock(&ls_mu);
	for (int i = 0; i < PGFREE_LOCKSTAT_BUCKETS; i++) {
		ls_exited.wait[i] += atomic_load_explicit(&t->wait[i], memory_order_relaxed);
		ls_exited.hold[i] += atomic_load_explicit(&t->hold[i], memory_order_relaxed);
	}
	uint64_t wm = atomic_load_explicit(&t->wait_max, memory_order_relaxed);
	uint64_t hm = atomic_load_explicit(&t->hold_max, memory_order_relaxed);

	if (wm > ls_exited.wait_max)
		ls_exited.wait_max = wm;
	if (hm > ls_exited.hold_max)
		ls_exited.hold_max = hm;
	ls_unlink(t);
	t->next = ls_free;
	ls_free = t;
	pthread_mutex_unlock(&ls_mu);
}

static void ls_key_init(void)
{
	pthread_key_create(&ls_key, ls_exit);
}

static struct ls_thread *ls_self(void)
{
	struct ls_thread *t = ls_me;

	if (t)
		return t;
	pthread_once(&ls_once, ls_key_init);
	pthread_mutex_lock(&ls_mu);
	t = ls_free;
	if (t)
		ls_free = t->next;
	else if (!(t = malloc(sizeof(*t))))
		abort();
	memset(t, 0, sizeof(*t));
	t->next = ls_live;
	ls_live = t;
	pthread_mutex_unlock(&ls_mu);
	pthread_setspecific(ls_key, t);
	ls_me = t;
	return t;
}

static int ls_bucket(uint64_t ns)
{
	int b = ns ? 63 - __builtin_clzll(ns) : 0;

	return b < PGFREE_LOCKSTAT_BUCKETS ? b : PGFREE_LOCKSTAT_BUCKETS - 1;
}

/* Single writer per thread: relaxed load + store, no RMW. */
static void ls_count(_Atomic uint64_t *b, _Atomic uint64_t *max, uint64_t ns)
{
	_Atomic uint64_t *c = &b[ls_bucket(ns)];

	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (ns > atomic_load_explicit(max, memory_order_relaxed))
		atomic_store_explicit(max, ns, memory_order_relaxed);
}

void pgfree_lockstat_record(uint64_t wait_ns, uint64_t hold_ns)
{
	struct ls_thread *t = ls_self();

	ls_count(t->wait, &t->wait_max, wait_ns);
	ls_count(t->hold, &t->hold_max, hold_ns);
}

void pgfree_lockstat_reset(void)
{
	pthread_mutex_lock(&ls_mu);
	memset(&ls_exited, 0, sizeof(ls_exited));
	for (struct ls_thread *t = ls_live; t; t = t->next) {
		for (int i = 0; i < PGFREE_LOCKSTAT_BUCKETS; i++) {
			atomic_store_explicit(&t->wait[i], 0, memory_order_relaxed);
			atomic_store_explicit(&t->hold[i], 0, memory_order_relaxed);
		}
		atomic_store_explicit(&t->wait_max, 0, memory_order_relaxed);
		atomic_store_explicit(&t->hold_max, 0, memory_order_relaxed);
	}
	pthread_mutex_unlock(&ls_mu);
}

void pgfree_lockstat_read(struct pgfree_lockstat *out)
{
	pthread_mutex_lock(&ls_mu);
	*out = ls_exited;
	for (struct ls_thread *t = ls_live; t; t = t->next) {
		for (int i = 0; i < PGFREE_LOCKSTAT_BUCKETS; i++) {
			out->wait[i] += atomic_load_explicit(&t->wait[i], memory_order_relaxed);
			out->hold[i] += atomic_load_explicit(&t->hold[i], memory_order_relaxed);
		}
		uint64_t wm = atomic_load_explicit(&t->wait_max, memory_order_relaxed);
		uint64_t hm = atomic_load_explicit(&t->hold_max, memory_order_relaxed);

		if (wm > out->wait_max)
			out->wait_max = wm;
		if (hm > out->hold_max)
			out->hold_max = hm;
	}
	pthread_mutex_unlock(&ls_mu);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int pgfree_lockstat_unused;
#endif
