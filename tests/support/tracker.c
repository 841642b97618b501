// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The invariant checker (see tracker.h for what it checks and why the
 * checks cannot report a correct library).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "support/tracker.h"
#include "support/util.h"

/* Ranges start here, one 4 KiB page per descriptor index. */
#define TDESC_RANGE_BASE ((uintptr_t)0x40000000u)
#define TDESC_PAGE ((uintptr_t)4096u)

static const char *const tdesc_state_names[] = { "IDLE", "DEFERRED", "RELEASED" };

static const char *tdesc_state_name(int s)
{
	return s >= 0 && s <= TDESC_RELEASED ? tdesc_state_names[s] : "corrupt";
}

void tracker_init(struct tracker *t)
{
	/* Before any thread uses @t: plain zeroing is enough. */
	memset(t, 0, sizeof(*t));
	t->fail_err = -EIO;
}

struct pgfree_config tracker_config(struct tracker *t, unsigned int design, unsigned int flags)
{
	struct pgfree_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.design = design;
	cfg.flags = flags;
	cfg.ops.flush = tracker_flush;
	cfg.ops.release = tracker_release;
	cfg.ops.give_back = tracker_give_back;
	cfg.ops.range_of = t->use_range ? tracker_range_of : NULL;
	cfg.ctx = t;
	t->take_back = flags & PGFREE_F_TAKE_BACK;
	return cfg;
}

void tracker_attach(struct tracker *t, struct pgfree_domain *dom)
{
	atomic_store(&t->dom, dom);
}

int tracker_create(struct tracker *t, const struct pgfree_config *cfg,
		   struct pgfree_domain **out)
{
	int err = pgfree_domain_create(cfg, out);

	if (!err)
		tracker_attach(t, *out);
	return err;
}

void tdesc_init(struct tdesc *d, size_t n, uint32_t producer)
{
	for (size_t i = 0; i < n; i++) {
		memset(&d[i], 0, sizeof(d[i]));
		d[i].producer = producer;
		d[i].seq = (uint32_t)i;
		d[i].range.start = TDESC_RANGE_BASE + (uintptr_t)i * TDESC_PAGE;
		d[i].range.end = d[i].range.start + TDESC_PAGE;
	}
}

void tdesc_set_unknown_range(struct tdesc *d)
{
	d->range.start = d->range.end = 0;
}

void tracker_violation(struct tracker *t, const char *fmt, ...)
{
	int expect = 0;

	atomic_fetch_add(&t->violations, 1);
	/* Only the first message is kept; its writer publishes it. */
	if (!atomic_compare_exchange_strong(&t->msg_state, &expect, 1))
		return;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->msg, sizeof(t->msg), fmt, ap);
	va_end(ap);
	atomic_store_explicit(&t->msg_state, 2, memory_order_release);
}

const char *tracker_first_violation(struct tracker *t)
{
	if (atomic_load_explicit(&t->msg_state, memory_order_acquire) != 2)
		return "";
	return t->msg;
}

void tracker_stamp(struct tracker *t, struct tdesc *d)
{
	/* Relaxed: pgfree_defer() publishes both with release semantics. */
	atomic_store_explicit(&d->state, TDESC_DEFERRED, memory_order_relaxed);
	d->stamp = atomic_fetch_add(&t->clock, 1) + 1;
}

int tracker_defer(struct tracker *t, struct pgfree_domain *dom, struct tdesc *d)
{
	int err;

	tracker_stamp(t, d);
	err = pgfree_defer(dom, &d->node);
	if (err) {
		/* Not queued: it stays ours. */
		atomic_store_explicit(&d->state, TDESC_IDLE, memory_order_relaxed);
		return err;
	}
	atomic_fetch_add_explicit(&t->deferred, 1, memory_order_relaxed);
	return 0;
}

/*
 * Enter or leave a callback.  pgfree promises never to run ->flush() and
 * ->release() of one domain at the same time; an exchange that finds the
 * flag set proves otherwise.
 */
static void tracker_enter(struct tracker *t, const char *what)
{
	if (atomic_exchange(&t->busy, 1))
		tracker_violation(t, "%s called while ->flush() or ->release() was running",
				  what);
}

static void tracker_leave(struct tracker *t)
{
	atomic_store(&t->busy, 0);
}

int tracker_flush(void *ctx, const struct pgfree_range *range)
{
	struct tracker *t = ctx;
	/* First thing: this flush began at @start. */
	uint64_t start = atomic_fetch_add(&t->clock, 1) + 1;
	uint64_t call, every;
	bool fail;

	tracker_enter(t, "->flush()");
	call = atomic_fetch_add(&t->flush_calls, 1) + 1;
	if (!range) {
		tracker_violation(t, "->flush() got a NULL range");
	} else if (range->start > range->end) {
		tracker_violation(t, "->flush() got an inverted range [%#" PRIxPTR ", %#" PRIxPTR ")",
				  range->start, range->end);
	}
	if (t->flush_hook)
		t->flush_hook(t);
	test_spin_ns(atomic_load_explicit(&t->flush_cost_ns, memory_order_relaxed));

	every = atomic_load_explicit(&t->fail_every, memory_order_relaxed);
	fail = call <= atomic_load_explicit(&t->fail_first, memory_order_relaxed) ||
	       (every && call % every == 0);
	if (fail) {
		atomic_fetch_add(&t->flush_failed, 1);
		tracker_leave(t);
		return t->fail_err;
	}
	if (range) {
		atomic_store_explicit(&t->ok_range_start, range->start, memory_order_relaxed);
		atomic_store_explicit(&t->ok_range_end, range->end, memory_order_relaxed);
	}
	/* Release: ->release() reads the range after it reads this. */
	atomic_store_explicit(&t->last_ok_flush_start, start, memory_order_release);
	atomic_fetch_add(&t->flush_ok, 1);
	tracker_leave(t);
	return 0;
}

int tracker_range_of(void *ctx, const struct pgfree_llist_node *node, struct pgfree_range *range)
{
	const struct tdesc *d = pgfree_llist_entry(node, struct tdesc, node);

	(void)ctx;
	if (d->range.start == d->range.end)
		return -ENOENT;
	*range = d->range;
	return 0;
}

/*
 * Check one released descriptor against the last good flush, then move it
 * to RELEASED.  @ok_start and the range were read once at the callback's
 * entry: nothing may flush while ->release() runs.
 */
static void tracker_check_one(struct tracker *t, struct tdesc *d, uint64_t ok_start,
			      uintptr_t rs, uintptr_t re, bool check_range)
{
	int prev = TDESC_DEFERRED;

	if (!atomic_compare_exchange_strong(&d->state, &prev, TDESC_RELEASED)) {
		tracker_violation(t, "descriptor %u of producer %u released in state %s (%s)",
				  d->seq, d->producer, tdesc_state_name(prev),
				  prev == TDESC_RELEASED ? "released twice" :
							   "released, never deferred");
		atomic_store(&d->state, TDESC_RELEASED);
	}
	if (ok_start <= d->stamp)
		tracker_violation(t, "descriptor %u of producer %u (stamp %" PRIu64 ") released "
				  "with no successful flush begun after its defer (last one "
				  "began at %" PRIu64 ")", d->seq, d->producer, d->stamp,
				  ok_start);
	if (!check_range) {
		/* Taken back: flushed by some earlier flush, not necessarily the last. */
	} else if (t->use_range && d->range.start != d->range.end) {
		if (d->range.start < rs || d->range.end > re)
			tracker_violation(t, "descriptor %u of producer %u: range [%#" PRIxPTR
					  ", %#" PRIxPTR ") not inside the flushed [%#" PRIxPTR
					  ", %#" PRIxPTR ")", d->seq, d->producer,
					  d->range.start, d->range.end, rs, re);
	} else if (rs != 0 || re != PGFREE_FLUSH_ALL) {
		/* Unknown range, or no ->range_of(): the flush covers everything. */
		tracker_violation(t, "descriptor %u of producer %u has no known range, but the "
				  "flush covered only [%#" PRIxPTR ", %#" PRIxPTR ")",
				  d->seq, d->producer, rs, re);
	}
	atomic_fetch_add_explicit(&d->releases, 1, memory_order_relaxed);
}

void tracker_release(void *ctx, struct pgfree_llist_node *batch)
{
	struct tracker *t = ctx;
	struct tdesc *d, *tmp;
	uint64_t ok_start, n = 0;
	uintptr_t rs, re;

	tracker_enter(t, "->release()");
	atomic_fetch_add(&t->release_calls, 1);
	if (!batch)
		atomic_fetch_add(&t->empty_releases, 1);
	ok_start = atomic_load_explicit(&t->last_ok_flush_start, memory_order_acquire);
	rs = atomic_load_explicit(&t->ok_range_start, memory_order_relaxed);
	re = atomic_load_explicit(&t->ok_range_end, memory_order_relaxed);
	if (t->release_hook)
		t->release_hook(t, batch);

	/* _safe: a re-defer rewrites d->node.next. */
	pgfree_llist_for_each_entry_safe(d, tmp, batch, node) {
		tracker_check_one(t, d, ok_start, rs, re, !t->take_back);
		n++;
		if (d->redefer) {
			struct pgfree_domain *dom = atomic_load(&t->dom);
			int err;

			d->redefer--;
			d->redefers_done++;
			err = tracker_defer(t, dom, d);
			if (err)
				tracker_violation(t, "re-defer from ->release() failed: %d", err);
			else
				atomic_fetch_add(&t->redeferred, 1);
		}
	}
	atomic_fetch_add(&t->released, n);
	tracker_leave(t);
}

void tracker_release_chain(void *ctx, const struct pgfree_chain *chain)
{
	struct tracker *t = ctx;
	const struct pgfree_llist_node *node, *last = NULL;
	uint64_t n = 0;

	atomic_fetch_add(&t->chain_calls, 1);
	for (node = chain->first; node; node = node->next) {
		last = node;
		n++;
	}
	if (!chain->first || n != chain->count || last != chain->last)
		tracker_violation(t, "->release_chain(): count %" PRIu64 " (walked %" PRIu64
				  "), last %p (walked %p), first %p", chain->count, n,
				  (void *)chain->last, (const void *)last, (void *)chain->first);
	if (t->nr_lists && chain->list >= t->nr_lists)
		tracker_violation(t, "->release_chain(): list %u of %u", chain->list, t->nr_lists);
	tracker_release(ctx, chain->first);
}

long tracker_take_back(struct tracker *t, struct pgfree_domain *dom, struct pgfree_chain *out)
{
	struct pgfree_chain c;
	struct tdesc *d, *tmp;
	const struct pgfree_llist_node *last = NULL;
	uint64_t ok_start, n = 0;
	long r;

	r = pgfree_take_back(dom, &c);
	if (out)
		*out = c;
	if (r <= 0)
		return r;
	/* Acquire: pairs with the flush's release store of its start. */
	ok_start = atomic_load_explicit(&t->last_ok_flush_start, memory_order_acquire);
	pgfree_llist_for_each_entry_safe(d, tmp, c.first, node) {
		tracker_check_one(t, d, ok_start, 0, 0, false);
		last = &d->node;
		n++;
	}
	if (n != (uint64_t)r || n != c.count || last != c.last || (last && last->next))
		tracker_violation(t, "pgfree_take_back(): returned %ld, count %" PRIu64
				  " (walked %" PRIu64 "), last %p (walked %p)", r, c.count, n,
				  (void *)c.last, (const void *)last);
	atomic_fetch_add(&t->taken_back, n);
	return r;
}

struct take_each {
	struct tracker *t;
	void (*then)(void *arg, struct tdesc *d);
	void *arg;
	uint64_t n;
};

static void take_each_one(void *arg, struct pgfree_llist_node *node)
{
	struct take_each *te = arg;
	struct tdesc *d = pgfree_llist_entry(node, struct tdesc, node);
	/*
	 * Acquire: pairs with the flush's release store of its start.  Read
	 * here, after pgfree_take_back_each()'s exchange handed the node over,
	 * as tracker_take_back() reads it after pgfree_take_back() returned.
	 */
	uint64_t ok_start = atomic_load_explicit(&te->t->last_ok_flush_start,
						 memory_order_acquire);

	tracker_check_one(te->t, d, ok_start, 0, 0, false);
	te->n++;
	if (te->then)
		te->then(te->arg, d);
}

long tracker_take_back_each(struct tracker *t, struct pgfree_domain *dom,
			    void (*then)(void *arg, struct tdesc *d), void *arg)
{
	struct take_each te = { .t = t, .then = then, .arg = arg };
	long r = pgfree_take_back_each(dom, take_each_one, &te);

	if (r < 0 ? te.n != 0 : te.n != (uint64_t)r)
		tracker_violation(t, "pgfree_take_back_each(): returned %ld after %" PRIu64
				  " calls", r, te.n);
	if (te.n)
		atomic_fetch_add(&t->taken_back, te.n);
	return r;
}

void tracker_give_back(void *ctx, struct pgfree_llist_node *batch)
{
	struct tracker *t = ctx;
	struct tdesc *d, *tmp;
	uint64_t n = 0;

	tracker_enter(t, "->give_back()");
	/* _safe: the caller owns the node again and may queue it at once. */
	pgfree_llist_for_each_entry_safe(d, tmp, batch, node) {
		int want = TDESC_DEFERRED;

		if (!atomic_compare_exchange_strong(&d->state, &want, TDESC_IDLE))
			tracker_violation(t, "->give_back() got producer %u seq %u in state %s",
					  d->producer, d->seq, tdesc_state_name(want));
		atomic_fetch_add(&d->given_backs, 1);
		n++;
	}
	atomic_fetch_add(&t->given_back, n);
	tracker_leave(t);
}

size_t tracker_verify(struct tracker *t, struct tdesc *d, size_t n, char *msg, size_t len)
{
	size_t bad = 0;
	uint64_t deferred = atomic_load(&t->deferred);
	uint64_t released = atomic_load(&t->released) + atomic_load(&t->given_back) +
			    atomic_load(&t->taken_back);
	uint64_t violations = atomic_load(&t->violations);

	msg[0] = '\0';
	if (violations) {
		snprintf(msg, len, "%" PRIu64 " violations; first: %s", violations,
			 tracker_first_violation(t));
		bad++;
	}
	for (size_t i = 0; i < n; i++) {
		int s = atomic_load(&d[i].state);
		uint32_t r = atomic_load(&d[i].releases);

		if (s == TDESC_RELEASED && r == d[i].redefers_done + 1 && !d[i].redefer)
			continue;
		if (s == TDESC_IDLE && atomic_load(&d[i].given_backs))
			continue;
		if (!bad++)
			snprintf(msg, len, "descriptor %zu (producer %u seq %u): state %s, released "
				 "%u times, re-deferred %u times, %u re-defers left",
				 i, d[i].producer, d[i].seq, tdesc_state_name(s), r,
				 d[i].redefers_done, d[i].redefer);
	}
	if (released != deferred) {
		if (!bad)
			snprintf(msg, len, "released or gave back %" PRIu64 " of %" PRIu64 " deferred",
				 released, deferred);
		bad++;
	}
	return bad;
}

size_t tracker_check_stats(struct tracker *t, struct pgfree_domain *dom, uint64_t total,
			   char *msg, size_t len)
{
	struct pgfree_stats s;
	uint64_t ok = atomic_load(&t->flush_ok), failed = atomic_load(&t->flush_failed);
	size_t bad = 0;
	int err;

#define STATS_EXPECT(cond, ...)						\
	do {								\
		if (!(cond) && !bad++)					\
			snprintf(msg, len, __VA_ARGS__);		\
	} while (0)

	msg[0] = '\0';
	err = pgfree_stats(dom, &s);
	if (err) {
		snprintf(msg, len, "pgfree_stats() failed: %d (%s)", err, pgfree_strerror(err));
		return 1;
	}
	STATS_EXPECT(s.released == total, "stats.released %" PRIu64 ", want %" PRIu64,
		     s.released, total);
	STATS_EXPECT(s.deferred == total, "stats.deferred %" PRIu64 ", want %" PRIu64,
		     s.deferred, total);
	STATS_EXPECT(s.backlog == 0, "stats.backlog %" PRIu64 " after everything was released",
		     s.backlog);
	STATS_EXPECT(s.deferred == s.released + s.backlog,
		     "stats.deferred %" PRIu64 " != released %" PRIu64 " + backlog %" PRIu64,
		     s.deferred, s.released, s.backlog);
	STATS_EXPECT(s.flushes >= 1 && s.flushes <= s.released,
		     "stats.flushes %" PRIu64 " not in [1, released %" PRIu64 "]",
		     s.flushes, s.released);
	STATS_EXPECT(s.largest_batch >= 1 && s.largest_batch <= s.released,
		     "stats.largest_batch %" PRIu64 " not in [1, released %" PRIu64 "]",
		     s.largest_batch, s.released);
	STATS_EXPECT(s.flushes == ok, "stats.flushes %" PRIu64 ", but ->flush() returned 0 "
		     "%" PRIu64 " times", s.flushes, ok);
	STATS_EXPECT(s.flush_failures == failed, "stats.flush_failures %" PRIu64 ", but "
		     "->flush() failed %" PRIu64 " times", s.flush_failures, failed);
	/* Whether a failed attempt counts as a drain is not specified. */
	STATS_EXPECT(s.drains >= 1 && s.drains <= s.flushes + s.flush_failures,
		     "stats.drains %" PRIu64 " not in [1, flushes %" PRIu64 " + failures %"
		     PRIu64 "]", s.drains, s.flushes, s.flush_failures);
#undef STATS_EXPECT
	return bad;
}
