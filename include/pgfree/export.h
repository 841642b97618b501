/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_EXPORT_H
#define PGFREE_EXPORT_H
/*
 * Symbol visibility.  The library is built with -fvisibility=hidden; only
 * functions marked PGFREE_API are exported from the shared object, so the
 * private helpers in lib/ never become ABI.
 */
#if defined(__GNUC__) || defined(__clang__)
#define PGFREE_API __attribute__((visibility("default")))
#else
#define PGFREE_API
#endif

#endif /* PGFREE_EXPORT_H */
