/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_TESTS_TRACKER_H
#define PGFREE_TESTS_TRACKER_H
/*
 * A descriptor type and a set of pgfree callbacks that check pgfree's one
 * invariant as the library runs:
 *
 *   a descriptor is passed to ->release() only after a call of ->flush()
 *   that began after the descriptor was queued (inside pgfree_defer()) has
 *   itself returned 0; nothing is lost, released twice, or released
 *   unflushed.
 *
 * How: one seq_cst logical clock.  tracker_defer() takes a stamp from it
 * immediately before pgfree_defer(); ->flush() takes one at entry and, when
 * it succeeds, publishes it as the start of the last good flush.  When
 * ->release() sees a descriptor, that last good flush must have started
 * after the descriptor's stamp.  The stamp is taken before pgfree_defer()
 * (it cannot be taken after it returns: ->release() may run first), so the
 * check is a little weaker than the contract but never reports a correct
 * library: a node in a flushed batch was linked (after its stamp) before
 * the drain detached it, which is before that flush began.
 *
 * Each descriptor also carries a state (IDLE -> DEFERRED -> RELEASED) moved
 * with compare-and-swap, so a double release or the release of something
 * never deferred is seen, and a "busy" flag catches ->flush() and
 * ->release() running at the same time.
 *
 * Callbacks run in library threads, where a test assertion cannot unwind.
 * So they never assert: they count violations and keep the first message,
 * and the test asserts on tracker_verify() from its own thread.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pgfree/pgfree.h>

enum tdesc_state {
	TDESC_IDLE = 0,		/* never deferred (or the defer failed) */
	TDESC_DEFERRED,		/* handed to pgfree_defer() */
	TDESC_RELEASED,		/* seen by ->release() */
};

/**
 * struct tdesc - a tracked descriptor (stands for a page-table page)
 * @node: what pgfree queues
 * @state: enum tdesc_state, moved by compare-and-swap
 * @stamp: the clock value taken just before the last pgfree_defer()
 * @producer: which thread deferred it (for messages and order checks)
 * @seq: its index in its array
 * @range: the virtual range its table mapped; start == end means unknown
 * @releases: times ->release() received it
 * @redefer: times ->release() still has to defer it again
 * @redefers_done: times ->release() deferred it again
 * @given_backs: times ->give_back() received it (it is then IDLE again)
 */
struct tdesc {
	struct pgfree_llist_node node;
	_Atomic int state;
	uint64_t stamp;
	uint32_t producer;
	uint32_t seq;
	struct pgfree_range range;
	_Atomic uint32_t releases;
	uint32_t redefer;
	uint32_t redefers_done;
	_Atomic uint32_t given_backs;
};

struct tracker;

/* Called inside ->flush(), after the entry stamp: may call into pgfree. */
typedef void (*tracker_flush_hook)(struct tracker *t);
/* Called inside ->release(), before the batch is checked. */
typedef void (*tracker_release_hook)(struct tracker *t, struct pgfree_llist_node *batch);

/**
 * struct tracker - the checker's state, shared by the callbacks and the test
 * @dom: the domain (for re-defers and hooks); set with tracker_attach()
 * @flush_cost_ns: each flush spins this long (a stand-in for an IOTLB flush)
 * @fail_first: the first @fail_first flush calls fail
 * @fail_every: when non-zero, every @fail_every-th flush call fails
 * @fail_err: what a failing flush returns (negative errno)
 * @use_range: the domain has ->range_of(): check ranges against the flush
 * @flush_hook: optional, see tracker_flush_hook
 * @release_hook: optional, see tracker_release_hook
 * @hook_arg: for the hooks' use
 * @hook_result: for the hooks' use (e.g. the error a nested call returned)
 * @hook_calls: for the hooks' use
 * @clock: the logical clock
 * @last_ok_flush_start: clock value at the entry of the last flush that
 *	returned 0; 0 before the first
 * @ok_range_start: range of that flush
 * @ok_range_end: range of that flush
 * @busy: non-zero while ->flush() or ->release() runs
 * @flush_calls: ->flush() calls
 * @flush_ok: of which returned 0
 * @flush_failed: of which failed (injected)
 * @release_calls: ->release() calls
 * @empty_releases: ->release() calls with an empty batch
 * @deferred: successful tracker_defer() calls, re-defers included
 * @released: descriptors released
 * @redeferred: re-defers done from ->release()
 * @given_back: descriptors handed to ->give_back()
 * @taken_back: descriptors taken back with tracker_take_back() or
 *	tracker_take_back_each()
 * @chain_calls: ->release_chain() calls
 * @nr_lists: when not 0, ->release_chain()'s list must be below it
 * @take_back: a PGFREE_F_TAKE_BACK domain (tracker_config() sets it): what
 *	->release() gets may have waited for take-back since an earlier flush,
 *	so its range is not checked against the last one
 * @violations: invariant violations seen
 * @msg_state: 0, 1 while the first message is written, 2 once it is
 * @msg: the first violation's description
 */
struct tracker {
	_Atomic(struct pgfree_domain *) dom;
	_Atomic uint64_t flush_cost_ns;
	_Atomic unsigned int fail_first;
	_Atomic unsigned int fail_every;
	int fail_err;
	bool use_range;
	tracker_flush_hook flush_hook;
	tracker_release_hook release_hook;
	void *hook_arg;
	_Atomic long hook_result;
	_Atomic unsigned int hook_calls;

	_Atomic uint64_t clock;
	_Atomic uint64_t last_ok_flush_start;
	_Atomic uintptr_t ok_range_start;
	_Atomic uintptr_t ok_range_end;
	_Atomic int busy;

	_Atomic uint64_t flush_calls;
	_Atomic uint64_t flush_ok;
	_Atomic uint64_t flush_failed;
	_Atomic uint64_t release_calls;
	_Atomic uint64_t empty_releases;
	_Atomic uint64_t deferred;
	_Atomic uint64_t released;
	_Atomic uint64_t redeferred;
	_Atomic uint64_t given_back;
	_Atomic uint64_t taken_back;
	_Atomic uint64_t chain_calls;
	unsigned int nr_lists;
	bool take_back;

	_Atomic uint64_t violations;
	_Atomic int msg_state;
	char msg[320];
};

/* Reset @t: no failures, no cost, no hooks, no range checking. */
void tracker_init(struct tracker *t);

/**
 * tracker_config() - a domain configuration wired to @t's callbacks
 * @t: the tracker (its @use_range decides whether ->range_of is set)
 * @design: enum pgfree_design
 * @flags: PGFREE_F_*
 *
 * Return: a config with every other field 0 (defaults).
 */
struct pgfree_config tracker_config(struct tracker *t, unsigned int design, unsigned int flags);

/* Tell @t which domain its callbacks serve (before any re-defer). */
void tracker_attach(struct tracker *t, struct pgfree_domain *dom);

/**
 * tracker_create() - pgfree_domain_create() and tracker_attach()
 * @t: the tracker
 * @cfg: the configuration (from tracker_config(), then adjusted)
 * @out: the new domain
 *
 * Return: what pgfree_domain_create() returned.
 */
int tracker_create(struct tracker *t, const struct pgfree_config *cfg,
		   struct pgfree_domain **out);

/* Every design, for loops over them. */
#define for_each_design(d) for (unsigned int d = 0; d < PGFREE_DESIGN_COUNT; d++)

/**
 * tdesc_init() - set up an array of descriptors
 * @d: the array
 * @n: its length
 * @producer: stored in each
 *
 * Each gets seq = its index and a distinct 4 KiB range (as if each table
 * mapped its own page); state IDLE.
 */
void tdesc_init(struct tdesc *d, size_t n, uint32_t producer);

/* Mark @d's range unknown: ->range_of() will return an error for it. */
void tdesc_set_unknown_range(struct tdesc *d);

/**
 * tracker_stamp() - mark @d deferred and stamp it, without queueing it
 * @t: the tracker
 * @d: the descriptor
 *
 * The first half of tracker_defer(); the negative controls use it alone.
 */
void tracker_stamp(struct tracker *t, struct tdesc *d);

/**
 * tracker_defer() - stamp @d and pgfree_defer() it
 * @t: the tracker
 * @dom: the domain
 * @d: the descriptor, IDLE or RELEASED
 *
 * Return: pgfree_defer()'s result; on error @d is IDLE again.
 */
int tracker_defer(struct tracker *t, struct pgfree_domain *dom, struct tdesc *d);

/* The callbacks, usable by hand (the negative controls call them). */
int tracker_flush(void *ctx, const struct pgfree_range *range);
void tracker_release(void *ctx, struct pgfree_llist_node *batch);
/*
 * ->release_chain(): checks the chain's last node and count against the
 * chain itself, and its list against the tracker's @nr_lists when set, then
 * checks and counts it as tracker_release() does.
 */
void tracker_release_chain(void *ctx, const struct pgfree_chain *chain);

/**
 * tracker_take_back() - pgfree_take_back(), checked as ->release() is
 * @t: the tracker
 * @dom: a PGFREE_F_TAKE_BACK domain
 * @out: the chain taken back, or NULL
 *
 * Checks every descriptor taken back as tracker_release() checks a
 * released one (state, a successful flush begun after its defer; not the
 * range, which a later flush may not cover), and the chain's count and
 * last node.  Any thread (violations are recorded, not asserted).
 * Return: pgfree_take_back()'s result.
 */
long tracker_take_back(struct tracker *t, struct pgfree_domain *dom, struct pgfree_chain *out);

/**
 * tracker_take_back_each() - pgfree_take_back_each(), checked as ->release() is
 * @t: the tracker
 * @dom: a PGFREE_F_TAKE_BACK domain
 * @then: called after each descriptor is checked, with @arg (the descriptor
 *	is the caller's then: it may defer it again); or NULL
 * @arg: passed to @then
 *
 * Checks each descriptor handed to the function as tracker_take_back()
 * does, and that the return value is the number of calls.
 * Return: pgfree_take_back_each()'s result.
 */
long tracker_take_back_each(struct tracker *t, struct pgfree_domain *dom,
			    void (*then)(void *arg, struct tdesc *d), void *arg);
/* ->give_back(): each node must be DEFERRED; it becomes IDLE (the caller's). */
void tracker_give_back(void *ctx, struct pgfree_llist_node *batch);
int tracker_range_of(void *ctx, const struct pgfree_llist_node *node, struct pgfree_range *range);

/* Record a violation (first message kept).  Any thread. */
__attribute__((format(printf, 2, 3)))
void tracker_violation(struct tracker *t, const char *fmt, ...);

/* The first violation's message, or "" (call after the callbacks quiesced). */
const char *tracker_first_violation(struct tracker *t);

/**
 * tracker_verify() - the end-of-test check
 * @t: the tracker, with the domain quiescent (after a barrier, a final
 *	drain or destroy)
 * @d: every descriptor the test used
 * @n: how many
 * @msg: filled with the first problem found
 * @len: size of @msg
 *
 * Checks: no violation recorded; every descriptor RELEASED, received by
 * ->release() (or taken back) once per defer, no re-defer left, or else
 * IDLE and given back at least once; released + given_back + taken_back
 * == deferred.
 *
 * Return: the number of problems (0 when all is well).
 */
size_t tracker_verify(struct tracker *t, struct tdesc *d, size_t n, char *msg, size_t len);

/**
 * tracker_check_stats() - compare pgfree_stats() with what @t saw
 * @t: the tracker, domain quiescent
 * @dom: the domain
 * @total: descriptors the test deferred and expects released
 * @msg: filled with the first problem found
 * @len: size of @msg
 *
 * released == deferred == @total, backlog 0, 1 <= flushes <= released,
 * 1 <= largest_batch <= released, flushes and flush_failures equal to the
 * ->flush() results @t saw, drains >= 1.
 *
 * Return: the number of problems, or 1 when pgfree_stats() fails.
 */
size_t tracker_check_stats(struct tracker *t, struct pgfree_domain *dom, uint64_t total,
			   char *msg, size_t len);

#endif /* PGFREE_TESTS_TRACKER_H */
