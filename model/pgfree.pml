/*
 * SPDX-License-Identifier: MIT OR GPL-2.0-only
 *
 * A Promela model of pgfree's protocol for spin: defer (lib/domain.c
 * pgfree_defer), the drain (lib/drain.c __pgfree_drain), flush and release
 * callbacks, a flush that may fail, and the drain thread's park and wake
 * (lib/wake.h, lib/wake.c, lib/drain.c pgfree_drain_thread).
 *
 * NP producers defer one descriptor each into NS per-CPU lists; a producer
 * may "migrate" (pick either slot).  Each list is a bitmask of descriptor
 * ids: an add or a detach is one atomic step, as the CAS / exchange are.
 *
 * Weak memory where it matters: the Dekker pair of the park/wake protocol.
 * The drain thread's plain store parked = 1 sits in a store buffer past its
 * next loads unless the fence drains it (spin may drain it at any time
 * otherwise); the producer's add is an atomic CAS, but without its fence
 * the following load of parked may be satisfied before the CAS is visible.
 *
 * A barrier (pgfree_barrier, lib/drain.c) runs beside them.
 *
 * With -DWITH_CALLER a caller's pgfree_drain() runs beside them too, and
 * its flush may be the one that fails: -EIO, or PGFREE_FLUSH_GIVE_UP on a
 * domain without ->give_back, which is the same path (the batch is kept in
 * carry).  Any drain whose flush fails sets kept and wakes the drain thread
 * (lib/drain.c __keep(): store kept, fence, read parked); the drain thread
 * counts kept as work, in its loop and in pgfree_park() after the fence.
 *
 * Checked (make -C model check):
 *  - safety, by assertions on every release: the descriptor was deferred,
 *    not yet released (exactly once), and a flush that BEGAN after its defer
 *    has RETURNED 0 (the invariant);
 *  - barrier correctness, by an assertion when it returns: every descriptor
 *    whose defer returned before the barrier began has been released;
 *  - no lost wake-up, by an LTL property under weak fairness: once every
 *    producer is ndone, eventually every descriptor is released;
 *  - every kept batch is eventually released (-DWITH_CALLER, LTL
 *    kept_released under weak fairness, besides no_lost_wakeup): a batch
 *    kept by a failed flush, whichever drain ran it, does not stay kept;
 *  - the barrier never waits forever: in the -DWITH_BARRIER safety run, a
 *    barrier still waiting when nothing else can move is an invalid end
 *    state.
 * With -DWITH_TAKE_BACK the domain is a PGFREE_F_TAKE_BACK one
 * (lib/takeback.c): the drain keeps each list's chain apart (carry_s), and
 * after the flush returned 0 it publishes each into a free place of its
 * list (K places per list; when none is free it first empties the oldest
 * with an exchange and releases that chain), instead of releasing it; a
 * taker (pgfree_take_back(), any CPU's list) empties places with an
 * exchange and takes what it got; the drain thread, while chains wait,
 * may at any time (the take_back_us timeout) empty a place with an
 * exchange and release what it got.  Checked: the same assertions on
 * every descriptor taken back or released (exactly once, after a flush
 * that began after its defer returned 0), and no_lost_wakeup: everything
 * deferred is eventually taken back or released.
 *
 * Mutants (-DMUTANT_...) must make spin report an error; see the Makefile.
 */

#ifndef NP
#define NP 3			/* producers, one descriptor each */
#endif
#define NS 2			/* per-CPU lists (slots) */
#define MAXFAIL 1		/* flush failures spin may choose */

#define IDLE 0
#define QUEUED 1
#define TAKEN 2
#define RELEASED 3

byte state[NP];			/* per descriptor */
bool flush_began_after[NP];	/* a flush began after the defer */
bool flushed_ok[NP];		/* ... and returned 0 */

/* Memory (what other threads can see). */
byte slot[NS];			/* bitmask of descriptor ids in each list */
bit parked;			/* the futex word, dom->parked */

/* The drain thread's store buffer: parked = 1, not yet visible to others. */
bit dbuf_full;

byte carry;			/* detached, not yet released (dom->carry) */
#ifdef WITH_TAKE_BACK
#define TB_LOCALS byte k2, got, p, old	/* the take-back inlines' locals */
#define K 2			/* places per list (PGFREE_TAKE_BACK_CHAINS) */
byte carry_s[NS];		/* carry, per list (struct pgfree_chainent) */
byte place[NS * K];		/* published chains: bitmasks (struct pgfree_tb_list) */
byte since[NS * K];		/* the drain's dom->tb_since: 0 = it put nothing there */
byte stamp;			/* the clock since[] reads */
#endif
bit dl;				/* dom->drain_lock */
byte gen_started, gen_done;	/* drains begun; last drain that ended with carry empty */
bit kick;			/* dom->kick: a barrier's "drain now" */
bit kept;			/* dom->kept: a failed flush left carry non-empty */
bool returned[NP];		/* pgfree_defer() of descriptor i has returned */
bool barrier_returned;
byte nfail;			/* flush failures so far */
byte ndone;			/* producers finished */
byte released;			/* descriptors released */
bit wake_token;			/* a FUTEX_WAKE not yet consumed */

inline dflush()
{
	atomic {
		if
		:: dbuf_full -> parked = 1; dbuf_full = 0
		:: else -> skip
		fi
	}
}

/*
 * pgfree_defer(): the add into this CPU's list (llist_add's CAS: one atomic
 * step in the head's modification order), then, on the empty-to-non-empty
 * transition, pgfree_wake_if_parked(): a seq_cst fence and a load of
 * parked; if set, exchange it to 0 and FUTEX_WAKE.  Without the fence
 * (mutant), C11 lets the load of parked be satisfied before the CAS is
 * visible: modelled as the load hoisted above the CAS.
 */
proctype producer(byte i)
{
	byte s;
	bool was_empty, seen_parked;

	if				/* this_cpu_slot(): any CPU, migration allowed */
	:: s = 0
	:: s = 1
	fi;
#ifdef MUTANT_NO_PRODUCER_FENCE
	if
	:: seen_parked = parked		/* the load, reordered before the CAS */
	:: skip
	fi;
#endif
	atomic {
		state[i] = QUEUED;
		was_empty = (slot[s] == 0);
		slot[s] = slot[s] | (1 << i)
	};
	if
	:: was_empty ->
#ifdef MUTANT_NO_PRODUCER_FENCE
		skip;
#else
		seen_parked = parked;	/* after pgfree_full_fence() */
#endif
		if
		:: seen_parked ->	/* pgfree_wake(): exchange to 0, then FUTEX_WAKE */
			atomic { parked = 0; wake_token = 1 }
		:: else -> skip
		fi
	:: else -> skip
	fi;
	atomic { returned[i] = 1; ndone++; s = 0; was_empty = 0; seen_parked = 0 }
}

#ifdef WITH_TAKE_BACK
/*
 * Whoever got chain c out of a place by an exchange (a taker, or the drain
 * releasing it) receives its descriptors: each must be detached (TAKEN),
 * once, and covered by a flush that began after its defer and returned 0.
 */
inline receive(c)
{
	atomic {
		k2 = 0;
		do
		:: k2 < NP ->
			if
			:: c & (1 << k2) ->
				assert(state[k2] == TAKEN);	/* exactly once */
				assert(flushed_ok[k2]);		/* the invariant */
				state[k2] = RELEASED;
				released++
			:: else -> skip
			fi;
			k2++
		:: else -> break
		od;
		k2 = 0
	}
}

/* E: empty place p with an exchange (lib/takeback.c __expire_place()). */
inline tb_expire(p)
{
	atomic { got = place[p]; place[p] = 0; since[p] = 0 };
	receive(got);
	got = 0
}

/*
 * P (__pgfree_tb_publish()): list s's chain into a place the drain knows to
 * be empty, or that a load shows a taker emptied; if none, release the
 * oldest first.
 */
inline tb_publish(s)
{
	p = s * K;
	old = 255;
	do
	:: p < s * K + K ->
		if
		:: since[p] == 0 -> break		/* nothing put there since found empty */
		:: since[p] != 0 && place[p] == 0 -> since[p] = 0; break	/* a taker emptied it */
		:: else ->
			if
			:: old == 255 || since[p] < since[old] -> old = p
			:: else -> skip
			fi;
			p++
		fi
	:: else -> break
	od;
#ifdef MUTANT_PUBLISH_INTO_OCCUPIED
	p = s * K;				/* overwrite whatever is there */
#else
	if
	:: p == s * K + K -> tb_expire(old); p = old	/* full: the oldest goes */
	:: else -> skip
	fi;
#endif
	atomic { place[p] = carry_s[s]; carry_s[s] = 0; stamp++; since[p] = stamp };
	p = 0;
	old = 0
}
#endif

/*
 * __pgfree_drain(): __take (exchange each non-empty list), flush once,
 * release.  The caller declares bit dfailed: set when the flush failed and
 * the batch was kept.
 */
inline drain_once()
{
	byte k, taken, gen;
	/* WITH_TAKE_BACK: the caller declares TB_LOCALS (k2, got, p, old). */

	atomic {
		dl == 0 -> dl = 1;		/* pthread_mutex_lock(&dom->drain_lock) */
		gen_started++;
		gen = gen_started;
		/* Every detach: one exchange per list, into carry. */
		k = 0;
		do
		:: k < NS ->
			taken = slot[k];
			slot[k] = 0;
			carry = carry | taken;
#ifdef WITH_TAKE_BACK
			carry_s[k] = carry_s[k] | taken;
#endif
			k++
		:: else -> break
		od;
		k = 0;
		do
		:: k < NP ->
			if
			:: (carry & (1 << k)) && state[k] == QUEUED -> state[k] = TAKEN
			:: else -> skip
			fi;
			k++
		:: else -> break
		od
	};
	if
	:: carry != 0 ->
#if defined(MUTANT_RELEASE_BEFORE_FLUSH) || defined(MUTANT_PUBLISH_BEFORE_FLUSH)
		goto release;
#endif
		/* ->flush() begins: after every detach above (step 3). */
		atomic {
			k = 0;
			do
			:: k < NP ->
				if
				:: state[k] == QUEUED || state[k] == TAKEN -> flush_began_after[k] = 1
				:: else -> skip
				fi;
				k++
			:: else -> break
			od
		};
		if
		:: nfail < MAXFAIL ->		/* flush failed: carry kept (__keep()) */
			atomic { nfail++; dfailed = 1; kept = 1 };
#ifndef MUTANT_KEPT_IGNORED
			/* pgfree_wake_if_parked(): after the fence, read parked */
			if
			:: parked -> atomic { parked = 0; wake_token = 1 }
			:: else -> skip
			fi;
#endif
			goto fail
		:: true ->				/* flush returned 0 */
			atomic {
				k = 0;
				do
				:: k < NP ->
					if
					:: flush_began_after[k] -> flushed_ok[k] = 1
					:: else -> skip
					fi;
					k++
				:: else -> break
				od
			}
		fi;
release:
#ifdef WITH_TAKE_BACK
		/* __hand_over(): each list's chain to a place of its list. */
		k = 0;
		do
		:: k < NS ->
			if
			:: carry_s[k] != 0 -> tb_publish(k)
			:: else -> skip
			fi;
			k++
		:: else -> break
		od;
		atomic { carry = 0; kept = 0 }
#else
		/* ->release() of the whole carry. */
		atomic {
			k = 0;
			do
			:: k < NP ->
				if
				:: carry & (1 << k) ->
					assert(state[k] == TAKEN);	/* exactly once */
					assert(flushed_ok[k]);		/* the invariant */
					state[k] = RELEASED;
					released++
				:: else -> skip
				fi;
				k++
			:: else -> break
			od;
			carry = 0;
			kept = 0
		}
#endif
	:: else -> skip
	fi;
	gen_done = gen;			/* __drain_completed(): wakes barrier waiters */
fail:
	atomic { dl = 0; k = 0; taken = 0; gen = 0 }	/* unlock; locals dead */
}

/*
 * pgfree_drain_thread(): if no list has work and nothing is kept, park:
 * parked = 1, a seq_cst fence, re-check every list and kept,
 * futex_wait(parked, 1).  A kept batch is retried (after a back-off pause,
 * which is only time here).
 *
 * MUTANT_KEPT_IGNORED is the code before the fix: the thread retried only
 * the batches its own flush had failed (a local flag), neither its loop
 * nor pgfree_park() looked at kept, and a failing pgfree_drain() woke
 * nobody for PGFREE_FLUSH_GIVE_UP.
 */
#ifdef MUTANT_KEPT_IGNORED
#define HAS_KEPT retry
#else
#define HAS_KEPT kept
#endif
#ifdef WITH_TAKE_BACK
#define TB_WAITING (since[0] != 0 || since[1] != 0 || since[2] != 0 || since[3] != 0)
#endif
active proctype drain()
{
	bit dfailed, retry;

#ifdef WITH_TAKE_BACK
	byte q;
	TB_LOCALS;
#endif

	do
	:: (slot[0] != 0 || slot[1] != 0 || HAS_KEPT || kick) ->
		kick = 0;			/* atomic_exchange(&dom->kick, false) */
		drain_once();
		atomic { retry = dfailed; dfailed = 0 }
#ifdef WITH_TAKE_BACK
	:: TB_WAITING ->
		/*
		 * Chains wait for take-back: the drain thread parks with a
		 * timeout (pgfree_tb_due()), so at some point it wakes and
		 * releases what waited too long (pgfree_tb_expire()).
		 */
		atomic { dl == 0 -> dl = 1 };
		q = 0;
		do
		:: q < NS * K ->
			if
			:: since[q] != 0 -> tb_expire(q)
			:: else -> skip
			fi;
			q++
		:: else -> break
		od;
		atomic { q = 0; dl = 0 }
#endif
	:: else ->
#ifdef WITH_TAKE_BACK
		!TB_WAITING;			/* else the timed park: the branch above */
#endif
		/* pgfree_park() */
		dbuf_full = 1;				/* parked = 1 (relaxed) */
#ifndef MUTANT_NO_PARK_FENCE
		dflush();				/* pgfree_full_fence() */
#endif
		if
		:: (slot[0] != 0 || slot[1] != 0 || HAS_KEPT || kick) -> skip	/* work, kept, a request */
		:: else ->
			dflush();	/* the futex syscall is a full barrier */
			atomic {
				/* futex_wait(&parked, 1): sleeps only if memory says 1 */
				if
				:: parked == 1 -> skip
				:: else -> wake_token = 1	/* value changed: return at once */
				fi
			};
end_sleep:		wake_token == 1;			/* woken */
			wake_token = 0
		fi;
		dflush();
		atomic { parked = 0; dbuf_full = 0 }	/* parked = 0 on the way out */
	od
}

/*
 * pgfree_barrier() with a drain thread: under drain_lock, target =
 * gen_started + 1 and kick = 1, then pgfree_wake_if_parked() (fence, load
 * parked, wake), then wait for gen_done >= target.  Every descriptor whose
 * defer returned before the barrier began must be released when it returns.
 */
#ifdef WITH_BARRIER
active proctype barrier()
{
	byte k, target;
	bool before[NP];

	atomic {
		dl == 0;
		k = 0;
		do
		:: k < NP -> before[k] = returned[k]; k++
		:: else -> break
		od;
#ifdef MUTANT_BARRIER_STALE_TARGET
		target = gen_started;		/* a drain that may have begun before */
#else
		target = gen_started + 1;
#endif
		kick = 1
	};
	if				/* after the fence in pgfree_wake_if_parked() */
	:: parked -> atomic { parked = 0; wake_token = 1 }
	:: else -> skip
	fi;
	gen_done >= target;		/* pthread_cond_wait loop */
	atomic {
		k = 0;
		do
		:: k < NP -> assert(!before[k] || state[k] == RELEASED); k++
		:: else -> break
		od;
		barrier_returned = 1
	}
}
#endif

/*
 * pgfree_drain() by a caller (or any other drain in a caller's thread:
 * barrier, destroy, pgfree_defer_wait()), once, at any moment.
 */
#ifdef WITH_CALLER
active proctype caller()
{
	bit dfailed;
#ifdef WITH_TAKE_BACK
	TB_LOCALS;
#endif

	drain_once();
	dfailed = 0
}
#endif

#ifdef WITH_TAKE_BACK
/*
 * pgfree_take_back() on some CPU, twice: for each place of that CPU's list,
 * a load, and if not empty an exchange with 0; the caller gets what the
 * exchange returned.  MUTANT_TAKE_NOT_EXCHANGE takes with a load and a
 * later store of 0, so the drain's release of the same place can get the
 * chain in between.
 */
active proctype taker()
{
	byte s, p, n, k2, got;

	do
	:: n < 2 ->
		if
		:: s = 0
		:: s = 1
		fi;
		p = s * K;
		do
		:: p < s * K + K ->
			if
			:: place[p] != 0 ->
#ifdef MUTANT_TAKE_NOT_EXCHANGE
				got = place[p];
				place[p] = 0;
#else
				atomic { got = place[p]; place[p] = 0 };
#endif
				receive(got);
				got = 0
			:: else -> skip
			fi;
			p++
		:: else -> break
		od;
		atomic { n++; p = 0; s = 0 }
	:: else -> break
	od
}
#endif

/* The store buffer drains on its own at any time (the hardware's choice). */
active proctype memory()
{
end_mem:
	do
	:: dbuf_full -> dflush()
	od
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

/*
 * No lost wake-up: once every producer is ndone, all get released.  (The
 * barrier is checked in a separate safety run, -DWITH_BARRIER: its
 * assertion, and an invalid end state if it could wait forever.)
 */
#ifndef WITH_BARRIER
ltl no_lost_wakeup { [] ((ndone == NP) -> <> (released == NP)) }
ltl kept_released { [] (kept -> <> !kept) }
#endif
