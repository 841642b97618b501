# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# The man pages and the Markdown API reference, both generated from the
# kernel-doc comments of include/pgfree/*.h by scripts/kdoc2man.py (python3,
# standard library only).  Nothing here when no Python 3 interpreter is
# found: the library builds and installs without its pages.
#
#   pgfree_man      (ALL) <build>/man/man3/*.3 and *.3type, installed to
#                   ${CMAKE_INSTALL_MANDIR}/man3 (component Documentation)
#   pgfree_api_md   rewrites docs/api.md in the SOURCE tree; run it after
#                   changing a kernel-doc comment (the pgfree.api_docs test
#                   fails until then).  Not in ALL: a build must not write
#                   into the source tree.
#
# The header list is globbed again at every build (CONFIGURE_DEPENDS), so a
# new public header is documented without an edit here.

find_package(Python3 COMPONENTS Interpreter)

if(NOT Python3_Interpreter_FOUND)
	message(STATUS "pgfree: no python3, no man pages")
	return()
endif()

set(PGFREE_KDOC "${PROJECT_SOURCE_DIR}/scripts/kdoc2man.py")
set(PGFREE_MAN_DIR "${PROJECT_BINARY_DIR}/man/man3")
file(GLOB PGFREE_DOC_HEADERS CONFIGURE_DEPENDS "${PROJECT_SOURCE_DIR}/include/pgfree/*.h")

# The pages' names depend on the headers' contents, so the output is a
# stamp; the script removes the pages it wrote before, so a removed
# function leaves no stale page behind.
add_custom_command(
	OUTPUT "${PROJECT_BINARY_DIR}/man/man3.stamp"
	COMMAND "${Python3_EXECUTABLE}" "${PGFREE_KDOC}" --man "${PGFREE_MAN_DIR}"
		"${PROJECT_SOURCE_DIR}/include/pgfree"
	COMMAND "${CMAKE_COMMAND}" -E touch "${PROJECT_BINARY_DIR}/man/man3.stamp"
	DEPENDS "${PGFREE_KDOC}" ${PGFREE_DOC_HEADERS}
	COMMENT "Generating the man pages from the kernel-doc comments"
	VERBATIM)
add_custom_target(pgfree_man ALL DEPENDS "${PROJECT_BINARY_DIR}/man/man3.stamp")

add_custom_target(pgfree_api_md
	COMMAND "${Python3_EXECUTABLE}" "${PGFREE_KDOC}" --md docs/api.md include/pgfree
	WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
	COMMENT "Regenerating docs/api.md from the kernel-doc comments"
	VERBATIM)

if(PGFREE_INSTALL)
	install(DIRECTORY "${PGFREE_MAN_DIR}/"
		DESTINATION "${CMAKE_INSTALL_MANDIR}/man3"
		COMPONENT Documentation
		FILES_MATCHING PATTERN "*.3" PATTERN "*.3type")
endif()
