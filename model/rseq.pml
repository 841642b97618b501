/*
 * SPDX-License-Identifier: MIT OR GPL-2.0-only
 *
 * A Promela model of the percpu design's rseq push and its drain
 * (lib/rseq.h pgfree_rseq_push_slot, lib/rseq.c __pgfree_rseq_take), step
 * for step as lib/rseq.c's correctness argument names them:
 *
 *   producer: P0 arm the section on CPU c (read from cpu_id_start; a
 *             migration between the read and P1 is a failed P1, modelled
 *             as choosing c afresh on each try), P2 h = act[c],
 *             P3 first = head[c][h], P4 node->next = first (the node's own
 *             field: nothing shared), P5 head[c][h] = first + node (the
 *             commit, one store).  Before P5 the kernel may abort the
 *             section at any step (preemption, migration, a signal: the
 *             nondeterministic "goto restart"), and must abort it when
 *             another thread runs on its CPU (a preempted section never
 *             resumes: it restarts) or when a membarrier reaches its CPU.
 *   drain:    D1 for each slot: if the active head is non-empty, flip
 *             active; D2 membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ),
 *             for the flipped slot's CPU if it flipped one, else for all:
 *             modelled as "every section running on those CPUs is
 *             aborted", i.e. has committed or will restart; D3 for each
 *             slot, a plain load of the inactive head, then a plain store
 *             of NULL; then flush once and release, as in pgfree.pml.
 *
 * Lists are bitmasks of descriptor ids, as in pgfree.pml; a head is read
 * (P3, D3's load) and written (P5, D3's store) in separate steps, since
 * nothing here is a read-modify-write.
 *
 * Checked (make -C model check), by assertions:
 *  - exactly once: every descriptor a drain takes is QUEUED (a stale P3
 *    value written back by a late P5 would bring back one already taken);
 *  - flush before release: a descriptor is released only after a flush
 *    that began after its commit returned 0;
 *  - nothing lost: once every producer has returned, one more drain
 *    leaves every descriptor released (a node committed to a head the
 *    drain already emptied and no longer flips would stay there).
 * The wake-up (the Dekker pair after P5) is pgfree.pml's, unchanged.
 *
 * Mutants, each of which spin must reject:
 *  MUTANT_NO_MEMBARRIER             D2 left out
 *  MUTANT_MEMBARRIER_BEFORE_FLIP    D2 before D1
 *  MUTANT_DRAIN_WRITES_ACTIVE       no flip: D3 empties the active head
 */

#ifndef NP
#define NP 3			/* producers, one descriptor each */
#endif
#define NS 2			/* CPUs, one slot each */

#define IDLE 0
#define QUEUED 1
#define TAKEN 2
#define RELEASED 3

byte state[NP];
bool flush_began_after[NP];
bool flushed_ok[NP];

byte head[NS * 2];		/* slot k's heads: head[2k], head[2k + 1] */
bit act[NS];			/* ->active: which of the two producers push to */

bit in_cs[NP];			/* producer i is between P0 and P5 */
byte cpu[NP];			/* ... on this CPU */
bit aborted[NP];		/* the kernel moved it to the abort handler */

byte carry;
byte ndone;
byte released;

/*
 * Producer i runs on CPU c: any other section on c was preempted, and a
 * preempted section is aborted before it runs again.
 */
inline preempt_others(i, c)
{
	j = 0;
	do
	:: j < NP ->
		if
		:: j != i && in_cs[j] && cpu[j] == c -> aborted[j] = 1
		:: else -> skip
		fi;
		j++
	:: else -> j = 0; break
	od
}

/* membarrier(..._RSEQ) for CPU c, or for all CPUs when c == NS. */
inline membarrier(c)
{
	atomic {
		j = 0;
		do
		:: j < NP ->
			if
			:: in_cs[j] && (c == NS || cpu[j] == c) -> aborted[j] = 1
			:: else -> skip
			fi;
			j++
		:: else -> j = 0; break
		od
	}
}

proctype producer(byte i)
{
	byte c, h, first, j;

restart:
	atomic {
		in_cs[i] = 0;
		aborted[i] = 0;
		h = 0;
		first = 0;
		if			/* cpu_id_start: wherever it runs now */
		:: c = 0
		:: c = 1
		fi
	};
	/* P0 + P1: armed, and the CPU check passed. */
	atomic { in_cs[i] = 1; cpu[i] = c; preempt_others(i, c) };
	/*
	 * Each step below either restarts (the kernel's choice: preempted,
	 * migrated or signalled; always so once another thread's step or a
	 * membarrier set aborted[i]) or runs, atomically with the check that
	 * the section was not aborted.
	 */
	/* P2 */
	if
	:: goto restart
	:: atomic { !aborted[i] -> preempt_others(i, c); h = act[c] }
	fi;
	/* P3 */
	if
	:: goto restart
	:: atomic { !aborted[i] -> preempt_others(i, c); first = head[c * 2 + h] }
	fi;
	/* P4: node->next = first, the node's own field: nothing shared. */
	if
	:: goto restart
	:: atomic { !aborted[i] -> preempt_others(i, c) }
	fi;
	/* P5: the commit, one store. */
	if
	:: goto restart
	:: atomic {
		!aborted[i] ->
			preempt_others(i, c);
			head[c * 2 + h] = first | (1 << i);
			state[i] = QUEUED;
			in_cs[i] = 0
	   }
	fi;
	atomic { ndone++; c = 0; h = 0; first = 0 }
}

/* D3 for slot k: the plain load, then the plain store. */
inline take(k)
{
#ifdef MUTANT_DRAIN_WRITES_ACTIVE
	idx = k * 2 + act[k];
#else
	idx = k * 2 + (1 - act[k]);
#endif
	taken = head[idx];
	head[idx] = 0;
	atomic {
		m = 0;
		do
		:: m < NP ->
			if
			:: taken & (1 << m) ->
				assert(state[m] == QUEUED);	/* exactly once */
				state[m] = TAKEN
			:: else -> skip
			fi;
			m++
		:: else -> m = 0; break
		od;
		carry = carry | taken;
		taken = 0
	}
}

/* __pgfree_drain() with __pgfree_rseq_take(); drains are serialized. */
inline drain_once()
{
	flipped = 0;
#ifdef MUTANT_MEMBARRIER_BEFORE_FLIP
	membarrier(NS);
#endif
	/* D1 */
	k = 0;
	do
	:: k < NS ->
		nonempty = head[k * 2 + act[k]] != 0;
		if
		:: nonempty ->
#ifndef MUTANT_DRAIN_WRITES_ACTIVE
			act[k] = 1 - act[k];
#endif
			flipped++;
			last = k
		:: else -> skip
		fi;
		k++
	:: else -> break
	od;
	if
	:: flipped ->
		/* D2 */
#if !defined(MUTANT_NO_MEMBARRIER) && !defined(MUTANT_MEMBARRIER_BEFORE_FLIP)
		if
		:: flipped == 1 -> membarrier(last)
		:: else -> membarrier(NS)
		fi;
#endif
		k = 0;
		do
		:: k < NS -> take(k); k++
		:: else -> break
		od
	:: else -> skip
	fi;
	if
	:: carry != 0 ->
		/* ->flush() begins after every D3 above; it returns 0. */
		atomic {
			m = 0;
			do
			:: m < NP ->
				if
				:: state[m] == QUEUED || state[m] == TAKEN -> flush_began_after[m] = 1
				:: else -> skip
				fi;
				m++
			:: else -> m = 0; break
			od
		};
		atomic {
			m = 0;
			do
			:: m < NP ->
				if
				:: flush_began_after[m] -> flushed_ok[m] = 1
				:: else -> skip
				fi;
				m++
			:: else -> m = 0; break
			od
		};
		/* ->release() of the whole carry. */
		atomic {
			m = 0;
			do
			:: m < NP ->
				if
				:: carry & (1 << m) ->
					assert(state[m] == TAKEN);
					assert(flushed_ok[m]);		/* the invariant */
					state[m] = RELEASED;
					released++
				:: else -> skip
				fi;
				m++
			:: else -> m = 0; break
			od;
			carry = 0
		}
	:: else -> skip
	fi;
	atomic { k = 0; flipped = 0; last = 0; nonempty = 0; idx = 0 }
}

active proctype drain()
{
	byte k, m, j, flipped, last, idx, taken;
	bool nonempty;

	do
	:: drain_once()
	:: ndone == NP -> break
	od;
	/* Everything was deferred: one more drain must release it all. */
	drain_once();
	assert(released == NP)
}

init
{
	byte i;

	atomic {
		i = 0;
		do
		:: i < NP -> run producer(i); i++
		:: else -> break
		od
	}
}
