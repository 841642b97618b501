// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The run-time version agrees with the header's, and with the version CMake
 * read from the header for project(VERSION) (passed in as
 * PGFREE_CMAKE_VERSION): a mismatch means the one-source-of-truth parse in
 * the top-level CMakeLists.txt broke, or a stale library was linked.
 * A plain C program (no test harness): exits non-zero on failure.
 */
#include <pgfree/version.h>

#include <stdio.h>
#include <string.h>

#if !PGFREE_VERSION_CHECK(PGFREE_VERSION_MAJOR, PGFREE_VERSION_MINOR, PGFREE_VERSION_PATCH)
#error "PGFREE_VERSION_CHECK rejects the header's own version"
#endif
#if PGFREE_VERSION_CHECK(PGFREE_VERSION_MAJOR, PGFREE_VERSION_MINOR, PGFREE_VERSION_PATCH + 1)
#error "PGFREE_VERSION_CHECK accepts a newer version"
#endif
#if PGFREE_VERSION_CHECK(PGFREE_VERSION_MAJOR + 1, 0, 0)
#error "PGFREE_VERSION_CHECK accepts a newer major version"
#endif

int main(void)
{
	int bad = 0;

	if (pgfree_version() != PGFREE_VERSION) {
		fprintf(stderr, "pgfree_version() = 0x%06x, header 0x%06x\n", pgfree_version(),
			(unsigned int)PGFREE_VERSION);
		bad = 1;
	}
	if (strcmp(pgfree_version_string(), PGFREE_VERSION_STRING) != 0) {
		fprintf(stderr, "pgfree_version_string() = \"%s\", header \"%s\"\n",
			pgfree_version_string(), PGFREE_VERSION_STRING);
		bad = 1;
	}
	if (strcmp(PGFREE_VERSION_STRING, PGFREE_CMAKE_VERSION) != 0) {
		fprintf(stderr, "header \"%s\", CMake project version \"%s\"\n",
			PGFREE_VERSION_STRING, PGFREE_CMAKE_VERSION);
		bad = 1;
	}
	if (PGFREE_VERSION != ((PGFREE_VERSION_MAJOR << 16) | (PGFREE_VERSION_MINOR << 8) |
			       PGFREE_VERSION_PATCH)) {
		fprintf(stderr, "PGFREE_VERSION does not pack the three parts\n");
		bad = 1;
	}
	if (bad)
		return 1;
	printf("pgfree version %s (0x%06x)\n", pgfree_version_string(), pgfree_version());
	return 0;
}
