# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# pgfree_install_pkgconfig(<template> <output>)
#
# Installs pgfree.pc into <libdir>/pkgconfig.  The prefix is written at
# install time, not at configure time, so that
#   cmake --install <build> --prefix <dir>
# produces a .pc file that points at <dir> (the install prefix given on the
# command line replaces CMAKE_INSTALL_PREFIX only while installing).  DESTDIR
# is honoured the usual way: it is prepended to the destination, not written
# into the file.
#
# Configure time fills in everything but the prefix; the template's
# @PGFREE_PC_PREFIX@ is left as a placeholder for the install step.

function(pgfree_install_pkgconfig template output)
	# pkg-config convention: libdir under ${exec_prefix}, includedir
	# under ${prefix}; an absolute GNUInstallDirs value is kept as is.
	foreach(dir LIBDIR INCLUDEDIR)
		if(dir STREQUAL "LIBDIR")
			set(base "\${exec_prefix}")
		else()
			set(base "\${prefix}")
		endif()
		if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
			set(PGFREE_PC_${dir} "${CMAKE_INSTALL_${dir}}")
		else()
			set(PGFREE_PC_${dir} "${base}/${CMAKE_INSTALL_${dir}}")
		endif()
	endforeach()
	set(PGFREE_PC_PREFIX "@PGFREE_PC_PREFIX@")
	set(stage "${output}.stage")
	configure_file("${template}" "${stage}" @ONLY)

	install(CODE "
		set(PGFREE_PC_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
		configure_file(\"${stage}\" \"${output}\" @ONLY)
	" COMPONENT Development)
	install(FILES "${output}"
		DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig"
		COMPONENT Development)
endfunction()
