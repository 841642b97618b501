/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_EXAMPLE_RADIX_H
#define PGFREE_EXAMPLE_RADIX_H
/*
 * A small RCU-protected radix tree, shaped like a page table: 3 levels of
 * 64 slots (6 bits each), keys below 1 << 18, the last level pointing at
 * items.  One updater inserts and deletes; any number of urcu-memb readers
 * look up without a lock.  Emptied interior nodes and deleted items are
 * unlinked, then handed to pgfree (the caller's ->defer) exactly like
 * page-table pages: unlink first, free only after the flush stage.
 *
 *                  | lookup | insert/delete | radix_release
 * lookup           |   -    |       -       |   - (after a grace period)
 * insert/delete    |        |  1 updater    |   -
 *
 * Every object carries a magic word that ->release() poisons, so a reader
 * that reaches a released object sees it (radix_lookup() counts it).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pgfree/pgfree.h>

#define RADIX_BITS 6
#define RADIX_SLOTS (1u << RADIX_BITS)
#define RADIX_LEVELS 3
#define RADIX_KEY_MAX (1u << (RADIX_BITS * RADIX_LEVELS))

#define RADIX_LIVE 0x4c495645u		/* "LIVE" */
#define RADIX_POISON 0xdeadbeefu

/* Each kind has its own pool, so a recycled object keeps its type (as with
 * SLAB_TYPESAFE_BY_RCU): even a reader that wrongly holds one across its
 * release reads a node of the same level, never past an item's end. */
enum radix_kind { RADIX_NODE_L1, RADIX_NODE_L2, RADIX_ITEM, RADIX_KINDS };

/**
 * struct robj - what nodes and items share
 * @free_node: what pgfree queues, then the recycling pool's link
 * @kind: enum radix_kind; tells ->release() what it got
 * @magic: RADIX_LIVE while reachable or in flight, RADIX_POISON once
 *	released (until it is recycled)
 */
struct robj {
	struct pgfree_llist_node free_node;
	enum radix_kind kind;
	_Atomic uint32_t magic;
};

/**
 * struct rnode - an interior node (a page-table page)
 * @obj: the common part
 * @count: non-NULL slots; the updater's alone
 * @slots: children: RADIX_NODE_L1 under the root, RADIX_NODE_L2 under
 *	those, RADIX_ITEM under those
 */
struct rnode {
	struct robj obj;
	unsigned int count;
	_Atomic(struct robj *) slots[RADIX_SLOTS];
};

/**
 * struct ritem - a leaf item
 * @obj: the common part
 * @key: its key; a reader that finds another key reached a recycled item
 */
struct ritem {
	struct robj obj;
	_Atomic uint32_t key;
};

/**
 * struct radix - the tree and its recycling pools
 * @root: the top node, never freed
 * @defer: hands an unlinked object to pgfree; returns pgfree_defer()'s error
 * @defer_arg: for @defer
 * @pool: released objects of each kind, pushed by radix_release() (in
 *	pgfree's drain), taken all at once by the updater
 * @spare: the updater's private list of objects taken from @pool
 * @freed: objects of each kind radix_release() received
 */
struct radix {
	struct rnode root;
	int (*defer)(void *arg, struct pgfree_llist_node *node);
	void *defer_arg;
	struct pgfree_llist_head pool[RADIX_KINDS];
	struct pgfree_llist_node *spare[RADIX_KINDS];
	_Atomic uint64_t freed[RADIX_KINDS];
};

/**
 * radix_init() - set up an empty tree
 * @t: the tree
 * @defer: gets every unlinked object (pgfree_defer() on the caller's domain)
 * @arg: for @defer
 *
 * Context: before the tree is shared.
 */
void radix_init(struct radix *t, int (*defer)(void *arg, struct pgfree_llist_node *node),
		void *arg);

/**
 * radix_destroy() - free every object: the tree's and the pools'
 * @t: the tree
 *
 * Context: after every reader stopped and the pgfree domain was destroyed
 * (so that nothing is in flight).
 */
void radix_destroy(struct radix *t);

/**
 * radix_insert() - add @key
 * @t: the tree
 * @key: below RADIX_KEY_MAX
 *
 * Context: the one updater.
 * Barriers: each new object is published with a release store.
 * Return: 1 inserted, 0 already there, -ENOMEM.
 */
int radix_insert(struct radix *t, uint32_t key);

/**
 * radix_delete() - remove @key and every node it leaves empty
 * @t: the tree
 * @key: the key
 *
 * Each removed object goes to @t->defer once it is unlinked, bottom up.
 * Context: the one updater.  Barriers: those of @t->defer (pgfree_defer():
 * the unlink happens-before the flush stage).
 * Return: 1 deleted, 0 absent, or @t->defer's error.
 */
int radix_delete(struct radix *t, uint32_t key);

/**
 * radix_lookup() - find @key and check the path to it
 * @t: the tree
 * @key: the key
 * @dwell_ns: hold the path this long before checking it again (widens the
 *	window a missing grace period would open)
 * @violations: incremented for every poisoned or recycled object seen
 *
 * Context: any registered urcu-memb reader, inside urcu_memb_read_lock().
 * Barriers: acquire loads down the path, as rcu_dereference().
 * Return: true if found.
 */
bool radix_lookup(struct radix *t, uint32_t key, uint64_t dwell_ns, uint64_t *violations);

/**
 * radix_release() - the pgfree ->release() body
 * @t: the tree
 * @batch: the released objects
 *
 * Poisons each object and pushes it to its kind's pool for the updater.
 * Context: pgfree's drain, after the stage's grace period.
 * Barriers: each push is a release CAS (the updater's take is acquire).
 */
void radix_release(struct radix *t, struct pgfree_llist_node *batch);

#endif /* PGFREE_EXAMPLE_RADIX_H */
