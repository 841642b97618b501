// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * API-sequence fuzzer for pgfree.
 *
 * Each input is decoded into a sequence of calls on up to two domain slots
 * (create with configurations valid and invalid, defer, defer_wait, drain,
 * barrier, barrier_timeout, stats, destroy, destroy_timeout, take_back,
 * take_back_each, misuse such as a NULL node, a call after destroy, a double defer) over a
 * small pool of descriptors, with flush failures and give-ups switched on
 * and off by the input.  Configurations include take-back
 * (PGFREE_F_TAKE_BACK, take_back_us) and ->release_chain() with or without
 * ->release().  The harness keeps its own model of every descriptor (how
 * often it was accepted, how often it came back through ->release(),
 * ->release_chain(), ->give_back() or pgfree_take_back(), whether a
 * successful drain of its domain covered it since its defer) and of every
 * domain, and checks each call's result against the contract in pgfree.h:
 *
 *   - an invalid configuration gives -EINVAL and no domain;
 *   - every call returns one of the errors documented for it, and
 *     pgfree_strerror() describes each one;
 *   - after a successful pgfree_drain(), a barrier, or destroy, everything
 *     deferred to that domain before the call came back; on a take-back
 *     domain, after a drain or barrier, what has not come back waits for
 *     take-back (destroy still brings everything back);
 *   - every descriptor released, given back or taken back was covered by a
 *     ->flush() that began after its defer, returned 0, and whose range
 *     holds the descriptor's (this harness's own record of every good
 *     flush: stronger than the tracker's "the last good flush", and right
 *     for a chain that waited for take-back through later flushes);
 *   - pgfree_take_back(): -EINVAL without PGFREE_F_TAKE_BACK or with a NULL
 *     argument, -ESHUTDOWN after destroy; otherwise its count is the
 *     chain's length, its last node is the chain's last (->next NULL), its
 *     list is one of the domain's, and every descriptor in it is one the
 *     harness deferred to that domain and has not had back since; on a
 *     domain without a drain thread each was covered by one of the
 *     harness's successful drains, and on one with a single list it gets
 *     every such descriptor not released since (nothing else drains there);
 *   - pgfree_take_back_each(): the same errors (a NULL function for a NULL
 *     chain), its function never called on an error, and called once per
 *     descriptor counted, each one checked as pgfree_take_back()'s are;
 *   - ->release_chain(): its count and last node (the tracker), its list
 *     one of the domain's; ->release() is never called when it is set;
 *   - pgfree_drain() on a domain without a drain thread returns exactly
 *     what it had queued (at least 1 and at most that on a take-back domain
 *     that does not walk its chains);
 *   - pgfree_stats(): deferred == released + given_back + taken_back +
 *     backlog; deferred is exactly what this harness had accepted, but on a
 *     take-back domain less the descriptors that wait for take-back (none
 *     of those counters holds them): without a drain thread, exactly the
 *     ones the model has flushed and not had back, and backlog exactly the
 *     rest of those not back; taken_back is what the harness took back;
 *     take_back_expired <= released, and both 0 without take-back;
 *   - with PGFREE_F_BOUNDED and only pgfree_defer_wait() used, the backlog
 *     never exceeds backlog_max rounded up to a multiple of the lists;
 *   - a double defer gives -EEXIST in a PGFREE_DEBUG library (in other
 *     builds the harness never makes one: it would corrupt the lists);
 *   - at the end (every domain destroyed) each descriptor came back exactly
 *     as often as it was accepted (released, given back or taken back), and
 *     the tracker (support/tracker.h) saw no release or take-back before a
 *     successful flush that began after the defer.
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
 *
 * The tracker checks each released descriptor's range against the last
 * good flush only, which a take-back domain with ->range_of() does not
 * satisfy: a chain that waited for take-back is released (expired) in a
 * later drain, after flushes of other ranges.  For those domains the
 * tracker is shown [0, PGFREE_FLUSH_ALL) and the flush history below
 * checks the ranges instead.
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
#define FZ_HIST 2048		/* good flushes recorded per domain */

#define FZ_FLAGS_KNOWN                                                                  \
	(PGFREE_F_NO_THREAD | PGFREE_F_NO_DELAY | PGFREE_F_THREAD_FALLBACK | PGFREE_F_BOUNDED | \
	 PGFREE_F_NO_RSEQ | PGFREE_F_RSEQ | PGFREE_F_TAS_LOCK | PGFREE_F_TAKE_BACK)

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
 * @flushed: a successful drain or barrier of @owner returned since the
 *	last defer (harness thread only): it was flushed, and if it is not
 *	back it waits for take-back
 * @taken: times pgfree_take_back() handed it back (harness thread only)
 */
struct fz_desc {
	struct tdesc td;
	uint32_t in;
	_Atomic uint32_t out;
	int owner;
	bool flushed;
	uint32_t taken;
};

/**
 * struct fz_flushrec - a ->flush() that returned 0
 * @start: the tracker's clock at its entry (compared with a defer's stamp)
 * @start_addr: its range
 * @end_addr: its range
 */
struct fz_flushrec {
	uint64_t start;
	uintptr_t start_addr;
	uintptr_t end_addr;
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
 * @taken: descriptors taken back with pgfree_take_back() (harness only)
 * @hist: the flushes that returned 0, oldest first; written by ->flush()
 *	only (never two at once on a domain), read by the release callbacks
 *	(after the flush, same drain) and by the harness after a take-back
 * @nhist: entries of @hist written; stored with release order after the
 *	entry, loaded with acquire before reading entries, so a reader sees
 *	whole entries.  Stops at FZ_HIST (then @hist_full is set, relaxed: it
 *	only turns the check off)
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
	uint64_t taken;
	struct fz_flushrec hist[FZ_HIST];
	_Atomic uint32_t nhist;
	_Atomic bool hist_full;
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
	unsigned long long ops, domains, accepted, back, taken, tb_domains, take_backs;
} fz_total;

#ifdef PGFREE_FUZZ_REPLAY
static void replay_failed(void);
#endif

/* One line on stderr: @prefix, then the message. */
__attribute__((format(printf, 2, 0)))
static void fz_vprint(const char *prefix, const char *fmt, va_list ap)
{
	fputs(prefix, stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

__attribute__((format(printf, 1, 2), noreturn))
static void fz_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fz_vprint("pgfree fuzz_api: VIOLATION: ", fmt, ap);
	va_end(ap);
#ifdef PGFREE_FUZZ_REPLAY
	replay_failed();
#endif
	abort();
}

/* PGFREE_FUZZ_TRACE set: print each call as it is made (to read a failing input). */
static int fz_tracing = -1;

__attribute__((format(printf, 1, 2)))
static void fz_trace(const char *fmt, ...)
{
	va_list ap;

	if (fz_tracing < 0)
		fz_tracing = getenv("PGFREE_FUZZ_TRACE") != NULL;
	if (!fz_tracing)
		return;
	va_start(ap, fmt);
	fz_vprint("fuzz_api: ", fmt, ap);
	va_end(ap);
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

static bool inst_take_back(const struct fz_inst *in)
{
	return in->cfg.flags & PGFREE_F_TAKE_BACK;
}

static bool inst_no_thread(const struct fz_inst *in)
{
	return in->cfg.flags & PGFREE_F_NO_THREAD;
}

static int fz_flush(void *ctx, const struct pgfree_range *range)
{
	static const struct pgfree_range all = { 0, PGFREE_FLUSH_ALL };
	struct fz_inst *in = inst_of_ctx(ctx);
	int budget = atomic_load_explicit(&in->fail_budget, memory_order_relaxed);
	uint32_t n;
	int err;

	/* Relaxed: see struct fz_inst.fail_budget. */
	while (budget > 0 &&
	       !atomic_compare_exchange_weak_explicit(&in->fail_budget, &budget, budget - 1,
						      memory_order_relaxed, memory_order_relaxed))
		;
	if (budget > 0)
		return atomic_load_explicit(&in->fail_err, memory_order_relaxed);
	/* See the comment at the top: the history checks those ranges. */
	err = tracker_flush(ctx, inst_take_back(in) && range && in->t.use_range ? &all : range);
	if (err || !range)
		return err;
	/* Relaxed: only this callback writes it, never two at once. */
	n = atomic_load_explicit(&in->nhist, memory_order_relaxed);
	if (n == FZ_HIST) {
		atomic_store_explicit(&in->hist_full, true, memory_order_relaxed);
		return 0;
	}
	/* The start of this flush: tracker_flush() just published it. */
	in->hist[n].start = atomic_load_explicit(&in->t.last_ok_flush_start, memory_order_relaxed);
	in->hist[n].start_addr = range->start;
	in->hist[n].end_addr = range->end;
	/* Release: see struct fz_inst.nhist. */
	atomic_store_explicit(&in->nhist, n + 1, memory_order_release);
	return 0;
}

/*
 * Was @d covered by a good flush that began after its defer?  The flush
 * must cover its range, or everything when its range is unknown or the
 * domain has no ->range_of().  Any thread; aborts on a violation.
 */
static void fz_check_flushed(struct fz_inst *in, const struct fz_desc *d, const char *what)
{
	/* Acquire: see struct fz_inst.nhist. */
	uint32_t n = atomic_load_explicit(&in->nhist, memory_order_acquire);
	bool known = in->t.use_range && d->td.range.start != d->td.range.end;

	if (atomic_load_explicit(&in->hist_full, memory_order_relaxed))
		return;
	for (uint32_t k = n; k-- > 0;) {
		const struct fz_flushrec *f = &in->hist[k];

		if (f->start <= d->td.stamp)
			break;		/* older flushes began earlier still */
		if (known ? f->start_addr <= d->td.range.start && d->td.range.end <= f->end_addr :
			    f->start_addr == 0 && f->end_addr == PGFREE_FLUSH_ALL)
			return;
	}
	fz_fail("domain %d (%s, flags %#x): descriptor %u %s with no good flush begun after "
		"its defer (stamp %llu) that covers [%#llx, %#llx) (%u good flushes)",
		(int)(in - fz.inst), pgfree_design_name(in->cfg.design), in->cfg.flags,
		d->td.seq, what, (unsigned long long)d->td.stamp,
		(unsigned long long)d->td.range.start, (unsigned long long)d->td.range.end, n);
}

static void fz_check_batch(struct fz_inst *in, struct pgfree_llist_node *batch, const char *what)
{
	for (struct pgfree_llist_node *n = batch; n; n = n->next)
		fz_check_flushed(in, desc_of(n), what);
}

static void fz_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct fz_inst *in = inst_of_ctx(ctx);

	if (in->cfg.ops.release_chain)
		tracker_violation(ctx, "->release() called on a domain with ->release_chain()");
	fz_check_batch(in, batch, "released");
	/* No re-defers are set up, so the tracker leaves the chain intact. */
	tracker_release(ctx, batch);
	fz_mark_out(batch);
}

static void fz_release_chain(void *ctx, const struct pgfree_chain *chain)
{
	fz_check_batch(inst_of_ctx(ctx), chain->first, "released");
	/* Count, last node and list (nr_lists, set at create). */
	tracker_release_chain(ctx, chain);
	fz_mark_out(chain->first);
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
	/* Allowed from a callback; with a NULL chain it must refuse, untouched. */
	if ((r = pgfree_take_back(dom, NULL)) != -EINVAL)
		tracker_violation(t, "pgfree_take_back(dom, NULL) inside ->flush() gave %ld", r);
	if ((r = pgfree_take_back_each(dom, NULL, NULL)) != -EINVAL)
		tracker_violation(t, "pgfree_take_back_each(dom, NULL) inside ->flush() gave %ld",
				  r);
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

/*
 * After a successful drain or barrier of instance @ii: on a plain domain
 * everything deferred to it came back; on a take-back domain what has not
 * waits for take-back, flushed (struct fz_desc.flushed).
 */
static void check_drained(int ii, const char *after)
{
	if (!inst_take_back(&fz.inst[ii])) {
		check_all_back(ii, after);
		return;
	}
	for (int i = 0; i < FZ_NDESC; i++)
		if (fz.desc[i].owner == ii && !desc_free(&fz.desc[i]))
			fz.desc[i].flushed = true;
}

/* Descriptors of instance @ii not back: queued (not known flushed), or flushed. */
static unsigned int count_held(int ii, bool flushed)
{
	unsigned int n = 0;

	for (int i = 0; i < FZ_NDESC; i++)
		n += fz.desc[i].owner == ii && !desc_free(&fz.desc[i]) &&
		     fz.desc[i].flushed == flushed;
	return n;
}

/*
 * A flush of a thread-less take-back domain gave its batch up: what was
 * queued came back through ->give_back(), and only flushed descriptors,
 * waiting for take-back, may still be out.
 */
static void check_given_up(int ii, const char *after)
{
	unsigned int n = count_held(ii, false);

	FZ_CHECK(n == 0, "after %s gave up on domain %d (flags %#x): %u queued descriptors "
		 "neither given back nor flushed", after, ii, fz.inst[ii].cfg.flags, n);
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
	bool lockless = c->design == PGFREE_DESIGN_PERCPU ||
			c->design == PGFREE_DESIGN_GLOBAL_LLIST;

	if (c->design >= PGFREE_DESIGN_COUNT || (c->flags & ~FZ_FLAGS_KNOWN))
		return false;
	if (!c->ops.flush || (!c->ops.release && !c->ops.release_chain))
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
	/* Take-back: the lock-less designs, no exact bound; its time needs it. */
	if ((c->flags & PGFREE_F_TAKE_BACK) && (!lockless || (c->flags & PGFREE_F_BOUNDED)))
		return false;
	if (c->take_back_us > PGFREE_MAX_TAKE_BACK_US ||
	    (c->take_back_us && !(c->flags & PGFREE_F_TAKE_BACK)))
		return false;
	return true;
}

/* take_back_us from a byte: the default, short, about the limit, over it. */
static unsigned int take_back_us_of(uint8_t b)
{
	switch (b & 3) {
	case 0:
		return 0;
	case 1:
		return b >> 2;			/* 0 to 63 us: chains often expire */
	case 2:
		return PGFREE_MAX_TAKE_BACK_US - (b >> 2);	/* never within an input */
	default:
		return PGFREE_MAX_TAKE_BACK_US + (b >> 2);	/* invalid but for 0 */
	}
}

static void op_create(int s)
{
	uint8_t b[9];
	struct fz_inst *in;
	struct pgfree_domain *dom = (struct pgfree_domain *)&fz;	/* must be overwritten */
	const char *name;
	bool valid;
	int err;

	for (int i = 0; i < 9; i++)
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
					 ((b[7] & 8) ? PGFREE_F_TAS_LOCK : 0) |
					 ((b[7] & 0x10) ? PGFREE_F_TAKE_BACK : 0));
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
	if (b[7] & 0x20)
		in->cfg.ops.release_chain = fz_release_chain;
	in->cfg.take_back_us = take_back_us_of(b[8]);
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
	fz_trace("create slot %d: %s flags %#x slots %u delay %u backlog %u take_back_us %u%s%s%s "
		 "-> %d (%s) as domain %d", s, name ? name : "?", in->cfg.flags, in->cfg.nr_slots,
		 in->cfg.batch_delay_us, in->cfg.backlog_max, in->cfg.take_back_us,
		 in->cfg.ops.release ? "" : " no-release",
		 in->cfg.ops.release_chain ? " release_chain" : "",
		 in->cfg.ops.range_of ? " range_of" : "", err, valid ? "valid" : "invalid",
		 err ? -1 : fz.ninst);
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
	/* ->release_chain()'s list: one of the lists, or the rseq spill list. */
	in->t.nr_lists = fz_lists(&in->cfg) + 1;
	fz_total.tb_domains += inst_take_back(in);
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
	fz_trace("defer%s desc %d (%s) to slot %d -> %d", wait ? "_wait" : "", di,
		 is_free ? "free" : "queued", s, err);

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
	d->flushed = false;
	in->accepted++;
	if (!wait)
		in->plain_defers++;
	else
		check_bound(in, fz.slot[s]);
}

static void op_drain(int s)
{
	struct fz_inst *in = slot_inst(s);
	int ii = fz.slot[s];
	long r, queued;

	if (!in)
		return;
	/* Without a drain thread, only the harness's calls drain: exact. */
	queued = count_held(ii, false);
	r = pgfree_drain(in->dom);
	fz_strerror(r);
	fz_trace("drain slot %d (domain %d, %ld queued) -> %ld", s, ii, queued, r);
	if (!in->live) {
		FZ_CHECK(r == -ESHUTDOWN, "drain after destroy gave %ld", r);
		return;
	}
	/* A released count, the flush's error, or a give-up. */
	FZ_CHECK(r >= 0 || r == -EIO || r == -EAGAIN || r == PGFREE_FLUSH_GIVE_UP,
		 "drain gave %ld", r);
	FZ_CHECK(r <= (long)in->accepted, "drain released %ld of %llu ever accepted", r,
		 (unsigned long long)in->accepted);
	if (r >= 0 && inst_no_thread(in)) {
		/* A take-back domain that does not walk counts a list's chain as 1. */
		if (inst_take_back(in) && !in->cfg.ops.range_of)
			FZ_CHECK(queued ? r >= 1 && r <= queued : r == 0,
				 "drain of take-back domain %d (flags %#x), %ld queued, gave %ld",
				 ii, in->cfg.flags, queued, r);
		else
			FZ_CHECK(r == queued, "drain of domain %d (%s, flags %#x) with %ld queued "
				 "gave %ld", ii, pgfree_design_name(in->cfg.design), in->cfg.flags,
				 queued, r);
	}
	if (r == PGFREE_FLUSH_GIVE_UP && in->cfg.ops.give_back && inst_take_back(in) &&
	    inst_no_thread(in))
		check_given_up(ii, "drain");
	if (r >= 0 || (r == PGFREE_FLUSH_GIVE_UP && in->cfg.ops.give_back))
		check_drained(ii, "drain");
}

static void op_barrier(int s, bool timed, uint64_t timeout_ns)
{
	struct fz_inst *in = slot_inst(s);
	int r;

	if (!in)
		return;
	r = timed ? pgfree_barrier_timeout(in->dom, timeout_ns) : pgfree_barrier(in->dom);
	fz_strerror(r);
	fz_trace("barrier%s slot %d -> %d", timed ? "_timeout" : "", s, r);
	if (!in->live) {
		FZ_CHECK(r == -ESHUTDOWN, "barrier after destroy gave %d", r);
		return;
	}
	FZ_CHECK(r == 0 || (r == -ECANCELED && in->giveups_possible) ||
		 (timed && r == -ETIMEDOUT), "barrier%s gave %d (give-ups %s)",
		 timed ? "_timeout" : "", r, in->giveups_possible ? "possible" : "impossible");
	/* Without a drain thread, -ECANCELED: the caller's drain gave up its batch. */
	if (r == -ECANCELED && inst_take_back(in) && inst_no_thread(in))
		check_given_up(fz.slot[s], "barrier");
	if (r != -ETIMEDOUT)
		check_drained(fz.slot[s], "barrier");
}

static void op_stats(int s, bool null_out)
{
	struct fz_inst *in = slot_inst(s);
	int ii = fz.slot[s];
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
	fz_trace("stats slot %d -> %d: deferred %llu released %llu given_back %llu taken_back %llu "
		 "backlog %llu expired %llu", s, err, (unsigned long long)st.deferred,
		 (unsigned long long)st.released, (unsigned long long)st.given_back,
		 (unsigned long long)st.taken_back, (unsigned long long)st.backlog,
		 (unsigned long long)st.take_back_expired);
	if (!in->live) {
		FZ_CHECK(err == -ESHUTDOWN, "stats after destroy gave %d", err);
		return;
	}
	if (null_out) {
		FZ_CHECK(err == -EINVAL, "stats(dom, NULL) gave %d", err);
		return;
	}
	FZ_CHECK(err == 0, "stats gave %d", err);
	FZ_CHECK(st.deferred == st.released + st.given_back + st.taken_back + st.backlog,
		 "stats: deferred %llu != released %llu + given_back %llu + taken_back %llu + "
		 "backlog %llu", (unsigned long long)st.deferred, (unsigned long long)st.released,
		 (unsigned long long)st.given_back, (unsigned long long)st.taken_back,
		 (unsigned long long)st.backlog);
	/* Only the harness takes back. */
	FZ_CHECK(st.taken_back == in->taken, "stats: taken_back %llu, the harness took %llu",
		 (unsigned long long)st.taken_back, (unsigned long long)in->taken);
	if (!inst_take_back(in)) {
		/* One producer, and every defer returned: the count is exact. */
		FZ_CHECK(st.deferred == in->accepted, "stats: deferred %llu, accepted %llu",
			 (unsigned long long)st.deferred, (unsigned long long)in->accepted);
		FZ_CHECK(!st.take_back_expired, "stats: take_back_expired %llu without take-back",
			 (unsigned long long)st.take_back_expired);
	} else {
		/* Those that wait for take-back are in none of the counters. */
		uint64_t waiting = in->accepted - st.deferred;
		unsigned int queued = count_held(ii, false), flushed = count_held(ii, true);

		FZ_CHECK(st.deferred <= in->accepted, "stats: deferred %llu, accepted %llu",
			 (unsigned long long)st.deferred, (unsigned long long)in->accepted);
		FZ_CHECK(st.take_back_expired <= st.released,
			 "stats: take_back_expired %llu > released %llu",
			 (unsigned long long)st.take_back_expired, (unsigned long long)st.released);
		/* Read after the stats: a drain thread may only have given more back. */
		FZ_CHECK(queued + flushed <= st.backlog + waiting,
			 "stats: %u descriptors not back, but backlog %llu and %llu waiting",
			 queued + flushed,
			 (unsigned long long)st.backlog, (unsigned long long)waiting);
		/* Without a drain thread the harness knows which wait. */
		FZ_CHECK(!inst_no_thread(in) || (st.backlog == queued && waiting == flushed),
			 "stats of domain %d (flags %#x): backlog %llu, %llu waiting for "
			 "take-back; the harness has %u queued and %u flushed", ii,
			 in->cfg.flags, (unsigned long long)st.backlog,
			 (unsigned long long)waiting, queued, flushed);
	}
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
	/* A take-back domain's batches include what it handed back. */
	FZ_CHECK(st.largest_batch <= (inst_take_back(in) ? in->accepted : st.released),
		 "stats: largest_batch %llu > released %llu (accepted %llu)",
		 (unsigned long long)st.largest_batch, (unsigned long long)st.released,
		 (unsigned long long)in->accepted);
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
	fz_trace("destroy%s slot %d -> %d", timed ? "_timeout" : "", s, r);
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
	fz_trace("fail slot %d: next %d flushes return %d", s, b & 3, err);
}

/* The pool's index of @node, or -1 if it is not one of the pool's nodes. */
static int desc_index(const struct pgfree_llist_node *node)
{
	for (int i = 0; i < FZ_NDESC; i++)
		if (node == &fz.desc[i].td.node)
			return i;
	return -1;
}

/* What pgfree_take_back_each() handed over, in order (op_take_back()). */
struct fz_taken {
	const struct pgfree_llist_node *node[FZ_NDESC + 1];
	int n;
};

static void fz_take_one(void *arg, struct pgfree_llist_node *node)
{
	struct fz_taken *tk = arg;

	/* One more than the pool can hold is already a failure: stop counting there. */
	if (tk->n <= FZ_NDESC)
		tk->node[tk->n++] = node;
}

static void fz_take_tdesc(void *arg, struct tdesc *d)
{
	fz_take_one(arg, &d->node);
}

/**
 * op_take_back() - pgfree_take_back() or pgfree_take_back_each() on slot
 * @s, checked against the model
 * @s: the slot
 * @null_out: pass a NULL chain, or a NULL function (misuse)
 * @reuse: defer what came back again, at once, to slot @to
 * @to: the slot for @reuse
 * @each: pgfree_take_back_each(), which hands each descriptor to a function
 */
static void op_take_back(int s, bool null_out, bool reuse, int to, bool each)
{
	struct fz_inst *in = slot_inst(s);
	int ii = fz.slot[s], got[FZ_NDESC], ngot = 0;
	bool seen[FZ_NDESC] = { false };
	const struct pgfree_llist_node *node, *last = NULL;
	struct fz_taken tk = { .n = 0 };
	struct pgfree_chain c;
	long r, want;

	if (!in) {
		r = each ? pgfree_take_back_each(NULL, null_out ? NULL : fz_take_one, &tk) :
			   pgfree_take_back(NULL, null_out ? NULL : &c);
		FZ_CHECK(r == -EINVAL && tk.n == 0, "take_back on no domain gave %ld", r);
		fz_strerror(r);
		return;
	}
	if (null_out) {
		r = each ? pgfree_take_back_each(in->dom, NULL, &tk) :
			   pgfree_take_back(in->dom, NULL);
		fz_strerror(r);
		/* Which of two misuses is reported first is not specified. */
		FZ_CHECK(r == -EINVAL || (!in->live && r == -ESHUTDOWN),
			 "take_back(dom, NULL) on a %s domain gave %ld",
			 in->live ? "live" : "destroyed", r);
		return;
	}
	/* Must be overwritten: a stale chain here would be "taken" twice. */
	memset(&c, 0xa5, sizeof(c));
	if (each && in->live && inst_take_back(in))
		r = tracker_take_back_each(&in->t, in->dom, fz_take_tdesc, &tk);
	else if (each)
		r = pgfree_take_back_each(in->dom, fz_take_one, &tk);
	else if (in->live && inst_take_back(in))
		r = tracker_take_back(&in->t, in->dom, &c);	/* checks each, as a release */
	else
		r = pgfree_take_back(in->dom, &c);
	fz_strerror(r);
	fz_trace("take_back%s slot %d -> %ld (list %u)", each ? "_each" : "", s, r,
		 r >= 0 && !each ? c.list : 0);
	want = !in->live ? -ESHUTDOWN : !inst_take_back(in) ? -EINVAL : 0;
	if (want) {
		FZ_CHECK(r == want && tk.n == 0, "take_back%s on a %s domain (flags %#x) gave %ld, "
			 "want %ld, after %d calls", each ? "_each" : "",
			 in->live ? "live" : "destroyed", in->cfg.flags, r, want, tk.n);
		return;
	}
	FZ_CHECK(r >= 0, "take_back on live take-back domain %d gave %ld", ii, r);
	fz_total.take_backs++;
	if (each) {
		FZ_CHECK(tk.n == r, "take_back_each gave %ld after %d calls", r, tk.n);
	} else {
		FZ_CHECK((uint64_t)r == c.count && (r == 0) == (c.first == NULL) &&
			 (r == 0) == (c.last == NULL),
			 "take_back gave %ld: count %llu, first %p, last %p", r,
			 (unsigned long long)c.count, (void *)c.first, (void *)c.last);
		FZ_CHECK(c.list < fz_lists(&in->cfg), "take_back: list %u of %u", c.list,
			 fz_lists(&in->cfg));
		for (node = c.first; node && tk.n <= FZ_NDESC; node = node->next)
			tk.node[tk.n++] = last = node;
		FZ_CHECK(tk.n == r && last == c.last,
			 "take_back gave %ld, chain of %d, last %p (walked %p)", r, tk.n,
			 (void *)c.last, (const void *)last);
	}
	for (int k = 0; k < tk.n && k < FZ_NDESC; k++) {
		int i = desc_index(tk.node[k]);
		struct fz_desc *d;

		FZ_CHECK(i >= 0, "take_back: %p is not a descriptor of the pool",
			 (const void *)tk.node[k]);
		FZ_CHECK(!seen[i], "take_back: descriptor %d twice (or a cycle)", i);
		seen[i] = true;
		d = &fz.desc[i];
		FZ_CHECK(d->owner == ii && !desc_free(d),
			 "take_back from domain %d gave descriptor %d, last deferred to domain %d, "
			 "in %u, out %u", ii, i, d->owner, d->in, atomic_load(&d->out));
		/* Without a drain thread, only the harness's drains flush. */
		FZ_CHECK(!inst_no_thread(in) || d->flushed, "take_back from thread-less domain %d "
			 "gave descriptor %d, which no successful drain covered", ii, i);
		fz_check_flushed(in, d, "taken back");
		got[ngot++] = i;
	}
	/* Ours again. */
	for (int k = 0; k < ngot; k++) {
		struct fz_desc *d = &fz.desc[got[k]];

		/* Release: as the callbacks do (struct fz_desc.out); same thread here. */
		atomic_fetch_add_explicit(&d->out, 1, memory_order_release);
		d->taken++;
	}
	in->taken += (uint64_t)ngot;
	fz_total.taken += (uint64_t)ngot;
	/*
	 * One list and no drain thread: the harness's thread is on that list
	 * wherever it runs, and nothing expires but the harness's drains, so
	 * every flushed descriptor not released came back now.
	 */
	if (inst_no_thread(in) && fz_lists(&in->cfg) == 1)
		FZ_CHECK(count_held(ii, true) == 0, "take_back from one-list thread-less domain %d "
			 "(flags %#x) left %u flushed descriptors", ii, in->cfg.flags,
			 count_held(ii, true));
	if (reuse)
		for (int k = 0; k < ngot; k++)
			op_defer(to, got[k], false);
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
	{
		struct pgfree_chain c;
		long r = pgfree_take_back(NULL, &c);

		FZ_CHECK(r == -EINVAL, "take_back(NULL, chain) gave %ld", r);
		r = pgfree_take_back(NULL, NULL);
		FZ_CHECK(r == -EINVAL, "take_back(NULL, NULL) gave %ld", r);
	}
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
		/* The tracker counts a take-back as a release. */
		FZ_CHECK(out == d->in && rel + gb == d->in && d->taken <= rel,
			 "descriptor %d: accepted %u times, back %u times (released or taken back "
			 "%u, of which taken back %u; given back %u)", i, d->in, out, rel, d->taken,
			 gb);
	}
	for (int i = 0; i < fz.ninst; i++) {
		struct fz_inst *in = &fz.inst[i];
		uint64_t dfr = atomic_load(&in->t.deferred);
		uint64_t tb = atomic_load(&in->t.taken_back);
		uint64_t back = atomic_load(&in->t.released) + atomic_load(&in->t.given_back) + tb;

		FZ_CHECK(!atomic_load(&in->t.violations), "domain %d (%s, flags %#x): %s", i,
			 pgfree_design_name(in->cfg.design), in->cfg.flags,
			 tracker_first_violation(&in->t));
		FZ_CHECK(dfr == in->accepted && back == dfr && tb == in->taken,
			 "domain %d: accepted %llu, tracker deferred %llu, back %llu (taken back "
			 "%llu, the harness took %llu)", i, (unsigned long long)in->accepted,
			 (unsigned long long)dfr, (unsigned long long)back, (unsigned long long)tb,
			 (unsigned long long)in->taken);
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
			/*
			 * Variant 7: a NULL chain, or a NULL function when this
			 * slot's count of take-backs is odd; else bit 5 reuses,
			 * bit 6 in the other slot, bit 7 takes back one call each.
			 */
			op_take_back(s, (op >> 5) == 7, (op >> 5) & 1, (op >> 6) & 1 ? !s : s,
				     (op >> 5) == 7 ? fz_total.take_backs & 1 : (op >> 7) & 1);
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
 * and aborts, instead of running into ctest's timeout.  A violation names
 * its input too, and --save=FILE writes that input to FILE (to replay it
 * alone, add it to the corpus, or attach it to a report).
 */
#define REPLAY_TIMEOUT_S 20

static const char *replay_current = "(none)";
static const char *replay_save;		/* --save=FILE */

/* A violation: say which input, and keep it (--save) for the corpus or a report. */
static void replay_failed(void)
{
	FILE *f;

	fprintf(stderr, "fuzz_api_replay: in input %s\n", replay_current);
	if (!replay_save)
		return;
	f = fopen(replay_save, "wb");
	if (!f || fwrite(fz.data, 1, fz.len, f) != fz.len || fclose(f))
		fprintf(stderr, "fuzz_api_replay: cannot write %s\n", replay_save);
	else
		fprintf(stderr, "fuzz_api_replay: input saved to %s (%zu bytes)\n", replay_save,
			fz.len);
}

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
		if (!strncmp(argv[i], "--save=", 7)) {
			replay_save = argv[i] + 7;
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
		char name[96];
		size_t len;

		/* xorshift64: reproducible with --seed. */
		for (size_t i = 0; i < sizeof(buf); i++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			buf[i] = (uint8_t)(x >> 32);
		}
		len = 16 + buf[0] * 2u;
		snprintf(name, sizeof(name),
			 "random input %lu of --seed=%llu (--save=FILE keeps it)", n,
			 (unsigned long long)seed);
		replay_one(name, buf, len);
	}
	printf("fuzz_api_replay: %u corpus inputs and %lu random inputs (seed %llu) passed: "
	       "%llu calls, %llu domains (%llu take-back), %llu descriptors accepted, %llu back "
	       "(%llu taken back by %llu pgfree_take_back() calls)\n",
	       files, random_inputs, (unsigned long long)seed, fz_total.ops, fz_total.domains,
	       fz_total.tb_domains, fz_total.accepted, fz_total.back, fz_total.taken,
	       fz_total.take_backs);
	return 0;
}
#endif
