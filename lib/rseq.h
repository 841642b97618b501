/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LIB_RSEQ_H
#define PGFREE_LIB_RSEQ_H
/*
 * The percpu design's push with no locked instruction: a restartable
 * sequence (rseq) on this CPU's list, and the drain's flip + membarrier
 * that makes it safe against the remote consumer.  Private; the protocol
 * and its correctness argument are in rseq.c.
 *
 * Who touches what, per slot (struct pgfree_slot), on an rseq domain:
 *
 *                  | ->active      | active head   | inactive head
 * producer (rseq)  | load          | load, store   | -
 * drain (flip)     | load, store   | load (empty?) | -
 * drain (take)     | load          | -             | load, store NULL
 *   (after the membarrier that follows the flip)
 *
 * A producer's section runs on the CPU whose slot it writes, so two
 * producers never write one head at once (rseq aborts the one that was
 * preempted, migrated or signalled); the drain never writes a head a
 * producer may write: it writes only a head that it made inactive, and
 * only after membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ) returned,
 * by which time every section that may have loaded the old ->active has
 * committed or been aborted.
 *
 * Built for x86-64 and AArch64 with GCC >= 11 or Clang >= 11 (asm goto with
 * outputs), not under ThreadSanitizer (which cannot see the inline
 * assembly's stores nor model an abort).  Elsewhere PGFREE_RSEQ_ASM is not
 * defined and every domain uses the CAS push.
 */
#include <stdbool.h>
#include <stdint.h>

#include "cpu.h"
#include "domain.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define PGFREE_RSEQ_TSAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define PGFREE_RSEQ_TSAN 1
#endif

#if defined(PGFREE_HAVE_RSEQ) && !defined(PGFREE_RSEQ_TSAN) && \
	(defined(__x86_64__) || (defined(__aarch64__) && defined(__AARCH64EL__))) && \
	((defined(__clang__) && __clang_major__ >= 11) || \
	 (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 11))
#define PGFREE_RSEQ_ASM 1
#endif

/*
 * Whether a PERCPU domain without PGFREE_F_RSEQ or PGFREE_F_NO_RSEQ gets
 * the rseq push: the CMake option PGFREE_RSEQ_DEFAULT (OFF: the CAS push
 * measured faster end to end on the project's machine, README).
 */
#ifdef PGFREE_RSEQ_DEFAULT
#define PGFREE_RSEQ_BY_DEFAULT 1
#else
#define PGFREE_RSEQ_BY_DEFAULT 0
#endif

/* rseq.c: create and the drain. */
bool pgfree_rseq_usable(const struct pgfree_domain *dom);
void __pgfree_rseq_take(struct pgfree_domain *dom, struct pgfree_batch *batch);

#ifdef PGFREE_RSEQ_ASM
/*
 * The signature the kernel checks in the 4 bytes before the abort handler:
 * glibc registered every thread's area with RSEQ_SIG (<sys/rseq.h>), and
 * these are its values, spelled as assembler text.  rseq.c checks at
 * compile time that they agree with RSEQ_SIG.
 */
#if defined(__x86_64__)
#define PGFREE_RSEQ_SIG 0x53053053
#define PGFREE_RSEQ_SIG_STR "0x53053053"
#else
#define PGFREE_RSEQ_SIG 0xd428bc00	/* brk #0x45e0, little-endian */
#define PGFREE_RSEQ_SIG_STR "0xd428bc00"
#endif

/* This thread's rseq area, registered by glibc (__rseq_size checked at create). */
static inline struct rseq *pgfree_rseq_area(void)
{
	return (struct rseq *)((char *)__builtin_thread_pointer() + __rseq_offset);
}

/*
 * The critical-section descriptor (struct rseq_cs: version 0, flags 0,
 * start_ip, post_commit_offset, abort_ip), emitted once per inlined copy
 * into the __rseq_cs section, 32-byte aligned as the ABI requires.  Labels:
 * 1 = start, 2 = post-commit, 3 = the descriptor, 4 = the abort handler.
 */
#define PGFREE_RSEQ_CS_DESC                              \
	".pushsection __rseq_cs, \"aw\"\n\t"             \
	".balign 32\n\t"                                 \
	"3:\n\t"                                         \
	".long 0x0, 0x0\n\t"                             \
	".quad 1f, (2f - 1f), 4f\n\t"                    \
	".popsection\n\t"

/**
 * pgfree_rseq_push_slot() - one attempt at the rseq push
 * @rs: this thread's rseq area
 * @cpu: the CPU the caller read from @rs->cpu_id_start
 * @slot: that CPU's slot
 * @node: the node to push
 * @old: out: the head's previous first node (NULL: the list was empty)
 *
 * The section, step by step (rseq.c's argument refers to these):
 *   P0 rs->rseq_cs = &descriptor          (arms the section)
 *   P1 if (rs->cpu_id != @cpu) migrated   (the slot is no longer ours)
 *   P2 head = slot->active
 *   P3 first = head->first
 *   P4 node->next = first
 *   P5 head->first = node                 (the commit: the one store others
 *                                          may see; a release store on AArch64)
 * The kernel moves the thread to the abort handler if it is preempted,
 * migrated or signalled anywhere in [P1, P5), or when a
 * membarrier(..._RSEQ) IPI finds it there; P4 writes only the caller's
 * own node, so a section cut short leaves nothing behind but that field,
 * which the restart writes again.
 *
 * Return: 0 committed, 1 aborted by the kernel, 2 migrated before P2.
 */
static inline __attribute__((always_inline)) int
pgfree_rseq_push_slot(struct rseq *rs, uint32_t cpu, struct pgfree_slot *slot,
		      struct pgfree_llist_node *node, struct pgfree_llist_node **old)
{
	struct pgfree_llist_head *head;
	struct pgfree_llist_node *first;
	uintptr_t tmp;

#if defined(__x86_64__)
	__asm__ __volatile__ goto(PGFREE_RSEQ_CS_DESC
		     "leaq 3b(%%rip), %[tmp]\n\t"
		     "movq %[tmp], 8(%[rs])\n\t"		/* P0: rs->rseq_cs */
		     "1:\n\t"
		     "cmpl %[cpu], 4(%[rs])\n\t"		/* P1: rs->cpu_id */
		     "jnz %l[migrated]\n\t"
		     "movq (%[active]), %[head]\n\t"		/* P2 */
		     "movq (%[head]), %[first]\n\t"		/* P3 */
		     "movq %[first], (%[node])\n\t"		/* P4 */
		     "movq %[node], (%[head])\n\t"		/* P5: commit */
		     "2:\n\t"
		     ".pushsection __rseq_failure, \"ax\"\n\t"
		     /* ud1 <sig>(%rip), %edi: the signature inside an invalid insn */
		     ".byte 0x0f, 0xb9, 0x3d\n\t"
		     ".long " PGFREE_RSEQ_SIG_STR "\n\t"
		     "4:\n\t"
		     "jmp %l[aborted]\n\t"
		     ".popsection\n\t"
		     : [head] "=&r"(head), [first] "=&r"(first), [tmp] "=&r"(tmp)
		     : [rs] "r"(rs), [cpu] "r"(cpu), [active] "r"(&slot->active),
		       [node] "r"(node)
		     : "memory", "cc"
		     : aborted, migrated);
#else /* AArch64 */
	__asm__ __volatile__ goto(PGFREE_RSEQ_CS_DESC
		     "adrp %[tmp], 3b\n\t"
		     "add %[tmp], %[tmp], :lo12:3b\n\t"
		     "str %[tmp], [%[rs], #8]\n\t"		/* P0: rs->rseq_cs */
		     "1:\n\t"
		     "ldr %w[tmp], [%[rs], #4]\n\t"		/* P1: rs->cpu_id */
		     "cmp %w[tmp], %w[cpu]\n\t"
		     "b.ne %l[migrated]\n\t"
		     "ldr %[head], [%[active]]\n\t"		/* P2 */
		     "ldr %[first], [%[head]]\n\t"		/* P3 */
		     "str %[first], [%[node]]\n\t"		/* P4 */
		     "stlr %[node], [%[head]]\n\t"		/* P5: commit, release */
		     "2:\n\t"
		     ".pushsection __rseq_failure, \"ax\"\n\t"
		     ".inst " PGFREE_RSEQ_SIG_STR "\n\t"
		     "4:\n\t"
		     "b %l[aborted]\n\t"
		     ".popsection\n\t"
		     : [head] "=&r"(head), [first] "=&r"(first), [tmp] "=&r"(tmp)
		     : [rs] "r"(rs), [cpu] "r"(cpu), [active] "r"(&slot->active),
		       [node] "r"(node)
		     : "memory", "cc"
		     : aborted, migrated);
#endif
	(void)head;
	(void)tmp;
	*old = first;
	return 0;
aborted:
	return 1;
migrated:
	return 2;
}

/**
 * pgfree_rseq_push() - push @node on this CPU's list of an rseq domain
 * @dom: a domain with dom->rseq set
 * @node: the node
 * @was_empty: out: the list was empty before (the wake-up check's cue)
 *
 * Restarts the section until it commits; counts the kernel's aborts.
 * Any context a pgfree_defer() may run in, a signal handler included (it
 * aborts the section it interrupted, runs its own to the commit, and the
 * interrupted one restarts).  No locked instruction on the way unless
 * aborted.
 *
 * A thread without an rseq registration (its cpu_id is negative: it
 * unregistered) would fail P1 for ever; it pushes on
 * dom->rseq_spill with a release CAS instead, and the drain takes that
 * list with an exchange.
 *
 * Return: the slot the node was pushed on, or NULL for the spill list.
 */
static inline struct pgfree_slot *pgfree_rseq_push(struct pgfree_domain *dom,
						   struct pgfree_llist_node *node,
						   bool *was_empty)
{
	struct rseq *rs = pgfree_rseq_area();

	for (;;) {
		/*
		 * Relaxed: the kernel writes them; a stale value is caught by
		 * P1.  cpu_id_start is below nr_slots: create checked that
		 * the slots cover every possible CPU.
		 */
		uint32_t cpu = __atomic_load_n(&rs->cpu_id_start, __ATOMIC_RELAXED);
		struct pgfree_slot *slot;
		struct pgfree_llist_node *old;
		int r;

		/*
		 * Create checked that the slots cover every possible CPU; a
		 * CPU numbered past them anyway (a checkpoint restored on a
		 * bigger host) must not index past the array: spill instead.
		 */
		if (pgfree_unlikely(cpu >= dom->nr_slots)) {
			*was_empty = pgfree_llist_add(node, &dom->rseq_spill);
			return NULL;
		}
		slot = &dom->slots[cpu];
		r = pgfree_rseq_push_slot(rs, cpu, slot, node, &old);

		if (pgfree_likely(!r)) {
			*was_empty = !old;
			return slot;
		}
		if (r == 1) {
			/* Relaxed: a statistic; only on the abort path. */
			atomic_fetch_add_explicit(&dom->rseq_aborts, 1, memory_order_relaxed);
		} else if ((int32_t)__atomic_load_n(&rs->cpu_id, __ATOMIC_RELAXED) < 0) {
			/* Not registered (P1 failed on cpu_id, not on a move). */
			*was_empty = pgfree_llist_add(node, &dom->rseq_spill);
			return NULL;
		}
	}
}
#endif /* PGFREE_RSEQ_ASM */

#endif /* PGFREE_LIB_RSEQ_H */
