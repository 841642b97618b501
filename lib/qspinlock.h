/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LIB_QSPINLOCK_H
#define PGFREE_LIB_QSPINLOCK_H
/*
 * A queued spinlock for the locked baselines (design_locked.c): a user-space
 * port of the algorithm of the Linux kernel's qspinlock
 * (kernel/locking/qspinlock.c), the lock behind every spin_lock() on x86,
 * in its paravirt form (qspinlock_paravirt.h), the one a KVM guest whose
 * vCPUs may be preempted runs, so that the v5 and v3 ports hand their lock
 * over as the kernel does.  Private.  The protocol, why this form, and the
 * argument are in qspinlock.c.
 *
 * Why not glibc's pthread_spin_lock(): it is an exchange loop whose waiters
 * all spin on the lock word, so every release is fought over by every
 * waiter and a hand-off costs more as waiters are added.  In a qspinlock
 * one thread spins on the lock word (the head of an MCS queue; in the
 * paravirt form also newcomers, briefly, while the head is not yet
 * spinning); every other waiter spins on a node of its own, and a hand-off
 * moves one cache line to one waiter.
 *
 * The lock word (64 bits here, 32 in the kernel):
 *
 *	bits  0- 7: locked   (1 while held)
 *	bits  8-15: pending  (1 while the queue's head spins for the lock)
 *	bits 16-63: tail     (the last queued waiter's node, address >> 6;
 *			     0 when the queue is empty)
 *
 * The kernel encodes the tail as (CPU + 1, nesting index) in 16 bits and
 * finds the node in a per-CPU array.  User space has threads, not CPUs, and
 * cannot disable preemption, so each thread has its own nodes (thread-local)
 * and the tail holds the node's address; the word is 64 bits so that it
 * fits.  Everything else (the fast path, the queue, the hand-off, the
 * paravirt lock's stealing and sleeping waiters) is the kernel's algorithm.
 *
 * Concurrency:
 *
 *		| lock | trylock | unlock
 *	lock	|  S   |    S    |   S
 *	trylock |      |    S    |   S
 *	unlock	|      |         |   X
 *
 *  S: may run together (that is what the lock serializes); X: only the
 *  holder unlocks, once.  Not recursive.  A signal handler that takes the
 *  lock while its thread holds it deadlocks, as with any spinlock; one that
 *  takes it while its thread waits is served (up to PGFREE_QSPIN_NODES
 *  nested waits per thread queue; deeper ones spin on the lock word).
 *
 * Memory ordering: lock and trylock have acquire semantics, unlock release
 * semantics: a critical section happens-before the next holder's.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

#define PGFREE_QSPIN_LOCKED 0x1ull
#define PGFREE_QSPIN_PENDING 0x100ull
#define PGFREE_QSPIN_LOCKED_MASK 0xffull
#define PGFREE_QSPIN_LOCKED_PENDING_MASK 0xffffull
#define PGFREE_QSPIN_TAIL_SHIFT 16
/* Nested waits per thread that get a queue node (the kernel has 4 per CPU). */
#define PGFREE_QSPIN_NODES 4

/**
 * struct pgfree_qspin - a queued spinlock; all zero is unlocked
 * @val: the lock word (layout above).  Its low two bytes are also written
 *	alone, as the kernel writes ->locked and ->locked_pending: see
 *	pgfree_qspin_unlock() and qspinlock.c.
 */
struct pgfree_qspin {
	_Atomic uint64_t val;
};

/* The byte of @val that holds "locked" (the lowest-addressed on little-endian). */
static inline uint8_t *pgfree_qspin_locked_byte(struct pgfree_qspin *l)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	return (uint8_t *)&l->val;
#else
	return (uint8_t *)&l->val + sizeof(uint64_t) - 1;
#endif
}

void pgfree_qspin_lock_slow(struct pgfree_qspin *l, uint64_t val);

static inline void pgfree_qspin_init(struct pgfree_qspin *l)
{
	atomic_init(&l->val, 0);
}

/**
 * pgfree_qspin_trylock() - take the lock if it is free
 * @l: the lock
 *
 * Return: true with the lock held (acquire), false without waiting.
 */
static inline bool pgfree_qspin_trylock(struct pgfree_qspin *l)
{
	/* Relaxed peek: a CAS on a word that is not 0 would only fail, dearer. */
	uint64_t val = atomic_load_explicit(&l->val, memory_order_relaxed);

	if (val)
		return false;
	/* Acquire: the previous holder's release store of locked = 0 is read here. */
	return atomic_compare_exchange_strong_explicit(&l->val, &val, PGFREE_QSPIN_LOCKED,
						       memory_order_acquire,
						       memory_order_relaxed);
}

/**
 * pgfree_qspin_lock() - take the lock, waiting as long as needed
 * @l: the lock
 *
 * Uncontended: one compare-and-swap, as the kernel's spin_lock().
 */
static inline void pgfree_qspin_lock(struct pgfree_qspin *l)
{
	uint64_t val = 0;

	/* Acquire on success: see pgfree_qspin_trylock(). */
	if (pgfree_likely(atomic_compare_exchange_strong_explicit(
		    &l->val, &val, PGFREE_QSPIN_LOCKED, memory_order_acquire, memory_order_relaxed)))
		return;
	pgfree_qspin_lock_slow(l, val);
}

/**
 * pgfree_qspin_unlock() - drop the lock
 * @l: the lock, held by the caller
 *
 * A release store of 0 to the locked byte alone, as the kernel's
 * queued_spin_unlock(): no locked instruction, and the pending and tail
 * bytes, which waiters are changing meanwhile, are left alone.
 *
 * Under ThreadSanitizer, an atomic AND of the whole word instead, with the
 * same effect: TSan keeps one synchronization clock per address and lets a
 * release *store* replace it, so the byte store (at the word's address)
 * would erase what a queued waiter's tail CAS released there, and TSan
 * would report the next waiter's link into that waiter's node as a race
 * with the node's thread-local initialization (seen in the soak).  The
 * hardware orders it (the successor's CAS reads the tail bytes the CAS
 * wrote, with acquire); an RMW keeps TSan's release sequence unbroken.
 */
static inline void pgfree_qspin_unlock(struct pgfree_qspin *l)
{
#ifdef PGFREE_TSAN
	atomic_fetch_and_explicit(&l->val, ~PGFREE_QSPIN_LOCKED_MASK, memory_order_release);
#else
	__atomic_store_n(pgfree_qspin_locked_byte(l), 0, __ATOMIC_RELEASE);
#endif
}

/**
 * pgfree_qspin_reset() - make the lock free, forgetting any waiter
 * @l: the lock
 *
 * For the child of fork() only: its parent's waiters (other threads, whose
 * nodes the tail may point to) do not exist in the child, so the copy is
 * made unlocked and empty rather than unlocked.  Only thread of the child.
 */
static inline void pgfree_qspin_reset(struct pgfree_qspin *l)
{
	/* Relaxed: the child has one thread. */
	atomic_store_explicit(&l->val, 0, memory_order_relaxed);
}

#endif /* PGFREE_LIB_QSPINLOCK_H */
