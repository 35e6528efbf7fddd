#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check-man-page.sh KEYLOOP MAN_PAGE [MAN_PAGE_GZ]
#
# Keeps keyloop(1) true to the program. KEYLOOP is the built `keyloop`, MAN_PAGE the configured
# page (build tree: cli/keyloop.1), MAN_PAGE_GZ the installed form (cli/keyloop.1.gz). Fails when
#   - `man --warnings` (as lintian runs it, at 80 and 120 columns) or `groff -man -ww` prints
#     anything, lexgrog finds no "keyloop - ..." whatis entry, or an option is written with a
#     plain "-" instead of "\-";
#   - the .TH version is not what `keyloop --version` prints;
#   - a command of `keyloop --help` has no ".SS <command>" under COMMANDS (or one is left over),
#     or its usage line ("keyloop call [options] URL") is not there;
#   - an option that a command's --help defines is not a .TP item of that command's subsection
#     (or of CLIENT OPTIONS, when the subsection refers to it), a global option is not one of
#     GLOBAL OPTIONS, or such an item names an option the program does not have;
#   - any long option (--foo) printed in any --help is missing from the page;
#   - a KEYLOOP_* variable printed in any --help is not an item of ENVIRONMENT, or vice versa;
#   - the exit codes of `keyloop --help` and the items of EXIT STATUS differ;
#   - MAN_PAGE_GZ is not MAN_PAGE compressed reproducibly (no file name, no time stamp).
# Needs man-db (man, lexgrog) and groff-base (groff).
# shellcheck disable=SC2016 # the single-quoted '$1 == ...' are awk conditions, not shell
set -euo pipefail

usage() { echo "usage: check-man-page.sh KEYLOOP MAN_PAGE [MAN_PAGE_GZ]" >&2; exit 2; }
[[ $# -ge 2 && $# -le 3 ]] || usage
keyloop=$1
page=$2
gz=${3:-}

failures=0
fail() { echo "check-man-page: $*" >&2; failures=$((failures + 1)); }
die() { echo "check-man-page: $*" >&2; exit 1; }

[[ -x "$keyloop" ]] || die "$keyloop is not an executable"
[[ -r "$page" ]] || die "cannot read $page"
for tool in man lexgrog groff gzip awk; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is missing (install man-db and groff-base)"
done
page=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")

tmp=$(mktemp -d)
trap '[[ -n "${KEEP:-}" ]] || rm -rf "$tmp"' EXIT

# --- (a) the page renders without a single warning, as lintian checks it --------------------------
for width in 80 120; do
    # lintian: only PATH and TMPDIR kept, LC_ALL=C.UTF-8, MANROFFSEQ='', run from the page's dir.
    if ! warnings=$(cd "$(dirname "$page")" && env -i PATH="$PATH" TMPDIR="$tmp" LC_ALL=C.UTF-8 MANROFFSEQ='' \
            MANWIDTH=$width man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null) || [[ -n "$warnings" ]]; then
        fail "man --warnings (MANWIDTH=$width) complains about $page:"
        printf '%s\n' "$warnings" >&2
    fi
done
if ! warnings=$(LC_ALL=C.UTF-8 groff -man -ww -z "$page" 2>&1) || [[ -n "$warnings" ]]; then
    fail "groff -man -ww complains about $page:"
    printf '%s\n' "$warnings" >&2
fi
if ! whatis=$(env -i PATH="$PATH" LC_ALL=C.UTF-8 lexgrog "$page" 2>&1); then
    fail "lexgrog finds no whatis entry (lintian: bad-whatis-entry): $whatis"
elif ! grep -q ': "keyloop - .' <<<"$whatis"; then
    fail "the whatis entry is not \"keyloop - ...\": $whatis"
fi
# Option dashes must be \- (ASCII hyphen-minus when rendered), in every word that starts with one.
if bad=$(grep -nE '(^|[[:space:]([{|"])--?[A-Za-z]|\\-[A-Za-z0-9]+(\\-[A-Za-z0-9]+)*-[A-Za-z0-9]' "$page" \
        | grep -vE '^[0-9]+:\.\\"'); then
    fail "option dashes written as a plain - (write \\-):"
    printf '%s\n' "$bad" >&2
fi
if bad=$(grep -nF "\\'" "$page" | grep -vE '^[0-9]+:\.[[:space:]]*ds[[:space:]]'); then
    fail "acute accents (\\') in the page (lintian: acute-accent-in-manual-page):"
    printf '%s\n' "$bad" >&2
fi

# --- the page as records: kind <TAB> section <TAB> subsection <TAB> text --------------------------
# kind: sh, ss (headings), tag (the first line after .TP), text (the rest). Font escapes dropped,
# \- read as -, arguments of the font macros joined as groff joins them.
awk '
function plain(s) {
    gsub(/\\f(\[[^]]*\]|\(..|.)/, "", s)
    gsub(/\\-/, "-", s)
    gsub(/\\[&%:]/, "", s)
    gsub(/\\\(aq/, "\047", s); gsub(/\\\(dq/, "\"", s); gsub(/\\\(ti/, "~", s); gsub(/\\\(ha/, "^", s)
    gsub(/\\\(bu/, "*", s); gsub(/\\\(sc/, "S", s); gsub(/\\ /, " ", s)
    gsub(/\\\(rs|\\e/, "\\", s)
    return s
}
# The arguments of a request line, as groff splits them (double quotes group).
function splitargs(line, a,    n, i, c, cur, inq, have) {
    n = 0; cur = ""; inq = 0; have = 0
    for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (c == "\\") { cur = cur substr(line, i, 2); i++; have = 1; continue }
        if (c == "\"") {
            if (inq && substr(line, i + 1, 1) == "\"") { cur = cur "\""; i++; continue }
            inq = !inq; have = 1; continue
        }
        if (!inq && (c == " " || c == "\t")) {
            if (have) { a[++n] = cur; cur = ""; have = 0 }
            continue
        }
        cur = cur c; have = 1
    }
    if (have) a[++n] = cur
    return n
}
function emit(text) {
    if (text == "") return
    print (pendingTag ? "tag" : "text") "\t" sh "\t" ss "\t" plain(text)
    pendingTag = 0
}
/^\.\\"/ || /^\\"/ { next }
/^[.\047]/ {
    line = substr($0, 2)
    sub(/^[ \t]+/, "", line)
    macro = line; sub(/[ \t].*$/, "", macro)
    rest = substr(line, length(macro) + 1)
    n = splitargs(rest, args)
    joined = ""
    sep = (macro ~ /^(BR|RB|IR|RI|BI|IB)$/) ? "" : " "
    for (i = 1; i <= n; i++) joined = joined (i > 1 ? sep : "") args[i]
    if (macro == "SH") { sh = plain(joined); ss = ""; pendingTag = 0; print "sh\t" sh "\t\t" sh; next }
    if (macro == "SS") { ss = plain(joined); pendingTag = 0; print "ss\t" sh "\t" ss "\t" ss; next }
    if (macro == "TP") { pendingTag = 1; next }
    if (macro == "TH") { for (i = 1; i <= n; i++) print "th\t\t" i "\t" plain(args[i]); next }
    if (macro ~ /^(B|I|SM|SB|BR|RB|IR|RI|BI|IB)$/) { emit(joined); next }
    next
}
{ emit($0) }
' "$page" >"$tmp/records"

# Text of the records that match an awk condition on kind ($1), section ($2), subsection ($3).
records() { awk -F '\t' "$1 { print \$4 }" "$tmp/records"; }
# Option words (-X, --long) in text on stdin, one a line.
option_words() { grep -oE '(^|[^A-Za-z0-9-])(--[A-Za-z0-9][A-Za-z0-9-]*|-[A-Za-z])([^A-Za-z0-9-]|$)' \
    | sed -E 's/^[^-]*//; s/[^A-Za-z0-9-]$//' | sort -u || true; }
# The options an option list of a --help defines: the two-space-indented lines (continuations of
# descriptions are indented further), up to the description.
defined_options() {
    awk -v start="$1" '$0 == start { on = 1; next } on && /^$/ { exit } on && /^  -/ { print }' \
        | sed -E 's/^  //; s/  .*$//' | option_words
}
contains_word() { grep -qE -- "(^|[^A-Za-z0-9-])$1([^A-Za-z0-9-]|$)"; }
# same_set PROGRAM_LIST PAGE_LIST MISSING_FMT EXTRA_FMT: both sorted; one failure per word in only
# one of them (the formats take the word as %s).
same_set() {
    local word
    while read -r word; do
        # shellcheck disable=SC2059
        fail "$(printf "$3" "$word")"
    done < <(comm -23 "$1" "$2")
    while read -r word; do
        # shellcheck disable=SC2059
        fail "$(printf "$4" "$word")"
    done < <(comm -13 "$1" "$2")
}

records '1' >"$tmp/all-text"

# --- (c) the version ---------------------------------------------------------------------------
version=$("$keyloop" --version) || die "keyloop --version failed"
th_title=$(records '$1 == "th" && $3 == 1')
th_section=$(records '$1 == "th" && $3 == 2')
th_source=$(records '$1 == "th" && $3 == 4')
[[ "$th_title" == KEYLOOP && "$th_section" == 1 ]] || fail ".TH must name KEYLOOP, section 1: \"$th_title\" \"$th_section\""
# "keyloop 1.2.3" against the source "Keyloop 1.2.3": the same version number.
[[ -n "$th_source" && "${th_source##* }" == "${version##* }" ]] \
    || fail ".TH says \"$th_source\", keyloop --version says \"$version\": not the same version"

# --- (b) commands, options, environment, exit codes ----------------------------------------------
main_help=$("$keyloop" --help) || die "keyloop --help failed"
printf '%s\n' "$main_help" >"$tmp/help-main"
mapfile -t commands < <(awk '$0 == "Commands:" { on = 1; next } on && /^$/ { exit } on { print $1 }' "$tmp/help-main")
[[ ${#commands[@]} -gt 0 ]] || die "no commands in keyloop --help"
defined_options 'Global options:' <"$tmp/help-main" >"$tmp/global-options"
[[ -s "$tmp/global-options" ]] || die "no global options in keyloop --help"

# Commands: one subsection each, and nothing else.
records '$1 == "ss" && $2 == "COMMANDS"' | sort >"$tmp/man-commands"
printf '%s\n' "${commands[@]}" | sort >"$tmp/help-commands"
while read -r extra; do
    fail "the page documents a command \"$extra\" that keyloop --help does not list"
done < <(comm -23 "$tmp/man-commands" "$tmp/help-commands")

# Global options: items of GLOBAL OPTIONS, both ways.
records '$1 == "tag" && $2 == "GLOBAL OPTIONS"' | option_words >"$tmp/man-global"
same_set "$tmp/global-options" "$tmp/man-global" "global option %s is not an item of GLOBAL OPTIONS" \
    "GLOBAL OPTIONS documents %s, which keyloop --help does not list"

records '$1 == "tag" && $2 == "CLIENT OPTIONS"' | option_words >"$tmp/man-client"
: >"$tmp/client-users"
cp "$tmp/help-main" "$tmp/help-all"
for cmd in "${commands[@]}"; do
    if ! grep -qx "$cmd" "$tmp/man-commands"; then
        fail "command \"$cmd\" has no \".SS $cmd\" under COMMANDS"
        continue
    fi
    help=$("$keyloop" "$cmd" --help) || { fail "keyloop $cmd --help failed"; continue; }
    printf '%s\n' "$help" >"$tmp/help-$cmd"
    printf '%s\n' "$help" >>"$tmp/help-all"
    in_section="\$2 == \"COMMANDS\" && \$3 == \"$cmd\""
    records "$in_section" | tr '\n' ' ' >"$tmp/man-text-$cmd"
    records "\$1 == \"tag\" && $in_section" | option_words >"$tmp/man-opts-$cmd"

    usage_line=$(sed -n 's/^Usage: //p' "$tmp/help-$cmd" | head -n 1)
    grep -qF -- "$usage_line" "$tmp/man-text-$cmd" \
        || fail "the $cmd subsection does not show its usage \"$usage_line\""

    refers_client=0
    if grep -qF 'CLIENT OPTIONS' "$tmp/man-text-$cmd"; then
        refers_client=1
        echo "$cmd" >>"$tmp/client-users"
    fi
    defined_options 'Options:' <"$tmp/help-$cmd" >"$tmp/help-opts-$cmd"
    [[ -s "$tmp/help-opts-$cmd" ]] || fail "keyloop $cmd --help defines no options (changed format?)"
    while read -r opt; do
        if grep -qx -- "$opt" "$tmp/global-options"; then
            continue # documented once, in GLOBAL OPTIONS
        fi
        if grep -qx -- "$opt" "$tmp/man-opts-$cmd"; then
            continue
        fi
        if [[ $refers_client -eq 1 ]] && grep -qx -- "$opt" "$tmp/man-client"; then
            continue
        fi
        fail "option $opt of \"keyloop $cmd\" is not an item of its subsection$([[ $refers_client -eq 1 ]] && echo ' or of CLIENT OPTIONS')"
    done <"$tmp/help-opts-$cmd"
    while read -r opt; do
        grep -qx -- "$opt" "$tmp/help-opts-$cmd" \
            || fail "the $cmd subsection documents $opt, which keyloop $cmd --help does not define"
    done <"$tmp/man-opts-$cmd"
done
while read -r opt; do
    used=0
    while read -r cmd; do
        grep -qx -- "$opt" "$tmp/help-opts-$cmd" && used=1
    done <"$tmp/client-users"
    [[ $used -eq 1 ]] || fail "CLIENT OPTIONS documents $opt, which none of the commands that refer to it defines"
done <"$tmp/man-client"

# Every long option printed anywhere in the help, descriptions and notes included.
while read -r opt; do
    contains_word "$opt" <"$tmp/all-text" || fail "$opt (printed by keyloop's help) is missing from the page"
done < <(grep -oE -- '--[A-Za-z0-9][A-Za-z0-9-]*' "$tmp/help-all" | sort -u)

# Environment variables: KEYLOOP_* in the help <-> items of ENVIRONMENT.
grep -oE 'KEYLOOP_[A-Z0-9_]*[A-Z0-9]' "$tmp/help-all" | sort -u >"$tmp/help-env"
records '$1 == "tag" && $2 == "ENVIRONMENT"' | grep -oE 'KEYLOOP_[A-Z0-9_]*[A-Z0-9]' | sort -u >"$tmp/man-env" || true
same_set "$tmp/help-env" "$tmp/man-env" "environment variable %s (printed by keyloop's help) is not an item of ENVIRONMENT" \
    "ENVIRONMENT documents %s, which keyloop's help never mentions"

# Exit codes: the table of keyloop --help <-> the items of EXIT STATUS.
awk '$0 == "Exit codes:" { on = 1; next } on && /^$/ { exit } on { print $1 }' "$tmp/help-main" | sort >"$tmp/help-exit"
[[ -s "$tmp/help-exit" ]] || fail "no exit codes in keyloop --help"
records '$1 == "tag" && $2 == "EXIT STATUS"' | awk '{ print $1 }' | sort >"$tmp/man-exit"
if ! diff -u --label 'keyloop --help' --label 'EXIT STATUS' "$tmp/help-exit" "$tmp/man-exit" >"$tmp/exit-diff"; then
    fail "the exit codes differ:"
    cat "$tmp/exit-diff" >&2
fi

# Every section the page promises.
for section in NAME SYNOPSIS DESCRIPTION COMMANDS "CLIENT OPTIONS" "GLOBAL OPTIONS" ENVIRONMENT FILES \
        "EXIT STATUS" EXAMPLES SECURITY "SEE ALSO"; do
    records '$1 == "sh"' | grep -qx "$section" || fail "no section $section"
done
for cmd in "${commands[@]}"; do
    records '$2 == "SYNOPSIS"' | contains_word "keyloop $cmd" || fail "SYNOPSIS does not show \"keyloop $cmd\""
done

# --- the installed, compressed page --------------------------------------------------------------
if [[ -n "$gz" ]]; then
    if [[ ! -r "$gz" ]]; then
        fail "cannot read $gz"
    else
        gzip -dc "$gz" | cmp -s - "$page" || fail "$gz is not $page compressed"
        # RFC 1952 header: FLG (byte 3) without FNAME, MTIME (bytes 4-7) zero: gzip -n.
        header=$(od -An -tx1 -N8 "$gz" | tr -d ' \n')
        [[ "${header:0:4}" == 1f8b && $((16#${header:6:2} & 8)) -eq 0 && "${header:8:8}" == 00000000 ]] \
            || fail "$gz carries a file name or a time stamp (not reproducible; use gzip -n): header $header"
    fi
fi

if [[ $failures -gt 0 ]]; then
    echo "check-man-page: $failures problem(s) in $page" >&2
    exit 1
fi
echo "check-man-page: $page matches $("$keyloop" --version) (${#commands[@]} commands)"
