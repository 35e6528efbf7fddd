#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# Recipes of docs/cli.md that hand keyloop's tokens to other programs without ever putting a
# token on a command line: other local users can read every process's arguments (ps,
# /proc/PID/cmdline), but not its pipes. The regions between "# [name]" lines are copied into the
# guide (check-doc-snippets.sh keeps them identical) and run by tst_cli against the devstack
# (recipesHandTheTokenOverOffTheCommandLine), with https://api.example.com replaced by its API.
# Not meant to be run as a whole.
exit 2

# [curl]
# The header through a pipe: curl 7.55 and later read headers from stdin with -H @-.
keyloop token | sed 's/^/Authorization: Bearer /' | curl -H @- https://api.example.com/api/items
# [curl]

# [curl-body]
# bash: the header through a pipe of its own, so that stdin stays free for the body; the token
# type as issued (token --json).
printf '{"name":"x"}' | curl -H @<(keyloop token --json | jq -r '"Authorization: \(.token_type) \(.access_token)"') \
    -H 'Content-Type: application/json' -d @- https://api.example.com/api/items
# [curl-body]
