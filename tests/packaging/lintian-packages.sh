#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# usage: lintian-packages.sh <packages dir>
#
# Debian's lintian on every package ./scripts/package built: no error and no warning. A tag that
# cannot be fixed is overridden in packaging/debian/<component>.lintian-overrides, with the reason
# on the line above it; an override that no longer matches anything fails too (so none goes stale).
set -euo pipefail
pkgs=${1:?packages dir}
ls "$pkgs"/*.deb >/dev/null 2>&1 || { echo "lintian-packages: no packages in $pkgs: run ./scripts/package" >&2; exit 1; }
command -v lintian >/dev/null || { echo "lintian-packages: lintian is not installed (scripts/lib/install-deps.sh --test installs it)" >&2; exit 1; }
status=0
for deb in "$pkgs"/*.deb; do
    # Errors and warnings fail (mismatched-override is a warning of its own); info is shown.
    if out=$(lintian --fail-on error,warning --display-info "$deb" 2>&1); then
        echo "$(basename "$deb"): lintian: no error, no warning"
    else
        echo "$(basename "$deb"): lintian FAILED"
        status=1
    fi
    printf '%s\n' "$out" | grep -v "running with root privileges" | sed 's/^/    /' || true
    # The overridden tags, with their reasons (lintian's exit status is not for these).
    lintian --show-overrides "$deb" 2>/dev/null | grep -E "^(N|O):" | sed 's/^/    /' || true
done
exit "$status"
