#!/bin/sh
# tests/proto/manpages.sh — every man page renders without a warning
# (groff -ww, as `man -l` would render it), and every option each program
# prints in --help and every environment variable it reads is in its page.
# The variables are read from the binary itself (the names it compares
# with getenv's argument are string literals in it), so a variable added
# in lib/ counts for every program that links it.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1

T=$(mktemp -d /tmp/xm-man.XXXXXX)
trap 'rm -rf "$T"' EXIT INT TERM

# page PROGRAM MANPAGE
page() {
	prog=$1 man=$2 name=${2##*/}
	if groff -ww -man -Tutf8 "$man" 2>"$T/warn" | col -bx > "$T/$name.txt" &&
		[ ! -s "$T/warn" ]; then
		t_ok "$name renders without warnings"
	else
		t_fail "$name renders without warnings" "$(head -3 "$T/warn")"
	fi
	[ -x "$prog" ] || { t_fail "$name: options" "$prog not built"; return; }
	opts=$("$prog" --help 2>&1 | grep -oE '(^|[][ ,|(])--?[a-zA-Z][a-zA-Z0-9-]*' |
		sed 's/^[][ ,|(]//' | sort -u)
	missing=
	for o in $opts; do
		grep -qe "$o\\b" "$T/$name.txt" || missing="$missing $o"
	done
	[ -z "$missing" ] && t_ok "$name: every option of --help ($(echo $opts | wc -w))" ||
		t_fail "$name: every option of --help" "not in the page:$missing"
	envs=$(strings "$prog" | grep -E '^(XM|XMBACKD|XMSTORED|XENSTORED)_[A-Z_]+$' | sort -u)
	missing=
	for e in $envs; do
		grep -qw "$e" "$T/$name.txt" || missing="$missing $e"
	done
	[ -z "$missing" ] && t_ok "$name: every environment variable ($(echo $envs | wc -w))" ||
		t_fail "$name: every environment variable" "not in the page:$missing"
}

page "$B/xm/xm" man/xm.1
page "$B/xmstored/xmstored" man/xmstored.8
page "$B/xmbackd/xmbackd" man/xmbackd.8
page "$B/xmfront/xmfront" man/xmfront.8
t_summary
