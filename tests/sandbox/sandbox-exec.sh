#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sandbox-exec.sh --state DIR --name TEST -- CMD...   run CMD inside the sandbox (netns, D-Bus +
#                                                     keyring, Xvfb, devstack) set up by sandbox-setup.sh
# sandbox-exec.sh --isolated-only --name TEST -- CMD...   only the per-test dirs (unit tests)
#
# Either way CMD gets its own fresh HOME, XDG_{CONFIG,DATA,CACHE,STATE}_HOME, XDG_RUNTIME_DIR (0700)
# and TMPDIR, a desktop-neutral environment (no XDG_CURRENT_DESKTOP, GNOME_*, KDE_*, so xdg-open
# uses mimeapps.list), and KEYLOOP_TEST_SERVICE=org.keyloop.test.TEST.<random>, a keychain service
# name of its own. The dirs are removed afterwards unless KEYLOOP_KEEP_TEST_DIRS is set (then their
# path is printed). Exit status is CMD's. Safe to run many at once (ctest -j).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/sandbox-common.sh"

usage() { echo "usage: sandbox-exec.sh (--state DIR | --isolated-only) --name TEST -- CMD..." >&2; exit 2; }
state=""
isolated_only=0
name=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --state) [[ $# -ge 2 ]] || usage; state=$2; shift 2 ;;
        --isolated-only) isolated_only=1; shift ;;
        --name) [[ $# -ge 2 ]] || usage; name=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "sandbox-exec: unknown argument: $1" >&2; usage ;;
    esac
done
[[ $# -gt 0 && -n "$name" ]] || usage
[[ $isolated_only -eq 1 || -n "$state" ]] || usage

# A name usable in a D-Bus/keychain service name and a path.
safe_name=$(printf %s "$name" | tr -c 'A-Za-z0-9_' '_')

holder=""
if [[ $isolated_only -eq 0 ]]; then
    [[ -r "$state/env" ]] || die "no sandbox at $state (sandbox_setup did not run or failed; see $state/logs)"
    # shellcheck disable=SC1091
    holder=$(. "$state/env" && echo "$KEYLOOP_SANDBOX_HOLDER_PID")
    sandbox_pid_is "$holder" "sleep infinity" || die "the sandbox at $state is gone (its namespace holder died)"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/keyloop-test-$safe_name.XXXXXX")
cleanup() {
    # Detached children of the test (a browser started through xdg-open, say) must not outlive it:
    # find them by the test's unique keychain service name in their environment.
    if [[ -n "${KEYLOOP_TEST_SERVICE:-}" ]]; then
        local p
        for p in /proc/[0-9]*; do
            [[ "${p#/proc/}" == "$$" ]] && continue
            grep -qzx "KEYLOOP_TEST_SERVICE=$KEYLOOP_TEST_SERVICE" "$p/environ" 2>/dev/null \
                && kill -KILL "${p#/proc/}" 2>/dev/null
        done
    fi
    if [[ -n "${KEYLOOP_KEEP_TEST_DIRS:-}" ]]; then
        echo "sandbox-exec: kept test dirs in $tmp" >&2
    else
        # A killed process may still be closing files: one retry, and never fail the test for it.
        rm -rf "$tmp" 2>/dev/null || { sleep 0.2; rm -rf "$tmp" 2>/dev/null || true; }
    fi
    return 0
}
trap cleanup EXIT
mkdir -p "$tmp/home" "$tmp/config" "$tmp/data" "$tmp/cache" "$tmp/state" "$tmp/tmp"
install -d -m 0700 "$tmp/runtime"

# A desktop-neutral environment: drop whatever session the caller runs in.
for var in $(compgen -e); do
    case "$var" in
        GNOME_*|KDE_*|XDG_*|DBUS_SESSION_BUS_ADDRESS|DISPLAY|WAYLAND_DISPLAY|DESKTOP_SESSION|SESSION_MANAGER|\
        SSH_AUTH_SOCK|XAUTHORITY|BROWSER|KEYLOOP_DEVSTACK_JSON|KEYLOOP_TEST_SERVICE|KEYLOOP_SANDBOX_*)
            unset "$var" ;;
    esac
done

if [[ $isolated_only -eq 0 ]]; then
    # shellcheck disable=SC1091
    . "$state/env"
fi
export HOME="$tmp/home" TMPDIR="$tmp/tmp"
export XDG_CONFIG_HOME="$tmp/config" XDG_DATA_HOME="$tmp/data" XDG_CACHE_HOME="$tmp/cache"
export XDG_STATE_HOME="$tmp/state" XDG_RUNTIME_DIR="$tmp/runtime"
export KEYLOOP_TEST_NAME="$name"
suffix=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
export KEYLOOP_TEST_SERVICE="org.keyloop.test.$safe_name.$suffix"
export KEYLOOP_SOURCE_DIR="${KEYLOOP_SOURCE_DIR:-$(cd "$here/../.." && pwd)}"

if [[ $isolated_only -eq 0 ]]; then
    mapfile -t ns_args < <(sandbox_nsenter_args "$holder")
    cmd=(nsenter "${ns_args[@]}" -- "$@")
else
    cmd=("$@")
fi

# Run as a child (not exec) so the dirs can be removed; pass SIGTERM/SIGINT on.
"${cmd[@]}" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' TERM INT
status=0
wait "$child" || status=$?
# wait returns early (>128) when a trapped signal arrives: wait again for the child's real exit.
while kill -0 "$child" 2>/dev/null; do
    wait "$child" || status=$?
done
exit "$status"
