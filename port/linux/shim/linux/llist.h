/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_LLIST_H
#define _SHIM_LINUX_LLIST_H
/*
 * <linux/llist.h> mapped onto <pgfree/llist.h>, which has the kernel's
 * semantics behind a pgfree_ prefix: the struct tags are renamed by macro,
 * the functions are wrappers with the kernel's signatures (so the ported
 * code is type-checked as in the kernel), the iterators are aliases.
 *
 * Memory ordering.  The kernel's llist_add() (try_cmpxchg) and
 * llist_del_all() (xchg) are fully ordered; pgfree's are a release CAS and
 * an acquire exchange.  That is all the ported code relies on: a node's
 * contents reach the worker that takes it (release/acquire on the head),
 * and the "no lost wake-up" handshake goes through RMWs on the work's
 * PENDING word (see workqueue.h), not through a store-then-load pattern on
 * the list that would need a full barrier.
 */
#include <linux/compiler.h>
#include <pgfree/llist.h>

#define llist_head	pgfree_llist_head
#define llist_node	pgfree_llist_node

#define LLIST_HEAD_INIT(name)	PGFREE_LLIST_HEAD_INIT
#define LLIST_HEAD(name)	struct llist_head name = LLIST_HEAD_INIT(name)

#define llist_entry(ptr, type, member)	pgfree_llist_entry(ptr, type, member)
#define llist_for_each(pos, node)	pgfree_llist_for_each(pos, node)
#define llist_for_each_safe(pos, n, node) pgfree_llist_for_each_safe(pos, n, node)
#define llist_for_each_entry(pos, node, member) \
	pgfree_llist_for_each_entry(pos, node, member)
#define llist_for_each_entry_safe(pos, n, node, member) \
	pgfree_llist_for_each_entry_safe(pos, n, node, member)

static inline void init_llist_head(struct llist_head *list)
{
	pgfree_init_llist_head(list);
}

static inline bool llist_empty(const struct llist_head *head)
{
	return pgfree_llist_empty(head);
}

static inline bool llist_add_batch(struct llist_node *new_first, struct llist_node *new_last,
				   struct llist_head *head)
{
	return pgfree_llist_add_batch(new_first, new_last, head);
}

static inline bool llist_add(struct llist_node *new, struct llist_head *head)
{
	return pgfree_llist_add(new, head);
}

static inline bool __llist_add(struct llist_node *new, struct llist_head *head)
{
	return __pgfree_llist_add(new, head);
}

static inline struct llist_node *llist_del_all(struct llist_head *head)
{
	return pgfree_llist_del_all(head);
}

static inline struct llist_node *llist_del_first(struct llist_head *head)
{
	return pgfree_llist_del_first(head);
}

static inline struct llist_node *llist_reverse_order(struct llist_node *head)
{
	return pgfree_llist_reverse_order(head);
}

static inline struct llist_node *llist_next(struct llist_node *node)
{
	return pgfree_llist_next(node);
}

#endif /* _SHIM_LINUX_LLIST_H */
