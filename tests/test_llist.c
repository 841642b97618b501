// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * <pgfree/llist.h> on its own: the sequential semantics of every operation
 * and iterator (the kernel's llist semantics), then the concurrent cases the
 * header's table allows: many adders with one del_all consumer (every node
 * seen once, each producer's nodes in order), many adders with one
 * del_first consumer, and many adders with several del_all consumers.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pgfree/llist.h>

#include "harness/check.h"
#include "support/util.h"

struct item {
	int value;
	struct pgfree_llist_node node;
};

#define NODE_VALUE(n) (pgfree_llist_entry((n), struct item, node)->value)

/* A head that starts as static storage, the way library users declare one. */
static PGFREE_LLIST_HEAD(static_head);

Test(llist, static_and_runtime_init, .timeout = 60)
{
	struct pgfree_llist_head h;
	struct item a = { .value = 1 };

	cr_assert(pgfree_llist_empty(&static_head), "PGFREE_LLIST_HEAD must start empty");
	cr_assert(pgfree_llist_del_all(&static_head) == NULL);

	/* Garbage first, so that a no-op init would be caught. */
	memset(&h, 0xa5, sizeof(h));
	pgfree_init_llist_head(&h);
	cr_assert(pgfree_llist_empty(&h), "pgfree_init_llist_head() must empty the head");

	pgfree_llist_add(&a.node, &h);
	cr_assert_not(pgfree_llist_empty(&h));
	pgfree_init_llist_head(&h);
	cr_assert(pgfree_llist_empty(&h));
}

Test(llist, add_reports_empty_to_nonempty_only, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item a = { .value = 1 }, b = { .value = 2 }, c = { .value = 3 };

	cr_assert(pgfree_llist_add(&a.node, &h), "first add onto an empty list returns true");
	cr_assert_not(pgfree_llist_add(&b.node, &h), "add onto a non-empty list returns false");
	cr_assert(pgfree_llist_del_all(&h) == &b.node);
	cr_assert(pgfree_llist_add(&c.node, &h), "emptied by del_all: the next add is first");
	cr_assert_not(pgfree_llist_add(&a.node, &h));
}

Test(llist, del_all_newest_first_and_empties, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item it[5];
	struct pgfree_llist_node *n;
	int expect = 4;

	for (int i = 0; i < 5; i++) {
		it[i].value = i;
		pgfree_llist_add(&it[i].node, &h);
	}
	n = pgfree_llist_del_all(&h);
	cr_assert(pgfree_llist_empty(&h), "del_all must leave the list empty");
	cr_assert(pgfree_llist_del_all(&h) == NULL, "del_all on an empty list returns NULL");
	for (; n; n = pgfree_llist_next(n))
		cr_assert_eq(NODE_VALUE(n), expect--, "del_all order must be newest first");
	cr_assert_eq(expect, -1, "del_all lost entries");
}

Test(llist, reverse_order_gives_oldest_first, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item it[6];
	struct pgfree_llist_node *n;
	int expect = 0;

	cr_assert(pgfree_llist_reverse_order(NULL) == NULL);
	pgfree_llist_add(&it[0].node, &h);
	n = pgfree_llist_reverse_order(pgfree_llist_del_all(&h));
	cr_assert(n == &it[0].node && n->next == NULL, "reversing one node is the node");

	for (int i = 0; i < 6; i++) {
		it[i].value = i;
		pgfree_llist_add(&it[i].node, &h);
	}
	for (n = pgfree_llist_reverse_order(pgfree_llist_del_all(&h)); n; n = n->next)
		cr_assert_eq(NODE_VALUE(n), expect++, "reversed order must be oldest first");
	cr_assert_eq(expect, 6);
}

Test(llist, add_batch_links_chain_in_front, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item it[5];
	struct pgfree_llist_node *n;
	static const int want[] = { 3, 4, 0, 1, 2 };
	int i = 0;

	for (int k = 0; k < 5; k++)
		it[k].value = k;
	/* Chain 0 -> 1 -> 2; its last node's next is garbage until added. */
	it[0].node.next = &it[1].node;
	it[1].node.next = &it[2].node;
	it[2].node.next = &it[4].node;
	cr_assert(pgfree_llist_add_batch(&it[0].node, &it[2].node, &h),
		  "add_batch onto an empty list returns true");
	cr_assert(it[2].node.next == NULL, "the chain's last node must end the list");

	it[3].node.next = &it[4].node;
	cr_assert_not(pgfree_llist_add_batch(&it[3].node, &it[4].node, &h),
		      "add_batch onto a non-empty list returns false");

	for (n = pgfree_llist_del_all(&h); n; n = n->next, i++) {
		cr_assert_lt(i, 5, "list longer than what was added");
		cr_assert_eq(NODE_VALUE(n), want[i], "entry %d: got %d, want %d", i,
			     NODE_VALUE(n), want[i]);
	}
	cr_assert_eq(i, 5);
}

Test(llist, del_first_takes_newest, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item it[4];
	struct pgfree_llist_node *n;

	cr_assert(pgfree_llist_del_first(&h) == NULL, "del_first on an empty list is NULL");
	for (int i = 0; i < 3; i++) {
		it[i].value = i;
		pgfree_llist_add(&it[i].node, &h);
	}
	for (int want = 2; want >= 0; want--) {
		n = pgfree_llist_del_first(&h);
		cr_assert(n != NULL);
		cr_assert_eq(NODE_VALUE(n), want, "del_first must take the newest entry");
	}
	cr_assert(pgfree_llist_empty(&h));
	cr_assert(pgfree_llist_del_first(&h) == NULL);

	it[3].value = 3;
	cr_assert(pgfree_llist_add(&it[3].node, &h), "list emptied by del_first is empty");
	cr_assert(pgfree_llist_del_first(&h) == &it[3].node);
}

Test(llist, on_list_tracks_init_llist_node, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item a, b;

	pgfree_init_llist_node(&a.node);
	pgfree_init_llist_node(&b.node);
	cr_assert_not(pgfree_llist_on_list(&a.node), "an initialized node is off list");

	/* Alone on the list its next is NULL: still "on list". */
	pgfree_llist_add(&a.node, &h);
	cr_assert(pgfree_llist_on_list(&a.node), "a node alone on a list is on list");
	pgfree_llist_add(&b.node, &h);
	cr_assert(pgfree_llist_on_list(&b.node));

	pgfree_llist_del_all(&h);
	pgfree_init_llist_node(&a.node);
	cr_assert_not(pgfree_llist_on_list(&a.node));
}

Test(llist, entry_and_entry_safe, .timeout = 60)
{
	struct item a = { .value = 7 };
	struct pgfree_llist_node *null_node = NULL;

	cr_assert(pgfree_llist_entry(&a.node, struct item, node) == &a);
	cr_assert(pgfree_llist_entry_safe(&a.node, struct item, node) == &a);
	cr_assert(pgfree_llist_entry_safe(null_node, struct item, node) == NULL,
		  "entry_safe(NULL) must stay NULL even though node is not the first member");
}

Test(llist, for_each_and_for_each_entry, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item it[10], *pos;
	struct pgfree_llist_node *first, *n;
	int count = 0, sum = 0, expect = 9;

	for (int i = 0; i < 10; i++) {
		it[i].value = i;
		pgfree_llist_add(&it[i].node, &h);
	}
	first = pgfree_llist_del_all(&h);

	pgfree_llist_for_each(n, first)
		count++;
	cr_assert_eq(count, 10, "for_each visited %d of 10", count);

	pgfree_llist_for_each_entry(pos, first, node) {
		cr_assert_eq(pos->value, expect--, "for_each_entry must follow list order");
		sum += pos->value;
	}
	cr_assert_eq(sum, 45);

	count = 0;
	pgfree_llist_for_each(n, NULL)
		count++;
	pgfree_llist_for_each_entry(pos, (struct pgfree_llist_node *)NULL, node)
		count++;
	cr_assert_eq(count, 0, "iterating an empty list must not enter the body");
}

Test(llist, for_each_safe_survives_relinking, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT, other = PGFREE_LLIST_HEAD_INIT;
	struct item it[8];
	struct pgfree_llist_node *pos, *tmp;
	int count = 0;

	for (int i = 0; i < 8; i++) {
		it[i].value = i;
		pgfree_llist_add(&it[i].node, &h);
	}
	/*
	 * Adding each node to another list rewrites its ->next: only the
	 * _safe iterator, which read ->next first, still sees all eight.
	 */
	pgfree_llist_for_each_safe(pos, tmp, pgfree_llist_del_all(&h)) {
		pgfree_llist_add(pos, &other);
		count++;
	}
	cr_assert_eq(count, 8, "for_each_safe visited %d of 8 while relinking", count);

	count = 0;
	pgfree_llist_for_each(pos, pgfree_llist_del_all(&other))
		cr_assert_eq(NODE_VALUE(pos), count++, "relinked list must be reversed");
	cr_assert_eq(count, 8);
}

Test(llist, for_each_entry_safe_can_free, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item *pos, *tmp;
	int count = 0, expect = 99;

	for (int i = 0; i < 100; i++) {
		struct item *p = malloc(sizeof(*p));

		cr_assert(p != NULL);
		p->value = i;
		pgfree_llist_add(&p->node, &h);
	}
	/* Freeing the cursor is what _safe is for; ASan flags a reuse. */
	pgfree_llist_for_each_entry_safe(pos, tmp, pgfree_llist_del_all(&h), node) {
		cr_assert_eq(pos->value, expect--);
		memset(pos, 0xdb, sizeof(*pos));
		free(pos);
		count++;
	}
	cr_assert_eq(count, 100);
	cr_assert(pgfree_llist_empty(&h));
}

Test(llist, unlocked_variants, .timeout = 60)
{
	struct pgfree_llist_head h = PGFREE_LLIST_HEAD_INIT;
	struct item it[4];
	struct pgfree_llist_node *n;
	static const int want[] = { 3, 1, 2, 0 };
	int i = 0;

	for (int k = 0; k < 4; k++)
		it[k].value = k;
	cr_assert(__pgfree_llist_add(&it[0].node, &h), "__add onto empty returns true");
	cr_assert_not(__pgfree_llist_add(&it[2].node, &h), "__add onto non-empty is false");
	it[3].node.next = &it[1].node;
	cr_assert_not(__pgfree_llist_add_batch(&it[3].node, &it[1].node, &h));

	n = __pgfree_llist_del_all(&h);
	cr_assert(pgfree_llist_empty(&h), "__del_all must empty the list");
	for (; n; n = n->next, i++) {
		cr_assert_lt(i, 4);
		cr_assert_eq(NODE_VALUE(n), want[i], "entry %d: got %d, want %d", i,
			     NODE_VALUE(n), want[i]);
	}
	cr_assert_eq(i, 4);
	cr_assert(__pgfree_llist_del_all(&h) == NULL);
	cr_assert(__pgfree_llist_add_batch(&it[0].node, &it[0].node, &h));
}

/* ---- Concurrency ------------------------------------------------------- */

#define NR_PRODUCERS 8

/**
 * struct cnode - a node of the concurrent tests
 * @node: the list node
 * @producer: which producer added it
 * @seq: its position in that producer's sequence (0, 1, ...)
 * @check: a value derived from @producer and @seq, written before the add;
 *	a consumer that reads another value saw an unpublished node
 */
struct cnode {
	struct pgfree_llist_node node;
	uint32_t producer;
	uint32_t seq;
	uint64_t check;
};

static uint64_t cnode_check(uint32_t producer, uint32_t seq)
{
	return ((uint64_t)producer << 32 | seq) * 0x9e3779b97f4a7c15ull;
}

/**
 * struct ctest - shared state of a concurrent test
 * @head: the list under test
 * @nodes: NR_PRODUCERS * @per_producer nodes, producer-major
 * @per_producer: nodes each producer adds
 * @producers_done: producers that finished
 * @start: set when every thread exists, so that they run together
 */
struct ctest {
	struct pgfree_llist_head head;
	struct cnode *nodes;
	uint32_t per_producer;
	atomic_int producers_done;
	atomic_bool start;
};

struct producer_arg {
	struct ctest *ct;
	uint32_t id;
};

/*
 * Adds this producer's nodes in sequence.  Odd producers use add_batch with
 * chains of 1..4 nodes, built newest first, so that the list order stays
 * the producer's order either way.
 */
static void *producer_fn(void *p)
{
	struct producer_arg *arg = p;
	struct ctest *ct = arg->ct;
	struct cnode *mine = ct->nodes + (size_t)arg->id * ct->per_producer;
	uint32_t seq = 0;

	while (!atomic_load_explicit(&ct->start, memory_order_acquire))
		;
	while (seq < ct->per_producer) {
		uint32_t len = (arg->id & 1) ? 1 + seq % 4 : 1;

		if (len > ct->per_producer - seq)
			len = ct->per_producer - seq;
		for (uint32_t k = 0; k < len; k++) {
			mine[seq + k].producer = arg->id;
			mine[seq + k].seq = seq + k;
			mine[seq + k].check = cnode_check(arg->id, seq + k);
			/* Newest (highest seq) first in the chain. */
			if (k)
				mine[seq + k].node.next = &mine[seq + k - 1].node;
		}
		if (len == 1)
			pgfree_llist_add(&mine[seq].node, &ct->head);
		else
			pgfree_llist_add_batch(&mine[seq + len - 1].node, &mine[seq].node,
					       &ct->head);
		seq += len;
	}
	atomic_fetch_add_explicit(&ct->producers_done, 1, memory_order_release);
	return NULL;
}

/* Set up @ct before any thread that reads it exists. */
static void ctest_init(struct ctest *ct, uint32_t per_producer)
{
	pgfree_init_llist_head(&ct->head);
	ct->per_producer = per_producer;
	ct->nodes = calloc((size_t)NR_PRODUCERS * per_producer, sizeof(*ct->nodes));
	atomic_init(&ct->producers_done, 0);
	atomic_init(&ct->start, false);
	cr_assert(ct->nodes != NULL);
}

/* Start the producers; they wait for each other, then add together. */
static void ctest_start(struct ctest *ct, pthread_t *tids, struct producer_arg *args)
{
	for (uint32_t i = 0; i < NR_PRODUCERS; i++) {
		args[i].ct = ct;
		args[i].id = i;
		cr_assert_eq(pthread_create(&tids[i], NULL, producer_fn, &args[i]), 0);
	}
	atomic_store_explicit(&ct->start, true, memory_order_release);
}

/**
 * struct chunk_check - what the del_all consumer learned
 * @next_seq: per producer, the seq the next node taken must have
 * @bad_payload: nodes whose payload was not as written before the add
 * @bad_order: chunk entries out of the producer's order
 * @bad_seq: oldest-first, a producer's nodes not contiguous with the last
 * @chunks: non-empty chunks taken
 * @taken: nodes taken
 */
struct chunk_check {
	uint32_t next_seq[NR_PRODUCERS];
	uint64_t bad_payload, bad_order, bad_seq, chunks, taken;
};

/*
 * Check one chunk from del_all.  Newest first, each producer's seqs must
 * decrease.  Oldest first (reversed), they must continue exactly where the
 * previous chunk left off: between two exchanges a producer adds a
 * contiguous run, so any loss, duplicate or reordering shows up here.
 */
static void check_chunk(struct chunk_check *cc, struct pgfree_llist_node *chunk)
{
	uint32_t last[NR_PRODUCERS];
	struct cnode *pos;

	if (!chunk)
		return;
	cc->chunks++;
	for (int i = 0; i < NR_PRODUCERS; i++)
		last[i] = UINT32_MAX;
	pgfree_llist_for_each_entry(pos, chunk, node) {
		if (pos->producer >= NR_PRODUCERS ||
		    pos->check != cnode_check(pos->producer, pos->seq)) {
			cc->bad_payload++;
			continue;
		}
		if (last[pos->producer] != UINT32_MAX && pos->seq >= last[pos->producer])
			cc->bad_order++;
		last[pos->producer] = pos->seq;
	}
	chunk = pgfree_llist_reverse_order(chunk);
	pgfree_llist_for_each_entry(pos, chunk, node) {
		cc->taken++;
		if (pos->producer >= NR_PRODUCERS)
			continue;
		if (pos->seq != cc->next_seq[pos->producer])
			cc->bad_seq++;
		cc->next_seq[pos->producer] = pos->seq + 1;
	}
}

Test(llist_concurrent, producers_with_one_del_all_consumer, .timeout = 240)
{
	static struct ctest ct;
	pthread_t tids[NR_PRODUCERS];
	struct producer_arg args[NR_PRODUCERS];
	struct chunk_check cc = { 0 };
	uint32_t per = (uint32_t)test_scaled(100000, 1000);
	uint64_t total = (uint64_t)per * NR_PRODUCERS;

	ctest_init(&ct, per);
	ctest_start(&ct, tids, args);
	/* Consume while they produce; after the last one is done, once more. */
	for (;;) {
		bool done = atomic_load_explicit(&ct.producers_done, memory_order_acquire) ==
			    NR_PRODUCERS;

		check_chunk(&cc, pgfree_llist_del_all(&ct.head));
		if (done)
			break;
	}
	for (int i = 0; i < NR_PRODUCERS; i++)
		pthread_join(tids[i], NULL);
	check_chunk(&cc, pgfree_llist_del_all(&ct.head));
	free(ct.nodes);

	cr_log_info("del_all consumer: %llu nodes in %llu chunks",
		    (unsigned long long)cc.taken, (unsigned long long)cc.chunks);
	cr_assert_eq(cc.bad_payload, 0, "%llu nodes taken before their contents were visible",
		     (unsigned long long)cc.bad_payload);
	cr_assert_eq(cc.bad_order, 0, "%llu chunk entries not newest first per producer",
		     (unsigned long long)cc.bad_order);
	cr_assert_eq(cc.bad_seq, 0, "%llu nodes lost, duplicated or reordered",
		     (unsigned long long)cc.bad_seq);
	cr_assert_eq(cc.taken, total, "took %llu of %llu nodes",
		     (unsigned long long)cc.taken, (unsigned long long)total);
	for (int i = 0; i < NR_PRODUCERS; i++)
		cr_assert_eq(cc.next_seq[i], per, "producer %d: %u of %u nodes seen", i,
			     cc.next_seq[i], per);
}

Test(llist_concurrent, producers_with_one_del_first_consumer, .timeout = 240)
{
	static struct ctest ct;
	pthread_t tids[NR_PRODUCERS];
	struct producer_arg args[NR_PRODUCERS];
	uint32_t per = (uint32_t)test_scaled(50000, 1000);
	uint64_t total = (uint64_t)per * NR_PRODUCERS, taken = 0, bad_payload = 0, dup = 0;
	uint8_t *seen;

	seen = calloc(total, 1);
	cr_assert(seen != NULL);
	ctest_init(&ct, per);
	ctest_start(&ct, tids, args);
	while (taken < total) {
		struct pgfree_llist_node *n = pgfree_llist_del_first(&ct.head);
		struct cnode *c;
		size_t idx;

		if (!n)
			continue;
		c = pgfree_llist_entry(n, struct cnode, node);
		if (c->producer >= NR_PRODUCERS || c->seq >= per ||
		    c->check != cnode_check(c->producer, c->seq)) {
			bad_payload++;
			break;
		}
		idx = (size_t)c->producer * per + c->seq;
		if (seen[idx]++)
			dup++;
		taken++;
	}
	for (int i = 0; i < NR_PRODUCERS; i++)
		pthread_join(tids[i], NULL);
	free(ct.nodes);

	cr_assert_eq(bad_payload, 0, "del_first returned a node with unpublished contents");
	cr_assert_eq(dup, 0, "%llu nodes taken twice", (unsigned long long)dup);
	cr_assert(pgfree_llist_empty(&ct.head), "nodes left after taking the total");
	for (uint64_t i = 0; i < total; i++)
		cr_assert_eq(seen[i], 1, "node %llu taken %u times", (unsigned long long)i,
			     seen[i]);
	free(seen);
}

#define NR_DEL_ALL 3

struct multi_consumer {
	struct ctest *ct;
	uint8_t *seen;		/* per node, written only by the taker */
	uint64_t taken;
	uint64_t bad_payload;
};

static void *del_all_consumer_fn(void *p)
{
	struct multi_consumer *mc = p;
	struct ctest *ct = mc->ct;

	for (;;) {
		bool done = atomic_load_explicit(&ct->producers_done, memory_order_acquire) ==
			    NR_PRODUCERS;
		struct cnode *pos;

		pgfree_llist_for_each_entry(pos, pgfree_llist_del_all(&ct->head), node) {
			if (pos->check != cnode_check(pos->producer, pos->seq)) {
				mc->bad_payload++;
				continue;
			}
			mc->seen[(size_t)pos->producer * ct->per_producer + pos->seq]++;
			mc->taken++;
		}
		if (done)
			break;
	}
	return NULL;
}

Test(llist_concurrent, producers_with_several_del_all_consumers, .timeout = 240)
{
	static struct ctest ct;
	pthread_t tids[NR_PRODUCERS], ctids[NR_DEL_ALL];
	struct producer_arg args[NR_PRODUCERS];
	struct multi_consumer mc[NR_DEL_ALL];
	uint32_t per = (uint32_t)test_scaled(50000, 1000);
	uint64_t total = (uint64_t)per * NR_PRODUCERS, taken = 0;

	/* Consumers exist before producers start, so they overlap. */
	ctest_init(&ct, per);
	for (int i = 0; i < NR_DEL_ALL; i++) {
		mc[i] = (struct multi_consumer){ .ct = &ct, .seen = calloc(total, 1) };
		cr_assert(mc[i].seen != NULL);
	}
	for (int i = 0; i < NR_DEL_ALL; i++)
		cr_assert_eq(pthread_create(&ctids[i], NULL, del_all_consumer_fn, &mc[i]), 0);
	ctest_start(&ct, tids, args);
	for (int i = 0; i < NR_PRODUCERS; i++)
		pthread_join(tids[i], NULL);
	for (int i = 0; i < NR_DEL_ALL; i++)
		pthread_join(ctids[i], NULL);

	for (int i = 0; i < NR_DEL_ALL; i++) {
		cr_assert_eq(mc[i].bad_payload, 0, "consumer %d saw unpublished contents", i);
		taken += mc[i].taken;
	}
	cr_assert(pgfree_llist_empty(&ct.head));
	cr_assert_eq(taken, total, "took %llu of %llu nodes", (unsigned long long)taken,
		     (unsigned long long)total);
	for (uint64_t k = 0; k < total; k++) {
		unsigned int times = 0;

		for (int i = 0; i < NR_DEL_ALL; i++)
			times += mc[i].seen[k];
		cr_assert_eq(times, 1, "node %llu taken %u times", (unsigned long long)k, times);
	}
	for (int i = 0; i < NR_DEL_ALL; i++)
		free(mc[i].seen);
	free(ct.nodes);
}
