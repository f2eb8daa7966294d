#!/bin/sh
# tests/proto/daemon-cli.sh — xmstored's command line: --help, a bad option or
# value, and --trace-file (one line per message in and out, as cxenstored's
# trace), checked with Debian's stock xenstore-write/-read.
#
#   B=build/asan TOP=/work/main sh tests/proto/daemon-cli.sh
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"

XSD=$TOP/$B/xmstored/xmstored
W=$(mktemp -d "${TMPDIR:-/tmp}/xm-dcli.XXXXXX") || exit 1
cleanup() {
	xs_stop
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

"$XSD" --help >"$W/out" 2>&1; rc=$?
if [ $rc -eq 0 ] && grep -q -- '--trace-file FILE' "$W/out"; then t_ok "--help lists --trace-file"
else t_fail "--help" "rc=$rc: $(head -3 "$W/out")"; fi

"$XSD" --no-such-option >"$W/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && grep -q '^Usage: xmstored' "$W/out"; then t_ok "unknown option: usage, exit 2"
else t_fail "unknown option" "rc=$rc: $(head -3 "$W/out")"; fi

"$XSD" --entry-nb 0 >"$W/out" 2>&1; rc=$?
if [ $rc -eq 2 ] && [ "$(cat "$W/out")" = "xmstored: invalid value for --entry-nb: '0'" ]; then
	t_ok "bad --entry-nb: one line, exit 2"
else t_fail "bad --entry-nb" "rc=$rc: $(cat "$W/out")"; fi

# a trace file that cannot be opened: one error, exit 1, no socket left
"$XSD" --foreground --socket "$W/s1" --trace-file "$W/no/such/dir/t" >"$W/out" 2>&1; rc=$?
if [ $rc -eq 1 ] && grep -q "cannot open trace file $W/no/such/dir/t" "$W/out" && [ ! -e "$W/s1" ]; then
	t_ok "unwritable --trace-file: error, exit 1"
else t_fail "unwritable --trace-file" "rc=$rc: $(cat "$W/out")"; fi

XMSTORED_ARGS="--trace-file $W/trace"
export XMSTORED_ARGS
if ! xs_start xm "$W/xs"; then
	t_fail xmstored_start "xmstored did not start"
	t_summary
	exit
fi
xenstore-write /t/a 'hello world' && xenstore-read /t/a >"$W/out"
t_check "trace: the client works as usual" [ "$(cat "$W/out")" = "hello world" ]
# one line per message, with its time, direction, connection, type, ids and
# payload (NULs as spaces)
ts='[0-9-]*T[0-9:.]*Z'
t_check "trace: WRITE request" grep -q "^$ts IN  d0/fd[0-9]* WRITE [0-9]* 0 /t/a hello world\$" "$W/trace"
t_check "trace: WRITE reply" grep -q "^$ts OUT d0/fd[0-9]* WRITE [0-9]* 0 OK\$" "$W/trace"
t_check "trace: READ reply" grep -q "^$ts OUT d0/fd[0-9]* READ [0-9]* 0 hello world\$" "$W/trace"
t_check "trace: an error reply" sh -c "xenstore-read /t/none; grep -q '^$ts OUT d0/fd[0-9]* ERROR [0-9]* 0 ENOENT\$' '$W/trace'"
t_check "trace: connections opened and closed" sh -c "grep -q '^$ts NEW d0/fd' '$W/trace' && grep -q '^$ts END d0/fd' '$W/trace'"
# a long payload is cut (200 characters and "...")
long=$(printf '%0300d' 0)
xenstore-write /t/long "$long"
t_check "trace: a long payload is cut" grep -q "^$ts IN  d0/fd[0-9]* WRITE [0-9]* 0 /t/long 0\{192\}\.\.\.\$" "$W/trace"
t_summary
