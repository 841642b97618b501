#!/usr/bin/env bash
# SPDX-License-Identifier: MIT OR GPL-2.0-only
#
# Build and run one of the examples:
#
#   scripts/example.sh quickstart
#   scripts/example.sh iommu_sva [--mode=none|v5|pgfree|all] [--seconds=S] ...
#   scripts/example.sh rcu_radix [--mode=rcu|no-rcu] [--seconds=S] ...
#
# Installs missing Debian packages first (as scripts/test.sh does), builds
# in build/example (kept between runs) and passes the remaining arguments to
# the example.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ $# -lt 1 ]; then
	echo "usage: $0 {quickstart|iommu_sva|rcu_radix} [example arguments]" >&2
	exit 2
fi
name=$1
shift
case "$name" in
quickstart) bin=build/example/examples/pgfree_quickstart ;;
iommu_sva | rcu_radix) bin=build/example/examples/$name/pgfree_$name ;;
*)
	echo "example.sh: unknown example '$name'" >&2
	exit 2
	;;
esac

scripts/deps.sh test
cmake -S . -B build/example -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGFREE_BUILD_EXAMPLES=ON \
	-DPGFREE_BUILD_TESTS=OFF >/dev/null
cmake --build build/example -j "$(nproc 2>/dev/null || echo 2)" --target "pgfree_$name" >/dev/null
exec "$bin" "$@"
