/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_LLIST_H
#define PGFREE_LLIST_H
/*
 * Lock-less NULL-terminated singly linked list, with the semantics of the
 * Linux kernel's <linux/llist.h>, in C11 atomics.
 *
 * The names mirror the kernel's one to one behind a pgfree_ prefix
 * (llist_add() is pgfree_llist_add(), struct llist_node is struct
 * pgfree_llist_node), so code moves between the kernel and this library by
 * renaming only.
 *
 * Cases where atomic operations need no lock, as in the kernel: for one
 * list head, any number of producers may run pgfree_llist_add() and
 * pgfree_llist_add_batch() at the same time as one another, as any number of
 * pgfree_llist_del_all() callers, and as ONE pgfree_llist_del_first() caller.
 *
 *            |   add    | del_first |  del_all
 * add        |    -     |     -     |     -
 * del_first  |          |     L     |     L
 * del_all    |          |           |     -
 *
 * A '-' means the two may run together without a lock; 'L' means a lock
 * (or a single consumer) is needed.  Two del_first callers race with each
 * other (ABA: the entry one of them read may be freed and re-added), and
 * del_first with del_all races the same way, as in the kernel.
 *
 * The __ variants (__pgfree_llist_add(), __pgfree_llist_del_all()) are not
 * atomic: the caller holds exclusion over the head.
 *
 * Memory ordering: the kernel's cmpxchg()/xchg() are fully ordered.  Here
 * each operation names the weakest C11 order that gives the guarantee a
 * llist user relies on, and says why:
 *  - add/add_batch publish the new nodes with a release CAS: everything the
 *    producer wrote to the node (and to the object that embeds it) before
 *    the add is visible to whoever takes the node with an acquire operation.
 *  - del_all is an acquire exchange; del_first an acquire load and an
 *    acquire CAS: the taker sees the producer's writes to each node taken.
 *  - empty() is a relaxed load, like READ_ONCE(): a hint, ordering nothing.
 * Callers that need more (the Dekker-style "add, then check whether the
 * consumer sleeps" of a wake-up protocol) add their own fences, as
 * pgfree's drain does.
 *
 * Entries come out newest first; pgfree_llist_reverse_order() gives oldest
 * first.  The iterators do not remove entries: use them on a list detached
 * with del_all (or under exclusion).
 *
 * Ownership: once added, a node belongs to the list and to whoever takes
 * it; the adder must not touch it again (a consumer may take, reuse or
 * free it before the add even returns).  In pgfree this is the rule for
 * pgfree_defer(): the node may already be flushed and released by the
 * drain thread while the call is still returning, so the caller must not
 * read or write the node, or the object around it, after handing it over.
 *
 * The head is an atomic object; nodes are plain pointers (they are written
 * before they are published and read after they are taken).  In C++ the
 * head uses std::atomic, which has the layout of C11's _Atomic on GCC and
 * Clang, so the header compiles as C11 and as C++17.
 */

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
#include <atomic>
#define PGFREE_ATOMIC(T) std::atomic<T>
#define PGFREE_STD_ std::
#else
#include <stdatomic.h>
#define PGFREE_ATOMIC(T) _Atomic(T)
#define PGFREE_STD_
#endif

#ifdef __cplusplus
extern "C" {
#endif

/**
 * struct pgfree_llist_node - a list entry, embedded in the user's object
 * @next: the next (older) entry, NULL at the end
 */
struct pgfree_llist_node {
	struct pgfree_llist_node *next;
};

/**
 * struct pgfree_llist_head - the list head
 * @first: newest entry, NULL when empty; only touched atomically
 */
struct pgfree_llist_head {
	PGFREE_ATOMIC(struct pgfree_llist_node *) first;
};

/* Static initializer: struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT; */
#define PGFREE_LLIST_HEAD_INIT { NULL }
#define PGFREE_LLIST_HEAD(name) struct pgfree_llist_head name = PGFREE_LLIST_HEAD_INIT

/**
 * pgfree_init_llist_head() - initialize a list head at run time
 * @list: the head
 *
 * Not atomic with respect to concurrent users: call before publishing @list.
 */
static inline void pgfree_init_llist_head(struct pgfree_llist_head *list)
{
	PGFREE_STD_ atomic_store_explicit(&list->first, (struct pgfree_llist_node *)NULL,
					  PGFREE_STD_ memory_order_relaxed);
}

/**
 * pgfree_init_llist_node() - mark a node as not on any list
 * @node: the node
 *
 * Like the kernel's init_llist_node(): the node points to itself, which
 * pgfree_llist_on_list() reads as "off list".
 */
static inline void pgfree_init_llist_node(struct pgfree_llist_node *node)
{
	node->next = node;
}

/**
 * pgfree_llist_on_list() - whether a node initialized by
 * pgfree_init_llist_node() has been added to a list since
 * @node: the node
 *
 * Return: true when @node->next no longer points to @node.  Only
 * meaningful to the node's owner (nothing else writes ->next).
 */
static inline bool pgfree_llist_on_list(const struct pgfree_llist_node *node)
{
	return node->next != node;
}

/**
 * pgfree_llist_entry() - the object that embeds a node
 * @ptr: the struct pgfree_llist_node pointer
 * @type: the embedding type
 * @member: the name of the node within @type
 */
#define pgfree_llist_entry(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

/* Like pgfree_llist_entry(), but NULL stays NULL. */
#define pgfree_llist_entry_safe(ptr, type, member) \
	__extension__({ \
		__typeof__(ptr) pgfree_ptr_ = (ptr); \
		pgfree_ptr_ ? pgfree_llist_entry(pgfree_ptr_, type, member) : (type *)NULL; \
	})

/**
 * pgfree_llist_for_each - iterate over a detached list of nodes
 * @pos: struct pgfree_llist_node * cursor
 * @node: the first node
 *
 * @pos must not be freed inside the loop; see pgfree_llist_for_each_safe.
 */
#define pgfree_llist_for_each(pos, node) \
	for ((pos) = (node); (pos); (pos) = (pos)->next)

/**
 * pgfree_llist_for_each_safe - iterate, allowing @pos to be freed or re-added
 * @pos: struct pgfree_llist_node * cursor
 * @n: another struct pgfree_llist_node *, temporary storage
 * @node: the first node
 */
#define pgfree_llist_for_each_safe(pos, n, node) \
	for ((pos) = (node); (pos) && ((n) = (pos)->next, 1); (pos) = (n))

/**
 * pgfree_llist_for_each_entry - iterate over the objects of a detached list
 * @pos: cursor, a pointer to the embedding type
 * @node: the first struct pgfree_llist_node *
 * @member: the name of the node within the embedding type
 */
#define pgfree_llist_for_each_entry(pos, node, member) \
	for ((pos) = pgfree_llist_entry_safe((node), __typeof__(*(pos)), member); (pos); \
	     (pos) = pgfree_llist_entry_safe((pos)->member.next, __typeof__(*(pos)), member))

/**
 * pgfree_llist_for_each_entry_safe - iterate over objects, allowing @pos to
 * be freed or re-added to a list inside the loop
 * @pos: cursor, a pointer to the embedding type
 * @n: another pointer to the embedding type, temporary storage
 * @node: the first struct pgfree_llist_node *
 * @member: the name of the node within the embedding type
 */
#define pgfree_llist_for_each_entry_safe(pos, n, node, member) \
	for ((pos) = pgfree_llist_entry_safe((node), __typeof__(*(pos)), member); \
	     (pos) && ((n) = pgfree_llist_entry_safe((pos)->member.next, __typeof__(*(pos)), \
						     member), 1); \
	     (pos) = (n))

/**
 * pgfree_llist_empty() - whether a list is empty
 * @head: the head
 *
 * A relaxed load, like the kernel's READ_ONCE(): by the time the caller
 * looks at the answer another thread may have changed it.  It orders no
 * other access.
 *
 * Return: true when @head held no entry at the moment of the load.
 */
static inline bool pgfree_llist_empty(const struct pgfree_llist_head *head)
{
	return PGFREE_STD_ atomic_load_explicit(&head->first,
						PGFREE_STD_ memory_order_relaxed) == NULL;
}

/**
 * pgfree_llist_add_batch() - add several linked entries in one step
 * @new_first: first entry of the chain (it becomes the newest)
 * @new_last: last entry of the chain
 * @head: the list to add to
 *
 * A CAS loop.  Release on success: the chain's contents, written before the
 * call, are visible to the consumer that takes them with an acquire
 * operation.  Relaxed on failure: the loop retries with the value it read,
 * and nothing has been published yet.  Any context; never sleeps.
 *
 * Return: true when the list was empty before the add (the caller uses this
 * to wake the consumer only on the empty to non-empty transition).
 */
static inline bool pgfree_llist_add_batch(struct pgfree_llist_node *new_first,
					  struct pgfree_llist_node *new_last,
					  struct pgfree_llist_head *head)
{
	/* Relaxed: the value is only a guess that the CAS below checks. */
	struct pgfree_llist_node *first =
		PGFREE_STD_ atomic_load_explicit(&head->first, PGFREE_STD_ memory_order_relaxed);

	do {
		new_last->next = first;
	} while (!PGFREE_STD_ atomic_compare_exchange_weak_explicit(
		&head->first, &first, new_first, PGFREE_STD_ memory_order_release,
		PGFREE_STD_ memory_order_relaxed));

	return first == NULL;
}

/**
 * pgfree_llist_add() - add one entry
 * @new_node: the entry
 * @head: the list to add to
 *
 * Same ordering and context as pgfree_llist_add_batch().
 *
 * Return: true when the list was empty before the add.
 */
static inline bool pgfree_llist_add(struct pgfree_llist_node *new_node,
				    struct pgfree_llist_head *head)
{
	return pgfree_llist_add_batch(new_node, new_node, head);
}

/**
 * __pgfree_llist_add_batch() - non-atomic pgfree_llist_add_batch()
 * @new_first: first entry of the chain
 * @new_last: last entry of the chain
 * @head: the list; the caller holds exclusion over it
 *
 * Return: true when the list was empty before the add.
 */
static inline bool __pgfree_llist_add_batch(struct pgfree_llist_node *new_first,
					    struct pgfree_llist_node *new_last,
					    struct pgfree_llist_head *head)
{
	struct pgfree_llist_node *first =
		PGFREE_STD_ atomic_load_explicit(&head->first, PGFREE_STD_ memory_order_relaxed);

	new_last->next = first;
	PGFREE_STD_ atomic_store_explicit(&head->first, new_first,
					  PGFREE_STD_ memory_order_relaxed);
	return first == NULL;
}

/**
 * __pgfree_llist_add() - non-atomic pgfree_llist_add()
 * @new_node: the entry
 * @head: the list; the caller holds exclusion over it
 *
 * Return: true when the list was empty before the add.
 */
static inline bool __pgfree_llist_add(struct pgfree_llist_node *new_node,
				      struct pgfree_llist_head *head)
{
	return __pgfree_llist_add_batch(new_node, new_node, head);
}

/**
 * pgfree_llist_del_all() - take every entry
 * @head: the list
 *
 * One atomic exchange with NULL.  Acquire: pairs with the release CAS of
 * every add whose entry is taken, so the caller sees what the producers
 * wrote to those entries.  Any number of del_all callers may race with each
 * other and with adders.
 *
 * Return: the entries, newest first, or NULL.
 */
static inline struct pgfree_llist_node *pgfree_llist_del_all(struct pgfree_llist_head *head)
{
	return PGFREE_STD_ atomic_exchange_explicit(&head->first,
						    (struct pgfree_llist_node *)NULL,
						    PGFREE_STD_ memory_order_acquire);
}

/**
 * __pgfree_llist_del_all() - non-atomic pgfree_llist_del_all()
 * @head: the list; the caller holds exclusion over it
 *
 * Return: the entries, newest first, or NULL.
 */
static inline struct pgfree_llist_node *__pgfree_llist_del_all(struct pgfree_llist_head *head)
{
	struct pgfree_llist_node *first =
		PGFREE_STD_ atomic_load_explicit(&head->first, PGFREE_STD_ memory_order_relaxed);

	PGFREE_STD_ atomic_store_explicit(&head->first, (struct pgfree_llist_node *)NULL,
					  PGFREE_STD_ memory_order_relaxed);
	return first;
}

/**
 * pgfree_llist_del_first() - take the newest entry
 * @head: the list
 *
 * ONE caller at a time (see the table above); adders may run concurrently.
 * Acquire load and acquire CAS: the caller may read entry->next and the
 * entry's contents as the producer wrote them.  The single-consumer rule is
 * what makes reading entry->next safe: no one else can take and free the
 * entry between the load and the CAS.
 *
 * Return: the entry taken, or NULL when the list was empty.
 */
static inline struct pgfree_llist_node *pgfree_llist_del_first(struct pgfree_llist_head *head)
{
	struct pgfree_llist_node *entry =
		PGFREE_STD_ atomic_load_explicit(&head->first, PGFREE_STD_ memory_order_acquire);

	while (entry) {
		if (PGFREE_STD_ atomic_compare_exchange_weak_explicit(
			    &head->first, &entry, entry->next, PGFREE_STD_ memory_order_acquire,
			    PGFREE_STD_ memory_order_acquire))
			break;
	}
	return entry;
}

/**
 * pgfree_llist_reverse_order() - reverse a detached list
 * @head: first node of a list no one else can reach (e.g. from del_all)
 *
 * Plain accesses only.
 *
 * Return: the new first node (the old last), oldest first for a list taken
 * with pgfree_llist_del_all().
 */
static inline struct pgfree_llist_node *pgfree_llist_reverse_order(struct pgfree_llist_node *head)
{
	struct pgfree_llist_node *new_head = NULL;

	while (head) {
		struct pgfree_llist_node *tmp = head;

		head = head->next;
		tmp->next = new_head;
		new_head = tmp;
	}
	return new_head;
}

/**
 * pgfree_llist_next() - the entry after @node
 * @node: an entry of a detached list
 *
 * Return: @node->next.
 */
static inline struct pgfree_llist_node *pgfree_llist_next(const struct pgfree_llist_node *node)
{
	return node->next;
}

#ifdef __cplusplus
}
#endif

#undef PGFREE_STD_
#endif /* PGFREE_LLIST_H */
