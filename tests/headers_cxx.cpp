// SPDX-License-Identifier: MIT OR GPL-2.0-only
// The public headers compile as C++ and the llist works from C++ (users
// embed pgfree in C++ code and carry the llist between languages).  Built
// with -Wall -Wextra -Werror; exits non-zero if a list operation misbehaves.
#include <pgfree/pgfree.h>
#include <pgfree/version.h>

#include <cstdio>
#include <cstring>

static_assert(PGFREE_VERSION_CHECK(PGFREE_VERSION_MAJOR, PGFREE_VERSION_MINOR, 0),
	      "the version macros work in C++ constant expressions");

struct obj {
	int v;
	struct pgfree_llist_node n;
};

int main()
{
	PGFREE_LLIST_HEAD(h);
	obj a{1, {}}, b{2, {}}, c{3, {}};

	if (!pgfree_llist_add(&a.n, &h) || pgfree_llist_add(&b.n, &h) || pgfree_llist_add(&c.n, &h))
		return 1;	/* only the first add finds the list empty */

	pgfree_llist_node *all = pgfree_llist_reverse_order(pgfree_llist_del_all(&h));
	obj *p, *t;
	int order = 0;

	pgfree_llist_for_each_entry_safe(p, t, all, n) order = order * 10 + p->v;
	if (order != 123 || !pgfree_llist_empty(&h))
		return 1;	/* oldest first after reverse, and the head is empty */
	if (pgfree_version() != PGFREE_VERSION ||
	    std::strcmp(pgfree_version_string(), PGFREE_VERSION_STRING) != 0)
		return 1;	/* the version API links and agrees from C++ */
	std::printf("C++ llist ok; %s\n", pgfree_strerror(-ESHUTDOWN));
	return 0;
}
