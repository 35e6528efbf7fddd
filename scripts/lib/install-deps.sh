#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Installs what Keyloop needs on Debian/Ubuntu, and nothing that is already there.
#
#   scripts/lib/install-deps.sh --test       everything for ./scripts/test (build, sandbox, browser, clang, doxygen)
#   scripts/lib/install-deps.sh --demo       what ./scripts/demo needs (build, Node.js, libsecret, xdg-open)
#   scripts/lib/install-deps.sh --demo-headless   --demo plus headless Chromium, gnome-keyring, dbus, Xvfb
#                                            (the demo on a machine without a desktop session)
#   scripts/lib/install-deps.sh --devstack   only `npm ci` in demo-app/devstack (when needed)
#   scripts/lib/install-deps.sh --check ...  print what is missing, install nothing (exit 1 if anything is)
#
# Debian packages are checked one by one with dpkg-query; only the missing ones go to
# `apt-get install --no-install-recommends` (with sudo when not root, DEBIAN_FRONTEND=noninteractive).
# Recommends are off, so packages that are only recommended but needed are named explicitly
# (libclang-rt-14-dev for libFuzzer/sanitizers with clang-14; libsecret-1-0 for QtKeychain).
# dbus-x11 is deliberately never installed: its X11 autolaunch makes keyring prompts hang.
#
# Sourcing this file defines the functions without running anything:
#   keyloop_missing_packages PKG...     prints the ones not installed
#   keyloop_install_packages PKG...     installs the missing ones
#   keyloop_ensure_node                 Node.js >= 20 and npm, or a clear error
#   keyloop_ensure_devstack_modules     `npm ci` in demo-app/devstack when node_modules is missing or stale
#   keyloop_install_deps test|demo|demo-headless|devstack   all of the above for one use
# Set KEYLOOP_QUIET=1 to print only errors.

_keyloop_lib_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
KEYLOOP_SOURCE_DIR_GUESS=$(cd "$_keyloop_lib_dir/../.." && pwd)

KEYLOOP_BUILD_PACKAGES=(cmake ninja-build pkg-config g++ make libssl-dev openssl qt6-base-dev
    qtkeychain-qt6-dev libsecret-1-0 ca-certificates procps
    libqrencode-dev)  # the CLI's and the demo's QR code of the device flow (qrcode/); never the SDK
KEYLOOP_DEMO_PACKAGES=("${KEYLOOP_BUILD_PACKAGES[@]}" xdg-utils)
# Demo on a machine without a desktop session: headless Chromium + a throwaway keyring.
KEYLOOP_DEMO_HEADLESS_PACKAGES=("${KEYLOOP_DEMO_PACKAGES[@]}" chromium gnome-keyring libsecret-tools dbus xvfb xauth)
KEYLOOP_TEST_PACKAGES=("${KEYLOOP_BUILD_PACKAGES[@]}" gnome-keyring libsecret-tools dbus xvfb xauth
    xdg-utils chromium clang-14 libclang-rt-14-dev iproute2 util-linux dpkg-dev curl file
    lintian binutils  # the packages_* tests: lintian on the .deb files, nm/objdump for the symbol lists
    man-db groff-base  # the cli_man_page test renders keyloop(1) as lintian does (man, lexgrog, groff)
    git jq  # tst_cli runs the curl and git recipes of docs/cli.md (jq in one of them, git credential fill)
    qt6-declarative-dev qml6-module-qtqml qml6-module-qtqml-models qml6-module-qtqml-workerscript  # QML binding test of Keyloop::Client
    qt6-networkauth-dev  # qt6-networkauth-dev: benchmark-only peer (bench_httpclient), never the SDK or tests
    gnuplot-nox  # ./scripts/bench plots the fleet simulation's series (bench/fleet/plot.gp); never the SDK or tests
    zbar-tools  # zbarimg decodes the QR codes back in the qrcode_* tests
    doxygen)  # the API reference and its ctest api_reference (scripts/docs)

_keyloop_say() { [[ -n "${KEYLOOP_QUIET:-}" ]] || echo "install-deps: $*" >&2; }
_keyloop_err() { echo "install-deps: $*" >&2; }

_keyloop_as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        _keyloop_err "need root for: $* (and sudo is not installed)"
        return 1
    fi
}

keyloop_missing_packages() {
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
        [[ "$status" == installed ]] || echo "$pkg"
    done
}

keyloop_install_packages() {
    command -v dpkg-query >/dev/null 2>&1 || { _keyloop_err "not a Debian/Ubuntu system (no dpkg-query): install the packages by hand: $*"; return 1; }
    local missing
    mapfile -t missing < <(keyloop_missing_packages "$@")
    [[ ${#missing[@]} -gt 0 ]] || return 0
    _keyloop_say "installing ${missing[*]}"
    local quiet=()
    [[ -n "${KEYLOOP_QUIET:-}" ]] && quiet=(-qq)
    # The package lists may be missing or stale on a fresh machine: update once, then install.
    _keyloop_as_root env DEBIAN_FRONTEND=noninteractive apt-get "${quiet[@]}" update >&2 || return 1
    _keyloop_as_root env DEBIAN_FRONTEND=noninteractive apt-get "${quiet[@]}" install -y --no-install-recommends "${missing[@]}" >&2
}

# Node.js >= 20 (oidc-provider 9 and the devstack need it) plus npm. Debian 12's own nodejs is 18:
# then say so instead of installing something that cannot run the devstack.
keyloop_ensure_node() {
    if ! command -v node >/dev/null 2>&1; then
        keyloop_install_packages nodejs npm || return 1
    elif ! command -v npm >/dev/null 2>&1; then
        keyloop_install_packages npm || return 1
    fi
    local major
    major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
    if (( major < 20 )); then
        _keyloop_err "Node.js $(node --version 2>/dev/null) is too old: the devstack needs Node.js 20 or newer (install it, then re-run)"
        return 1
    fi
}

# `npm ci` in demo-app/devstack when node_modules is missing or older than package-lock.json.
# shellcheck disable=SC2120 # optional argument: the devstack dir
keyloop_ensure_devstack_modules() {
    local dir="${1:-$KEYLOOP_SOURCE_DIR_GUESS/demo-app/devstack}"
    local stamp="$dir/node_modules/.package-lock.json"
    if [[ -f "$stamp" && ! "$dir/package-lock.json" -nt "$stamp" && ! "$dir/package.json" -nt "$stamp" ]]; then
        return 0
    fi
    keyloop_ensure_node || return 1
    _keyloop_say "npm ci in ${dir#"$KEYLOOP_SOURCE_DIR_GUESS"/}"
    # A lock so that parallel callers (two scripts, a ctest fixture) do not run npm ci together.
    (
        exec 9>"${TMPDIR:-/tmp}/keyloop-npm-ci-$EUID.lock"
        flock 9
        if [[ -f "$stamp" && ! "$dir/package-lock.json" -nt "$stamp" && ! "$dir/package.json" -nt "$stamp" ]]; then
            exit 0
        fi
        cd "$dir" || exit 1
        if [[ -n "${KEYLOOP_QUIET:-}" ]]; then
            out=$(npm ci --no-audit --no-fund --loglevel=error 2>&1) || { echo "$out" >&2; exit 1; }
        else
            npm ci --no-audit --no-fund --loglevel=error >&2
        fi
    )
}

keyloop_install_deps() {
    local what=$1
    case "$what" in
        test) keyloop_install_packages "${KEYLOOP_TEST_PACKAGES[@]}" || return 1 ;;
        demo) keyloop_install_packages "${KEYLOOP_DEMO_PACKAGES[@]}" || return 1 ;;
        demo-headless) keyloop_install_packages "${KEYLOOP_DEMO_HEADLESS_PACKAGES[@]}" || return 1 ;;
        devstack) ;;
        *) _keyloop_err "unknown set: $what"; return 2 ;;
    esac
    keyloop_ensure_node && keyloop_ensure_devstack_modules "$KEYLOOP_SOURCE_DIR_GUESS/demo-app/devstack"
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
    set -euo pipefail
    check=0
    what=""
    for arg in "$@"; do
        case "$arg" in
            --test) what="test" ;;
            --demo) what="demo" ;;
            --demo-headless) what="demo-headless" ;;
            --devstack) what="devstack" ;;
            --check) check=1 ;;
            --quiet|-q) export KEYLOOP_QUIET=1 ;;
            -h|--help) sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
            *) _keyloop_err "unknown argument: $arg"; exit 2 ;;
        esac
    done
    [[ -n "$what" ]] || { _keyloop_err "usage: install-deps.sh (--test|--demo|--demo-headless|--devstack) [--check] [--quiet]"; exit 2; }
    if [[ $check -eq 1 ]]; then
        case "$what" in
            test) pkgs=("${KEYLOOP_TEST_PACKAGES[@]}") ;;
            demo) pkgs=("${KEYLOOP_DEMO_PACKAGES[@]}") ;;
            demo-headless) pkgs=("${KEYLOOP_DEMO_HEADLESS_PACKAGES[@]}") ;;
            *) pkgs=() ;;
        esac
        mapfile -t absent < <(keyloop_missing_packages "${pkgs[@]}")
        [[ -d "$KEYLOOP_SOURCE_DIR_GUESS/demo-app/devstack/node_modules" ]] || absent+=("(npm ci in demo-app/devstack)")
        [[ ${#absent[@]} -eq 0 ]] && exit 0
        printf '%s\n' "${absent[@]}"
        exit 1
    fi
    keyloop_install_deps "$what"
fi
