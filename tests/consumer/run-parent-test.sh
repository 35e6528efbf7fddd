#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: run-parent-test.sh <keyloop source dir> subdirectory|fetchcontent <c++ compiler> [--build]
#
# Configures tests/consumer/parent, which takes Keyloop in by add_subdirectory() or by
# FetchContent from a local archive of the source tree, and checks that the parent got only the
# libraries: no tests, no install rules, no packaging. With --build it also builds the parent's
# consumer program (compiling the SDK inside the parent's build) and runs it.
set -euo pipefail
src=$1 way=$2 cxx=$3 build_it=${4:-}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

args=(-DKEYLOOP_WAY="$way")
case "$way" in
subdirectory) args+=(-DKEYLOOP_SOURCE="$src") ;;
fetchcontent)
    # A local archive of the sources as a release would ship them (no build trees, no node_modules).
    tar -C "$src" --exclude=./build --exclude=./.git --exclude=node_modules -czf "$work/keyloop.tar.gz" .
    args+=(-DKEYLOOP_ARCHIVE="$work/keyloop.tar.gz")
    ;;
*) echo "unknown way: $way" >&2; exit 2 ;;
esac

cmake -S "$here/parent" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_BUILD_TYPE=Release \
    "${args[@]}" >"$work/configure.log" 2>&1 || { cat "$work/configure.log"; exit 1; }
if grep -q "CMake Warning" "$work/configure.log"; then
    cat "$work/configure.log"; echo "the parent's configure printed warnings" >&2; exit 1
fi

# No tests registered in the parent's tree.
tests=$(cd "$work/build" && ctest -N | sed -n 's/^Total Tests: //p')
[ "$tests" = 0 ] || { echo "Keyloop registered $tests tests in the parent" >&2; exit 1; }
# No packaging, no install rules: installing the parent installs nothing.
[ ! -e "$work/build/CPackConfig.cmake" ] || { echo "Keyloop added CPack to the parent" >&2; exit 1; }
cmake --install "$work/build" --prefix "$work/prefix" >/dev/null
if [ -d "$work/prefix" ] && [ -n "$(find "$work/prefix" -type f)" ]; then
    find "$work/prefix" -type f; echo "installing the parent installed Keyloop's files" >&2; exit 1
fi

if [ "$build_it" = --build ]; then
    cmake --build "$work/build" --target consumer -j "${KEYLOOP_JOBS:-$(nproc)}" >"$work/build.log" 2>&1 \
        || { tail -n 50 "$work/build.log"; exit 1; }
    out=$("$work/build/consumer")
    echo "$out"
    case "$out" in *"keyloop "*" ok"*) ;; *) echo "unexpected consumer output" >&2; exit 1 ;; esac
fi
echo "Keyloop as a $way of a parent project: only the libraries: ok"
