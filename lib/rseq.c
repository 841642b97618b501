// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The rseq push and the flip + membarrier drain of the percpu design
 * (rseq.h has the push itself and who touches what).
 *
 * Correctness argument (the rseq part; lib/drain.c's steps 1 and 3-6 hold
 * unchanged, this replaces its step 2 for rseq domains)
 * =======================================================================
 *
 * Each slot has two heads, A (->head) and B (->alt), and ->active, which
 * points to one of them.  Producers run the section P0-P5 of rseq.h on the
 * slot of the CPU they run on; the drain (under drain_lock: one at a time,
 * drain.c step 1) runs:
 *   D1 for each slot: if the active head is non-empty, ->active = the other
 *      head (the "flip"); the other head is empty (R1 below)
 *   D2 if it flipped any: membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ),
 *      for the one CPU whose slot it flipped (MEMBARRIER_CMD_FLAG_CPU) or
 *      for all CPUs when it flipped more than one
 *   D3 for each slot: the inactive head's chain is detached (X(n)) with a
 *      plain load and a plain store of NULL.
 *
 * R1. Outside D1-D3 every inactive head is empty: D3 empties every head
 *     D1 made inactive, D3 runs in the same __take under drain_lock, and
 *     no producer writes an inactive head (R2).  (A failing membarrier is
 *     retried until it succeeds, so D3 always follows.)
 *
 * R2. No producer writes a head after the membarrier that followed the
 *     flip that made it inactive.  A producer writes a head only at P5,
 *     and a head it loaded at P2 from ->active of the slot of the CPU it
 *     checked at P1.  Consider a section S on CPU c that loaded the old
 *     value of ->active (P2 before D1's store in ->active's modification
 *     order).  The membarrier of D2 (for c, or for all CPUs) either finds
 *     S's thread running on c or not.  Running: the IPI makes the kernel
 *     abort S on its return to user space if its instruction pointer is in
 *     [P1, P5) (that is what the _RSEQ flavour adds), so S either had
 *     committed (P5 before the IPI) or never commits.  Not running: S was
 *     preempted or migrated after P0, which aborts S before it runs again,
 *     or S had committed.  The membarrier returns only after the IPIs ran,
 *     so when D3 starts, every such S has committed or will be aborted;
 *     an aborted section restarts at its top and reads ->active again.  A
 *     section that loads ->active after the membarrier's barrier on its
 *     CPU sees the flip (D1's store is before the membarrier's first full
 *     barrier; the IPI handler's, or the context switch's, full barrier on
 *     c is before P2), so it writes the new active head.  Two producers
 *     never write one head at once: they would have to run on one CPU,
 *     and rseq aborts the one that was preempted.
 *
 * R3. D(n) happens-before X(n) (drain.c's step 2, for rseq domains).  D(n)
 *     ends with P5 storing n in a head H; n is detached by the first D3
 *     that reads H after a flip made H inactive.  If P5 came before that
 *     D1's flip in time on c, the membarrier's barriers (the IPI's, or the
 *     context switch's, on c after P5; the caller's own after the syscall)
 *     make P4, P5 and everything the producer wrote before the defer
 *     visible to D3's plain loads: membarrier() turns the producer's
 *     compiler barrier ("memory" clobber of the asm) into a full barrier,
 *     which is its documented contract.  The case that matters is not
 *     whether P5 came before the flip but whether it came before the
 *     membarrier's barrier on c: a section whose P2 read ->active before
 *     the flip may still commit to H after the flip, but only before that
 *     barrier (the IPI or the context switch aborts it otherwise), so the
 *     barrier on c follows P5 and the argument above applies; a section
 *     that reaches P2 after that barrier reads the new active head (R2)
 *     and never writes H.  So D3 sees every node committed to H, with its
 *     ->next and its contents.
 *
 * R4. Exactly once, nothing lost.  A commit is one store, so a node is on
 *     one head or on none (an aborted section stored only into its own
 *     node, P4, and restarts).  D3 takes a whole inactive head and empties
 *     it; by R2 nobody else writes it until a later D1 makes it active
 *     again, and by then it is empty.  A node on an active head stays
 *     there until some drain flips and takes it; the drain thread is woken
 *     for it by drain.c's step 5, below.
 *
 * R5. The wake-up (drain.c step 5).  P3 read the active head's old first;
 *     NULL means the producer made that head non-empty, and it then issues
 *     the seq_cst fence and reads parked (defer.c), with P5 as the
 *     "W(work)" of wake.h's Dekker pair: P5 is a plain store, ordered
 *     before the fence by program order (x86-64: the store buffer drains at
 *     the fence; AArch64: the DMB of the fence orders it).  has_work() reads
 *     both heads of every slot, so a node on either is noticed.  A node
 *     pushed on a head that was non-empty came after one that made it
 *     non-empty, whose producer did the check; a flip makes a fresh,
 *     empty head active, so the first producer after a flip does it again.
 *
 * Memory orders: ->active is stored with release by D1 and loaded relaxed
 * by D3, both under drain_lock.  The flip's ordering against the sections
 * of this round is the membarrier's (R2); the release is for the next
 * round: a producer may see round k+1's flip before that round's
 * membarrier, and its P3 must then see the NULL that round k's D3 stored
 * in the head it flips back to, not the chain taken.  The unlock and lock
 * of drain_lock between two takes would give that on their own only to
 * threads that take the lock; the release store gives it to the producers
 * (free on x86-64, an STLR on AArch64), whose P2 is an address dependency
 * for P3.  D3's load and store of an inactive head are
 * relaxed for the same reason (R3).  The producers' accesses are in
 * assembly: plain moves on x86-64 (TSO: each store is a release), and on
 * AArch64 plain loads and stores but a store-release for P5, so that a
 * reader that is not the drain (pgfree_stats()'s walk, an acquire load of
 * the head under drain_lock) sees the node's ->next before the node.  The
 * walk needs no more: only producers change a head outside D1-D3, and they
 * only add at the top.
 *
 * When it is used (pgfree_rseq_usable()): PERCPU design, PGFREE_F_RSEQ
 * (or a library built with PGFREE_RSEQ_DEFAULT) and no PGFREE_F_NO_RSEQ,
 * no PGFREE_F_BOUNDED (its exact count is taken on the
 * slot chosen before the push, and a restarted push may land on another
 * CPU's slot), glibc registered an rseq area (__rseq_size), the kernel has
 * MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ and the process registered for it,
 * and nr_slots covers every possible CPU (a CPU without its own slot would
 * share one, which rseq does not protect).
 *
 * A thread with no rseq registration (cpu_id < 0: it unregistered, or
 * glibc's tunable turned registration off after the domain chose rseq)
 * cannot run a section (P1 never passes); it pushes on
 * the domain's spill list, an ordinary CAS llist that D3's drain takes with
 * an acquire exchange, so drain.c's step 2 holds for it as for the CAS
 * design, and has_work() reads it too.
 *
 * fork(): the forking thread keeps its rseq registration in the child, and
 * glibc registers the child's new threads (the restarted drain thread);
 * the process-wide membarrier registration is inherited too (Linux 6.18
 * here), and re-done anyway if a membarrier says EPERM.
 *
 * dlclose(): a thread's rseq_cs keeps pointing to the descriptor after its
 * last section (the kernel clears it lazily), so the shared library is
 * linked -z nodelete: unloading it would leave the kernel a dangling
 * pointer to read on that thread's next preemption (SIGSEGV).  A program
 * that links the static library into a plugin it unloads must not use
 * PGFREE_F_RSEQ.  Threads made by a raw clone(CLONE_VM) that share their
 * creator's TLS (and so its rseq area) are not supported.
 *
 * fork_prepare() holds drain_lock, so no D1-D3 is
 * half done in the copy; a section another thread had half run does not
 * exist in the child, and the heads it had not committed to are intact.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "rseq.h"

#ifdef PGFREE_RSEQ_ASM
#include <linux/membarrier.h>

_Static_assert(PGFREE_RSEQ_SIG == RSEQ_SIG, "rseq.h's signature is glibc's RSEQ_SIG");
_Static_assert(sizeof(struct pgfree_slot) == PGFREE_CACHELINE, "a slot is one line");

static pthread_once_t membarrier_once = PTHREAD_ONCE_INIT;
static bool membarrier_ok;

static long sys_membarrier(int cmd, unsigned int flags, int cpu)
{
	return syscall(__NR_membarrier, cmd, flags, cpu);
}

static int membarrier_register(void)
{
	return sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0, 0) ? -errno : 0;
}

/* Once per process, at the first domain that could use rseq. */
static void membarrier_setup(void)
{
	long cmds = sys_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);

	membarrier_ok = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) &&
			!membarrier_register();
}

/* The highest possible CPU number + 1, or 0 if unknown. */
static unsigned int possible_cpus(void)
{
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");
	unsigned int a, b, max = 0;
	int c;

	if (!f)
		return 0;
	/* "0-3,8-11" or "0": the last number is the highest. */
	for (;;) {
		if (fscanf(f, "%u", &a) != 1)
			break;
		b = a;
		c = fgetc(f);
		if (c == '-') {
			if (fscanf(f, "%u", &b) != 1)
				break;
			c = fgetc(f);
		}
		if (b + 1 > max)
			max = b + 1;
		if (c != ',')
			break;
	}
	fclose(f);
	return max;
}

bool pgfree_rseq_usable(const struct pgfree_domain *dom)
{
	unsigned int cpus;

	if (dom->cfg.design != PGFREE_DESIGN_PERCPU || (dom->cfg.flags & PGFREE_F_NO_RSEQ) ||
	    dom->mark_mode == PGFREE_MARK_EXACT)
		return false;
	/* Asked for, or the build's default (README: why the CAS by default). */
	if (!(dom->cfg.flags & PGFREE_F_RSEQ) && !PGFREE_RSEQ_BY_DEFAULT)
		return false;
	/*
	 * glibc registered rseq for every thread (or, with the tunable off,
	 * for none: 0).  Any registration has cpu_id_start, cpu_id and
	 * rseq_cs, the original ABI's fields (glibc 2.36 says 20 here, the
	 * size of the fields it knows, not the 32 of the area).
	 */
	if (!__rseq_size)
		return false;
	cpus = possible_cpus();
	if (!cpus || dom->nr_slots < cpus)
		return false;
	pthread_once(&membarrier_once, membarrier_setup);
	return membarrier_ok;
}

/*
 * D2: make every section that may have read a flipped ->active commit or
 * abort.  @cpu: the one slot flipped, or -1 for several.  Retries until
 * the kernel says yes: D3 must not run before (R1).
 */
static void __rseq_fence(struct pgfree_domain *dom, int cpu)
{
	uint64_t pause = 0;
	bool reregistered = false;
	int err;

	dom->rseq_fences++;
	for (;;) {
		long r;

		if (cpu >= 0 && !dom->rseq_no_cpu_flag)
			r = sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
					   MEMBARRIER_CMD_FLAG_CPU, cpu);
		else
			r = sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0);
		if (!r)
			return;
		err = errno;	/* before membarrier_register() can change it */
		if (err == EPERM && !reregistered) {
			reregistered = true;
			if (!membarrier_register())
				continue;	/* a fork child: the registration is per process */
		}
		if (err == EINVAL && cpu >= 0 && !dom->rseq_no_cpu_flag) {
			/* FLAG_CPU refused (kept as a fallback): fence every CPU. */
			dom->rseq_no_cpu_flag = true;
			continue;
		}
		if (err == ENOSYS || err == EPERM) {
			/*
			 * The command went away after create chose the rseq push
			 * (a seccomp filter installed since, say).  D1 already
			 * flipped: without the fence D3 may not take the old
			 * heads, and no other fence exists.  Retrying would hold
			 * drain_lock for ever, silently; stop loudly instead.
			 */
			fprintf(stderr, "pgfree: membarrier(PRIVATE_EXPEDITED_RSEQ) failed: %s; "
				"an rseq domain cannot drain safely without it\n", strerror(err));
			abort();
		}
		pgfree_backoff(&pause);		/* ENOMEM and the like: try again */
	}
}

static struct pgfree_llist_head *other_head(struct pgfree_slot *slot,
					    struct pgfree_llist_head *h)
{
	return h == &slot->head ? &slot->alt : &slot->head;
}

/* The design's __take for rseq domains: D1, D2, D3, and the spill list. */
void __pgfree_rseq_take(struct pgfree_domain *dom, struct pgfree_batch *batch)
{
	unsigned int flipped = 0;
	int last = -1;

	/* Acquire exchange, as the CAS design's (drain.c step 2). */
	if (!pgfree_llist_empty(&dom->rseq_spill))
		pgfree_batch_add(dom, batch, dom->nr_slots, pgfree_llist_del_all(&dom->rseq_spill));

	for (unsigned int i = 0; i < dom->nr_slots; i++) {
		struct pgfree_slot *slot = &dom->slots[i];
		/* Relaxed: only the drain stores it (R2 for the producers). */
		struct pgfree_llist_head *act =
			atomic_load_explicit(&slot->active, memory_order_relaxed);

		/* Skip empty lists: a flip would cost a membarrier for nothing. */
		if (pgfree_llist_empty(act))
			continue;
		/*
		 * D1.  The membarrier below orders it against this round's
		 * sections (R2); release for the next round's (see "Memory
		 * orders" above).
		 */
		atomic_store_explicit(&slot->active, other_head(slot, act), memory_order_release);
		flipped++;
		last = (int)i;
	}
	if (!flipped)
		return;
	pgfree_debug_yield();
	__rseq_fence(dom, flipped == 1 ? last : -1);		/* D2 */

	for (unsigned int i = 0; i < dom->nr_slots; i++) {
		struct pgfree_slot *slot = &dom->slots[i];
		struct pgfree_llist_head *old = other_head(
			slot, atomic_load_explicit(&slot->active, memory_order_relaxed));
		/* D3.  Relaxed: the membarrier ordered the producers' stores (R3). */
		struct pgfree_llist_node *chain =
			atomic_load_explicit(&old->first, memory_order_relaxed);
		uint64_t n;

		if (!chain)
			continue;
		atomic_store_explicit(&old->first, NULL, memory_order_relaxed);
		n = pgfree_batch_add(dom, batch, i, chain);
		if (dom->mark_mode == PGFREE_MARK_HINT)
			/* Relaxed: a hint; a racing producer's store may win. */
			atomic_store_explicit(&slot->queued, 0, memory_order_relaxed);
		(void)n;	/* MARK_EXACT domains never use rseq */
	}
}
#else /* !PGFREE_RSEQ_ASM */
bool pgfree_rseq_usable(const struct pgfree_domain *dom)
{
	(void)dom;
	return false;
}

void __pgfree_rseq_take(struct pgfree_domain *dom, struct pgfree_batch *batch)
{
	(void)dom;
	(void)batch;
}
#endif
