/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef _SHIM_LINUX_LIST_H
#define _SHIM_LINUX_LIST_H
/*
 * The part of <linux/list.h> the v5 baseline (v5/pgtable-generic.c) uses:
 * a circular doubly linked list, plain accesses only (the v5 code holds its
 * spinlock around every list operation).
 */
#include <linux/compiler.h>

struct list_head {
	struct list_head *next, *prev;
};

#define LIST_HEAD_INIT(name)	{ &(name), &(name) }
#define LIST_HEAD(name)		struct list_head name = LIST_HEAD_INIT(name)

static inline void INIT_LIST_HEAD(struct list_head *list)
{
	list->next = list;
	list->prev = list;
}

static inline bool list_empty(const struct list_head *head)
{
	return head->next == head;
}

static inline void list_add(struct list_head *new, struct list_head *head)
{
	struct list_head *next = head->next;

	next->prev = new;
	new->next = next;
	new->prev = head;
	head->next = new;
}

/* Move @list's entries to the tail of @head and leave @list empty. */
static inline void list_splice_tail_init(struct list_head *list, struct list_head *head)
{
	struct list_head *first = list->next, *last = list->prev, *at = head->prev;

	if (list_empty(list))
		return;
	first->prev = at;
	at->next = first;
	last->next = head;
	head->prev = last;
	INIT_LIST_HEAD(list);
}

#define list_entry(ptr, type, member)	container_of(ptr, type, member)

#define list_for_each_entry_safe(pos, n, head, member)					\
	for ((pos) = list_entry((head)->next, __typeof__(*(pos)), member),		\
	     (n) = list_entry((pos)->member.next, __typeof__(*(pos)), member);		\
	     &(pos)->member != (head);							\
	     (pos) = (n), (n) = list_entry((n)->member.next, __typeof__(*(n)), member))

#endif /* _SHIM_LINUX_LIST_H */
