// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The stage's default flavor, urcu-memb: the only file of libpgfree_rcu that
 * includes liburcu, so that the rest (and <pgfree/rcu.h>) stays plain C11.
 */
#include <urcu/urcu-memb.h>

#include <pgfree/rcu.h>

void pgfree_rcu_synchronize_memb(void)
{
	urcu_memb_synchronize_rcu();
}
