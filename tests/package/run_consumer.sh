#!/bin/sh
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# pgfree.package_consumer: install this build tree into a scratch prefix and
# build a consumer against the installed copy only, the two ways a user
# would: the CMake package (shared and static targets) and pkg-config
# (shared and --static).  Every step must succeed and every program must
# print its success line; any failure fails the test (set -e).
#
# usage: run_consumer.sh CMAKE BUILD_DIR CONSUMER_SRC WORK_DIR LIBDIR CC GENERATOR SOURCE_DIR VERSION
#   LIBDIR is CMAKE_INSTALL_LIBDIR (relative: lib, lib64 or
#   lib/<multiarch> depending on the system), SOURCE_DIR pgfree's source
#   tree, which the consumer must NOT see; VERSION the project's.
# Environment: PKG_CONFIG, the pkg-config to use (default: pkg-config).
set -eu

cmake=$1 build=$2 src=$3 work=$4 libdir=$5 cc=$6 generator=$7 pgfree_src=$8 version=$9

prefix=$work/prefix
pc=${PKG_CONFIG:-pkg-config}
rm -rf "$work"
mkdir -p "$work"

step() { printf '\n== %s\n' "$*"; }

# Run a consumer program and require its success line.
run_ok() {
	out=$("$@") || { echo "FAIL: $* exited $?"; exit 1; }
	echo "$out"
	case $out in
	*"pgfree consumer ok"*) ;;
	*) echo "FAIL: $* did not print its success line"; exit 1 ;;
	esac
}

# The source tree must not leak into a compile line: only the prefix.
no_source_tree() {
	if grep -F -e "$pgfree_src/include" -e "$pgfree_src/lib" "$1" >/dev/null; then
		echo "FAIL: $1 refers to the source tree $pgfree_src:"
		grep -F -e "$pgfree_src/include" -e "$pgfree_src/lib" "$1"
		exit 1
	fi
}

step "install $build into $prefix"
"$cmake" --install "$build" --prefix "$prefix"
for f in "$libdir/libpgfree.a" "$libdir/pkgconfig/pgfree.pc" \
	 "$libdir/cmake/pgfree/pgfreeConfig.cmake" include/pgfree/pgfree.h \
	 include/pgfree/version.h; do
	test -f "$prefix/$f" || { echo "FAIL: $prefix/$f not installed"; exit 1; }
done

# The man pages, when the build generated them (python3 found).
if [ -f "$build/man/man3/pgfree.3" ]; then
	find "$prefix" -path '*/man/man3/pgfree_defer.3' | grep . >/dev/null ||
		{ echo "FAIL: the man pages were built but not installed"; exit 1; }
fi

# --- (a) the CMake package -------------------------------------------------
step "CMake: find_package(pgfree 0.2) from $prefix"
"$cmake" -S "$src" -B "$work/cmake" -G "$generator" \
	-DCMAKE_C_COMPILER="$cc" \
	-DCMAKE_PREFIX_PATH="$prefix" \
	-DCMAKE_FIND_PACKAGE_NO_PACKAGE_REGISTRY=ON \
	-DCMAKE_FIND_PACKAGE_NO_SYSTEM_PACKAGE_REGISTRY=ON \
	-DCMAKE_EXPORT_COMPILE_COMMANDS=ON \
	-DPGFREE_EXPECTED_PREFIX="$prefix"
"$cmake" --build "$work/cmake"
no_source_tree "$work/cmake/compile_commands.json"

step "CMake: pgfree::pgfree (shared)"
run_ok "$work/cmake/consumer"
# The run-time path CMake recorded must lead to the installed library.
if command -v ldd >/dev/null; then
	ldd "$work/cmake/consumer" | grep -F "$prefix/$libdir/libpgfree.so" ||
		{ echo "FAIL: consumer does not load libpgfree.so from $prefix"; exit 1; }
fi

step "CMake: pgfree::pgfree_static"
run_ok "$work/cmake/consumer_static"
if readelf -d "$work/cmake/consumer_static" | grep -F 'libpgfree.so'; then
	echo "FAIL: consumer_static needs libpgfree.so"; exit 1
fi

# --- (b) pkg-config -------------------------------------------------------
export PKG_CONFIG_PATH="$prefix/$libdir/pkgconfig"
# Only the scratch prefix: no system copy of pgfree.pc may answer instead.
export PKG_CONFIG_LIBDIR="$prefix/$libdir/pkgconfig"

step "pkg-config: $("$pc" --modversion pgfree), $("$pc" --cflags --libs pgfree)"
test "$("$pc" --modversion pgfree)" = "$version" ||
	{ echo "FAIL: pgfree.pc says version $("$pc" --modversion pgfree), not $version"; exit 1; }
case $("$pc" --cflags pgfree) in
*"-I$prefix/include"*) ;;
*) echo "FAIL: pkg-config --cflags does not point at $prefix/include"; exit 1 ;;
esac

# shellcheck disable=SC2046 # the flags are meant to split
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/pc_shared" "$src/consumer.c" \
	$("$pc" --cflags --libs pgfree)
run_ok env LD_LIBRARY_PATH="$prefix/$libdir" "$work/pc_shared"
if command -v ldd >/dev/null; then
	LD_LIBRARY_PATH="$prefix/$libdir" ldd "$work/pc_shared" |
		grep -F "$prefix/$libdir/libpgfree.so" ||
		{ echo "FAIL: pc_shared does not load libpgfree.so from $prefix"; exit 1; }
fi

step "pkg-config --static: $("$pc" --static --libs pgfree)"
# -lpgfree would pick the .so where both are installed: ask the linker for
# the archive, keep the rest of pkg-config's flags (-pthread) as given.
libs=$("$pc" --static --libs pgfree | sed 's/-lpgfree/-Wl,-Bstatic -lpgfree -Wl,-Bdynamic/')
# shellcheck disable=SC2086
"$cc" -std=c11 -Wall -Wextra -Werror -o "$work/pc_static" "$src/consumer.c" \
	$("$pc" --static --cflags pgfree) $libs
if readelf -d "$work/pc_static" | grep -F 'libpgfree.so'; then
	echo "FAIL: pc_static needs libpgfree.so"; exit 1
fi
run_ok "$work/pc_static"

echo
echo "package consumer: all four builds passed"
