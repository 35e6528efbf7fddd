#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check-doc-snippets.sh DOCS_DIR EXAMPLES_DIR
#
# Every code block in DOCS_DIR/*.md that follows a line
#     <!-- snippet: <file under EXAMPLES_DIR> [<name>] -->
# must be exactly the region of that file between two `//! [<name>]` (or `// [<name>]`) lines (common indentation
# removed), so that what the guides show is code that compiles. In shell, git and YAML files the
# marker lines are comments: `# [<name>]`. Prints each mismatch as a diff
# and exits 1; exits 0 when every snippet matches (and at least one was checked).
set -euo pipefail
docs=${1:?usage: check-doc-snippets.sh DOCS_DIR EXAMPLES_DIR}
examples=${2:?usage: check-doc-snippets.sh DOCS_DIR EXAMPLES_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# region FILE NAME: the marked region, dedented.
region() {
    awk -v tag="//! [$2]" -v tag2="// [$2]" -v tag3="# [$2]" '
        { line = $0; sub(/^[ \t]+/, "", line); sub(/[ \t]+$/, "", line) }
        line == tag || line == tag2 || line == tag3 { inside = !inside; found++; next }
        inside { lines[n++] = $0 }
        END {
            if (found != 2) exit 3
            min = -1
            for (i = 0; i < n; i++) {
                if (lines[i] ~ /^[ \t]*$/) continue
                match(lines[i], /^ */)
                if (min < 0 || RLENGTH < min) min = RLENGTH
            }
            for (i = 0; i < n; i++) print (lines[i] ~ /^[ \t]*$/ ? "" : substr(lines[i], min + 1))
        }' "$1"
}

checked=0
failed=0
for doc in "$docs"/*.md; do
    # "file|name|line" for each marker in this document
    while IFS='|' read -r file name lineno; do
        [[ -n "$file" ]] || continue
        checked=$((checked + 1))
        where="$(basename "$doc"):$lineno ($file [$name])"
        if [[ ! -f "$examples/$file" ]]; then
            echo "MISSING FILE  $where"; failed=1; continue
        fi
        if ! region "$examples/$file" "$name" > "$tmp/expected"; then
            echo "MISSING REGION  $where: no pair of '//! [$name]' (or '# [$name]') lines"; failed=1; continue
        fi
        # The fenced block right after the marker.
        awk -v start="$lineno" '
            NR <= start { next }
            !open && /^```/ { open = 1; next }
            open && /^```/ { exit }
            open { print }
            !open && NF { exit 3 }' "$doc" > "$tmp/actual" || { echo "NO CODE BLOCK  $where"; failed=1; continue; }
        if ! diff -u "$tmp/expected" "$tmp/actual" > "$tmp/diff"; then
            echo "MISMATCH  $where (--- example, +++ doc)"; sed -n '3,$p' "$tmp/diff"; failed=1
        fi
    done < <(awk '
        match($0, /<!-- snippet: [^ ]+ \[[^]]+\] -->/) {
            s = substr($0, RSTART + 14, RLENGTH - 18)   # "<file> [<name>]"
            split(s, a, " ")
            name = substr(s, length(a[1]) + 3); sub(/\]$/, "", name)
            print a[1] "|" name "|" NR
        }' "$doc")
done

if [[ $checked -eq 0 ]]; then
    echo "no snippet markers found in $docs"; exit 1
fi
if [[ $failed -ne 0 ]]; then
    echo "doc snippets: FAILED (copy the example's region into the doc, or fix the marker)"; exit 1
fi
echo "doc snippets: $checked checked, all identical to the examples"
