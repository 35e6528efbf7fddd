#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: check-version.sh <version> <source dir> <libkeyloop.so file> <version.h> <keyloop binary> [<generated doc file>...]
#
# One version, project(VERSION) in CMakeLists.txt, reaches everything that shows one: the shared
# library's file name and SONAME, <keyloop/version.h>, `keyloop --version`, CHANGELOG.md (a dated
# section), every find_package(Keyloop X.Y) in the docs and examples, and the generated manual
# pages / API reference configuration given after the binary. (The packages' version is checked by
# packages_install.)
set -euo pipefail
version=${1:?} src=${2:?} lib=${3:?} header=${4:?} cli=${5:?}
shift 5
major=${version%%.*}
minor=${version#*.}; minor=${minor%%.*}
status=0
bad() { echo "version: $*" >&2; status=1; }

[ "$(basename "$(readlink -f "$lib")")" = "libkeyloop.so.$version" ] || bad "$lib is not libkeyloop.so.$version"
soname=$(objdump -p "$lib" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libkeyloop.so.$major" ] || bad "SONAME is $soname, expected libkeyloop.so.$major"
grep -q "^#define KEYLOOP_VERSION_STRING \"$version\"$" "$header" || bad "$header does not define KEYLOOP_VERSION_STRING \"$version\""
got=$("$cli" --version)
[ "$got" = "keyloop $version" ] || bad "keyloop --version printed '$got', expected 'keyloop $version'"
grep -Eq "^## \[$version\] - [0-9]{4}-[0-9]{2}-[0-9]{2}$" "$src/CHANGELOG.md" || bad "CHANGELOG.md has no dated section ## [$version] - YYYY-MM-DD"
while IFS= read -r hit; do
    case "$hit" in
    *"find_package(Keyloop $major.$minor "*|*"find_package(Keyloop $major.$minor)"*) ;;
    *) bad "find_package with another version: $hit" ;;
    esac
done < <(grep -rn --include='*.md' --include='CMakeLists.txt' --include='*.cmake' -E 'find_package\(Keyloop [0-9]' \
    "$src/README.md" "$src/docs" "$src/examples" "$src/tests/consumer" || true)
for file in "$@"; do
    grep -qF "$version" "$file" || bad "$file does not carry the version $version"
done
[ "$status" -eq 0 ] && echo "version $version: library, SONAME, version.h, keyloop --version, CHANGELOG, docs${*:+, $*}: ok"
exit "$status"
