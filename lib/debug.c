// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Misuse detection for PGFREE_DEBUG builds: the set of nodes queued in any
 * domain.  pgfree_defer() of a node already in the set returns -EEXIST
 * instead of linking it a second time (which would make a cycle, or splice
 * two lists together); the drain removes a batch's nodes just before
 * ->release() or ->give_back() gets them, since the user may then queue
 * them again.  One global mutex and a chained hash: slow, and only for
 * debugging (the set's entries are allocated: if that fails the node is
 * queued unchecked rather than refused, since defer must not fail on it).
 */
#ifdef PGFREE_DEBUG
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "domain.h"

#define DEBUG_BUCKETS 4096u

struct queued_node {
	const struct pgfree_llist_node *node;
	struct queued_node *next;
};

static pthread_mutex_t debug_lock = PTHREAD_MUTEX_INITIALIZER;
static struct queued_node *buckets[DEBUG_BUCKETS];

static struct queued_node **bucket(const struct pgfree_llist_node *node)
{
	uintptr_t h = (uintptr_t)node;

	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15u;
	return &buckets[(h >> 20) % DEBUG_BUCKETS];
}

int pgfree_debug_node_queue(struct pgfree_llist_node *node)
{
	struct queued_node **b, *q;
	int err = 0;

	pthread_mutex_lock(&debug_lock);
	b = bucket(node);
	for (q = *b; q; q = q->next)
		if (q->node == node)
			break;
	if (q) {
		err = -EEXIST;
	} else {
		q = malloc(sizeof(*q));
		if (q) {
			q->node = node;
			q->next = *b;
			*b = q;
		}
	}
	pthread_mutex_unlock(&debug_lock);
	return err;
}

void pgfree_debug_node_unqueue(struct pgfree_llist_node *node)
{
	struct queued_node **pp, *q;

	pthread_mutex_lock(&debug_lock);
	for (pp = bucket(node); (q = *pp); pp = &q->next) {
		if (q->node == node) {
			*pp = q->next;
			free(q);
			break;
		}
	}
	pthread_mutex_unlock(&debug_lock);
}

void pgfree_debug_chain_unqueue(struct pgfree_llist_node *chain)
{
	for (; chain; chain = chain->next)
		pgfree_debug_node_unqueue(chain);
}

/* Held across fork() (fork.c); the child's only thread is the holder. */
void pgfree_debug_fork_lock(void)
{
	pthread_mutex_lock(&debug_lock);
}

void pgfree_debug_fork_unlock(void)
{
	pthread_mutex_unlock(&debug_lock);
}
#else
/* ISO C wants something in a translation unit. */
typedef int pgfree_debug_unused;
#endif
