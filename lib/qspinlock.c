// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The queued spinlock's slow path (qspinlock.h): the Linux kernel's
 * qspinlock (kernel/locking/qspinlock.c and qspinlock_paravirt.h, Waiman
 * Long and Peter Zijlstra, after Mellor-Crummey and Scott's MCS lock) in
 * the form a KVM guest runs it, written here for user space from the
 * algorithm's description.
 *
 * Which qspinlock
 * ===============
 *
 * On bare metal spin_lock() is the native qspinlock: a fast-path CAS, one
 * "pending" waiter beside the holder, then an MCS queue whose waiters spin
 * for ever, which is safe because neither the holder nor the waiter the
 * lock is handed to can be preempted.  In a guest whose vCPUs can be
 * preempted (KVM with PV_UNHALT: this project's machines; their boot log
 * says "PV spinlocks enabled"), it is the paravirt qspinlock: the same
 * queue, no pending waiter, waiters that halt after SPIN_THRESHOLD spins
 * until kicked, and "hybrid" lock stealing: a newcomer may take a free lock
 * as long as the queue's head has not yet said (with the pending bit) that
 * it is spinning for it.  A user-space thread is preempted like a vCPU, so
 * this is the form ported: with a strict FIFO hand-off, more threads than
 * CPUs make a convoy in which every hand-off waits for the scheduler to run
 * one particular preempted waiter (measured with the strict form: the
 * invariant test's 16 producers on 2 CPUs took 100-170 s on V5 and V3, one
 * second with pthread_spin_lock()).  While nobody is preempted it behaves
 * as the native lock: each waiter spins on its own line, the head alone on
 * the lock word, and a hand-off moves one line to one waiter.
 *
 * The protocol
 * ============
 *
 *  1. Fast path (qspinlock.h): the word is 0: one acquire CAS 0 -> locked.
 *  2. Steal: while a queue exists and its head has not set pending, spin
 *     on the word and take the lock with a CAS of the locked byte 0 -> 1
 *     whenever it is free; stop stealing (and queue) once there is no
 *     queue or the head has set pending.
 *  3. Queue: publish this thread's node as the tail (a CAS on the word),
 *     link it behind the old tail's node and wait on the node's own line
 *     until the predecessor hands over the head of the queue: spin, then
 *     sleep on a futex (the kick is the predecessor's futex wake).
 *  4. Head: set pending (no more stealing), spin until locked is 0 and
 *     take the lock with a 16-bit CAS (locked, pending) (0, 1) -> (1, 0).
 *     After SPIN_THRESHOLD spins (the holder was preempted), clear pending
 *     so that running threads may steal, yield the CPU, and try again (the
 *     kernel's head halts until the unlocker kicks it, which needs the
 *     unlock to test for a halted head: a locked instruction on every
 *     unlock; yielding keeps the unlock a plain store).
 *  5. Claim: if the head is also the tail, clear the tail with one CAS
 *     (the queue is empty again); otherwise wait for the successor to have
 *     linked in and hand it the head (a release store to its node, and a
 *     futex wake if it sleeps).
 *  Unlock (qspinlock.h): a release store of 0 to the locked byte.
 *
 * Why only one holder at a time: the locked byte goes from 0 to 1 only by
 * a CAS that finds it 0 (the fast path's on the whole word, the stealer's
 * on the byte, the head's on the byte and pending), and back to 0 only by
 * the holder's unlock.  So between a 0 -> 1 and the holder's unlock no
 * other 0 -> 1 succeeds.
 *
 * Ordering: every 0 -> 1 CAS is an acquire that reads the last holder's
 * release store of 0 (or a later value of the word), so critical sections
 * are ordered.  A node is initialized before the CAS that publishes it as
 * the tail (acq_rel), whose acquire side also orders the link into the
 * predecessor's node after the predecessor's initialization; the hand-over
 * is a release store read by acquire loads.
 *
 * Progress: the head takes the lock the first time it is free while it
 * spins with pending set; the queue hands the head on in FIFO order; a
 * stealer takes a free lock or queues.  What user space cannot do is stop
 * a holder from being preempted: the benchmark keeps rows with more
 * threads than CPUs apart (oversubscribed), as for any user-space spinlock.
 *
 * The word is written both whole (CAS) and in parts (the locked byte, the
 * pending byte, the locked+pending half-word), as the kernel writes
 * ->locked, ->pending and ->locked_pending, with the GCC/Clang __atomic
 * builtins, which x86 and AArch64 make single-copy atomic.  A part is
 * stored plainly only by its owner of the moment (locked = 0 by the holder,
 * pending by the head), and every 0 -> 1 of locked is a CAS, so no part
 * store overwrites another thread's change of the same byte.
 */
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "qspinlock.h"

/*
 * Spins before a waiter stops spinning: 2^12 pauses, some 30 to 200 us
 * depending on the CPU's pause, far longer than any hold or hand-off of
 * the baselines' critical sections, so a waiter that is not preempted,
 * and whose holder is not, never gets there.  (The paravirt lock uses
 * 2^15; a user-space thread is preempted far more often than a vCPU.)
 */
#define SPIN_THRESHOLD (1u << 12)

/**
 * struct qnode - a waiter's place in the queue, one per nested wait
 * @next: the successor's node, written by the successor once it is linked
 * @locked: 1 once the predecessor handed this waiter the head of the
 *	queue; also the futex word a parked waiter sleeps on
 * @parked: 1 while the waiter sleeps (or is about to) on @locked
 */
struct qnode {
	_Atomic(struct qnode *) next;
	_Atomic uint32_t locked;
	_Atomic uint32_t parked;
} pgfree_cacheline_aligned;

/* Each waiter spins on its own line: per-thread nodes, each line-aligned. */
static __thread struct qnode qnodes[PGFREE_QSPIN_NODES];
/* How many of this thread's nodes are in use (signal handlers nest). */
static __thread unsigned int qnodes_used;

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* A pause, or past SPIN_THRESHOLD a sched_yield(): a preempted holder runs. */
static inline void wait_relax(unsigned int *spins)
{
	if (*spins < SPIN_THRESHOLD) {
		++*spins;
		cpu_relax();
	} else {
		sched_yield();
	}
}

/* The pending byte and the locked+pending half-word, for the part accesses. */
static inline uint8_t *pending_byte(struct pgfree_qspin *l)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint8_t *)&l->val + 1;
#else
	return (uint8_t *)&l->val + sizeof(uint64_t) - 2;
#endif
}

static inline uint16_t *locked_pending_half(struct pgfree_qspin *l)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint16_t *)&l->val;
#else
	return (uint16_t *)&l->val + sizeof(uint64_t) / 2 - 1;
#endif
}

/* Nodes are 2^7-aligned, so address >> 6 loses nothing; 0 means "no node". */
static inline uint64_t tail_of(struct qnode *node)
{
	return ((uint64_t)(uintptr_t)node >> 6) << PGFREE_QSPIN_TAIL_SHIFT;
}

static inline struct qnode *node_of(uint64_t val)
{
	return (struct qnode *)(uintptr_t)((val >> PGFREE_QSPIN_TAIL_SHIFT) << 6);
}

static inline void futex_wait_while(_Atomic uint32_t *word, uint32_t val)
{
	/* Spurious returns (EINTR, EAGAIN) are fine: the caller loops. */
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static inline void futex_wake_one(_Atomic uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/* Take the lock if the locked byte is 0: the CAS every 0 -> 1 goes through. */
static inline bool cas_locked_byte(struct pgfree_qspin *l)
{
	uint8_t zero = 0;

	/* Acquire: reads the last holder's release store of 0. */
	return __atomic_compare_exchange_n(pgfree_qspin_locked_byte(l), &zero, 1, false,
					   __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

/*
 * Step 2: steal the lock while the queue's head is not spinning for it.
 * Return: true with the lock held; false: queue.
 */
static bool steal(struct pgfree_qspin *l)
{
	unsigned int spins = 0;

	for (;;) {
		/* Relaxed: a hint; the CAS decides. */
		uint64_t val = atomic_load_explicit(&l->val, memory_order_relaxed);

		if (!(val & PGFREE_QSPIN_LOCKED_PENDING_MASK) && cas_locked_byte(l))
			return true;
		if (!(val >> PGFREE_QSPIN_TAIL_SHIFT) || (val & PGFREE_QSPIN_PENDING))
			return false;
		wait_relax(&spins);
	}
}

/*
 * Publish @tail as the queue's tail, keeping locked and pending; return the
 * old word.  acq_rel: release publishes this node's initialization to the
 * successor that will find it here; acquire makes the old tail's node
 * initialization happen before this thread links into it.
 */
static inline uint64_t xchg_tail(struct pgfree_qspin *l, uint64_t tail)
{
	uint64_t old = atomic_load_explicit(&l->val, memory_order_relaxed);

	while (!atomic_compare_exchange_weak_explicit(
		&l->val, &old, (old & PGFREE_QSPIN_LOCKED_PENDING_MASK) | tail,
		memory_order_acq_rel, memory_order_relaxed))
		;
	return old;
}

/*
 * Step 3's wait: until the predecessor hands over the head.  Spin, then
 * park.  The Dekker pair with hand_over(): this side stores parked,
 * fences, loads locked; that side stores locked, fences, loads parked; so
 * either the hand-over is seen here and the waiter does not sleep, or the
 * parked flag is seen there and the waiter is woken (and FUTEX_WAIT, which
 * compares locked with 0 atomically with going to sleep, cannot miss it).
 */
static inline void wait_handed(struct qnode *node)
{
	unsigned int spins = 0;

	/* Acquire: pairs with hand_over()'s release store. */
	while (!atomic_load_explicit(&node->locked, memory_order_acquire)) {
		if (spins < SPIN_THRESHOLD) {
			spins++;
			cpu_relax();
			continue;
		}
		/* Relaxed: the fence orders it before the load below. */
		atomic_store_explicit(&node->parked, 1, memory_order_relaxed);
		atomic_thread_fence(memory_order_seq_cst);
		if (!atomic_load_explicit(&node->locked, memory_order_relaxed))
			futex_wait_while(&node->locked, 0);
		atomic_store_explicit(&node->parked, 0, memory_order_relaxed);
	}
}

/*
 * Step 5's hand-over to @next (a release store to its own line), and a
 * wake if it parked.  @next cannot have left the queue, let alone exited,
 * before this returns: as the new head it waits for the lock, which the
 * caller holds.
 */
static inline void hand_over(struct qnode *next)
{
	atomic_store_explicit(&next->locked, 1, memory_order_release);
	/* seq_cst fence: the Dekker pair with wait_handed(). */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&next->parked, memory_order_relaxed))
		futex_wake_one(&next->locked);
}

/*
 * Step 4: the head of the queue takes the lock.  Only the head writes
 * pending, so plain (relaxed) byte stores set and clear it.
 */
static void head_lock(struct pgfree_qspin *l)
{
	for (;;) {
		uint16_t expect;

		__atomic_store_n(pending_byte(l), 1, __ATOMIC_RELAXED);
		for (unsigned int spins = 0; spins < SPIN_THRESHOLD; spins++) {
			/* Relaxed peek; the acquire CAS decides. */
			if (!__atomic_load_n(pgfree_qspin_locked_byte(l), __ATOMIC_RELAXED)) {
				expect = (uint16_t)PGFREE_QSPIN_PENDING;
				if (__atomic_compare_exchange_n(locked_pending_half(l), &expect,
								(uint16_t)PGFREE_QSPIN_LOCKED, false,
								__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
					return;
			}
			cpu_relax();
		}
		/* The holder is preempted: let running threads steal meanwhile. */
		__atomic_store_n(pending_byte(l), 0, __ATOMIC_RELAXED);
		if (cas_locked_byte(l))
			return;
		sched_yield();
	}
}

/**
 * pgfree_qspin_lock_slow() - the contended part of pgfree_qspin_lock()
 * @l: the lock
 * @val: the word the fast path's CAS found (not 0); unused, as in the
 *	paravirt lock, which re-reads the word
 *
 * Steps 2 to 5 of the protocol above.  Returns with the lock held.
 */
void pgfree_qspin_lock_slow(struct pgfree_qspin *l, uint64_t val)
{
	struct qnode *node, *prev, *next = NULL;
	unsigned int idx, spins = 0;
	uint64_t tail, old;

	(void)val;
	/*
	 * A signal handler that waits for a lock while this thread waits for
	 * one takes the next node and gives it back before it returns; the
	 * compiler must not move the count across the node's use.
	 */
	idx = qnodes_used++;
	atomic_signal_fence(memory_order_seq_cst);
	node = &qnodes[idx < PGFREE_QSPIN_NODES ? idx : 0];
	tail = tail_of(node);
	if (pgfree_unlikely(idx >= PGFREE_QSPIN_NODES || node_of(tail) != node)) {
		/* Nested too deep, or an address the tail cannot hold: spin. */
		while (!pgfree_qspin_trylock(l))
			wait_relax(&spins);
		goto out;
	}

	/* Relaxed: published by xchg_tail()'s release. */
	atomic_store_explicit(&node->locked, 0, memory_order_relaxed);
	atomic_store_explicit(&node->parked, 0, memory_order_relaxed);
	atomic_store_explicit(&node->next, NULL, memory_order_relaxed);

	if (steal(l))
		goto out;

	old = xchg_tail(l, tail);
	if (old >> PGFREE_QSPIN_TAIL_SHIFT) {
		prev = node_of(old);
		/* Release: the predecessor reads our node through it (acquire). */
		atomic_store_explicit(&prev->next, node, memory_order_release);
		wait_handed(node);
		/* Acquire: our successor's node setup is done before we write it. */
		next = atomic_load_explicit(&node->next, memory_order_acquire);
	}

	head_lock(l);

	/*
	 * Claim: if we are also the tail, empty the queue.  Relaxed: the lock
	 * was taken (acquire) in head_lock(); this only clears the tail, and
	 * fails if a waiter queued behind us meanwhile.
	 */
	old = atomic_load_explicit(&l->val, memory_order_relaxed);
	if ((old & ~PGFREE_QSPIN_LOCKED_PENDING_MASK) == tail &&
	    atomic_compare_exchange_strong_explicit(&l->val, &old,
						    old & PGFREE_QSPIN_LOCKED_PENDING_MASK,
						    memory_order_relaxed, memory_order_relaxed))
		goto out;
	if (!next) {
		/* It published the tail but has not linked in yet: wait (acquire, as above). */
		spins = 0;
		while (!(next = atomic_load_explicit(&node->next, memory_order_acquire)))
			wait_relax(&spins);
	}
	hand_over(next);
out:
	atomic_signal_fence(memory_order_seq_cst);
	qnodes_used--;
}
