// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * fork(): the registry of live domains and the pthread_atfork() handlers
 * that give a child working copies of them.
 *
 * A child starts with one thread, the one that called fork(), and with a
 * copy of memory as it was at that instant: the drain threads are gone, and
 * any lock another thread held stays held forever.  So, before the fork,
 * the forking thread takes every lock a domain's state hangs on, in one
 * order (registry, then each domain's drain_lock, gen_lock, its design
 * lock, the debug set, the tombstone list), waiting for a running drain to finish:
 * the copy is then consistent (no drain half done, dom->carry whole).
 * After the fork the parent drops them and goes on undisturbed.  The
 * child drops them too (it holds them: it is the forking thread), makes
 * new condition variables, and starts a new drain thread for every domain
 * that had one, with a kick (and waits until it runs: drain_thread.c), so
 * that the child's copies of whatever was queued or detached are flushed
 * and released by the child's callbacks.
 * If that thread cannot start, the child's domain is left caller-driven
 * (pgfree_stats().drain_thread is 0).
 *
 * Not covered: a fork from inside a callback of a domain (that domain is
 * left as it is in the child: its drain is the forking thread's own, half
 * done); a domain being created or destroyed while another thread forks
 * (destroy takes it off the registry first, so the child's copy is dead).
 */
#include <pthread.h>
#include <stdatomic.h>

#include "domain.h"

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pgfree_domain *registry;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void fork_prepare(void)
{
	pthread_mutex_lock(&registry_lock);
	for (struct pgfree_domain *dom = registry; dom; dom = dom->reg_next) {
		/* Inside its callback this thread holds it already. */
		dom->fork_locked = !pgfree_in_callback_of(dom);
		if (dom->fork_locked)
			pthread_mutex_lock(&dom->drain_lock);
		pthread_mutex_lock(&dom->gen_lock);	/* a barrier's, briefly */
		if (dom->dops->fork_lock)
			dom->dops->fork_lock(dom);
	}
	pgfree_debug_fork_lock();
	pgfree_tombstone_lock();
}

/* In the child: @dom's copy gets a new drain thread, with work to do. */
static void child_restart(struct pgfree_domain *dom)
{
	/* No thread of the child waits on it: start afresh. */
	pgfree_cond_init_monotonic(&dom->drain_done);
	/* Relaxed: the child has one thread; nothing races yet. */
	atomic_store_explicit(&dom->parked, 0, memory_order_relaxed);
	atomic_store_explicit(&dom->gathering, 0, memory_order_relaxed);
	if (dom->has_thread) {
		dom->has_thread = false;
		/* Drain what the copy holds, even if only dom->carry. */
		atomic_store_explicit(&dom->kick, true, memory_order_relaxed);
		pgfree_start_drain_thread(dom);	/* sets has_thread */
	}
}

/*
 * Drop what fork_prepare() took, in reverse (the child's only thread is
 * the forking one, which holds it all).  In the child, first give each
 * domain it locked a new drain thread.
 */
static void fork_unlock(bool child)
{
	pgfree_tombstone_unlock();
	pgfree_debug_fork_unlock();
	for (struct pgfree_domain *dom = registry; dom; dom = dom->reg_next) {
		if (dom->dops->fork_unlock)
			dom->dops->fork_unlock(dom, child);
		pthread_mutex_unlock(&dom->gen_lock);
		if (!dom->fork_locked)
			continue;	/* forked from its callback: left alone */
		if (child)
			child_restart(dom);
		pthread_mutex_unlock(&dom->drain_lock);
	}
	pthread_mutex_unlock(&registry_lock);
}

static void fork_parent(void)
{
	fork_unlock(false);
}

static void fork_child(void)
{
	fork_unlock(true);
}

static void atfork_register(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* A new domain: from create, before it is returned. */
void pgfree_registry_add(struct pgfree_domain *dom)
{
	pthread_once(&atfork_once, atfork_register);
	pthread_mutex_lock(&registry_lock);
	dom->reg_prev = NULL;
	dom->reg_next = registry;
	if (registry)
		registry->reg_prev = dom;
	registry = dom;
	pthread_mutex_unlock(&registry_lock);
}

/* A domain being destroyed. */
void pgfree_registry_del(struct pgfree_domain *dom)
{
	pthread_mutex_lock(&registry_lock);
	if (dom->reg_prev)
		dom->reg_prev->reg_next = dom->reg_next;
	else
		registry = dom->reg_next;
	if (dom->reg_next)
		dom->reg_next->reg_prev = dom->reg_prev;
	dom->reg_next = dom->reg_prev = NULL;
	pthread_mutex_unlock(&registry_lock);
}
