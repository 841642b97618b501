// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * Which domains' callbacks the current thread is running inside of, so that
 * a ->release() or ->flush() that calls pgfree_barrier(), pgfree_drain(),
 * pgfree_stats() or pgfree_domain_destroy() on its own domain gets -EDEADLK
 * instead of waiting for itself.  A stack of frames, because a callback of
 * one domain may drive another domain.
 */
#include <stddef.h>

#include "domain.h"

static __thread struct pgfree_cb_frame *cb_top;

void pgfree_cb_enter(struct pgfree_cb_frame *frame, const struct pgfree_domain *dom)
{
	frame->dom = dom;
	frame->prev = cb_top;
	cb_top = frame;
}

void pgfree_cb_exit(struct pgfree_cb_frame *frame)
{
	cb_top = frame->prev;
}

bool pgfree_in_callback_of(const struct pgfree_domain *dom)
{
	for (const struct pgfree_cb_frame *f = cb_top; f; f = f->prev)
		if (f->dom == dom)
			return true;
	return false;
}
