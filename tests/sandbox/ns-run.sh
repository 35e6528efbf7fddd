#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# ns-run.sh HOLDER_PID STATE_DIR CMD...: exec CMD inside the sandbox's network namespace with a
# clean desktop environment and the sandbox daemons' private HOME/XDG dirs under STATE_DIR/run.
# Used by sandbox-setup.sh to start the daemons.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$here/sandbox-common.sh"
holder=$1 state=$2
shift 2
mapfile -t ns_args < <(sandbox_nsenter_args "$holder")
exec nsenter "${ns_args[@]}" -- env -u DISPLAY -u WAYLAND_DISPLAY -u DBUS_SESSION_BUS_ADDRESS \
    -u XDG_CURRENT_DESKTOP -u XDG_SESSION_TYPE -u XDG_SESSION_DESKTOP -u DESKTOP_SESSION \
    -u GNOME_KEYRING_CONTROL -u SSH_AUTH_SOCK -u SESSION_MANAGER -u XAUTHORITY \
    HOME="$state/run/home" XDG_DATA_HOME="$state/run/data" XDG_CONFIG_HOME="$state/run/config" \
    XDG_CACHE_HOME="$state/run/cache" XDG_RUNTIME_DIR="$state/run/runtime" "$@"
