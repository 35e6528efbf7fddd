#!/usr/bin/env bash
# usage: run-consumer-test.sh <keyloop build dir> <consumer project dir> <c++ compiler>
set -euo pipefail
build=$1 project=$2 cxx=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

cmake --install "$build" --prefix "$work/prefix" >/dev/null
test -f "$work/prefix/include/keyloop/version.h"
ls "$work/prefix"/lib*/libkeyloop.so.0 >/dev/null 2>&1 || ls "$work/prefix"/lib/*/libkeyloop.so.0 >/dev/null

cmake -S "$project" -B "$work/build" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
cmake --build "$work/build" >/dev/null
libdir=$(dirname "$(find "$work/prefix" -name 'libkeyloop.so.0' | head -n1)")
out=$(LD_LIBRARY_PATH="$libdir" "$work/build/consumer")
echo "$out"
case "$out" in *"keyloop "*"ok"*) ;; *) echo "unexpected consumer output" >&2; exit 1;; esac

# pkg-config flavour of the same program
pc=$(dirname "$(find "$work/prefix" -name keyloop.pc | head -n1)")
# shellcheck disable=SC2046
"$cxx" -std=c++17 -fPIC -o "$work/consumer-pc" "$project/main.cpp" \
    $(PKG_CONFIG_PATH="$pc" pkg-config --cflags --libs keyloop)
LD_LIBRARY_PATH="$libdir" "$work/consumer-pc" | grep -q ok
echo "consumer build via CMake package and pkg-config: ok"
