#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# count-quickstart-lines.sh FILE MAX
#
# Counts the lines of code between the two `// [quickstart]` markers of FILE: non-blank lines
# that are not only a comment. Fails when there are more than MAX (the quickstart's promise).
set -euo pipefail
file=${1:?usage: count-quickstart-lines.sh FILE MAX}
max=${2:?usage: count-quickstart-lines.sh FILE MAX}
count=$(awk '
    { line = $0; sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line) }
    line == "// [quickstart]" || line == "//! [quickstart]" { inside = !inside; markers++; next }
    inside && line != "" && line !~ /^\/\// { n++ }
    END { if (markers != 2) { print "markers:" markers; exit } print n + 0 }' "$file")
case "$count" in
markers:*) echo "quickstart: expected two // [quickstart] markers in $file (found ${count#markers:})"; exit 1 ;;
esac
echo "quickstart: $count lines of code (at most $max) in $file"
[ "$count" -le "$max" ]
