#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# check-error-texts.sh DOCS_DIR SOURCE_DIR...
#
# The guides quote error texts verbatim (docs/troubleshooting.md), so that a reader can search
# for what the SDK or the CLI printed. This keeps those quotes true. Every non-empty line of a
# fenced code block that follows a line
#     <!-- error-text -->
# in DOCS_DIR/*.md is one quoted text (leading and trailing blanks ignored, so blocks may be
# indented in a list). It must occur inside one C++ string literal of a .cpp or .h
# file under the SOURCE_DIRs (adjacent literals are joined, as the compiler joins them; escapes
# such as \" and \n are decoded). A placeholder in angle brackets, e.g. <port>, stands for any
# non-empty text, such as the %1 of a QString::arg() or the %s of a printf format; everything
# else must match character for character. Each quote needs at least three literal characters.
#
# Prints each quote that is not found, with its file and line, and exits 1; exits 0 when every
# quote is found (and at least one was checked). Needs perl (perl-base, essential on Debian).
set -euo pipefail
docs=${1:?usage: check-error-texts.sh DOCS_DIR SOURCE_DIR...}
shift
[[ $# -ge 1 ]] || { echo "usage: check-error-texts.sh DOCS_DIR SOURCE_DIR..." >&2; exit 2; }
for dir in "$docs" "$@"; do
    [[ -d "$dir" ]] || { echo "check-error-texts: no such directory: $dir" >&2; exit 2; }
done

export KEYLOOP_ERROR_TEXT_SOURCES
KEYLOOP_ERROR_TEXT_SOURCES=$(find "$@" -type f \( -name '*.cpp' -o -name '*.h' \) -print | LC_ALL=C sort)

exec perl - "$docs" <<'PERL'
use strict;
use warnings;

# The string literals of one C++ source, adjacent ones joined: comments and whitespace between
# two literals keep them adjacent, anything else ends a run. Character literals are skipped so
# that a quote character inside one (u'"') does not start a string.
sub literals {
    my ($text) = @_;
    my (@out, $run);
    my $close = sub { push @out, $run if defined $run; undef $run; };
    pos($text) = 0;
    while (pos($text) < length($text)) {
        if ($text =~ /\G\s+/gc || $text =~ m{\G//[^\n]*}gc || $text =~ m{\G/\*.*?\*/}gcs) {
            next;
        } elsif ($text =~ /\G(?:u8|u|U|L)?R"([^()\\\s]{0,16})\((.*?)\)\1"/gcs) {
            $run = (defined $run ? $run : "") . $2;
        } elsif ($text =~ /\G(?:u8|u|U|L)?"((?:\\.|[^"\\\n])*)"/gc) {
            my $s = $1;
            my %esc = (n => "\n", t => "\t", r => "\r", q{"} => q{"}, q{'} => q{'}, "\\" => "\\", "?" => "?");
            $s =~ s/\\(.)/exists $esc{$1} ? $esc{$1} : "\\$1"/ge;
            $run = (defined $run ? $run : "") . $s;
        } elsif ($text =~ /\G(?:u8|u|U|L)?'(?:\\.|[^'\\\n])+'/gc) {
            $close->();
        } elsif ($text =~ /\G[A-Za-z_0-9]+/gc || $text =~ /\G./gcs) {
            $close->();
        }
    }
    $close->();
    return @out;
}

my @haystack;
for my $file (split /\n/, $ENV{KEYLOOP_ERROR_TEXT_SOURCES}) {
    open(my $fh, "<", $file) or die "check-error-texts: cannot read $file: $!\n";
    local $/;
    my $text = <$fh>;
    close $fh;
    push @haystack, literals($text);
}
die "check-error-texts: no C++ sources found\n" unless @haystack;

my ($checked, $failed) = (0, 0);
for my $doc (sort glob("$ARGV[0]/*.md")) {
    open(my $fh, "<", $doc) or die "check-error-texts: cannot read $doc: $!\n";
    my @lines = <$fh>;
    close $fh;
    (my $name = $doc) =~ s{.*/}{};
    for (my $i = 0; $i < @lines; ++$i) {
        next unless $lines[$i] =~ /^\s*<!-- error-text -->\s*$/;
        my $marker = $i + 1;
        my $j = $i + 1;
        ++$j while $j < @lines && $lines[$j] =~ /^\s*$/;
        if ($j >= @lines || $lines[$j] !~ /^\s*```/) {
            print "NO CODE BLOCK  $name:$marker\n";
            $failed = 1;
            next;
        }
        for (++$j; $j < @lines && $lines[$j] !~ /^\s*```/; ++$j) {
            (my $quote = $lines[$j]) =~ s/^\s+|\s+\z//g;
            next if $quote eq "";
            ++$checked;
            my @parts = split /(<[^<>]+>)/, $quote;
            my $literal = join "", grep { !/^<[^<>]+>$/ } @parts;
            if (length($literal) < 3) {
                print "TOO VAGUE  $name:" . ($j + 1) . ": $quote\n";
                $failed = 1;
                next;
            }
            my $pattern = join "", map { /^<[^<>]+>$/ ? "(?s:.+?)" : quotemeta($_) } @parts;
            my $re = qr/$pattern/;
            unless (grep { $_ =~ $re } @haystack) {
                print "NOT IN THE SOURCES  $name:" . ($j + 1) . ": $quote\n";
                $failed = 1;
            }
        }
        $i = $j;
    }
}
if ($checked == 0) {
    print "no <!-- error-text --> blocks found in $ARGV[0]\n";
    exit 1;
}
if ($failed) {
    print "error texts: FAILED (quote the text exactly as the source has it; <name> for each argument)\n";
    exit 1;
}
print "error texts: $checked checked, all found in the sources\n";
PERL
