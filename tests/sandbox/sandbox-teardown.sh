#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# sandbox-teardown.sh --state DIR
#
# Stops everything sandbox-setup.sh started (ctest FIXTURES_CLEANUP), also after a half-failed
# setup: every process recorded in DIR/pids gets SIGTERM in reverse start order, then SIGKILL
# after 3 s if still alive. A pid is only signalled while its command line still names what was
# started (pids can be reused). The keyring, bus socket and environment go with DIR/run; logs stay.

set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/sandbox-common.sh"
state=""
while [[ $# -gt 0 ]]; do
    case "$1" in
        --state) [[ $# -ge 2 ]] || die "--state needs a value"; state=$2; shift 2 ;;
        *) echo "usage: sandbox-teardown.sh --state DIR" >&2; exit 2 ;;
    esac
done
[[ -n "$state" ]] || { echo "usage: sandbox-teardown.sh --state DIR" >&2; exit 2; }
[[ -d "$state" ]] || exit 0

rm -f "$state/env"
if [[ -f "$state/pids" ]]; then
    # name pid, in start order; stop in reverse.
    mapfile -t entries < <(tac "$state/pids")
    live=()
    for entry in "${entries[@]}"; do
        read -r name pid <<<"$entry"
        pattern=$name
        [[ $name == holder ]] && pattern="sleep infinity"
        if sandbox_pid_is "$pid" "$pattern"; then
            kill -TERM "$pid" 2>/dev/null || true
            live+=("$pid:$pattern")
        fi
    done
    for (( i = 0; i < 60 && ${#live[@]} > 0; i++ )); do
        still=()
        for item in "${live[@]}"; do
            sandbox_pid_is "${item%%:*}" "${item#*:}" && still+=("$item")
        done
        live=("${still[@]+"${still[@]}"}")
        [[ ${#live[@]} -gt 0 ]] && sleep 0.05
    done
    for item in "${live[@]+"${live[@]}"}"; do
        kill -KILL "${item%%:*}" 2>/dev/null || true
    done
    rm -f "$state/pids"
fi
rm -rf "$state/run" "$state/holder.pid"
rm -f "$state/devstack/devstack.json"
exit 0
