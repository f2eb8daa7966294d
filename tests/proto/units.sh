#!/bin/sh
# tests/proto/units.sh — systemd/xmstored.service.in and xmbackd.service.in
# run under a real systemd: a user manager (systemd --user) in a private
# mount namespace with a private /run, so /run/xenstored and /run/xm are the
# installed defaults and nothing of the host is touched. Checked:
# - systemd-analyze verify (system mode) accepts both units;
# - start xmbackd.service starts xmstored first and returns once both are
#   READY (Type=notify): the store answers right away, STATUS= is shown,
#   xmstored was active before xmbackd was exec'd;
# - kill -9 of either daemon: restarted (Restart=on-failure), ready again
#   within 5 s (time printed), xmstored with its tree (journal), xmbackd
#   holding its pid file's lock; a store restart does not restart xmbackd;
# - stop: both inactive, Result=success, processes gone;
# - an xmstored that cannot serve (the socket is another daemon's) ends
#   failed after StartLimitBurst, never active.
# Not checked here: the system manager itself (PID 1: WantedBy=
# multi-user.target, boot ordering, Conflicts=xenstored.service at boot),
# journald (no journal: the daemons' stderr is not checked), and whatever a
# user manager does differently from PID 1 with the hardening directives.
# Needs root, unshare -m and /lib/systemd/systemd; skips (exit 0) otherwise.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
export TOP B
. "$TOP/tests/lib.sh"

XMSTORED=$TOP/$B/xmstored/xmstored
BACKD=$TOP/$B/xmbackd/xmbackd
MANAGER=/lib/systemd/systemd

skip() { echo "skip: $*"; t_summary; exit 0; }

if [ "${XM_UNITS_INSIDE:-}" != 1 ]; then
	for p in "$XMSTORED" "$BACKD"; do
		[ -x "$p" ] || { t_fail built "no $p (make SANITIZE=... programs)"; t_summary; exit 1; }
	done
	[ "$(id -u)" = 0 ] || skip "units.sh needs root (a private mount namespace for systemd --user)"
	for c in unshare systemctl xenstore-write xenstore-read flock; do
		command -v $c >/dev/null 2>&1 || skip "no $c on this machine"
	done
	[ -x "$MANAGER" ] || skip "no $MANAGER on this machine"
	err=$(unshare -m true 2>&1) || skip "unshare -m fails here: $err"
	XM_UNITS_INSIDE=1 exec unshare -m sh "$0"
	skip "could not exec unshare -m sh $0"
fi

# ---- inside the private mount namespace ----
mount --make-rprivate / 2>/dev/null
mount -t tmpfs none /run || skip "cannot mount a private tmpfs on /run"
mkdir -p /run/systemd/system /run/systemd/user # systemd --user refuses without the first
export XDG_RUNTIME_DIR=/run
unset XENSTORED_PATH XM_RUNDIR NOTIFY_SOCKET
# The work dir is in the private /run: xmstored.service has PrivateTmp=yes
# and ProtectHome=yes, so a @SBINDIR@ under /tmp, /home or /root is not there
# for it (status 203/EXEC).
W=$(mktemp -d /run/xm-units.XXXXXX) || skip "mktemp in the private /run"
UNITS=/run/systemd/user
mpid= # the manager
pids= # every daemon pid seen
add_pid() { case " $pids " in *" $1 "*) ;; *) [ "${1:-0}" != 0 ] && pids="$pids $1" ;; esac; }
uctl() { timeout 20 systemctl --user "$@"; }
prop() { uctl show -p "$2" --value "$1.service" 2>/dev/null; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# ours PID: still one of the daemons we saw (not a pid reused since)
ours() {
	e=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
	[ "$e" = "$(readlink -f "$XMSTORED")" ] || [ "$e" = "$(readlink -f "$BACKD")" ]
}
teardown() {
	[ -n "$mpid" ] && kill -0 "$mpid" 2>/dev/null && {
		uctl stop xmbackd.service xmstored.service >/dev/null 2>&1
		kill "$mpid" 2>/dev/null
		i=0
		while kill -0 "$mpid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
		kill -9 "$mpid" 2>/dev/null
		wait "$mpid" 2>/dev/null
	}
	for p in $pids; do ours "$p" && kill -9 "$p" 2>/dev/null; done
	mpid='' pids=''
	rm -rf "$W"
}
trap teardown EXIT
trap 'exit 1' INT TERM HUP

# ---- the units, made as install.mk makes them, @SBINDIR@ = $W/sbin ----
mkdir -p "$W/sbin"
case $TOP in
/tmp/* | /var/tmp/* | /home/* | /root/*) # hidden from xmstored.service: copies
	echo "# $TOP is hidden by PrivateTmp/ProtectHome: copying the daemons to $W/sbin"
	cp "$XMSTORED" "$BACKD" "$W/sbin/" ;;
*) ln -s "$XMSTORED" "$BACKD" "$W/sbin/" ;;
esac
for u in xmstored xmbackd; do
	sed "s|@SBINDIR@|$W/sbin|g" "$TOP/systemd/$u.service.in" > "$W/$u.service"
done

# 1. systemd-analyze verify, system mode
if command -v systemd-analyze >/dev/null 2>&1; then
	if out=$(cd "$W" && systemd-analyze verify --man=no ./xmstored.service ./xmbackd.service 2>&1); then
		t_ok "systemd-analyze verify accepts xmstored.service and xmbackd.service${out:+ (said: $(echo "$out" | tr '\n' ' '))}"
	else
		t_fail "systemd-analyze verify" "$(echo "$out" | tr '\n' ' ')"
	fi
else
	echo "# no systemd-analyze: verify not run"
fi

# ---- the user manager ----
# a clean environment: the units' daemons inherit the manager's
env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root XDG_RUNTIME_DIR=/run \
	${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} ${UBSAN_OPTIONS:+UBSAN_OPTIONS=$UBSAN_OPTIONS} \
	"$MANAGER" --user > "$W/manager.log" 2>&1 &
mpid=$!
t0=$(now_ms)
state=
while [ $(($(now_ms) - t0)) -lt 10000 ] && kill -0 "$mpid" 2>/dev/null; do
	state=$(systemctl --user is-system-running 2>/dev/null)
	case $state in running | degraded) break ;; esac
	sleep 0.05
done
case $state in
running | degraded) echo "# systemd --user (pid $mpid) $state after $(($(now_ms) - t0)) ms" ;;
*) skip "systemd --user did not come up here (state '$state'): $(tail -3 "$W/manager.log" | tr '\n' ' ')" ;;
esac

cp "$W/xmstored.service" "$W/xmbackd.service" "$UNITS/"
uctl daemon-reload

# Hardening a user manager refuses (status 226/NAMESPACE and the like):
# drop only those lines, from this test's copy only. Tried on xmstored,
# which has them all.
dropped=
for _ in 1 2 3 4 5 6; do
	uctl start xmstored.service >/dev/null 2>&1 && break
	st=$(prop xmstored ExecMainStatus)
	case $st in # exec-time setup failures a directive can cause
	226) re='PrivateDevices|ProtectSystem|PrivateTmp|ProtectHome|ProtectKernelTunables|ProtectKernelModules|ProtectControlGroups' ;;
	228) re='SystemCallArchitectures|MemoryDenyWriteExecute|RestrictNamespaces|LockPersonality|RestrictAddressFamilies' ;;
	*) break ;; # the daemon's own failure: the checks below report it
	esac
	line=$(grep -E "^($re)=" "$UNITS/xmstored.service" | head -1)
	[ -n "$line" ] || break
	uctl stop xmstored.service >/dev/null 2>&1
	uctl reset-failed xmstored.service >/dev/null 2>&1
	echo "# dropped '$line' from the test's units: the user manager failed with status $st"
	dropped="$dropped $line"
	for u in xmstored xmbackd; do
		grep -vx "$line" "$UNITS/$u.service" > "$W/tmp" && cat "$W/tmp" > "$UNITS/$u.service"
	done
	uctl daemon-reload
done
uctl stop xmstored.service >/dev/null 2>&1
uctl reset-failed xmstored.service xmbackd.service >/dev/null 2>&1
[ -z "$dropped" ] && echo "# every hardening directive of the shipped units kept"

export XENSTORED_PATH=/run/xenstored/socket

# 2. start xmbackd.service: xmstored first, returns once both are READY
t0=$(now_ms)
out=$(uctl start xmbackd.service 2>&1)
rc=$?
dt=$(($(now_ms) - t0))
w=$(xenstore-write /t/x 1 2>&1 && xenstore-read /t/x 2>&1)
[ $rc = 0 ] && t_ok "systemctl --user start xmbackd.service returned 0 after $dt ms" ||
	t_fail "start xmbackd.service" "rc $rc after $dt ms: $out"
[ "$w" = 1 ] && t_ok "right after start returned, xenstore-write/read /t/x on /run/xenstored/socket: 1" ||
	t_fail "store answers once start returned" "$w"
for u in xmstored xmbackd; do
	a=$(prop $u ActiveState) s=$(prop $u SubState) m=$(prop $u MainPID) txt=$(prop $u StatusText)
	add_pid "$m"
	[ "$a $s" = "active running" ] && t_ok "$u.service active (running), MainPID $m" ||
		t_fail "$u.service active (running)" "$a ($s)"
	[ -n "$txt" ] && t_ok "$u.service StatusText: $txt" || t_fail "$u.service StatusText" "empty"
done
sa=$(prop xmstored ActiveEnterTimestampMonotonic)
bx=$(prop xmbackd ExecMainStartTimestampMonotonic)
if [ "${sa:-0}" -gt 0 ] && [ "${bx:-0}" -gt 0 ] && [ "$sa" -le "$bx" ]; then
	t_ok "xmstored active (${sa}us) before xmbackd exec'd (${bx}us): $(((bx - sa) / 1000)) ms earlier"
else
	t_fail "ordering" "xmstored ActiveEnter ${sa:-?}us, xmbackd ExecMainStart ${bx:-?}us"
fi

# restarted UNIT OLDPID: polls until active with a new MainPID (5 s); sets
# $ms (kill to active) and $new
restarted() {
	new=
	while [ $(($(now_ms) - t0)) -lt 5000 ]; do
		m=$(prop "$1" MainPID) a=$(prop "$1" ActiveState)
		if [ "$a" = active ] && [ "${m:-0}" != 0 ] && [ "$m" != "$2" ]; then
			ms=$(($(now_ms) - t0)); new=$m; add_pid "$m"; return 0
		fi
		sleep 0.01
	done
	ms=$(($(now_ms) - t0))
	return 1
}

# 3. kill -9 xmstored: restarted, ready, its tree back
old=$(prop xmstored MainPID)
bpid=$(prop xmbackd MainPID)
t0=$(now_ms)
kill -9 "$old"
if restarted xmstored "$old"; then
	t_ok "xmstored killed -9 (pid $old): active again as pid $new, $ms ms from kill to READY (RestartSec=200ms)"
	n=$(prop xmstored NRestarts)
	[ "$n" = 1 ] && t_ok "xmstored NRestarts=1" || t_fail "xmstored NRestarts" "$n, want 1"
	v=$(xenstore-read /t/x 2>&1)
	[ "$v" = 1 ] && t_ok "xmstored restarted with its tree: /t/x = 1 (the journal)" ||
		t_fail "tree after restart" "/t/x: $v"
else
	t_fail "xmstored restart" "not active with a new pid after $ms ms: $(prop xmstored ActiveState)/$(prop xmstored SubState)"
fi
# xmbackd reconnects instead of dying: same pid, back to watching
i=0
while [ $i -lt 100 ]; do
	case $(prop xmbackd StatusText) in watching*) break ;; esac
	sleep 0.05; i=$((i + 1))
done
b2=$(prop xmbackd MainPID) a=$(prop xmbackd ActiveState) n=$(prop xmbackd NRestarts) txt=$(prop xmbackd StatusText)
if [ "$b2" = "$bpid" ] && [ "$a" = active ] && [ "$n" = 0 ]; then
	t_ok "xmbackd not restarted by the store's restart: still pid $bpid, NRestarts=0, StatusText '$txt'"
else
	t_fail "xmbackd across a store restart" "pid $bpid -> $b2, $a, NRestarts=$n, StatusText '$txt'"
fi

# 4. kill -9 xmbackd: restarted, holds its pid file's lock
old=$(prop xmbackd MainPID)
t0=$(now_ms)
kill -9 "$old"
if restarted xmbackd "$old"; then
	t_ok "xmbackd killed -9 (pid $old): active again as pid $new, $ms ms from kill to READY"
	n=$(prop xmbackd NRestarts)
	[ "$n" = 1 ] && t_ok "xmbackd NRestarts=1" || t_fail "xmbackd NRestarts" "$n, want 1"
	pf=/run/xm/xmbackd.pid
	ino=$(stat -c %i "$pf" 2>/dev/null)
	holder=$(awk -v i=":$ino" '$2 == "FLOCK" && substr($6, length($6) - length(i) + 1) == i { print $5 }' /proc/locks 2>/dev/null | head -1)
	if [ -f "$pf" ] && ! flock -n "$pf" true 2>/dev/null && [ "$holder" = "$new" ] && [ "$(cat "$pf")" = "$new" ]; then
		t_ok "$pf says $new and is flock'ed by pid $new (flock -n fails)"
	else
		t_fail "$pf lock" "content '$(cat "$pf" 2>/dev/null)', /proc/locks holder '$holder', new pid $new"
	fi
else
	t_fail "xmbackd restart" "not active with a new pid after $ms ms: $(prop xmbackd ActiveState)/$(prop xmbackd SubState)"
fi

# 5. stop: inactive, success, gone
spid=$(prop xmstored MainPID) bpid=$(prop xmbackd MainPID)
sa=$(prop xmstored ActiveEnterTimestampMonotonic)
t0=$(now_ms)
out=$(uctl stop xmbackd.service xmstored.service 2>&1)
rc=$?
dt=$(($(now_ms) - t0))
[ $rc = 0 ] && t_ok "systemctl --user stop xmbackd xmstored: 0 after $dt ms" || t_fail "stop" "rc $rc: $out"
for u in xmstored xmbackd; do
	a=$(prop $u ActiveState) r=$(prop $u Result)
	[ "$a $r" = "inactive success" ] && t_ok "$u.service inactive, Result=success" ||
		t_fail "$u.service after stop" "ActiveState=$a Result=$r (ExecMainStatus $(prop $u ExecMainStatus))"
done
left=
for p in $spid $bpid; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
[ -z "$left" ] && t_ok "the daemons' processes ($spid $bpid) are gone" || t_fail "processes after stop" "alive:$left"
[ -d /run/xenstored ] && [ -d /run/xm ] && t_ok "run dirs /run/xenstored, /run/xm kept across stop (RuntimeDirectoryPreserve)" ||
	t_fail "run dirs after stop" "$(ls -d /run/xenstored /run/xm 2>&1 | tr '\n' ' ')"

# 6. xmstored that cannot serve: failed after StartLimitBurst, never active
mkdir -p "$UNITS/xmstored.service.d"
printf '[Unit]\nStartLimitIntervalSec=30s\nStartLimitBurst=3\n' > "$UNITS/xmstored.service.d/limit.conf"
uctl daemon-reload
"$XMSTORED" --foreground --socket /run/xenstored/socket --pid-file "$W/hand.pid" \
	--log "$W/hand.log" 2>>"$W/hand.stderr" &
hpid=$!
add_pid $hpid
xs_wait_socket /run/xenstored/socket
i=0 # the socket may be the old one's: wait until the hand-started one answers
until xenstore-read /t/x >/dev/null 2>&1 || [ $i -ge 100 ]; do sleep 0.05; i=$((i + 1)); done
t0=$(now_ms)
uctl start xmstored.service >/dev/null 2>&1
rc=$?
seen=
while [ $(($(now_ms) - t0)) -lt 10000 ]; do
	a=$(prop xmstored ActiveState)
	add_pid "$(prop xmstored MainPID)"
	case " $seen " in *" $a "*) ;; *) seen="$seen $a" ;; esac
	[ "$a" = failed ] && break
	sleep 0.02
done
dt=$(($(now_ms) - t0))
n=$(prop xmstored NRestarts) r=$(prop xmstored Result) sa2=$(prop xmstored ActiveEnterTimestampMonotonic)
[ $rc != 0 ] && t_ok "start xmstored.service with the socket served by pid $hpid: refused (rc $rc)" ||
	t_fail "start refused" "systemctl start returned 0"
# never active: not in the states sampled, and ActiveEnterTimestamp (reset
# when a start begins) is 0 or still the last stop's run's
case " $seen " in *" active "*) never=no ;; *) never=yes ;; esac
if [ "$a" = failed ] && [ $never = yes ] && { [ "$sa2" = 0 ] || [ "$sa2" = "$sa" ]; }; then
	t_ok "xmstored.service failed after $dt ms, NRestarts=$n, Result=$r; states seen:$seen; never active"
else
	t_fail "xmstored.service that cannot serve" "state $a after $dt ms, NRestarts=$n, seen:$seen, ActiveEnter $sa -> $sa2"
fi
sleep 1 # RestartSec is 200ms: a restart after the limit would show by now
a=$(prop xmstored ActiveState) n2=$(prop xmstored NRestarts)
[ "$a" = failed ] && [ "$n2" = "$n" ] && t_ok "no restart after the limit: still failed 1 s later, NRestarts=$n2" ||
	t_fail "restart after the limit" "1 s later: $a, NRestarts $n -> $n2"
v=$(xenstore-read /t/x 2>&1)
kill -0 $hpid 2>/dev/null && [ "$v" = 1 ] && t_ok "the hand-started xmstored (pid $hpid) still serves: /t/x = $v" ||
	t_fail "hand-started xmstored after the failed unit" "alive? $(kill -0 $hpid 2>&1 && echo yes); /t/x: $v"
kill $hpid
i=0
while kill -0 $hpid 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
wait $hpid 2>/dev/null

# nothing left: the manager and every pid recorded
m=$mpid all=$pids
teardown
left=
kill -0 "$m" 2>/dev/null && left=" manager $m"
for p in $all; do ours "$p" && left="$left $p"; done
[ -z "$left" ] && t_ok "nothing left running (manager $m, daemons$all)" || t_fail "left running" "$left"
t_summary
