// SPDX-License-Identifier: MIT OR GPL-2.0-only
/*
 * The run-time version: compiled into the library, so that a program can
 * tell which libpgfree it was loaded with (the header macros only tell
 * which one it was compiled against).
 */
#include <pgfree/version.h>

unsigned int pgfree_version(void)
{
	return PGFREE_VERSION;
}

const char *pgfree_version_string(void)
{
	return PGFREE_VERSION_STRING;
}
