// SPDX-License-Identifier: MIT OR GPL-2.0-only
/* pgfree_strerror(): what each error means when pgfree returns it. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getcpu, pthread_setname_np, strerrordesc_np */
#endif
#include <errno.h>
#include <string.h>

#include <pgfree/pgfree.h>

const char *pgfree_strerror(int err)
{
	if (err > 0)
		err = -err;

	switch (err) {
	case 0:
		return "success";
	case -EINVAL:
		return "invalid argument (NULL pointer, missing callback, unknown design or flag, "
		       "or a number out of range)";
	case -ENOMEM:
		return "out of memory";
	case -ESHUTDOWN:
		return "the domain has been destroyed";
	case -EDEADLK:
		return "called from inside a flush or release callback of the same domain";
	case -EAGAIN:
		return "resource temporarily unavailable (could not start the drain thread)";
	default:
		/* A flush callback's own error, passed through: say what errno says. */
		if (err < 0 && err > -4096) {
			const char *s = strerrordesc_np(-err);

			if (s)
				return s;
		}
		return "unknown error";
	}
}
