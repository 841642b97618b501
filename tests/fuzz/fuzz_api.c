// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * API-sequence fuzzer for pgfree.
 *
 * Each input is decoded into a sequence of calls on up to two domain slots
 * (create with configurations valid and invalid, defer, defer_wait, drain,
 * barrier, barrier_timeout, stats, destroy, destroy_timeout, misuse such as
 * a NULL node, a call after destroy, a double defer) over a small pool of
 * descriptors, with flush failures and give-ups switched on and off by the
 * input.  The harness keeps its own model of every descriptor (how often it
 * was accepted, how often it came back through ->release() or
 * ->give_back()) and of every domain, and checks each call's result against
 * the contract in pgfree.h:
 *
 *   - an invalid configuration gives -EINVAL and no domain;
 *   - every call returns one of the errors documented for it, and
 *     pgfree_strerror() describes each one;
 *   - after a successful pgfree_drain(), a barrier, or destroy, everything
 *     deferred to that domain before the call came back;
 *   - pgfree_stats(): deferred == released + given_back + backlog, and
 *     deferred is exactly what this harness had accepted;
 *   - with PGFREE_F_BOUNDED and only pgfree_defer_wait() used, the backlog
 *     never exceeds backlog_max rounded up to a multiple of the lists;
 *   - a double defer gives -EEXIST in a PGFREE_DEBUG library (in other
 *     builds the harness never makes one: it would corrupt the lists);
 *   - at the end (every domain destroyed) each descriptor came back exactly
 *     as often as it was accepted, and the tracker (support/tracker.h) saw
 *     no release before a successful flush that began after the defer.
 * Any violation prints what went wrong and aborts, which libFuzzer reports
 * as a crash with the input that caused it.
 *
 * Built two ways (tests/fuzz/CMakeLists.txt): with -fsanitize=fuzzer as
 * pgfree_fuzz_api (Clang + ASan), and without it as pgfree_fuzz_api_replay
 * (PGFREE_FUZZ_REPLAY), whose main() runs the inputs named on the command
 * line (files or directories) and then pseudo-random ones, so that the
 * same sequences run in the normal and the TSan builds too.
 *
 * Threads: the harness calls pgfree from one thread; the callbacks run in
 * the drain threads (or in the harness's thread).  The atomics below are
 * how the two sides talk; each says why its order suffices.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pgfree/pgfree.h>

#include "support/tracker.h"

/* FZ_LIB_DEBUG: the library was built with PGFREE_DEBUG (set by CMake). */
#ifdef FZ_LIB_DEBUG
#define FZ_DEBUG_LIB true
#else
#define FZ_DEBUG_LIB false
#endif

#define FZ_SLOTS 2		/* domains alive at once */
#define FZ_MAX_INST 6		/* domains created per input */
#define FZ_NDESC 24		/* the descriptor pool */
#define FZ_MAX_OPS 200		/* calls per input: keep each input fast */

#define FZ_FLAGS_KNOWN                                                                  \
	(PGFREE_F_NO_THREAD | PGFREE_F_NO_DELAY | PGFREE_F_THREAD_FALLBACK | PGFREE_F_BOUNDED | \
	 PGFREE_F_NO_RSEQ | PGFREE_F_RSEQ | PGFREE_F_TAS_LOCK)

/**
 * struct fz_desc - a descriptor of the pool
 * @td: the tracked descriptor (its node is what pgfree queues)
 * @in: times pgfree accepted it (harness thread only)
 * @out: times ->release() or ->give_back() handed it back; incremented
 *	with release order by the callback after the tracker is done with the
 *	descriptor, read with acquire by the harness, so that a descriptor
 *	seen back (in == out) may be written and deferred again without a
 *	race with the callback that returned it
 * @owner: the instance it was last deferred to, -1 if never
 */
struct fz_desc {
	struct tdesc td;
	uint32_t in;
	_Atomic uint32_t out;
	int owner;
};

/**
 * struct fz_inst - one created domain (alive, or destroyed: a tombstone)
 * @t: its tracker; cfg.ctx points here
 * @dom: the domain
 * @cfg: how it was made
 * @fail_budget: the next @fail_budget ->flush() calls fail; decremented by
 *	the flush (any thread), set by the harness.  Relaxed is enough: it
 *	only decides whether a flush fails, no data is published through it.
 * @fail_err: what a failing flush returns; relaxed for the same reason
 * @giveups_possible: the harness ever asked for PGFREE_FLUSH_GIVE_UP with
 *	->give_back set, so a barrier may return -ECANCELED
 * @accepted: descriptors this domain accepted
 * @plain_defers: of which by pgfree_defer() (the bound is then not exact)
 * @live: not destroyed
 * @hook: ->flush() calls consumer calls on its own domain (-EDEADLK)
 */
struct fz_inst {
	struct tracker t;
	struct pgfree_domain *dom;
	struct pgfree_config cfg;
	_Atomic int fail_budget;
	_Atomic int fail_err;
	bool giveups_possible;
	uint64_t accepted;
	uint64_t plain_defers;
	bool live;
	bool hook;
};

struct fz_state {
	const uint8_t *data;
	size_t len;
	size_t pos;
	struct fz_desc desc[FZ_NDESC];
	struct fz_inst inst[FZ_MAX_INST];
	int ninst;
	int slot[FZ_SLOTS];	/* instance index, or -1 */
};

static struct fz_state fz;

/* Totals over all inputs, for the replay driver's summary line. */
static struct {
	unsigned long long ops, domains, accepted, back;
} fz_total;

__attribute__((format(printf, 1, 2), noreturn))
static void fz_fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "pgfree fuzz_api: VIOLATION: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

#define FZ_CHECK(cond, ...)				\
	do {						\
		if (!(cond))				\
			fz_fail(__VA_ARGS__);		\
	} while (0)

/* The next input byte; 0 once the input is used up. */
static uint8_t fz_byte(void)
{
	return fz.pos < fz.len ? fz.data[fz.pos++] : 0;
}

/* Every code pgfree returns must be described. */
static void fz_strerror(long err)
{
	const char *s = pgfree_strerror((int)err);

	FZ_CHECK(s && s[0], "pgfree_strerror(%ld) gave %s", err, s ? "\"\"" : "NULL");
}

static struct fz_inst *inst_of_ctx(void *ctx)
{
	return (struct fz_inst *)((char *)ctx - offsetof(struct fz_inst, t));
}

static struct fz_desc *desc_of(struct pgfree_llist_node *node)
{
	return (struct fz_desc *)((char *)node - offsetof(struct fz_desc, td.node));
}

/* Count each node of a returned chain out; the tracker has seen them all. */
static void fz_mark_out(struct pgfree_llist_node *batch)
{
	struct pgfree_llist_node *n, *next;

	for (n = batch; n; n = next) {
		/* Read before the store below hands the node to the harness. */
		next = n->next;
		/* Release: see struct fz_desc.out. */
		atomic_fetch_add_explicit(&desc_of(n)->out, 1, memory_order_release);
	}
}

static int fz_flush(void *ctx, const struct pgfree_range *range)
{
	struct fz_inst *in = inst_of_ctx(ctx);
	int budget = atomic_load_explicit(&in->fail_budget, memory_order_relaxed);

	/* Relaxed: see struct fz_inst.fail_budget. */
	while (budget > 0 &&
	       !atomic_compare_exchange_weak_explicit(&in->fail_budget, &budget, budget - 1,
						      memory_order_relaxed, memory_order_relaxed))
		;
	if (budget > 0)
		return atomic_load_explicit(&in->fail_err, memory_order_relaxed);
	return tracker_flush(ctx, range);
}

static void fz_release(void *ctx, struct pgfree_llist_node *batch)
{
	/* No re-defers are set up, so the tracker leaves the chain intact. */
	tracker_release(ctx, batch);
	fz_mark_out(batch);
}

static void fz_give_back(void *ctx, struct pgfree_llist_node *batch)
{
	tracker_give_back(ctx, batch);
	fz_mark_out(batch);
}

/* Inside ->flush(): every consumer call on the own domain must refuse. */
static void fz_flush_hook(struct tracker *t)
{
	struct pgfree_domain *dom = atomic_load(&t->dom);
	struct pgfree_stats s;
	long r;

	if ((r = pgfree_stats(dom, &s)) != -EDEADLK)
		tracker_violation(t, "pgfree_stats() inside ->flush() returned %ld", r);
	if ((r = pgfree_drain(dom)) != -EDEADLK)
		tracker_violation(t, "pgfree_drain() inside ->flush() returned %ld", r);
	if ((r = pgfree_barrier_timeout(dom, 1000)) != -EDEADLK)
		tracker_violation(t, "pgfree_barrier_timeout() inside ->flush() returned %ld", r);
}

/* Harness side: has the descriptor come back as often as it went out? */
static bool desc_free(struct fz_desc *d)
{
	/* Acquire: see struct fz_desc.out. */
	return atomic_load_explicit(&d->out, memory_order_acquire) == d->in;
}

/* Everything deferred to instance @ii before now must be back. */
static void check_all_back(int ii, const char *after)
{
	for (int i = 0; i < FZ_NDESC; i++) {
		struct fz_desc *d = &fz.desc[i];

		FZ_CHECK(d->owner != ii || desc_free(d),
			 "after %s on domain %d (%s, flags %#x): descriptor %d still held "
			 "(in %u, out %u)", after, ii, pgfree_design_name(fz.inst[ii].cfg.design),
			 fz.inst[ii].cfg.flags, i, d->in, atomic_load(&d->out));
	}
}

/* The lists a domain shares its mark between (pgfree.h, backlog_max). */
static unsigned int fz_lists(const struct pgfree_config *cfg)
{
	long n;

	if (cfg->design != PGFREE_DESIGN_PERCPU)
		return 1;
	if (cfg->nr_slots)
		return cfg->nr_slots;
	n = sysconf(_SC_NPROCESSORS_CONF);
	return n < 1 ? 1 : n > (long)PGFREE_MAX_SLOTS ? PGFREE_MAX_SLOTS : (unsigned int)n;
}

static bool config_valid(const struct pgfree_config *c)
{
	if (c->design >= PGFREE_DESIGN_COUNT || (c->flags & ~FZ_FLAGS_KNOWN))
		return false;
	if (!c->ops.flush || !c->ops.release)
		return false;
	if (c->nr_slots > PGFREE_MAX_SLOTS || c->batch_delay_us > PGFREE_MAX_BATCH_DELAY_US ||
	    c->backlog_max > PGFREE_MAX_BACKLOG)
		return false;
	if ((c->flags & PGFREE_F_NO_DELAY) && c->batch_delay_us)
		return false;
	if ((c->flags & PGFREE_F_RSEQ) && (c->flags & PGFREE_F_NO_RSEQ))
		return false;
	if ((c->flags & PGFREE_F_BOUNDED) && !c->backlog_max)
		return false;
	if (c->backlog_max && c->design != PGFREE_DESIGN_PERCPU &&
	    c->design != PGFREE_DESIGN_GLOBAL_LLIST)
		return false;
	if ((c->flags & PGFREE_F_TAS_LOCK) && c->design != PGFREE_DESIGN_V5 &&
	    c->design != PGFREE_DESIGN_V3)
		return false;
	return true;
}

static void op_create(int s)
{
	uint8_t b[8];
	struct fz_inst *in;
	struct pgfree_domain *dom = (struct pgfree_domain *)&fz;	/* must be overwritten */
	const char *name;
	bool valid;
	int err;

	for (int i = 0; i < 8; i++)
		b[i] = fz_byte();
	if (fz.slot[s] >= 0 && fz.inst[fz.slot[s]].live)
		return;
	if (fz.ninst == FZ_MAX_INST)
		return;
	in = &fz.inst[fz.ninst];
	memset(in, 0, sizeof(*in));
	tracker_init(&in->t);
	in->t.use_range = b[6] & 1;
	in->cfg = tracker_config(&in->t, b[0] % (PGFREE_DESIGN_COUNT + 2),
				 (b[1] & 0xf) | ((b[7] & 2) ? PGFREE_F_NO_RSEQ : 0) |
					 ((b[7] & 4) ? PGFREE_F_RSEQ : 0) |
					 ((b[7] & 8) ? PGFREE_F_TAS_LOCK : 0));
	if (b[1] & 0x80)
		in->cfg.flags |= 0x1000u << ((b[1] >> 4) & 7);	/* unknown flag */
	in->cfg.nr_slots = b[2] < 250 ? b[2] % 9u : PGFREE_MAX_SLOTS + (b[2] - 250u);
	in->cfg.batch_delay_us = b[3] < 240 ? (b[3] % 4 ? b[3] % 30u : 0) :
					      PGFREE_MAX_BATCH_DELAY_US + (b[3] - 239u);
	in->cfg.backlog_max = b[4] < 250 ? (b[4] % 3 ? b[4] % 17u : 0) :
					   PGFREE_MAX_BACKLOG + (b[4] - 250u);
	in->cfg.batch_max = b[5] % 8u;
	in->cfg.ops.flush = fz_flush;
	in->cfg.ops.release = fz_release;
	in->cfg.ops.give_back = (b[6] & 2) ? NULL : fz_give_back;
	if ((b[6] & 0x1c) == 0x1c)
		in->cfg.ops.flush = NULL;
	if ((b[6] & 0xe0) == 0xe0)
		in->cfg.ops.release = NULL;
	in->hook = b[7] & 1;
	if (in->hook)
		in->t.flush_hook = fz_flush_hook;
	in->cfg.ctx = &in->t;

	name = pgfree_design_name(in->cfg.design);
	FZ_CHECK(!name == (in->cfg.design >= PGFREE_DESIGN_COUNT),
		 "pgfree_design_name(%u) = %s", in->cfg.design, name ? name : "NULL");

	if (b[7] == 0xff) {
		err = pgfree_domain_create(NULL, &dom);
		FZ_CHECK(err == -EINVAL && !dom, "create(NULL cfg) gave %d, dom %p", err,
			 (void *)dom);
		fz_strerror(err);
		return;
	}
	if (b[7] == 0xfd) {
		err = pgfree_domain_create(&in->cfg, NULL);
		FZ_CHECK(err == -EINVAL, "create(NULL out) gave %d", err);
		fz_strerror(err);
		return;
	}

	valid = config_valid(&in->cfg);
	err = tracker_create(&in->t, &in->cfg, &dom);
	fz_strerror(err);
	if (!valid) {
		FZ_CHECK(err == -EINVAL && !dom, "invalid config (design %u flags %#x slots %u "
			 "delay %u backlog %u) gave %d, dom %p", in->cfg.design, in->cfg.flags,
			 in->cfg.nr_slots, in->cfg.batch_delay_us, in->cfg.backlog_max, err,
			 (void *)dom);
		return;
	}
	FZ_CHECK(err == 0 && dom, "valid config (design %u flags %#x slots %u delay %u "
		 "backlog %u) gave %d", in->cfg.design, in->cfg.flags, in->cfg.nr_slots,
		 in->cfg.batch_delay_us, in->cfg.backlog_max, err);
	in->dom = dom;
	in->live = true;
	fz.slot[s] = fz.ninst++;
}

/* The instance in slot @s, or NULL if none was ever created there. */
static struct fz_inst *slot_inst(int s)
{
	return fz.slot[s] >= 0 ? &fz.inst[fz.slot[s]] : NULL;
}

static bool inst_bounded(const struct fz_inst *in)
{
	return in->cfg.flags & PGFREE_F_BOUNDED;
}

/* With only pgfree_defer_wait() used, the exact bound holds. */
static void check_bound(struct fz_inst *in, int ii)
{
	struct pgfree_stats st;
	unsigned int lists = fz_lists(&in->cfg);
	uint64_t bound;
	int err;

	if (!inst_bounded(in) || in->plain_defers)
		return;
	bound = (uint64_t)lists * ((in->cfg.backlog_max + lists - 1) / lists);
	err = pgfree_stats(in->dom, &st);
	FZ_CHECK(err == 0, "stats on live domain %d gave %d", ii, err);
	FZ_CHECK(st.backlog <= bound, "domain %d: backlog %llu over the bound %llu "
		 "(backlog_max %u, %u lists)", ii, (unsigned long long)st.backlog,
		 (unsigned long long)bound, in->cfg.backlog_max, lists);
}

/**
 * op_defer() - defer descriptor @di to slot @s
 * @wait: use pgfree_defer_wait()
 */
static void op_defer(int s, int di, bool wait)
{
	struct fz_inst *in = slot_inst(s);
	struct pgfree_domain *dom = in ? in->dom : NULL;
	struct fz_desc *d = &fz.desc[di];
	bool is_free = desc_free(d);
	int err, want;

	/*
	 * A double defer: only against a PGFREE_DEBUG library (it would
	 * corrupt another), and only while the descriptor surely stays queued,
	 * i.e. its domain has no drain thread: one that does may release it
	 * at any moment, and a defer racing with the ->release() that hands
	 * it back is the caller's bug, which no check can refuse.
	 */
	if (!is_free && !(FZ_DEBUG_LIB && dom &&
			  (fz.inst[d->owner].cfg.flags & PGFREE_F_NO_THREAD)))
		return;

	if (is_free && !in) {
		err = wait ? pgfree_defer_wait(NULL, &d->td.node) : pgfree_defer(NULL, &d->td.node);
	} else if (is_free) {
		/* Stamps the descriptor; IDLE again on error. */
		if (wait) {
			tracker_stamp(&in->t, &d->td);
			err = pgfree_defer_wait(dom, &d->td.node);
			if (err)
				atomic_store(&d->td.state, TDESC_IDLE);
			else
				atomic_fetch_add(&in->t.deferred, 1);
		} else {
			err = tracker_defer(&in->t, dom, &d->td);
		}
	} else {
		/* Already queued: must be refused, leaving it queued. */
		err = wait ? pgfree_defer_wait(dom, &d->td.node) : pgfree_defer(dom, &d->td.node);
	}
	fz_strerror(err);

	if (!dom)
		want = -EINVAL;
	else if (!in->live)
		want = -ESHUTDOWN;
	else if (wait && !inst_bounded(in))
		want = -EINVAL;
	else if (!is_free)
		want = -EEXIST;
	else
		want = 0;
	/* Which of two misuses is reported first is not specified. */
	FZ_CHECK(err == want || (!is_free && want != 0 && err == -EEXIST),
		 "%s of descriptor %d (%s) to slot %d (%s, flags %#x, %s) gave %d, want %d",
		 wait ? "defer_wait" : "defer", di, is_free ? "free" : "queued", s,
		 in ? pgfree_design_name(in->cfg.design) : "none", in ? in->cfg.flags : 0,
		 !in ? "no domain" : in->live ? "live" : "destroyed", err, want);
	if (err)
		return;
	d->in++;
	d->owner = fz.slot[s];
	in->accepted++;
	if (!wait)
		in->plain_defers++;
	else
		check_bound(in, fz.slot[s]);
}

static void op_drain(int s)
{
	struct fz_inst *in = slot_inst(s);
	long r;

	if (!in)
		return;
	r = pgfree_drain(in->dom);
	fz_strerror(r);
	if (!in->live) {
		FZ_CHECK(r == -ESHUTDOWN, "drain after destroy gave %ld", r);
		return;
	}
	/* A released count, the flush's error, or a give-up. */
	FZ_CHECK(r >= 0 || r == -EIO || r == -EAGAIN || r == PGFREE_FLUSH_GIVE_UP,
		 "drain gave %ld", r);
	FZ_CHECK(r <= (long)in->accepted, "drain released %ld of %llu ever accepted", r,
		 (unsigned long long)in->accepted);
	if (r >= 0 || (r == PGFREE_FLUSH_GIVE_UP && in->cfg.ops.give_back))
		check_all_back(fz.slot[s], "drain");
}

static void op_barrier(int s, bool timed, uint64_t timeout_ns)
{
	struct fz_inst *in = slot_inst(s);
	int r;

	if (!in)
		return;
	r = timed ? pgfree_barrier_timeout(in->dom, timeout_ns) : pgfree_barrier(in->dom);
	fz_strerror(r);
	if (!in->live) {
		FZ_CHECK(r == -ESHUTDOWN, "barrier after destroy gave %d", r);
		return;
	}
	FZ_CHECK(r == 0 || (r == -ECANCELED && in->giveups_possible) ||
		 (timed && r == -ETIMEDOUT), "barrier%s gave %d (give-ups %s)",
		 timed ? "_timeout" : "", r, in->giveups_possible ? "possible" : "impossible");
	if (r != -ETIMEDOUT)
		check_all_back(fz.slot[s], "barrier");
}

static void op_stats(int s, bool null_out)
{
	struct fz_inst *in = slot_inst(s);
	struct pgfree_stats st;
	int err;

	if (!in) {
		err = pgfree_stats(NULL, &st);
		FZ_CHECK(err == -EINVAL, "stats(NULL) gave %d", err);
		fz_strerror(err);
		return;
	}
	err = pgfree_stats(in->dom, null_out ? NULL : &st);
	fz_strerror(err);
	if (!in->live) {
		FZ_CHECK(err == -ESHUTDOWN, "stats after destroy gave %d", err);
		return;
	}
	if (null_out) {
		FZ_CHECK(err == -EINVAL, "stats(dom, NULL) gave %d", err);
		return;
	}
	FZ_CHECK(err == 0, "stats gave %d", err);
	FZ_CHECK(st.deferred == st.released + st.given_back + st.backlog,
		 "stats: deferred %llu != released %llu + given_back %llu + backlog %llu",
		 (unsigned long long)st.deferred, (unsigned long long)st.released,
		 (unsigned long long)st.given_back, (unsigned long long)st.backlog);
	/* One producer, and every defer returned: the count is exact. */
	FZ_CHECK(st.deferred == in->accepted, "stats: deferred %llu, accepted %llu",
		 (unsigned long long)st.deferred, (unsigned long long)in->accepted);
	/* The tracker counts inside the callbacks, before pgfree does. */
	FZ_CHECK(st.released <= atomic_load(&in->t.released) &&
		 st.given_back <= atomic_load(&in->t.given_back),
		 "stats: released %llu given_back %llu, tracker saw %llu and %llu",
		 (unsigned long long)st.released, (unsigned long long)st.given_back,
		 (unsigned long long)atomic_load(&in->t.released),
		 (unsigned long long)atomic_load(&in->t.given_back));
	FZ_CHECK(st.drain_thread == !(in->cfg.flags & PGFREE_F_NO_THREAD) ||
		 (!st.drain_thread && (in->cfg.flags & PGFREE_F_THREAD_FALLBACK)),
		 "stats: drain_thread %llu with flags %#x", (unsigned long long)st.drain_thread,
		 in->cfg.flags);
	FZ_CHECK(st.largest_batch <= st.released, "stats: largest_batch %llu > released %llu",
		 (unsigned long long)st.largest_batch, (unsigned long long)st.released);
	/* The rseq push: PERCPU only, never with the flag or an exact count. */
	FZ_CHECK(!st.rseq || (in->cfg.design == PGFREE_DESIGN_PERCPU &&
			      !(in->cfg.flags & (PGFREE_F_NO_RSEQ | PGFREE_F_BOUNDED))),
		 "stats: rseq %llu with design %u flags %#x", (unsigned long long)st.rseq,
		 in->cfg.design, in->cfg.flags);
}

static void op_destroy(int s, bool timed, uint64_t timeout_ns)
{
	struct fz_inst *in = slot_inst(s);
	int r;

	if (!in)
		return;
	r = timed ? pgfree_domain_destroy_timeout(in->dom, timeout_ns) :
		    pgfree_domain_destroy(in->dom);
	fz_strerror(r);
	if (!in->live) {
		FZ_CHECK(r == -ESHUTDOWN, "destroy twice gave %d", r);
		return;
	}
	FZ_CHECK(r == 0 || (timed && r == -ETIMEDOUT), "destroy%s gave %d",
		 timed ? "_timeout" : "", r);
	if (r)
		return;		/* timed out: untouched and live */
	in->live = false;
	check_all_back(fz.slot[s], "destroy");
}

static void op_fail(int s)
{
	static const int errs[] = { -EIO, -EAGAIN, PGFREE_FLUSH_GIVE_UP };
	struct fz_inst *in = slot_inst(s);
	uint8_t b = fz_byte();
	int err = errs[(b >> 2) % 3];

	if (!in)
		return;
	if (err == PGFREE_FLUSH_GIVE_UP && in->cfg.ops.give_back)
		in->giveups_possible = true;
	/* Relaxed: see struct fz_inst.fail_budget.  The error first: a flush
	 * that sees the new budget with the old error is fine either way. */
	atomic_store_explicit(&in->fail_err, err, memory_order_relaxed);
	atomic_store_explicit(&in->fail_budget, b & 3, memory_order_relaxed);
}

/* Misuse with NULL arguments, and the strerror of any value. */
static void op_misc(int s)
{
	struct fz_inst *in = slot_inst(s);
	uint8_t b = fz_byte();
	int err, want;

	err = pgfree_defer(in ? in->dom : NULL, NULL);
	want = in && !in->live ? -ESHUTDOWN : -EINVAL;
	FZ_CHECK(err == -EINVAL || err == want, "defer(NULL node) gave %d", err);
	err = pgfree_defer_wait(in ? in->dom : NULL, NULL);
	FZ_CHECK(err == -EINVAL || err == want, "defer_wait(NULL node) gave %d", err);
	FZ_CHECK(pgfree_drain(NULL) == -EINVAL, "drain(NULL)");
	FZ_CHECK(pgfree_barrier(NULL) == -EINVAL, "barrier(NULL)");
	FZ_CHECK(pgfree_barrier_timeout(NULL, b) == -EINVAL, "barrier_timeout(NULL)");
	FZ_CHECK(pgfree_domain_destroy(NULL) == -EINVAL, "destroy(NULL)");
	FZ_CHECK(pgfree_domain_destroy_timeout(NULL, b) == -EINVAL, "destroy_timeout(NULL)");
	fz_strerror(-(int)b);
	fz_strerror((int)b);
	fz_strerror(b & 1 ? INT32_MIN : INT32_MAX);
	FZ_CHECK(pgfree_design_name(PGFREE_DESIGN_COUNT + b) == NULL, "design_name(%u)",
		 PGFREE_DESIGN_COUNT + b);
}

/* Pick a descriptor: any, or preferably one queued or one free. */
static int pick_desc(uint8_t b)
{
	return b % FZ_NDESC;
}

static void fz_reset(const uint8_t *data, size_t len)
{
	memset(&fz, 0, sizeof(fz));
	fz.data = data;
	fz.len = len;
	for (int s = 0; s < FZ_SLOTS; s++)
		fz.slot[s] = -1;
	for (int i = 0; i < FZ_NDESC; i++) {
		tdesc_init(&fz.desc[i].td, 1, 0);
		fz.desc[i].td.seq = (uint32_t)i;
		/* Distinct pages, as tdesc_init() gives an array; some unknown. */
		fz.desc[i].td.range.start += (uintptr_t)i * 4096u;
		fz.desc[i].td.range.end += (uintptr_t)i * 4096u;
		if (i % 7 == 6)
			tdesc_set_unknown_range(&fz.desc[i].td);
		fz.desc[i].owner = -1;
	}
}

static void fz_finish(void)
{
	/* Destroy what is alive; the failure budget is finite, so it ends. */
	for (int i = 0; i < fz.ninst; i++) {
		struct fz_inst *in = &fz.inst[i];
		int err;

		if (in->live) {
			err = pgfree_domain_destroy(in->dom);
			FZ_CHECK(err == 0, "final destroy of domain %d gave %d", i, err);
			in->live = false;
			check_all_back(i, "final destroy");
		}
		err = pgfree_domain_destroy(in->dom);
		FZ_CHECK(err == -ESHUTDOWN, "destroy after destroy gave %d", err);
		fz_total.domains++;
		fz_total.accepted += in->accepted;
	}
	for (int i = 0; i < FZ_NDESC; i++) {
		struct fz_desc *d = &fz.desc[i];
		uint32_t out = atomic_load_explicit(&d->out, memory_order_acquire);
		uint32_t rel = atomic_load(&d->td.releases), gb = atomic_load(&d->td.given_backs);

		fz_total.back += out;
		FZ_CHECK(out == d->in && rel + gb == d->in,
			 "descriptor %d: accepted %u times, back %u times (released %u, given "
			 "back %u)", i, d->in, out, rel, gb);
	}
	for (int i = 0; i < fz.ninst; i++) {
		struct fz_inst *in = &fz.inst[i];
		uint64_t dfr = atomic_load(&in->t.deferred);
		uint64_t back = atomic_load(&in->t.released) + atomic_load(&in->t.given_back);

		FZ_CHECK(!atomic_load(&in->t.violations), "domain %d (%s, flags %#x): %s", i,
			 pgfree_design_name(in->cfg.design), in->cfg.flags,
			 tracker_first_violation(&in->t));
		FZ_CHECK(dfr == in->accepted && back == dfr,
			 "domain %d: accepted %llu, tracker deferred %llu, back %llu", i,
			 (unsigned long long)in->accepted, (unsigned long long)dfr,
			 (unsigned long long)back);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	fz_reset(data, len);

	for (int n = 0; n < FZ_MAX_OPS && fz.pos < fz.len; n++) {
		uint8_t op = fz_byte();
		int s = (op >> 4) & 1;
		uint8_t a;

		fz_total.ops++;

		switch (op & 0xf) {
		case 0:
			op_create(s);
			break;
		case 1:
		case 2:
			op_defer(s, pick_desc(fz_byte()), false);
			break;
		case 3:
			op_defer(s, pick_desc(fz_byte()), true);
			break;
		case 4:
			op_drain(s);
			break;
		case 5:
			op_barrier(s, false, 0);
			break;
		case 6:
			/* 0 to 25.5 us: often too short. */
			op_barrier(s, true, (uint64_t)fz_byte() * 100u);
			break;
		case 7:
			op_stats(s, (op >> 5) == 7);
			break;
		case 8:
			op_destroy(s, false, 0);
			break;
		case 9:
			op_destroy(s, true, (uint64_t)fz_byte() * 100u);
			break;
		case 10:
			op_fail(s);
			break;
		case 11:
			op_misc(s);
			break;
		case 12:
			/* A burst of defers from one byte: many nodes, few input bytes. */
			a = fz_byte();
			for (int i = 0; i < (a & 7) + 1; i++)
				op_defer(s, pick_desc((uint8_t)(a + i * 5)), (op >> 5) & 1);
			break;
		case 13:
			/* Defer to the other slot what this one may still hold. */
			op_defer(!s, pick_desc(fz_byte()), (op >> 5) & 1);
			break;
		case 14:
			/* Clear the failures: the next flushes succeed. */
			if (slot_inst(s))
				atomic_store_explicit(&slot_inst(s)->fail_budget, 0,
						      memory_order_relaxed);
			break;
		default:
			op_stats(s, false);
			break;
		}
	}
	fz_finish();
	return 0;
}

#ifdef PGFREE_FUZZ_REPLAY
#include <signal.h>

/*
 * The replay driver: runs every input named (files, or directories of
 * files), then --random=N pseudo-random inputs from --seed=S.  An input
 * that hangs (libFuzzer's -timeout, here a 20 s alarm) is reported by name
 * and aborts, instead of running into ctest's timeout.
 */
#define REPLAY_TIMEOUT_S 20

static const char *replay_current = "(none)";

static void replay_hung(int sig)
{
	(void)sig;
	/* Only async-signal-safe calls here. */
	static const char msg[] = "fuzz_api_replay: TIMEOUT: this input hung: ";

	write(2, msg, sizeof(msg) - 1);
	write(2, replay_current, strlen(replay_current));
	write(2, "\n", 1);
	abort();
}

static void replay_one(const char *name, const uint8_t *data, size_t len)
{
	replay_current = name;
	alarm(REPLAY_TIMEOUT_S);
	LLVMFuzzerTestOneInput(data, len);
	alarm(0);
}

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf;
	long len;

	if (!f)
		return -errno;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || fseek(f, 0, SEEK_SET)) {
		fclose(f);
		return -EIO;
	}
	buf = malloc(len ? (size_t)len : 1);
	if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		fclose(f);
		return -EIO;
	}
	fclose(f);
	replay_one(path, buf, (size_t)len);
	free(buf);
	return 0;
}

static int replay_path(const char *path, unsigned int *count)
{
	struct stat st;
	struct dirent *e;
	DIR *dir;
	int err = 0;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode)) {
		err = replay_file(path);
		*count += !err;
		return err;
	}
	dir = opendir(path);
	if (!dir)
		return -errno;
	while (!err && (e = readdir(dir))) {
		char sub[4096];

		if (e->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, e->d_name);
		err = replay_path(sub, count);
	}
	closedir(dir);
	return err;
}

int main(int argc, char **argv)
{
	unsigned long random_inputs = 0;
	uint64_t seed = 1, x;
	unsigned int files = 0;
	uint8_t buf[512];

	signal(SIGALRM, replay_hung);
	for (int i = 1; i < argc; i++) {
		int err;

		if (!strncmp(argv[i], "--random=", 9)) {
			random_inputs = strtoul(argv[i] + 9, NULL, 0);
			continue;
		}
		if (!strncmp(argv[i], "--seed=", 7)) {
			seed = strtoull(argv[i] + 7, NULL, 0);
			continue;
		}
		err = replay_path(argv[i], &files);
		if (err) {
			fprintf(stderr, "fuzz_api_replay: %s: %s\n", argv[i], strerror(-err));
			return 1;
		}
	}
	x = seed | 1;
	for (unsigned long n = 0; n < random_inputs; n++) {
		size_t len;

		/* xorshift64: reproducible with --seed. */
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)(x >> 32);
		}
		len = 16 + buf[0] * 2u;
		replay_one("(a --random input: rerun with the same --seed and --random)", buf, len);
	}
	printf("fuzz_api_replay: %u corpus inputs and %lu random inputs (seed %llu) passed: "
	       "%llu calls, %llu domains, %llu descriptors accepted, %llu back\n",
	       files, random_inputs, (unsigned long long)seed, fz_total.ops, fz_total.domains,
	       fz_total.accepted, fz_total.back);
	return 0;
}
#endif
