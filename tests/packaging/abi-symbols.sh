#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: abi-symbols.sh <packages dir> <list dir> [--update]
#
# The symbols libkeyloop.so.0 and libkeyloop-gui.so.0 export (nm -D --defined-only, demangled,
# those naming Keyloop's types),
# read from the release packages, against the committed lists <list dir>/<soname>.symbols. Any
# difference fails: an accidental ABI change shows here; an intended one updates the lists in the
# same commit (`tests/packaging/abi-symbols.sh build/packages packaging/abi --update`).
set -euo pipefail
pkgs=${1:?packages dir} lists=${2:?list dir} update=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for pkg in libkeyloop0 libkeyloop-gui0; do
    deb=$(ls "$pkgs/${pkg}_"*.deb 2>/dev/null | head -n1 || true)
    [ -n "$deb" ] || { echo "abi-symbols: no $pkg package in $pkgs: run ./scripts/package" >&2; exit 1; }
    dpkg-deb -x "$deb" "$work/$pkg"
    lib=$(find "$work/$pkg" -name 'lib*.so.*' -type f | head -n1)
    soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
    # One demangled name per line (the symbol type letter dropped: W versus T is a compiler detail),
    # only the names that involve Keyloop's own types: the library also exports libstdc++ template
    # instances it happens to use (typeinfo for std::_Sp_counted_ptr_inplace<…>) and the linker's
    # _edata/_end/__bss_start, which are not Keyloop's ABI and change with unrelated code.
    nm -D --defined-only -C "$lib" | cut -d' ' -f3- | grep 'Keyloop' | LC_ALL=C sort -u >"$work/$soname.symbols"
    list="$lists/$soname.symbols"
    if [ "$update" = --update ]; then
        mkdir -p "$lists"
        cp "$work/$soname.symbols" "$list"
        echo "$list: $(wc -l <"$list") symbols"
    elif [ ! -f "$list" ]; then
        echo "abi-symbols: no committed list $list" >&2; status=1
    elif ! diff -u "$list" "$work/$soname.symbols" >"$work/diff"; then
        echo "abi-symbols: $soname exports a different set of symbols than $list (- lost, + new):"
        grep -E '^[-+][^-+]' "$work/diff" || true
        echo "  an intended change: run tests/packaging/abi-symbols.sh <packages dir> packaging/abi --update and commit the list"
        status=1
    else
        echo "$soname: $(wc -l <"$list") exported symbols, as in $list"
    fi
done
exit "$status"
