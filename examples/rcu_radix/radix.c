// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The radix tree of radix.h: the updater's insert and delete, the readers'
 * lookup, and the release that poisons and recycles.
 *
 * Orders, once for the whole file:
 *  - publishing an object (a new child in a slot) is a release store, its
 *    lookup an acquire load, as rcu_assign_pointer()/rcu_dereference(): the
 *    reader sees the object's initialization (magic, key, NULL slots).
 *  - unlinking (NULL into a slot) is relaxed: it publishes nothing, and
 *    pgfree_defer() right after it has release semantics, so the unlink
 *    happens-before the drain, and so before the stage's grace period.
 *  - the magic word is read and poisoned relaxed: in rcu mode the grace
 *    period orders every reader's loads before the poison; in no-rcu mode
 *    it is a detector, and seeing it late only makes detection rarer.
 *  - the updater reads its own tree relaxed (nobody else writes it).
 */
#include <errno.h>
#include <stdlib.h>
#include <time.h>

#include "radix.h"

static unsigned int index_of(uint32_t key, int level)
{
	return (key >> (RADIX_BITS * (RADIX_LEVELS - 1 - level))) & (RADIX_SLOTS - 1);
}

static size_t size_of(enum radix_kind kind)
{
	return kind == RADIX_ITEM ? sizeof(struct ritem) : sizeof(struct rnode);
}

void radix_init(struct radix *t, int (*defer)(void *arg, struct pgfree_llist_node *node),
		void *arg)
{
	*t = (struct radix){ .defer = defer, .defer_arg = arg };
	atomic_init(&t->root.obj.magic, RADIX_LIVE);
	for (int k = 0; k < RADIX_KINDS; k++)
		pgfree_init_llist_head(&t->pool[k]);
}

/* A recycled object if there is one (pools first: bounded memory), else a
 * new one.  The updater's alone. */
static struct robj *obj_alloc(struct radix *t, enum radix_kind kind)
{
	struct pgfree_llist_node *n = t->spare[kind];
	struct robj *o;

	if (!n)
		/* Acquire (del_all): radix_release()'s poison and pool link
		 * come before our reuse. */
		n = pgfree_llist_del_all(&t->pool[kind]);
	if (n) {
		t->spare[kind] = n->next;
		o = pgfree_llist_entry(n, struct robj, free_node);
	} else {
		o = calloc(1, size_of(kind));
		if (!o)
			return NULL;
		o->kind = kind;
	}
	if (kind != RADIX_ITEM) {
		struct rnode *rn = (struct rnode *)o;

		rn->count = 0;
		/* Relaxed: published by the release store into the parent. */
		for (unsigned int i = 0; i < RADIX_SLOTS; i++)
			atomic_store_explicit(&rn->slots[i], NULL, memory_order_relaxed);
	}
	atomic_store_explicit(&o->magic, RADIX_LIVE, memory_order_relaxed);
	return o;
}

int radix_insert(struct radix *t, uint32_t key)
{
	struct rnode *n = &t->root;
	struct robj *o;
	unsigned int idx;

	for (int level = 0; level < RADIX_LEVELS - 1; level++) {
		idx = index_of(key, level);
		o = atomic_load_explicit(&n->slots[idx], memory_order_relaxed);
		if (!o) {
			/* An allocation failure further down leaves this node
			 * empty but linked: harmless, the next insert uses it. */
			o = obj_alloc(t, level == 0 ? RADIX_NODE_L1 : RADIX_NODE_L2);
			if (!o)
				return -ENOMEM;
			atomic_store_explicit(&n->slots[idx], o, memory_order_release);
			n->count++;
		}
		n = (struct rnode *)o;
	}
	idx = index_of(key, RADIX_LEVELS - 1);
	if (atomic_load_explicit(&n->slots[idx], memory_order_relaxed))
		return 0;
	o = obj_alloc(t, RADIX_ITEM);
	if (!o)
		return -ENOMEM;
	atomic_store_explicit(&((struct ritem *)o)->key, key, memory_order_relaxed);
	atomic_store_explicit(&n->slots[idx], o, memory_order_release);
	n->count++;
	return 1;
}

int radix_delete(struct radix *t, uint32_t key)
{
	struct rnode *path[RADIX_LEVELS];
	struct robj *o;
	int err;

	path[0] = &t->root;
	for (int level = 0; level < RADIX_LEVELS - 1; level++) {
		o = atomic_load_explicit(&path[level]->slots[index_of(key, level)],
					 memory_order_relaxed);
		if (!o)
			return 0;
		path[level + 1] = (struct rnode *)o;
	}

	/* Unlink the item, then each node it leaves empty, bottom up; each
	 * goes to pgfree only once it is unreachable from the root.  An
	 * error from the defer (only a destroyed domain) leaks the object. */
	for (int level = RADIX_LEVELS - 1; level >= 0; level--) {
		_Atomic(struct robj *) *slot = &path[level]->slots[index_of(key, level)];

		o = atomic_load_explicit(slot, memory_order_relaxed);
		if (!o)
			return 0;	/* only at the item level: absent */
		atomic_store_explicit(slot, NULL, memory_order_relaxed);
		path[level]->count--;
		err = t->defer(t->defer_arg, &o->free_node);
		if (err)
			return err;
		if (level == 0 || path[level]->count)
			break;
		/* path[level] is empty now: unlink it from its parent next. */
	}
	return 1;
}

static void dwell(uint64_t ns)
{
	struct timespec ts;
	uint64_t start, now;

	if (!ns)
		return;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	start = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	do {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	} while (now - start < ns);
}

static bool live(const struct robj *o)
{
	return atomic_load_explicit(&o->magic, memory_order_relaxed) == RADIX_LIVE;
}

bool radix_lookup(struct radix *t, uint32_t key, uint64_t dwell_ns, uint64_t *violations)
{
	struct robj *path[RADIX_LEVELS];
	struct rnode *n = &t->root;
	int depth = 0;
	bool found = false;

	for (int level = 0; level < RADIX_LEVELS; level++) {
		struct robj *o = atomic_load_explicit(&n->slots[index_of(key, level)],
						      memory_order_acquire);

		if (!o)
			break;
		path[depth++] = o;
		if (!live(o)) {
			/* Do not walk on: its slots belong to another life. */
			(*violations)++;
			return false;
		}
		if (level == RADIX_LEVELS - 1) {
			if (atomic_load_explicit(&((struct ritem *)o)->key,
						 memory_order_relaxed) != key)
				(*violations)++;	/* recycled under us */
			found = true;
		}
		n = (struct rnode *)o;
	}

	/* Hold the path, as a slow reader would, then check it is still ours. */
	dwell(dwell_ns);
	for (int i = 0; i < depth; i++)
		if (!live(path[i]))
			(*violations)++;
	return found;
}

void radix_release(struct radix *t, struct pgfree_llist_node *batch)
{
	struct pgfree_llist_node *pos, *next;

	pgfree_llist_for_each_safe(pos, next, batch) {
		struct robj *o = pgfree_llist_entry(pos, struct robj, free_node);

		atomic_store_explicit(&o->magic, RADIX_POISON, memory_order_relaxed);
		/* Relaxed: a statistic, read after the domain is destroyed. */
		atomic_fetch_add_explicit(&t->freed[o->kind], 1, memory_order_relaxed);
		/* Release CAS: the poison is visible to the updater that reuses it. */
		pgfree_llist_add(pos, &t->pool[o->kind]);
	}
}

static void free_subtree(struct rnode *n, int level)
{
	for (unsigned int i = 0; i < RADIX_SLOTS; i++) {
		struct robj *o = atomic_load_explicit(&n->slots[i], memory_order_relaxed);

		if (!o)
			continue;
		if (level < RADIX_LEVELS - 1)
			free_subtree((struct rnode *)o, level + 1);
		free(o);
	}
}

void radix_destroy(struct radix *t)
{
	struct pgfree_llist_node *pos, *next;

	free_subtree(&t->root, 0);
	for (int k = 0; k < RADIX_KINDS; k++) {
		pgfree_llist_for_each_safe(pos, next, t->spare[k])
			free(pgfree_llist_entry(pos, struct robj, free_node));
		pgfree_llist_for_each_safe(pos, next, pgfree_llist_del_all(&t->pool[k]))
			free(pgfree_llist_entry(pos, struct robj, free_node));
		t->spare[k] = NULL;
	}
}
