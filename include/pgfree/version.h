/* SPDX-License-Identifier: MIT OR GPL-2.0-only */
#ifndef PGFREE_VERSION_H
#define PGFREE_VERSION_H
/*
 * The version of pgfree, at compile time (these macros) and at run time
 * (pgfree_version(), the library actually loaded).
 *
 * This file is the one source of truth for the version: the top-level
 * CMakeLists.txt reads the three numbers below with a regular expression
 * and passes them to project(VERSION), which sets the shared library's
 * VERSION/SOVERSION, the CMake package version and the pkg-config Version.
 * The header is kept in the source tree rather than generated so that it
 * is usable without CMake (the kernel port, a copied include/ directory)
 * and so that the header checks compile it straight from include/.  Keep
 * each number on its own "#define PGFREE_VERSION_<PART> <n>" line: that is
 * what CMake parses.
 *
 * Each part must fit in 8 bits (0..255): PGFREE_VERSION packs them as
 * 0xMMmmpp so that versions compare as integers.
 */

#include <pgfree/export.h>

#define PGFREE_VERSION_MAJOR 0
#define PGFREE_VERSION_MINOR 2
#define PGFREE_VERSION_PATCH 0

/* Pack a version into one integer; usable in #if. */
#define PGFREE_VERSION_ENCODE(major, minor, patch) \
	(((major) << 16) | ((minor) << 8) | (patch))

/* The version of the headers being compiled against, packed as above. */
#define PGFREE_VERSION \
	PGFREE_VERSION_ENCODE(PGFREE_VERSION_MAJOR, PGFREE_VERSION_MINOR, PGFREE_VERSION_PATCH)

#define PGFREE_VERSION_STR_(x) #x
#define PGFREE_VERSION_XSTR_(x) PGFREE_VERSION_STR_(x)

/* "major.minor.patch", built from the numbers so the two cannot disagree. */
#define PGFREE_VERSION_STRING \
	PGFREE_VERSION_XSTR_(PGFREE_VERSION_MAJOR) "." \
	PGFREE_VERSION_XSTR_(PGFREE_VERSION_MINOR) "." \
	PGFREE_VERSION_XSTR_(PGFREE_VERSION_PATCH)

/*
 * True when the headers are version major.minor.patch or newer; usable in
 * #if, to build against several versions:
 *   #if PGFREE_VERSION_CHECK(0, 2, 0)
 */
#define PGFREE_VERSION_CHECK(major, minor, patch) \
	(PGFREE_VERSION >= PGFREE_VERSION_ENCODE(major, minor, patch))

#ifdef __cplusplus
extern "C" {
#endif

/**
 * pgfree_version() - the version of the library loaded at run time
 *
 * The PGFREE_VERSION* macros give the version of the headers a program was
 * compiled against; this gives the version of the libpgfree it runs with,
 * which differs when the shared library was upgraded (or downgraded)
 * without recompiling the program.  Compare the two to detect it:
 *   if (pgfree_version() < PGFREE_VERSION) ... older than the headers
 * pgfree_version_string() gives the same as text.
 * Context: any; never fails.
 *
 * Return: the library's version packed as PGFREE_VERSION is, i.e.
 * PGFREE_VERSION_ENCODE(major, minor, patch).
 */
PGFREE_API unsigned int pgfree_version(void);

/**
 * pgfree_version_string() - the version of the library loaded at run time,
 * as text
 *
 * The text form of pgfree_version(), for messages and logs.
 * Context: any; never fails.
 *
 * Return: a static string "major.minor.patch", equal to the
 * PGFREE_VERSION_STRING the library was built with; never NULL.
 */
PGFREE_API const char *pgfree_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* PGFREE_VERSION_H */
