/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_PGFREE_H
#define PGFREE_PGFREE_H
/*
 * pgfree: deferred release of page-table descriptors behind a secondary-TLB
 * flush.
 *
 * A page that held page tables may be reused only after every cache that may
 * hold a walk through it (the CPU TLB, and an IOMMU's IOTLB and
 * paging-structure caches when the device shares the address space) has been
 * flushed.  pgfree_defer() queues such a descriptor; a drain takes everything
 * queued, calls the user's flush callback ONCE for the whole batch, and only
 * when it has returned 0 hands the batch to the user's release callback.
 *
 * The guarantee (the one invariant): a descriptor is passed to ->release()
 * only after a call of ->flush() that began after the descriptor was queued
 * (inside pgfree_defer()) has itself returned 0.  Nothing deferred is lost,
 * released twice, or released unflushed; a batch whose flush failed is
 * retried with back-off, or handed to ->give_back(), whichever drain saw
 * the failure.
 *
 * Hand a node to pgfree_defer() only when you are done with it: from the
 * moment it is queued, the drain may flush and release it, and ->release()
 * can run (in the drain thread) before pgfree_defer() has even returned.
 * After a successful pgfree_defer() the caller must not touch the node or
 * the object that embeds it again; it may already be freed.
 *
 * The default design (PGFREE_DESIGN_PERCPU) keeps one lock-less list
 * (<pgfree/llist.h>) per CPU, each on its own cache line; producers never
 * take a lock and never share a cache line with each other in the common
 * case.  One consumer at a time (the domain's drain thread, or a caller of
 * pgfree_drain()) detaches every list with one exchange each.
 *
 * Which calls may run at the same time on one domain:
 *
 *                 | defer | drain | barrier | stats | destroy
 * defer           |   -   |   -   |    -    |   -   |    X
 * drain           |       |   S   |    S    |   S   |    X
 * barrier         |       |       |    -    |   -   |    X
 * stats           |       |       |         |   -   |    X
 * destroy         |       |       |         |       |    X
 *
 *  '-': run together freely (defer is lock-free, wait-free but for CAS retries)
 *  'S': run together, serialized inside the library (one drain at a time)
 *  'X': the caller must not: destroy ends the domain, and a call that has not
 *       returned when destroy starts races with it.  A call made after
 *       destroy returned gets -ESHUTDOWN (the domain's struct is kept as a
 *       tombstone for the life of the process, so this is an error, not a
 *       use-after-free).
 *
 * pgfree_defer_wait() runs with defer, drain, barrier and stats like
 * pgfree_defer(), and so do pgfree_take_back() and pgfree_take_back_each()
 * (lock-free: exchanges on the CPU's list of flushed descriptors, which a
 * drain fills);
 * pgfree_barrier_timeout() and pgfree_domain_destroy_timeout() are
 * pgfree_barrier() and pgfree_domain_destroy() with a time limit.
 *
 * From inside ->flush(), ->release() or ->give_back() of a domain,
 * pgfree_defer() and pgfree_defer_wait() on the same domain work (they queue
 * for a later batch; the latter does not wait); pgfree_drain(),
 * pgfree_barrier(), pgfree_stats() and pgfree_domain_destroy() on it refuse
 * with -EDEADLK.
 *
 * fork(): a child of a process with live domains gets working copies of
 * them: their drain threads are restarted in the child, which then flushes
 * and releases the child's copies of whatever was queued; the parent is
 * undisturbed (fork waits for a running drain of each domain to finish).
 *
 * Errors are negative errno values; pgfree_strerror() describes them.
 */

#include <errno.h>	/* the E* constants pgfree's errors are negations of */
#include <stddef.h>
#include <stdint.h>

#include <pgfree/export.h>
#include <pgfree/llist.h>
#include <pgfree/version.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct pgfree_range - a virtual address range [start, end)
 * @start: first address
 * @end: one past the last address; PGFREE_FLUSH_ALL means "to the end"
 */
struct pgfree_range {
	uintptr_t start;
	uintptr_t end;
};

/* The end of the range passed to ->flush() when no ->range_of() callback is
 * given, or one reported "unknown": the range is then [0, PGFREE_FLUSH_ALL),
 * everything (the kernel flushes PAGE_OFFSET..TLB_FLUSH_ALL). */
#define PGFREE_FLUSH_ALL UINTPTR_MAX

/**
 * struct pgfree_chain - flushed descriptors of one per-CPU list
 * @first: the newest; the chain runs through ->next to NULL
 * @last: the oldest, whose ->next is NULL (so that a chain is spliced in
 *	O(1): @last->next = the pool's old first)
 * @count: how many descriptors
 * @list: the list they were deferred to, 0 .. nr_slots - 1 (the CPU
 *	number modulo nr_slots), or nr_slots for those deferred by threads the
 *	restartable-sequence push could not serve (PGFREE_F_RSEQ domains)
 */
struct pgfree_chain {
	struct pgfree_llist_node *first;
	struct pgfree_llist_node *last;
	uint64_t count;
	unsigned int list;
};

/**
 * struct pgfree_ops - what the user plugs in
 * @flush: invalidate the secondary TLB (an IOMMU IOTLB and paging-structure
 *	cache invalidation, a "wait descriptor" included) for @range, the union
 *	of the ranges of the batch.  Called once per batch, after every
 *	descriptor of the batch was detached from the per-CPU lists and before
 *	any of them is released; never concurrently with itself or with
 *	->release() of the same domain.  Returns 0 or a negative errno: on
 *	failure nothing of the batch is released; the batch is kept and the
 *	next drain flushes it again (with whatever was queued since).
 *	Whichever drain failed (the drain thread, pgfree_drain(), a barrier,
 *	destroy, pgfree_defer_wait()), the drain thread, when the domain has
 *	one, retries the kept batch on its own after a growing pause (1 ms
 *	doubling to 100 ms); barriers, destroy and pgfree_defer_wait() retry
 *	with the same pause while they wait; without a drain thread, nothing
 *	else retries it until the caller drains again.  PGFREE_FLUSH_GIVE_UP
 *	hands the batch to ->give_back() when there is one; without it, it
 *	is a failure like any other (kept and retried).  Required.
 * @release: free the batch: a NULL-terminated chain of nodes linked through
 *	->next: each list's descriptors newest first (as a list gives them
 *	up), the lists one after the other.  Walk it with
 *	pgfree_llist_for_each_entry_safe(); each node is the user's own, so
 *	one chain may mix kinds of object (a descriptor with a destructor, an
 *	order-0 page, a higher-order page) that the user tells apart.  May call
 *	pgfree_defer() on the same domain.  Required unless @release_chain is
 *	given.
 * @range_of: optional.  Report the virtual range a descriptor's table
 *	mapped, so that ->flush() gets the union of the batch's ranges instead
 *	of everything.  Returns 0, or non-zero for "unknown" (the batch's flush
 *	then covers everything).  Called by the drain, before ->flush().
 * @give_back: optional.  When ->flush() returns PGFREE_FLUSH_GIVE_UP, the
 *	batch it was flushing (a chain as for ->release(), of descriptors that
 *	were NOT flushed) is handed here instead of to ->release(): the
 *	descriptors are the caller's again, never freed by pgfree.  Without
 *	->give_back, PGFREE_FLUSH_GIVE_UP is an ordinary failure: the batch
 *	is kept and retried with back-off, as after any other error.
 * @release_chain: optional; when given, called instead of ->release(): once
 *	per list that gave descriptors to the batch, with that list's flushed
 *	chain, its last node, its count and the list's number (struct
 *	pgfree_chain), so that a per-CPU pool splices it onto the part of list
 *	@chain->list in O(1).  Same context and rules as ->release().
 */
struct pgfree_ops {
	int (*flush)(void *ctx, const struct pgfree_range *range);
	void (*release)(void *ctx, struct pgfree_llist_node *batch);
	int (*range_of)(void *ctx, const struct pgfree_llist_node *node,
			struct pgfree_range *range);
	void (*give_back)(void *ctx, struct pgfree_llist_node *batch);
	void (*release_chain)(void *ctx, const struct pgfree_chain *chain);
};

/*
 * What ->flush() returns to give up on its batch.  With ->give_back, the
 * batch goes there and pgfree stops retrying it (pgfree_drain() returns
 * PGFREE_FLUSH_GIVE_UP, barriers -ECANCELED).  Without ->give_back it is
 * an ordinary failure: the batch is kept and retried with back-off
 * (pgfree_drain() returns it as it returns any flush error).
 */
#define PGFREE_FLUSH_GIVE_UP (-ECANCELED)

/**
 * enum pgfree_design - how deferred descriptors are queued
 * @PGFREE_DESIGN_PERCPU: per-CPU lock-less lists, a wake-up only on a
 *	list's empty to non-empty transition while the drain thread sleeps.
 *	The default.
 * @PGFREE_DESIGN_V5: Linux 6.19 as merged ("[PATCH v5 6/8] mm: Introduce
 *	deferred freeing for kernel page tables", Dave Hansen / Lu Baolu,
 *	19 Sep 2025, Message-ID
 *	<20250919054007.472493-7-baolu.lu@linux.intel.com>): one global list under
 *	a spinlock, list_add per free, schedule_work() on every free; the worker
 *	splices under the lock, unlocks, flushes once, frees.  The spinlock is
 *	a queued one, as the kernel's (PGFREE_F_TAS_LOCK for a plain one).
 * @PGFREE_DESIGN_V3: what the v3 review objected to ("Re: [PATCH v3 1/1]
 *	iommu/sva: Invalidate KVA range on kernel TLB flush", Ethan Zhao,
 *	10 Aug 2025): like v5, but the worker
 *	releases the pages while still holding the global lock.
 * @PGFREE_DESIGN_GLOBAL_LLIST: one shared lock-less list: no lock, but one
 *	contended cache line for every producer.
 *
 * All designs share the drain, the flush-once-per-batch rule, the release
 * path, the barrier and the statistics; only the queue differs.
 */
enum pgfree_design {
	PGFREE_DESIGN_PERCPU = 0,
	PGFREE_DESIGN_V5,
	PGFREE_DESIGN_V3,
	PGFREE_DESIGN_GLOBAL_LLIST,
	PGFREE_DESIGN_COUNT
};

/* Flags for struct pgfree_config.flags. */
/* No drain thread: the caller drains with pgfree_drain() (an event loop). */
#define PGFREE_F_NO_THREAD 0x1u
/* No batching delay: the drain thread drains as soon as it is woken
 * (lowest latency; producers then pay more wake-ups under a steady load). */
#define PGFREE_F_NO_DELAY 0x2u
/* If the drain thread cannot be started, create the domain anyway, without
 * it: the caller drains (pgfree_drain(), pgfree_barrier(), and
 * pgfree_defer_wait() over the mark).  pgfree_stats().drain_thread says
 * which.  Without this flag, create fails with the error. */
#define PGFREE_F_THREAD_FALLBACK 0x4u
/* Count the backlog exactly (one more atomic add per pgfree_defer(), on the
 * CPU's own cache line), so that pgfree_defer_wait() holds the backlog at
 * @backlog_max: a hard memory bound.  Needs @backlog_max. */
#define PGFREE_F_BOUNDED 0x8u
/* Keep the PERCPU design's compare-and-swap push even where the
 * restartable-sequence push (no locked instruction per pgfree_defer(), one
 * membarrier() per drain) is available and the library was built to use it
 * by default (PGFREE_RSEQ_DEFAULT); pgfree_stats().rseq says which push a
 * domain uses.  See pgfree_defer(). */
#define PGFREE_F_NO_RSEQ 0x10u
/* Use the restartable-sequence push for a PERCPU domain where it is
 * available (else the CAS, silently: check pgfree_stats().rseq): x86-64 or
 * AArch64, glibc registered rseq, the kernel has
 * MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, nr_slots covers every possible
 * CPU (/sys/devices/system/cpu/possible; set it when that exceeds the
 * configured CPUs), no PGFREE_F_BOUNDED.  A library built without
 * PGFREE_RSEQ_DEFAULT, the default build, uses the CAS otherwise (it was
 * measured faster end to end, see README).  Not with PGFREE_F_NO_RSEQ. */
#define PGFREE_F_RSEQ 0x20u
/* The locked baselines (V5, V3) only: take glibc's pthread_spin_lock() (an
 * exchange loop whose waiters all spin on the lock word) instead of the
 * default queued spinlock, a port of the kernel's qspinlock (the lock
 * behind spin_lock()).  For measuring how much of the baselines' cost is
 * the lock's; -EINVAL with the lock-less designs. */
#define PGFREE_F_TAS_LOCK 0x40u
/* Take back: a drain hands each list's flushed descriptors back to that
 * list, where pgfree_take_back() on the list's CPU takes them with one
 * exchange, instead of passing them to ->release() on the drain's CPU; the
 * drain then touches no descriptor (unless ->range_of is set).  Flushed
 * descriptors not taken back within take_back_us go to ->release() (or
 * ->release_chain()).  PERCPU and GLOBAL_LLIST only; not with
 * PGFREE_F_BOUNDED. */
#define PGFREE_F_TAKE_BACK 0x80u

/* Defaults, used where a config field is 0. */
#define PGFREE_DEFAULT_BATCH_DELAY_US 50u	/* gather for 50 us after a wake-up */
#define PGFREE_DEFAULT_BATCH_MAX 4096u
#define PGFREE_MAX_SLOTS 4096u
#define PGFREE_MAX_BATCH_DELAY_US 1000000u	/* 1 s */
#define PGFREE_MAX_BACKLOG (1u << 30)
#define PGFREE_DEFAULT_TAKE_BACK_US 1000u	/* flushed descriptors wait 1 ms for take-back */
#define PGFREE_MAX_TAKE_BACK_US 1000000u	/* 1 s */
/* Flushed chains a list holds for take-back; a drain that finds them all
 * still there hands the oldest to ->release() to make room. */
#define PGFREE_TAKE_BACK_CHAINS 8u

/**
 * struct pgfree_config - how to build a domain
 * @design: the queueing design, enum pgfree_design
 * @flags: PGFREE_F_* flags
 * @ops: the callbacks
 * @ctx: passed as is to every callback
 * @nr_slots: number of per-CPU lists; 0 means the configured CPU count.
 *	A CPU whose number is >= @nr_slots shares slot (cpu % @nr_slots).
 *	At most PGFREE_MAX_SLOTS.  Ignored by the single-list designs.
 * @batch_delay_us: after being woken, the drain thread waits up to this
 *	long for more descriptors before it drains, so that one flush and one
 *	wake-up cover more of them.  When it finds work queued right after a
 *	drain, the delay counts from that drain's detach: a batch that has
 *	waited out a flush as long as the delay is drained at once.
 *	0 means PGFREE_DEFAULT_BATCH_DELAY_US (50);
 *	PGFREE_F_NO_DELAY drains at once instead.  At most
 *	PGFREE_MAX_BATCH_DELAY_US.  The default was measured: with no delay a
 *	single producer paid a futex wake every ~8 descriptors (31.9 ns per
 *	defer against 8.3 ns with a 20 us delay, bench/results).  After a
 *	drain the thread sleeps out the rest of the delay (timed, cut short
 *	like the delay) before it parks, so a steady stream pays no wake-up.
 * @batch_max: a delay is cut short once this many descriptors are
 *	queued: the drain thread looks every slice of the delay (an eighth
 *	of it, from 20 us to 1 ms) and drains when it finds this many (a
 *	take-back drain that does not walk looks only at the delay's end
 *	while the rate since its last drain could not reach this many
 *	before it); 0 means PGFREE_DEFAULT_BATCH_MAX.  Batches are not
 *	capped by it: a drain always takes everything queued.
 * @backlog_max: the high-water mark: how many descriptors may be deferred
 *	and not yet released (queued, or detached and not yet flushed).  0: no
 *	mark.  It is shared out evenly between the lists (per CPU), so a list
 *	reaching its share counts as crossing it.  Crossing it wakes the drain
 *	thread at once, skipping the batching delay.  Without
 *	PGFREE_F_BOUNDED the count is a hint kept without atomic
 *	read-modify-writes (pgfree_defer() stays one CAS; a preempted producer
 *	can make a list's count off by one until its next drain) and only
 *	wakes the drain early.  With PGFREE_F_BOUNDED the count is exact and
 *	pgfree_defer_wait() never lets it exceed the mark.  Lock-less designs
 *	only (PERCPU, GLOBAL_LLIST): V5 and V3 reproduce the kernel's design,
 *	which has no bound.  At most PGFREE_MAX_BACKLOG.
 * @take_back_us: PGFREE_F_TAKE_BACK domains: how long flushed descriptors
 *	wait for pgfree_take_back() before the drain thread hands them to
 *	->release() (or ->release_chain()); 0 means
 *	PGFREE_DEFAULT_TAKE_BACK_US (1000).  They may go sooner: a list holds
 *	at most PGFREE_TAKE_BACK_CHAINS flushed chains, and a drain that finds
 *	it full releases the oldest.  At most PGFREE_MAX_TAKE_BACK_US.  Must be
 *	0 without PGFREE_F_TAKE_BACK.
 *
 * Zero-initialize and fill in what you need: every 0 is a default.
 */
struct pgfree_config {
	unsigned int design;
	unsigned int flags;
	struct pgfree_ops ops;
	void *ctx;
	unsigned int nr_slots;
	unsigned int batch_delay_us;
	unsigned int batch_max;
	unsigned int backlog_max;
	unsigned int take_back_us;
};

/*
 * The statistics, defined once.  X(name, description).
 */
#define PGFREE_STATS_FIELDS(X) \
	X(deferred, "descriptors accepted by pgfree_defer() (released + given_back + taken_back + backlog)") \
	X(released, "descriptors handed to ->release()") \
	X(flushes, "->flush() calls that returned 0") \
	X(flush_failures, "->flush() calls that returned an error") \
	X(drains, "drains that released a batch (failed flushes not counted)") \
	X(wakeups, "times a producer woke the sleeping drain thread") \
	X(largest_batch, "most descriptors released by one flush") \
	X(backlog, "descriptors deferred and not yet released") \
	X(given_back, "descriptors handed to ->give_back() after a flush gave up") \
	X(bound_waits, "times pgfree_defer_wait() found its list at the mark") \
	X(drain_thread, "1 if the domain has a drain thread, 0 if the caller drains") \
	X(rseq, "1 if pgfree_defer() uses the restartable-sequence push, 0 for the CAS") \
	X(rseq_aborts, "restartable-sequence pushes the kernel aborted (and that restarted)") \
	X(rseq_fences, "membarrier() calls made by drains of an rseq domain") \
	X(taken_back, "descriptors taken back with pgfree_take_back() or pgfree_take_back_each()") \
	X(take_back_expired, "flushed descriptors released because nobody took them back in time")

/**
 * struct pgfree_stats - a snapshot of a domain's counters
 *
 * Every field counts since the domain was created.  The snapshot is taken
 * between two drains; @backlog is counted by walking the queues, so it is
 * exact for the moment each queue was read (producers may add meanwhile).
 * @deferred is released + given_back + taken_back + backlog: pgfree counts
 * on the consumer side so that pgfree_defer() stays one atomic operation.
 * On a PGFREE_F_TAKE_BACK domain the flushed descriptors that wait for
 * pgfree_take_back() are in none of these (the drain does not walk them:
 * their CPU owns their cache lines) until they are taken back or released.
 *
 * The caller does not pass the struct's size: fields are only ever
 * appended (never reordered or removed), but a library with more fields
 * writes past the end of an older program's struct, so appending one is an
 * ABI change: rebuild against the new headers (compare pgfree_version()
 * with PGFREE_VERSION).
 */
struct pgfree_stats {
#define PGFREE_STATS_MEMBER_(name, desc) uint64_t name;
	PGFREE_STATS_FIELDS(PGFREE_STATS_MEMBER_)
#undef PGFREE_STATS_MEMBER_
};

struct pgfree_domain;

/**
 * pgfree_domain_create() - build a deferred-release domain
 * @cfg: the configuration; read during the call only
 * @out: where the new domain is stored; set to NULL on failure
 *
 * Starts the drain thread unless @cfg->flags has PGFREE_F_NO_THREAD, and
 * returns only once that thread runs pgfree's code: a fork() after the
 * call never finds it inside the C library's (or a sanitizer's) thread
 * start, where a lock the child could never get back may be held.
 * Context: a thread that may sleep and allocate.
 *
 * Return: 0; -EINVAL for a NULL argument, a missing ->flush or ->release,
 * an unknown design or flag, an out-of-range number, PGFREE_F_NO_DELAY
 * together with a non-zero batch_delay_us, PGFREE_F_RSEQ together with
 * PGFREE_F_NO_RSEQ, PGFREE_F_BOUNDED without
 * backlog_max, backlog_max with a locked design (V5, V3), or
 * PGFREE_F_TAS_LOCK with a lock-less one; -ENOMEM; or
 * the error of pthread_create() (negated) when the drain thread cannot
 * start and PGFREE_F_THREAD_FALLBACK is not set.
 */
PGFREE_API int pgfree_domain_create(const struct pgfree_config *cfg,
				    struct pgfree_domain **out);

/**
 * pgfree_defer() - queue a descriptor for release after the next flush
 * @dom: the domain
 * @node: the node embedded in the descriptor; not on any list
 *
 * Never allocates, never sleeps, never takes a lock (PERCPU and
 * GLOBAL_LLIST designs): one atomic compare-and-swap on the current CPU's
 * list in the common case, or, for PERCPU with PGFREE_F_RSEQ where the
 * kernel and glibc allow it (x86-64, AArch64; not with PGFREE_F_BOUNDED), no
 * locked instruction at all: a restartable sequence on the CPU's list that
 * the kernel restarts if the thread is preempted, migrated or signalled
 * inside it (the drain then pays one membarrier() per drain).  When that
 * list went from empty to non-empty,
 * a full fence, a load of the drain thread's sleeping flag and, only if it
 * sleeps, a futex wake.  Callable from any thread, with other locks held,
 * and from inside ->flush()/->release() of any domain.  Migrating to another
 * CPU during the call is harmless (the list is shared atomically).
 *
 * Barriers: release semantics for @node: everything the caller wrote before
 * the call (the unlinking of the table from the page tables included)
 * happens-before the ->flush() that covers @node and the ->release() of it.
 * That flush began after @node was queued, inside this call; it and
 * ->release() may run, in the drain thread, before this call returns.  So
 * the caller must not touch @node (or its object) after the call succeeded:
 * it may already be released.
 *
 * The V5 and V3 designs take their global spinlock here (that is their
 * point); the V3 design called from inside its own ->release() queues
 * without the lock, which its drain already holds.
 *
 * With a backlog mark (struct pgfree_config.backlog_max) the CPU's list's
 * count is updated too: a plain load and store of a word on the list's own
 * cache line, or an atomic add with PGFREE_F_BOUNDED; the producer that
 * makes the count reach the list's share wakes the drain thread at once.
 * pgfree_defer() never waits for the mark: see pgfree_defer_wait().
 *
 * Misuse: deferring a node that is already queued (in this or another
 * domain) corrupts the lists.  A library built with PGFREE_DEBUG detects it
 * and returns -EEXIST without queueing; otherwise it is not checked.
 *
 * Return: 0; -EINVAL if @dom or @node is NULL; -ESHUTDOWN if @dom was
 * destroyed; -EEXIST (PGFREE_DEBUG builds) if @node is already queued.  On
 * any error the node is not queued and stays the caller's.
 */
PGFREE_API int pgfree_defer(struct pgfree_domain *dom, struct pgfree_llist_node *node);

/**
 * pgfree_defer_wait() - queue a descriptor, waiting while the backlog is at
 * the mark
 * @dom: a domain created with PGFREE_F_BOUNDED
 * @node: the node embedded in the descriptor; not on any list
 *
 * As pgfree_defer(), but first, while the current CPU's list holds its
 * share of backlog_max (descriptors deferred and not yet released), waits:
 * it wakes the drain thread and helps (drains in the caller, taking turns
 * with other drains) until a drain has released enough.  It queues only
 * when its list is below its share, so while every producer uses this call
 * the backlog never exceeds backlog_max (rounded up to a multiple of the
 * number of lists), however fast they produce.  pgfree_defer() calls on
 * the same domain are counted too, never wait, and may go over the mark.
 * A failing ->flush() is retried with back-off as by pgfree_barrier(),
 * whatever it returned (PGFREE_FLUSH_GIVE_UP without ->give_back included);
 * with ->give_back, a batch given up lowers the backlog as a release does.
 * Context: may sleep and may run ->flush() and ->release() in the caller
 * (do not hold locks those callbacks take).  From inside a callback of
 * @dom it queues without waiting (waiting would be for itself).
 *
 * Barriers: as pgfree_defer().
 *
 * Return: 0; -EINVAL if @dom or @node is NULL or @dom has no
 * PGFREE_F_BOUNDED; -ESHUTDOWN; -EEXIST as pgfree_defer().  On any error
 * the node is not queued and stays the caller's.
 */
PGFREE_API int pgfree_defer_wait(struct pgfree_domain *dom, struct pgfree_llist_node *node);

/**
 * pgfree_take_back() - take back this CPU's flushed descriptors
 * @dom: a domain created with PGFREE_F_TAKE_BACK
 * @out: filled with the chain taken back (struct pgfree_chain; @out->first
 *	is NULL and @out->count 0 when there was none)
 *
 * Takes every flushed descriptor waiting on the list that pgfree_defer()
 * on this CPU queues to: the per-CPU page-list pattern, in which what a CPU
 * freed comes back to that CPU, so that between pgfree_defer() and reuse no
 * other CPU touches a descriptor (the drain detaches and flushes the list
 * as a whole and hands the chain back untouched).  The descriptors are the
 * caller's again, as if ->release() had handed them over: each was flushed
 * by a ->flush() that began after it was queued and returned 0.  The chain
 * is newest first within each drain's part; this call walks it once, on
 * this CPU, to count it and find its last node.  Descriptors nobody takes
 * back go to ->release() within take_back_us (struct pgfree_config).  A
 * caller that handles the descriptors one by one saves that walk with
 * pgfree_take_back_each().
 *
 * Barriers: acquire: everything the drain and ->flush() did before handing
 * the chain back happens-before the return.
 * Context: any thread, locks held or not; lock-free (one load per place a
 * list keeps a flushed chain, one exchange per chain found); from inside a
 * callback of @dom too.  A thread that migrated takes from the list of the
 * CPU it runs on now.
 *
 * Return: the number of descriptors taken back (0 when none waited);
 * -EINVAL if @dom or @out is NULL or @dom has no PGFREE_F_TAKE_BACK;
 * -ESHUTDOWN after destroy.
 */
PGFREE_API long pgfree_take_back(struct pgfree_domain *dom, struct pgfree_chain *out);

/**
 * pgfree_take_back_each() - take back this CPU's flushed descriptors, one
 * call per descriptor
 * @dom: a domain created with PGFREE_F_TAKE_BACK
 * @fn: called as @fn(@arg, node) for each descriptor taken back, in the
 *	caller's thread, newest first within each drain's part; the node is
 *	the caller's from then on, and its ->next is stale (already read)
 * @arg: passed to @fn
 *
 * As pgfree_take_back(), for a caller that handles its descriptors one by
 * one anyway (puts each back on a free list, re-arms it): the chains are
 * walked once, here, each node handed to @fn as the walk passes it, rather
 * than walked once to count and link them and again by the caller.  Same
 * list, same ownership, same statistics (@taken_back counts each
 * descriptor).  @fn owns each node from the moment it is called: it may
 * queue it again with pgfree_defer() (to this domain or another) or free
 * it; the walk has read ->next before.  @fn may call pgfree_take_back() or
 * this function again (they take what is still waiting); it must not
 * destroy @dom.
 *
 * Barriers: as pgfree_take_back(): everything the drain and ->flush() did
 * before handing a chain back happens-before @fn is called for its nodes.
 * Context: as pgfree_take_back(), and whatever @fn needs.
 *
 * Return: the number of descriptors handed to @fn (0 when none waited);
 * -EINVAL if @dom or @fn is NULL or @dom has no PGFREE_F_TAKE_BACK;
 * -ESHUTDOWN after destroy.  On an error @fn is not called.
 */
PGFREE_API long pgfree_take_back_each(struct pgfree_domain *dom,
				      void (*fn)(void *arg, struct pgfree_llist_node *node),
				      void *arg);

/**
 * pgfree_drain() - drain now, from the caller
 * @dom: the domain
 *
 * Takes everything queued (and any batch kept after a failed flush), calls
 * ->flush() once, then ->release(), in the caller's thread.  Waits if a
 * drain is already running: never two drains at once.  The only way a
 * domain with PGFREE_F_NO_THREAD makes progress.
 * Context: may sleep; not from inside this domain's callbacks.
 *
 * A failed flush keeps its batch: the drain thread, if the domain has one,
 * retries it on its own after the back-off (1 ms doubling to 100 ms);
 * without one, the next pgfree_drain() (or barrier, destroy,
 * pgfree_defer_wait()) does.
 *
 * On a PGFREE_F_TAKE_BACK domain the drain hands each list's chain back
 * to that list for pgfree_take_back() without counting it.
 *
 * Return: the number of descriptors released (0 when nothing was queued),
 * or on a PGFREE_F_TAKE_BACK domain a positive number at least the number
 * of lists whose flushed descriptors were handed back, plus any released;
 * the negative error ->flush() returned, the batch kept; or, on a domain
 * with ->give_back, PGFREE_FLUSH_GIVE_UP (-ECANCELED) when the flush gave
 * the batch up and the batch went to ->give_back() (without ->give_back,
 * PGFREE_FLUSH_GIVE_UP is returned as any flush error: the batch is kept);
 * -EINVAL; -ESHUTDOWN; -EDEADLK from inside a callback of @dom.
 */
PGFREE_API long pgfree_drain(struct pgfree_domain *dom);

/**
 * pgfree_barrier() - wait until everything deferred before the call is
 * released
 * @dom: the domain
 *
 * Covers every CPU's list.  With a drain thread, wakes it (skipping any
 * batching delay) and waits for a drain that began after this call began to
 * complete; without one, drains in the caller.  A failing ->flush() is
 * retried with a growing pause (1 ms doubling to 100 ms), so the call returns
 * only once the flush succeeds.  (The drain thread retries a kept batch the
 * same way on its own, whichever drain failed, without waiting for a
 * barrier or a new defer.)
 *
 * On a PGFREE_F_TAKE_BACK domain "released" includes "flushed and handed
 * back to its list for pgfree_take_back()": the barrier does not wait for
 * anyone to take them back (pgfree_domain_destroy() releases what is left).
 *
 * Barriers: everything ->release() did for the covered descriptors
 * happens-before the return.
 * Context: may sleep; not from inside this domain's callbacks.
 *
 * On a domain with ->give_back, a batch given up by ->flush()
 * (PGFREE_FLUSH_GIVE_UP) is handed there and counts as done: the barrier
 * then returns -ECANCELED.  Without ->give_back, PGFREE_FLUSH_GIVE_UP is
 * retried like any failure and the barrier waits for the flush to succeed.
 *
 * Return: 0; -ECANCELED (only with ->give_back) when some descriptors were
 * given back while it waited (possibly also ones deferred after the call
 * began); -EINVAL;
 * -ESHUTDOWN; -EDEADLK from inside a callback of @dom.
 */
PGFREE_API int pgfree_barrier(struct pgfree_domain *dom);

/**
 * pgfree_barrier_timeout() - pgfree_barrier() with a time limit
 * @dom: the domain
 * @timeout_ns: how long to wait, in nanoseconds (CLOCK_MONOTONIC)
 *
 * For a ->flush() that hangs or keeps failing: returns -ETIMEDOUT instead
 * of waiting forever.  Nothing is lost on a timeout: the descriptors stay
 * queued and the drain goes on.  On a domain without a drain thread the
 * drain runs in the caller, and a ->flush() that hangs there cannot be
 * interrupted; one that fails is retried until the time is up.
 * Context: may sleep; not from inside this domain's callbacks.
 *
 * Return: as pgfree_barrier(), or -ETIMEDOUT.
 */
PGFREE_API int pgfree_barrier_timeout(struct pgfree_domain *dom, uint64_t timeout_ns);

/**
 * pgfree_domain_destroy() - release everything still queued and end a domain
 * @dom: the domain
 *
 * Stops the drain thread, then drains until nothing is left: every
 * descriptor still queued is flushed and released (a failing flush is
 * retried as by pgfree_barrier()); on a PGFREE_F_TAKE_BACK domain, the
 * flushed descriptors nobody took back are released too.  Afterwards every call on @dom returns
 * -ESHUTDOWN: the domain's struct (a few hundred bytes; its queues are
 * freed) is kept as a tombstone for the life of the process, reachable so
 * that leak checkers do not report it, so that a stale pointer gives an
 * error instead of a use-after-free.
 * No call on @dom may be running when destroy starts (see the table).
 * Context: may sleep; not from inside this domain's callbacks.
 *
 * Return: 0; -EINVAL; -ESHUTDOWN when already destroyed; -EDEADLK from
 * inside a callback of @dom.
 */
PGFREE_API int pgfree_domain_destroy(struct pgfree_domain *dom);

/**
 * pgfree_domain_destroy_timeout() - pgfree_domain_destroy() with a time
 * limit
 * @dom: the domain
 * @timeout_ns: how long to wait for the flush of what is queued
 *
 * First waits, as pgfree_barrier_timeout(), for everything queued to be
 * flushed and released.  If that times out, returns -ETIMEDOUT and the
 * domain is untouched and still live: fix the flush and call again.
 * Otherwise destroys it as pgfree_domain_destroy() (what ->release()
 * callbacks queue meanwhile is drained without a time limit).
 * Context: may sleep; not from inside this domain's callbacks.
 *
 * Return: as pgfree_domain_destroy(), or -ETIMEDOUT.
 */
PGFREE_API int pgfree_domain_destroy_timeout(struct pgfree_domain *dom, uint64_t timeout_ns);

/**
 * pgfree_stats() - read a domain's counters
 * @dom: the domain
 * @out: the snapshot
 *
 * Waits for a running drain to finish, then walks the queues to count the
 * backlog: O(backlog) time.  Safe to call from any thread.
 *
 * Return: 0; -EINVAL; -ESHUTDOWN; -EDEADLK from inside a callback of @dom.
 */
PGFREE_API int pgfree_stats(struct pgfree_domain *dom, struct pgfree_stats *out);

/**
 * pgfree_design_name() - the short name of a design
 * @design: an enum pgfree_design value
 *
 * Return: "percpu", "v5", "v3", "global_llist", or NULL if unknown.
 */
PGFREE_API const char *pgfree_design_name(unsigned int design);

/**
 * pgfree_strerror() - describe an error returned by pgfree
 * @err: a negative errno value as returned by a pgfree call (positive
 *	values are accepted and read as their negation)
 *
 * Return: a static string; never NULL.  Thread-safe.
 */
PGFREE_API const char *pgfree_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* PGFREE_PGFREE_H */
