#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sandbox-setup.sh --state DIR [--timeout SECONDS]
#
# The per-ctest-run sandbox (ctest FIXTURES_SETUP "keyloop_sandbox"):
#   - one loopback-only network namespace, held by a small holder process
#     (as root: `unshare -n`; otherwise `unshare -rn`, a user namespace owning the netns);
#   - inside it, a private D-Bus session bus (started without DISPLAY, so a keyring prompt fails
#     fast instead of hanging) with a fresh, unlocked gnome-keyring (secrets component only);
#   - inside it, one Xvfb (-nolisten tcp, display chosen by Xvfb itself via -displayfd);
#   - inside it, the devstack over https with 2-second access tokens.
# Writes DIR/env (sourced by sandbox-exec.sh) and DIR/pids (read by sandbox-teardown.sh).
# Quiet on success; on failure prints what broke plus the tail of the relevant log, tears down
# whatever started, and exits non-zero. Never waits longer than --timeout (default 90 s).

set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir=$(cd "$here/../.." && pwd)
state=""
timeout_s=90

usage() { echo "usage: sandbox-setup.sh --state DIR [--timeout SECONDS]" >&2; exit 2; }
while [[ $# -gt 0 ]]; do
    case "$1" in
        --state) [[ $# -ge 2 ]] || usage; state=$2; shift 2 ;;
        --timeout) [[ $# -ge 2 ]] || usage; timeout_s=$2; shift 2 ;;
        -h|--help) usage ;;
        *) echo "sandbox-setup: unknown argument: $1" >&2; usage ;;
    esac
done
[[ -n "$state" ]] || usage

# shellcheck source=sandbox-common.sh
source "$here/sandbox-common.sh"

for tool in unshare nsenter ip dbus-daemon dbus-send gnome-keyring-daemon secret-tool Xvfb node openssl; do
    command -v "$tool" >/dev/null 2>&1 || die "missing tool: $tool (run scripts/lib/install-deps.sh --test)"
done

# A previous run that was interrupted before its teardown: clean it up first.
if [[ -e "$state/pids" ]]; then
    "$here/sandbox-teardown.sh" --state "$state" >/dev/null 2>&1 || true
fi
mkdir -p "$state"
state=$(cd "$state" && pwd)
rm -rf "$state/run" "$state/devstack/devstack.json" "$state/env" "$state/pids" "$state/logs"
mkdir -p "$state/run/home" "$state/run/data" "$state/run/config" "$state/run/cache" "$state/logs" "$state/devstack"
install -d -m 0700 "$state/run/runtime"
: > "$state/pids"

deadline=$(( $(date +%s) + timeout_s ))
failed=1
on_exit() {
    if [[ $failed -ne 0 ]]; then
        "$here/sandbox-teardown.sh" --state "$state" >/dev/null 2>&1 || true
    fi
}
trap on_exit EXIT
trap 'exit 130' INT TERM

# wait_for CMD...: polls CMD every 50 ms until it succeeds or the deadline passes.
wait_for() {
    until "$@" >/dev/null 2>&1; do
        if (( $(date +%s) >= deadline )); then
            return 1
        fi
        sleep 0.05
    done
}

record_pid() { echo "$1 $2" >> "$state/pids"; }

fail_with_log() {
    local message=$1 log=${2:-}
    echo "sandbox-setup: $message" >&2
    if [[ -n "$log" && -s "$log" ]]; then
        echo "--- last lines of $log:" >&2
        tail -n 20 "$log" >&2
    fi
    exit 1
}

# 0. npm dependencies of the devstack (needs the network, so outside the namespace).
# shellcheck source=../../scripts/lib/install-deps.sh
export KEYLOOP_QUIET=1
source "$source_dir/scripts/lib/install-deps.sh"
keyloop_ensure_devstack_modules "$source_dir/demo-app/devstack" >"$state/logs/npm.log" 2>&1 || fail_with_log "npm ci in demo-app/devstack failed" "$state/logs/npm.log"

# 1. The namespace holder: a process that sits in the new netns (with lo up) until killed.
if [[ $EUID -eq 0 ]]; then
    unshare_flags=(-n)
else
    unshare_flags=(-r -n)
fi
setsid unshare "${unshare_flags[@]}" -- sh -c 'ip link set lo up && echo up > "$1" && exec sleep infinity' \
    keyloop-netns "$state/run/netns-up" </dev/null >"$state/logs/holder.log" 2>&1 &
holder=$!
record_pid holder "$holder"
wait_for test -e "$state/run/netns-up" || fail_with_log "the network namespace did not come up" "$state/logs/holder.log"
echo "$holder" > "$state/holder.pid"

ns="$here/ns-run.sh"
in_ns() { "$ns" "$holder" "$state" "$@"; }

# 2. The private D-Bus session bus (no DISPLAY: see the keyring prompt hang in the notes).
bus_address="unix:path=$state/run/runtime/bus"
setsid "$ns" "$holder" "$state" dbus-daemon --session --nofork --nopidfile --address="$bus_address" \
    </dev/null >"$state/logs/dbus.log" 2>&1 &
record_pid dbus-daemon $!
bus_up() {
    in_ns dbus-send --reply-timeout=2000 --bus="$bus_address" --dest=org.freedesktop.DBus --print-reply \
        /org/freedesktop/DBus org.freedesktop.DBus.GetId
}
wait_for bus_up || fail_with_log "the D-Bus session bus did not start" "$state/logs/dbus.log"

# 3. gnome-keyring (secrets only) on a fresh keyring dir, unlocked with a throwaway password read
#    from stdin. On an empty dir this creates the "login" collection, unlocked, without a prompt.
head -c 18 /dev/urandom | base64 | tr -d '\n' | setsid "$ns" "$holder" "$state" \
    env DBUS_SESSION_BUS_ADDRESS="$bus_address" gnome-keyring-daemon --foreground --unlock --components=secrets \
    >"$state/logs/keyring.log" 2>&1 &
record_pid gnome-keyring-daemon $!
secrets_owned() {
    in_ns dbus-send --reply-timeout=2000 --bus="$bus_address" --dest=org.freedesktop.DBus --print-reply \
        /org/freedesktop/DBus org.freedesktop.DBus.NameHasOwner string:org.freedesktop.secrets | grep -q 'boolean true'
}
wait_for secrets_owned || fail_with_log "gnome-keyring did not register org.freedesktop.secrets" "$state/logs/keyring.log"
# Prove the keyring takes a write without a prompt (a locked or missing collection fails here).
secret() { in_ns env DBUS_SESSION_BUS_ADDRESS="$bus_address" timeout 5 secret-tool "$@"; }
probe_keyring() {
    printf probe | secret store --label=keyloop-sandbox-probe keyloop-sandbox probe &&
    [[ "$(secret lookup keyloop-sandbox probe)" == probe ]] &&
    secret clear keyloop-sandbox probe
}
probe_keyring >"$state/logs/keyring-probe.log" 2>&1 || fail_with_log "the sandbox keyring does not accept a write (locked?)" "$state/logs/keyring-probe.log"

# 4. Xvfb, started after the bus and never seen by it; it picks a free display itself.
setsid "$ns" "$holder" "$state" sh -c 'exec Xvfb -displayfd 3 -nolisten tcp -screen 0 1280x800x24 3>"$1"' \
    keyloop-xvfb "$state/run/display" </dev/null >"$state/logs/xvfb.log" 2>&1 &
record_pid Xvfb $!
wait_for grep -q '^[0-9]' "$state/run/display" || fail_with_log "Xvfb did not start" "$state/logs/xvfb.log"
display=":$(head -n1 "$state/run/display" | tr -dc 0-9)"

# 5. The devstack: https, 2-second access tokens.
ready_file="$state/run/devstack.ready"
setsid "$ns" "$holder" "$state" node "$source_dir/demo-app/devstack/devstack.mjs" --state "$state/devstack" \
    --https --access-token-ttl 2 --ready-file "$ready_file" </dev/null >"$state/logs/devstack.log" 2>&1 &
devstack_pid=$!
record_pid devstack.mjs "$devstack_pid"
devstack_ready() {
    [[ -e "$ready_file" ]] && return 0
    kill -0 "$devstack_pid" 2>/dev/null || fail_with_log "the devstack exited during start" "$state/logs/devstack.log"
    return 1
}
until devstack_ready; do
    (( $(date +%s) < deadline )) || fail_with_log "the devstack was not ready within ${timeout_s}s" "$state/logs/devstack.log"
    sleep 0.05
done

# 6. The environment of every sandboxed test.
{
    printf 'export KEYLOOP_SANDBOX_STATE=%q\n' "$state"
    printf 'export KEYLOOP_SANDBOX_HOLDER_PID=%q\n' "$holder"
    printf 'export KEYLOOP_DEVSTACK_JSON=%q\n' "$state/devstack/devstack.json"
    printf 'export DBUS_SESSION_BUS_ADDRESS=%q\n' "$bus_address"
    printf 'export DISPLAY=%q\n' "$display"
    # No accessibility bus: GTK/Qt would otherwise D-Bus-activate at-spi-bus-launcher.
    printf 'export NO_AT_BRIDGE=1\n'
} > "$state/env.tmp"
mv "$state/env.tmp" "$state/env"

failed=0
