#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: check-packages.sh <packages dir> <keyloop source dir> <c++ compiler> <version>
#
# The Debian packages ./scripts/package built, checked without touching the machine:
#   1. exactly libkeyloop0, libkeyloop-gui0, libkeyloop-dev, keyloop and keyloop-demo at <version>;
#   2. `apt-get install -s` resolves every dependency on this Debian release (a simulation: as root
#      too, nothing is installed);
#   3. `dpkg-deb -x` into a temporary root: `keyloop --help` and `--version` run from there;
#   4. the consumer project (tests/consumer/project) and the examples build against that root with
#      CMake, and the consumer also with pkg-config, and the consumer runs;
#   5. libqrencode (qrcode/, the device flow's QR code) is the CLI's and the demo's only: the SDK's
#      packages, libraries, CMake package and pkg-config files never name it, and a program that
#      needs libqrencode.so.4 has its package depend on libqrencode4.
set -euo pipefail
pkgs=${1:?packages dir} src=${2:?source dir} cxx=${3:?c++ compiler} version=${4:?version}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "check-packages: $*" >&2; exit 1; }

[ -d "$pkgs" ] || fail "no packages in $pkgs: build them with ./scripts/package (./scripts/test does)"
arch=$(dpkg --print-architecture)
debs=()
for name in libkeyloop0 libkeyloop-gui0 libkeyloop-dev keyloop keyloop-demo; do
    deb=$(ls "$pkgs/${name}_${version}-"*"_${arch}.deb" 2>/dev/null | head -n1 || true)
    [ -n "$deb" ] || fail "missing ${name}_${version}-*_${arch}.deb in $pkgs (stale packages? run ./scripts/package)"
    [ "$(dpkg-deb -f "$deb" Package)" = "$name" ] || fail "$deb is not package $name"
    debs+=("$deb")
done
extra=$(ls "$pkgs"/*.deb | wc -l)
[ "$extra" -eq ${#debs[@]} ] || fail "$pkgs holds $extra packages, expected ${#debs[@]}: $(ls "$pkgs")"

echo "== apt-get install -s (simulation)"
abs=()
for deb in "${debs[@]}"; do abs+=("$(cd "$(dirname "$deb")" && pwd)/$(basename "$deb")"); done
if ! apt-get install -s -o Debug::NoLocking=1 "${abs[@]}" >"$work/apt.log" 2>&1; then
    cat "$work/apt.log"; fail "apt-get cannot resolve the packages' dependencies"
fi
ours="^Inst (libkeyloop0|libkeyloop-gui0|libkeyloop-dev|keyloop|keyloop-demo) "
grep -E "$ours" "$work/apt.log" | sort
[ "$(grep -cE "$ours" "$work/apt.log")" -eq 5 ] || { cat "$work/apt.log"; fail "apt-get would not install all five packages"; }

echo "== dpkg-deb -x into a temporary root"
root="$work/root"
for deb in "${debs[@]}"; do dpkg-deb -x "$deb" "$root"; done
libdir=$(dirname "$(find "$root" -name libkeyloop.so.0 | head -n1)")
[ -d "$libdir" ] || fail "libkeyloop.so.0 is in no package"
export LD_LIBRARY_PATH="$libdir"
"$root/usr/bin/keyloop" --help >"$work/help.txt" || fail "keyloop --help failed from the extracted root"
grep -q "Usage: keyloop" "$work/help.txt" || { cat "$work/help.txt"; fail "keyloop --help printed no usage"; }
got=$("$root/usr/bin/keyloop" --version)
case "$got" in *" $version"|"$version"|*" $version "*) ;; *) fail "keyloop --version printed '$got', expected $version" ;; esac
echo "keyloop --help and --version ($got) from the extracted root: ok"
QT_QPA_PLATFORM=offscreen "$root/usr/bin/keyloop-demo" --version | grep -q "$version" || fail "keyloop-demo --version"

echo "== libqrencode: the CLI's and the demo's, never the SDK's"
for deb in "${debs[@]}"; do
    name=$(dpkg-deb -f "$deb" Package)
    depends=$(dpkg-deb -f "$deb" Depends)
    case "$name" in
    libkeyloop0|libkeyloop-gui0|libkeyloop-dev)
        [[ "$depends" != *qrencode* ]] || fail "$name must not depend on libqrencode: $depends" ;;
    keyloop|keyloop-demo)
        # Debian's gcc links --as-needed: the program needs the library once it calls KeyloopQr.
        needed=$(objdump -p "$root/usr/bin/$name" | awk '$1 == "NEEDED" { print $2 }')
        if grep -qx 'libqrencode\.so\.4' <<<"$needed"; then
            [[ "$depends" == *libqrencode4* ]] || fail "$name needs libqrencode.so.4 but does not depend on libqrencode4: $depends"
            echo "$name: needs libqrencode.so.4, depends on libqrencode4"
        fi ;;
    esac
done
for lib in "$root"/usr/lib/*/libkeyloop*.so.0; do
    needed=$(objdump -p "$lib" | awk '$1 == "NEEDED" { print $2 }')
    ! grep -q qrencode <<<"$needed" || fail "$(basename "$lib") links libqrencode"
done
if grep -rli qrencode "$root"/usr/lib/*/cmake "$root"/usr/lib/*/pkgconfig "$root"/usr/include; then
    fail "the SDK's CMake package, pkg-config files or headers name libqrencode"
fi
echo "no libqrencode in libkeyloop0, libkeyloop-gui0, libkeyloop-dev: ok"

echo "== the consumer and the examples against the extracted root (CMake)"
cmake -S "$src/tests/consumer/project" -B "$work/consumer" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$root/usr" -DCMAKE_FIND_USE_SYSTEM_PACKAGE_REGISTRY=OFF >"$work/log" 2>&1 || { cat "$work/log"; fail "consumer configure"; }
grep -q "$root/usr/lib" "$work/consumer/CMakeCache.txt" || fail "the consumer did not find Keyloop in the extracted root"
cmake --build "$work/consumer" >"$work/log" 2>&1 || { cat "$work/log"; fail "consumer build"; }
"$work/consumer/consumer" | tee "$work/out"
grep -q "keyloop $version ok" "$work/out" || fail "the consumer printed no 'keyloop $version ok'"
cmake -S "$src/examples" -B "$work/examples" -G Ninja -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_PREFIX_PATH="$root/usr" >"$work/log" 2>&1 || { cat "$work/log"; fail "examples configure"; }
cmake --build "$work/examples" -j "${KEYLOOP_JOBS:-$(nproc)}" >"$work/log" 2>&1 || { cat "$work/log"; fail "examples build"; }
for example in api-call fresh-token signin-widget; do
    [ -x "$work/examples/$example" ] || fail "example $example was not built"
done
echo "consumer and examples built with CMake against the packages: ok"

echo "== the consumer with pkg-config against the extracted root"
pcdir=$(dirname "$(find "$root" -name keyloop.pc | head -n1)")
flags=$(PKG_CONFIG_PATH="$pcdir" pkg-config --cflags --libs keyloop keyloop-gui) || fail "pkg-config keyloop keyloop-gui"
# The .pc files are relocatable (prefix relative to ${pcfiledir}): they must point into the root.
for pc in keyloop keyloop-gui; do
    for var in includedir libdir; do
        dir=$(PKG_CONFIG_PATH="$pcdir" pkg-config --variable="$var" "$pc")
        case "$(realpath -m "$dir")" in "$(realpath "$root")"/usr/*) ;; *) fail "pkg-config $pc: $var $dir is not in the extracted root" ;; esac
    done
done
# shellcheck disable=SC2086
"$cxx" -std=c++17 -fPIC -o "$work/consumer-pc" "$src/tests/consumer/project/main.cpp" $flags
"$work/consumer-pc" | grep -q "keyloop $version ok" || fail "the pkg-config consumer failed"
echo "consumer built with pkg-config against the packages: ok"
