# tests/lib.sh — shared helpers for the shell test tiers. Source it; needs $B
# (the build dir, e.g. build/asan) set by the caller.
#
#   xs_start xm|cx|ox DIR   start a XenStore daemon with its socket under DIR;
#                           sets XS_SOCK, XS_PID and exports XENSTORED_PATH
#                           (xm = our xmstored; cx, ox = Xen's own daemons, see
#                           tests/refxs/refxs.sh)
#   xs_stop                 stop the daemon started last (SIGTERM, waits)
#   t_ok NAME / t_fail NAME WHY / t_check NAME CMD... / t_summary
#
# Every test script ends with t_summary, which prints "N passed, M failed" and
# returns non-zero when anything failed.

TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/refxs/refxs.sh"
T_PASS=0
T_FAIL=0

t_ok() { T_PASS=$((T_PASS + 1)); echo "ok   $1"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: $2"; }
t_check() {
	name=$1; shift
	if "$@" >/dev/null 2>&1; then t_ok "$name"; else t_fail "$name" "command failed: $*"; fi
}
t_summary() {
	echo "$T_PASS passed, $T_FAIL failed"
	[ "$T_FAIL" -eq 0 ]
}

xs_wait_socket() {
	i=0
	while [ ! -S "$1" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ -S "$1" ]
}

xs_start() {
	kind=$1; dir=$2
	mkdir -p "$dir"
	case $kind in
	xm)
		rm -f "$dir/socket" "$dir/socket_ro"
		"$TOP/$B/xmstored/xmstored" --foreground --socket "$dir/socket" \
			--pid-file "$dir/xmstored.pid" --log "$dir/xmstored.log" \
			${XMSTORED_ARGS:-} 2>>"$dir/xmstored.stderr" &
		XS_PID=$!
		XS_SOCK=$dir/socket
		xs_wait_socket "$XS_SOCK" || { echo "xmstored did not start" >&2; cat "$dir/xmstored.stderr" >&2; return 1; }
		;;
	cx|ox)
		refxs_start "$kind" "$dir" || return 1
		;;
	*) echo "xs_start: unknown kind $kind" >&2; return 1 ;;
	esac
	XENSTORED_PATH=$XS_SOCK
	export XENSTORED_PATH
}

xs_stop() {
	[ -n "${XS_PID:-}" ] || return 0
	kill "$XS_PID" 2>/dev/null
	i=0
	while kill -0 "$XS_PID" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	kill -9 "$XS_PID" 2>/dev/null
	wait "$XS_PID" 2>/dev/null
	XS_PID=
	return 0
}
