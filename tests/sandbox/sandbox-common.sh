# shellcheck shell=bash
# SPDX-License-Identifier: MIT
# Shared by the sandbox scripts (sourced).

die() { echo "sandbox: $*" >&2; exit 1; }

# nsenter arguments that join the network namespace held by process $1. As root the netns is
# entered directly; otherwise the holder also owns a user namespace (unshare -rn) that is entered
# first, keeping our own credentials.
sandbox_nsenter_args() {
    local holder=$1
    if [[ $EUID -eq 0 ]]; then
        printf '%s\n' -t "$holder" -n
    else
        printf '%s\n' -t "$holder" -U -n --preserve-credentials
    fi
}

# True if pid $1 is alive and its command line contains $2 (guards against reused pids).
sandbox_pid_is() {
    local pid=$1 pattern=$2
    [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "$pattern"
}
