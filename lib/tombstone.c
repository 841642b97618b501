// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Destroyed domains are kept, not freed, so that a stale pointer passed to
 * any pgfree call reads state DEAD and gets -ESHUTDOWN instead of touching
 * freed memory.  What is kept is the domain struct alone (its queues are
 * freed); the list keeps it reachable, so leak checkers do not report it.
 * Because a destroyed domain's address is never reused, no stale pointer
 * can ever reach a newer domain either.
 */
#include <pthread.h>

#include "domain.h"

static pthread_mutex_t tomb_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pgfree_domain *tombs;

void pgfree_tombstone_add(struct pgfree_domain *dom)
{
	pthread_mutex_lock(&tomb_lock);
	dom->tomb_next = tombs;
	tombs = dom;
	pthread_mutex_unlock(&tomb_lock);
}

void pgfree_tombstone_lock(void)
{
	pthread_mutex_lock(&tomb_lock);
}

void pgfree_tombstone_unlock(void)
{
	pthread_mutex_unlock(&tomb_lock);
}

