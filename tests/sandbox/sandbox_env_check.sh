#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs inside sandbox-exec.sh: the per-test environment is what the contract promises, and the
# sandbox keyring takes a write → read → delete under this test's own service name without a prompt.
set -euo pipefail
fail() { echo "FAIL: $*" >&2; exit 1; }

for var in HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_CACHE_HOME XDG_STATE_HOME XDG_RUNTIME_DIR TMPDIR \
           KEYLOOP_TEST_SERVICE KEYLOOP_SOURCE_DIR DBUS_SESSION_BUS_ADDRESS DISPLAY KEYLOOP_DEVSTACK_JSON; do
    [[ -n "${!var:-}" ]] || fail "$var is not set"
done
for var in XDG_CURRENT_DESKTOP GNOME_DESKTOP_SESSION_ID KDE_FULL_SESSION BROWSER; do
    [[ -z "${!var:-}" ]] || fail "$var leaks into the test"
done
[[ "$(stat -c %a "$XDG_RUNTIME_DIR")" == 700 ]] || fail "XDG_RUNTIME_DIR is not 0700"
[[ -d "$HOME" && -z "$(ls -A "$HOME")" ]] || fail "HOME is not a fresh empty dir"
[[ "$KEYLOOP_TEST_SERVICE" =~ ^org\.keyloop\.test\.[A-Za-z0-9_]+\.[0-9a-f]{12}$ ]] || fail "unexpected KEYLOOP_TEST_SERVICE format"
[[ -r "$KEYLOOP_DEVSTACK_JSON" ]] || fail "devstack.json not readable"
[[ "$(ip -o link show | wc -l)" == 1 ]] || fail "more than the loopback interface is visible"

# The keyring: write, read back, delete (QtKeychain uses the same service, attributes server/user).
value=$(head -c 16 /dev/urandom | base64)
printf %s "$value" | timeout 10 secret-tool store --label="keyloop sandbox check" server "$KEYLOOP_TEST_SERVICE" user check \
    || fail "keyring write failed"
[[ "$(timeout 10 secret-tool lookup server "$KEYLOOP_TEST_SERVICE" user check)" == "$value" ]] || fail "keyring read-back differs"
timeout 10 secret-tool clear server "$KEYLOOP_TEST_SERVICE" user check || fail "keyring delete failed"
if timeout 10 secret-tool lookup server "$KEYLOOP_TEST_SERVICE" user check >/dev/null 2>&1; then
    fail "keyring item still there after delete"
fi

# The X server is there (needed by QDesktopServices/xcb tests); xdpyinfo, when installed, talks to it.
[[ -S "/tmp/.X11-unix/X${DISPLAY#:}" ]] || fail "no X socket for $DISPLAY"
if command -v xdpyinfo >/dev/null 2>&1; then
    timeout 10 xdpyinfo >/dev/null || fail "Xvfb on $DISPLAY does not answer"
fi
echo "sandbox environment ok"
