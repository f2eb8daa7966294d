#!/bin/sh
# tests/proto/notify.sh — the daemons tell a service manager when they
# serve (sd_notify, lib/notify.h), and log where a service's logs go.
#
# tests/proto/notifyrecv plays the manager's end of NOTIFY_SOCKET. Checked:
# - xmstored: READY=1 (with MAINPID= its pid, STATUS=) only once its socket
#   answers and its journal's tree is loaded; STOPPING=1 on SIGTERM;
#   detached (no --foreground), MAINPID= is the pid in its pid file;
# - xmbackd: READY=1 once connected and watching; a STATUS= line when the
#   store goes and when it is back; no READY=1 at all when there is no store
#   (it exits 1);
# - logs: with stderr on journald's stream (JOURNAL_STREAM) each line is
#   "<priority>message"; detached without --log, the daemon logs to syslog
#   (a /dev/log of this test's own, in a private mount namespace).
# tests/proto/units.sh runs the same protocol under a real systemd.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"

RECV=$TOP/$B/tests/proto/notifyrecv
XMSTORED=$TOP/$B/xmstored/xmstored
BACKD=$TOP/$B/xmbackd/xmbackd
W=$(mktemp -d "${TMPDIR:-/tmp}/xm-notify.XXXXXX") || exit 1
pids=
cleanup() {
	for f in "$W"/*.pid "$W"/*/*.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
for p in "$RECV" "$XMSTORED" "$BACKD"; do
	[ -x "$p" ] || { t_fail built "no $p (make SANITIZE=... programs testprogs)"; t_summary; exit 1; }
done
SOCK=$W/xs/socket
export XENSTORED_PATH=$SOCK XM_RUNDIR=$W/run
mkdir -p "$W/xs" "$W/run"

# recv_start UNTIL [CONNECT]: the manager's end, in the background ($rpid)
recv_start() {
	"$RECV" "$W/notify" 15000 "$@" > "$W/recv.out" 2>&1 & rpid=$!
	pids="$pids $rpid"
	i=0
	while [ ! -S "$W/notify" ] && [ $i -lt 100 ]; do sleep 0.02; i=$((i + 1)); done
}
recv_wait() { wait "$rpid"; }
field() { sed -n "s/^$1=//p" "$W/recv.out" | tail -1; }
store_start() { # store_start [ARGS]: xmstored in the foreground, told to notify
	NOTIFY_SOCKET=$W/notify "$XMSTORED" --foreground --socket "$SOCK" \
		--pid-file "$W/xs/xmstored.pid" --log "$W/xs/log" "$@" 2>>"$W/xs/stderr" &
	spid=$!
	pids="$pids $spid"
}

# ---- xmstored: ready once it serves its tree ----
recv_start READY=1 "$SOCK"
store_start
if recv_wait; then
	grep -q "^connect ok" "$W/recv.out" && t_ok "xmstored: READY=1, and its socket answers at that instant" ||
		t_fail "xmstored: socket at READY" "$(cat "$W/recv.out")"
	[ "$(field MAINPID)" = "$spid" ] && t_ok "xmstored: MAINPID=$spid, its own" ||
		t_fail "xmstored: MAINPID" "got '$(field MAINPID)', want $spid"
	[ "$(field STATUS)" = "serving $SOCK" ] && t_ok "xmstored: STATUS=$(field STATUS)" ||
		t_fail "xmstored: STATUS" "$(cat "$W/recv.out")"
else
	t_fail "xmstored: READY=1" "$(cat "$W/recv.out"; tail -3 "$W/xs/stderr")"
fi
# a tree of some size, then a restart: ready means the tree is back
for i in $(seq 1 200); do echo "/n/$i v$i"; done | tr '\n' ' ' | xargs xenstore-write 2>"$W/err" ||
	t_fail "fill the tree" "$(cat "$W/err")"
recv_start STOPPING=1
kill "$spid"
recv_wait && t_ok "xmstored: STOPPING=1 on SIGTERM" || t_fail "xmstored: STOPPING=1" "$(cat "$W/recv.out")"
wait "$spid"
recv_start READY=1 "$SOCK"
store_start
if recv_wait && [ "$(xenstore-read /n/200 2>&1)" = v200 ]; then
	t_ok "xmstored restarted: READY=1 with its journal's tree loaded (/n/200 reads v200 at once)"
else
	t_fail "xmstored restarted: ready with its tree" "$(cat "$W/recv.out"; xenstore-read /n/200 2>&1)"
fi

# ---- xmbackd: ready once watching; STATUS when the store goes and comes ----
recv_start READY=1
NOTIFY_SOCKET=$W/notify "$BACKD" --foreground --log "$W/backd.log" 2>>"$W/backd.stderr" &
bpid=$!; pids="$pids $bpid"
if recv_wait; then
	[ "$(field MAINPID)" = "$bpid" ] && ! flock -n "$XM_RUNDIR/xmbackd.pid" true &&
		t_ok "xmbackd: READY=1 (MAINPID=$bpid, its pid file locked): $(field STATUS)" ||
		t_fail "xmbackd: at READY" "MAINPID '$(field MAINPID)' want $bpid; pid file $(cat "$XM_RUNDIR/xmbackd.pid" 2>&1)"
else
	t_fail "xmbackd: READY=1" "$(cat "$W/recv.out"; tail -3 "$W/backd.stderr")"
fi
recv_start "~STATUS=XenStore lost"
kill -9 "$spid"; wait "$spid" 2>/dev/null
recv_wait && t_ok "xmbackd: STATUS=$(field STATUS) when the store dies" ||
	t_fail "xmbackd: STATUS on a lost store" "$(cat "$W/recv.out")"
recv_start "~STATUS=watching"
NOTIFY_SOCKET= "$XMSTORED" --foreground --socket "$SOCK" --pid-file "$W/xs/xmstored.pid" \
	--log "$W/xs/log" 2>>"$W/xs/stderr" &
spid=$!; pids="$pids $spid"
recv_wait && t_ok "xmbackd: STATUS=$(field STATUS) once the store is back" ||
	t_fail "xmbackd: STATUS once the store is back" "$(cat "$W/recv.out")"
recv_start STOPPING=1
kill "$bpid"
recv_wait && wait "$bpid" && t_ok "xmbackd: STOPPING=1 on SIGTERM, exit 0" ||
	t_fail "xmbackd: STOPPING=1" "$(cat "$W/recv.out")"
kill "$spid"; wait "$spid"

# no store: xmbackd fails, never ready
"$RECV" "$W/notify" 1500 > "$W/recv.out" 2>&1 & rpid=$!; pids="$pids $rpid"
sleep 0.1
NOTIFY_SOCKET=$W/notify "$BACKD" --foreground --log "$W/backd.log" 2>"$W/err"; rc=$?
if [ $rc -eq 1 ] && ! recv_wait && ! grep -q "^READY=1" "$W/recv.out"; then
	t_ok "xmbackd without a store: exit 1 ($(head -1 "$W/err")), never READY=1"
else
	t_fail "xmbackd without a store" "rc=$rc $(cat "$W/recv.out")"
fi

# ---- logs: journald's stream, and syslog when detached ----
"$XMSTORED" --foreground --socket "$SOCK" --pid-file "$W/xs/xmstored.pid" 2>"$W/journal.err" &
spid=$!
sleep 0.3 # (not journald's stream: plain time-stamped lines)
kill "$spid"; wait "$spid"
: > "$W/jstream"
JOURNAL_STREAM=$(stat -c '%d:%i' "$W/jstream") "$XMSTORED" --foreground --socket "$SOCK" \
	--pid-file "$W/xs/xmstored.pid" 2>>"$W/jstream" &
spid=$!
i=0
while ! grep -q "listening" "$W/jstream" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
kill "$spid"; wait "$spid"
grep -q '^<6>listening on ' "$W/jstream" && grep -q '^20[0-9-]*T.*xmstored\[info\]: listening on ' "$W/journal.err" &&
	t_ok "logs on journald's stream: '$(grep listening "$W/jstream" | cut -c1-40)...' (elsewhere time-stamped)" ||
	t_fail "logs on journald's stream" "$(head -3 "$W/jstream")"

# detached, no --log: syslog, through this test's own /dev/log
cat > "$W/ns.sh" <<EOF
mount --make-rprivate / 2>/dev/null
mkdir -p "$W/olddev" && mount --bind /dev "$W/olddev" && mount -t tmpfs none /dev || exit 90
for n in null zero urandom random; do : > /dev/\$n; mount --bind "$W/olddev/\$n" /dev/\$n; done
"$RECV" /dev/log 10000 "~listening on" > "$W/syslog.out" 2>&1 & r=\$!
i=0; while [ ! -S /dev/log ] && [ \$i -lt 100 ]; do sleep 0.02; i=\$((i + 1)); done
NOTIFY_SOCKET=$W/notify "$XMSTORED" --socket "$SOCK" --pid-file "$W/xs/xmstored.pid" 2>"$W/detached.err"
echo "launcher \$?" > "$W/detached.rc"
wait \$r
EOF
recv_start READY=1 "$SOCK"
if unshare -m sh "$W/ns.sh"; then
	recv_wait
	dpid=$(cat "$W/xs/xmstored.pid" 2>/dev/null)
	[ -n "$dpid" ] && [ "$(field MAINPID)" = "$dpid" ] &&
		t_ok "detached xmstored: READY=1 with MAINPID=$dpid, the pid in its pid file ($(cat "$W/detached.rc"))" ||
		t_fail "detached xmstored: MAINPID" "'$(field MAINPID)' vs pid file '$dpid'"
	grep -q "xmstored\[$dpid\]: listening on $SOCK" "$W/syslog.out" &&
		t_ok "detached without --log: to syslog ($(grep -o '<[0-9]*>' "$W/syslog.out" | head -1) ... xmstored[$dpid]: listening on ...)" ||
		t_fail "detached xmstored's syslog" "$(cat "$W/syslog.out" "$W/detached.err")"
	[ -n "$dpid" ] && kill "$dpid"
	i=0; while [ -n "$dpid" ] && kill -0 "$dpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
else
	t_fail "detached xmstored in a private mount namespace" "unshare -m failed (rc $?)"
	kill "$rpid" 2>/dev/null
fi

if grep -l "Sanitizer\|runtime error" "$W"/*.err "$W"/*/stderr "$W"/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs"
else
	t_ok "no sanitizer reports"
fi
t_summary
