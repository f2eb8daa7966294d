#!/bin/sh
# tests/guest/ids.sh — domain ids are never reused while anything of the old
# domain lives, xm create removes only what it made, xm list survives a
# stopped and a killed QEMU, and xm names the store when it is down.
#   (a) the store loses its records (restarted without its journal, then
#       nodes removed by hand, then a run dir moved away) under running
#       guests: the next creates get other ids and the orphans' run dirs and
#       QEMUs are untouched;
#   (b) a create whose QEMU fails, with a stranger's run dir at the next
#       id: that dir is passed over and kept, the create's own one removed;
#   (c) xm list with one QEMU SIGSTOPped, a monitor busy, a QEMU killed;
#       xm destroy of a stopped QEMU;
#   (d) the store lost in flight (xm shutdown -w, xm create waiting for the
#       agent), then down (refusing, absent).
# QEMUs are killed by the pids their pid files held (saved at create, so an
# orphan whose run dir went is killed too), never by name.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"
QMPCMD="$TOP/$B/tests/guest/qmpcmd"

ids_teardown() {
	for p in $(cat "$work/qemu-pids" 2>/dev/null); do
		grep -qF "$work" "/proc/$p/cmdline" 2>/dev/null && kill -CONT "$p" && kill -9 "$p"
	done
	[ -n "${HOLD_PID:-}" ] && kill "$HOLD_PID" 2>/dev/null
	guests_teardown
}
trap ids_teardown EXIT INT TERM
guests_setup || { t_fail setup "build, xmstored or xmbackd failed"; t_summary; exit 1; }
make -s -C "$TOP" SANITIZE="$san" B="$B" "$B/tests/guest/qmpcmd" >/dev/null 2>&1

# create CFG: xm create, the id on stdout; the QEMU's pid saved for teardown.
create() {
	out=$("$XM" create "$1" 2>&1) || { echo "$out" >&2; return 1; }
	id=$(echo "$out" | sed -n 's/^Started domain .* (id=\([0-9]*\))$/\1/p')
	cat "$XM_RUNDIR/dom/$id/qemu.pid" >> "$work/qemu-pids"
	echo "$id"
}
# qemu_locked DIR PID: PID holds the POSIX lock on DIR/qemu.pid (/proc/locks).
qemu_locked() {
	ino=$(stat -c %i "$1/qemu.pid" 2>/dev/null) || return 1
	grep -Eq "POSIX +ADVISORY +WRITE +$2 +[0-9a-f]+:[0-9a-f]+:$ino " /proc/locks
}
# run_dir_intact DIR PID: sockets and pid file there, QEMU alive and answering.
run_dir_intact() {
	[ -S "$1/qmp.sock" ] && [ -S "$1/ctl.sock" ] && [ -S "$1/console.sock" ] &&
		[ "$(cat "$1/qemu.pid" 2>/dev/null)" = "$2" ] && qemu_locked "$1" "$2" &&
		"$QMPCMD" "$1/ctl.sock" query-status | grep -q '"running": *true'
}
# backd_up: xmbackd started and holding its pid file (flock: a shared lock
# cannot be had while it holds it).
backd_up() {
	backd_start
	i=0
	while flock -n -s "$XM_RUNDIR/xmbackd.pid" true 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.05; i=$((i + 1))
	done
}
# running PID: alive and not a zombie (an exited QEMU waits for init).
running() {
	st=$(ps -o stat= -p "$1" 2>/dev/null) && [ "${st#Z}" = "$st" ]
}
restart_backd() {
	kill "$BACKD_PID" 2>/dev/null; wait "$BACKD_PID" 2>/dev/null
	backd_up
}
wait_ready() { # wait_ready DOMID SECONDS
	i=0
	while [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" != ready ]; do
		i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1; sleep 0.1
	done
}

# ---- (a) the store loses its records under a running guest ----
guest_cfg "$work/g1.cfg" Orphan1 128 1
guest_cfg "$work/g2.cfg" Guest2 128 1
guest_cfg "$work/g3.cfg" Guest3 128 1
guest_cfg "$work/g4.cfg" Guest4 128 1
guest_cfg "$work/g5.cfg" Guest5 128 1
guest_cfg "$work/g7.cfg" Guest7 128 1
id1=$(create "$work/g1.cfg") && t_ok "a guest runs (id $id1)" || t_fail "create Orphan1" "$id1"
dir1=$XM_RUNDIR/dom/$id1
q1=$(cat "$dir1/qemu.pid")
# xmstored restarted without its journal: the same socket, a fresh folder.
xs_stop
mv "$work/xs" "$work/xs.lost"
xs_start xm "$work/xs" || t_fail "store restart" "xmstored did not start"
restart_backd
[ -z "$(xenstore-list /tool/xm/domain 2>/dev/null)" ] && ! xenstore-read "/local/domain/$id1/name" >/dev/null 2>&1 &&
	t_ok "the store lost every record" || t_fail "store loss" "$(xenstore-ls -f /tool/xm 2>&1 | head -5)"
id2=$(create "$work/g2.cfg")
[ -n "$id2" ] && [ "$id2" != "$id1" ] && t_ok "after the loss xm create gives another id ($id2, not $id1)" ||
	t_fail "create after store loss" "id '$id2' (the orphan has $id1)"
run_dir_intact "$dir1" "$q1" && t_ok "the orphan's run dir (QMP, console, pid file) and QEMU are untouched" ||
	t_fail "orphan intact" "$(ls -l "$dir1" 2>&1 | tr '\n' ' ')"
# Nodes removed by hand, next-domid too: ids start again from 1.
xenstore-rm "/local/domain/$id2" "/tool/xm/domain/$id2" /tool/xm/next-domid 2>/dev/null
id3=$(create "$work/g3.cfg")
[ -n "$id3" ] && [ "$id3" != "$id1" ] && [ "$id3" != "$id2" ] &&
	t_ok "with its nodes removed, a guest's id is still not given ($id3, not $id1 or $id2)" ||
	t_fail "create after xenstore-rm" "id '$id3' (live: $id1 $id2)"
run_dir_intact "$XM_RUNDIR/dom/$id2" "$(cat "$XM_RUNDIR/dom/$id2/qemu.pid" 2>/dev/null)" &&
	run_dir_intact "$dir1" "$q1" && t_ok "both orphans' run dirs and QEMUs are untouched" ||
	t_fail "orphans intact" "$(ls "$XM_RUNDIR/dom/$id1" "$XM_RUNDIR/dom/$id2" 2>&1 | tr '\n' ' ')"

# A run dir and channel socket gone from under a QEMU (moved away, removed
# here): the QEMU, still connected to the domain's channel, holds the id.
mv "$XM_RUNDIR/dom/$id2" "$work/moved-rundir"
rm -f "$work/xs/domains/domain-$id2.sock"
xenstore-rm /tool/xm/next-domid 2>/dev/null
id7=$(create "$work/g7.cfg")
[ -n "$id7" ] && [ "$id7" != "$id1" ] && [ "$id7" != "$id2" ] && [ "$id7" != "$id3" ] &&
	t_ok "with its run dir gone too, a running QEMU's id is not given ($id7, not $id2)" ||
	t_fail "create with a run dir gone" "id '$id7' (live: $id1 $id2 $id3)"
"$XM" destroy "$id7" 2>/dev/null
mv "$work/moved-rundir" "$XM_RUNDIR/dom/$id2"
xenstore-write /tool/xm/next-domid "$((id3 + 1))"

# ---- (b) a create that fails once its run dir exists ----
next=$(xenstore-read /tool/xm/next-domid)
mkdir -p "$XM_RUNDIR/dom/$next" && echo keep > "$XM_RUNDIR/dom/$next/keep"
head -c 65536 /dev/urandom > "$work/bad-vmlinux"
guest_cfg "$work/bad.cfg" BadKernel 128 1
sed -i "s|^kernel = .*|kernel = \"$work/bad-vmlinux\"|" "$work/bad.cfg"
before=$(ls "$XM_RUNDIR/dom" | sort | tr '\n' ' ')
"$XM" create "$work/bad.cfg" >/dev/null 2>"$work/err"; rc=$?
after=$(ls "$XM_RUNDIR/dom" | sort | tr '\n' ' ')
[ $rc -eq 1 ] && grep -q "^Error: QEMU could not start domain BadKernel: " "$work/err" &&
	t_ok "a create whose QEMU fails: exit 1, QEMU's reason" || t_fail "bad kernel" "rc=$rc $(cat "$work/err")"
[ "$(cat "$XM_RUNDIR/dom/$next/keep" 2>/dev/null)" = keep ] && [ "$before" = "$after" ] &&
	t_ok "it passed over a stranger's run dir ($next) and removed only its own" ||
	t_fail "failed create's cleanup" "before [$before] after [$after]"
recs=$(xenstore-list /tool/xm/domain | tr '\n' ' ')
! xenstore-ls -f / 2>/dev/null | grep -q BadKernel && [ "$recs" = "$id3 " ] &&
	t_ok "and left no node" || t_fail "failed create's nodes" "records [$recs]"
run_dir_intact "$dir1" "$q1" && t_ok "the orphan is still untouched" || t_fail "orphan after (b)" "$(ls "$dir1")"
rm -r "$XM_RUNDIR/dom/$next"

# ---- (c) xm list with a stopped QEMU, a busy monitor, a killed QEMU ----
id4=$(create "$work/g4.cfg") || t_fail "create Guest4" "$id4"
kill "$BACKD_PID"; wait "$BACKD_PID" 2>/dev/null # the killed guest's nodes stay
q3=$(cat "$XM_RUNDIR/dom/$id3/qemu.pid") q4=$(cat "$XM_RUNDIR/dom/$id4/qemu.pid")
"$QMPCMD" "$XM_RUNDIR/dom/$id4/ctl.sock" --event NEVER 15000 >/dev/null 2>&1 &
HOLD_PID=$!
sleep 0.3
kill -STOP "$q3"
s0=$(date +%s.%N)
timeout 30 "$XM" list > "$work/list" 2>"$work/err"; rc=$?
secs=$(echo "$(date +%s.%N) - $s0" | bc)
[ $rc -eq 0 ] && head -1 "$work/list" | grep -q '^Name  *ID  *Mem VCPUs  *State  *Time(s)$' &&
	grep -Eq "^Guest3 +$id3 " "$work/list" && grep -Eq "^Guest4 +$id4 " "$work/list" &&
	[ "$(echo "$secs < 5" | bc)" = 1 ] &&
	t_ok "xm list, one QEMU stopped, one monitor busy: its table in $secs s" ||
	t_fail "list with a stopped QEMU" "rc=$rc after $secs s: $(cat "$work/list" "$work/err")"
# Each try leaves a connection in the stopped QEMU's listen queue: once it
# is full a plain connect() would wait for ever.
slow=
for n in 2 3 4 5; do
	s0=$(date +%s.%N)
	timeout 30 "$XM" list >/dev/null 2>&1; rc=$?
	secs=$(echo "$(date +%s.%N) - $s0" | bc)
	[ $rc -eq 0 ] && [ "$(echo "$secs < 5" | bc)" = 1 ] || slow="$slow list $n: rc=$rc ${secs}s;"
done
[ -z "$slow" ] && t_ok "xm list again and again: each time its table, promptly" || t_fail "lists again" "$slow"
kill "$HOLD_PID" 2>/dev/null; wait "$HOLD_PID" 2>/dev/null; HOLD_PID=
kill -9 "$q4"
i=0
while qemu_locked "$XM_RUNDIR/dom/$id4" "$q4" && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
timeout 30 "$XM" list > "$work/list" 2>"$work/err"; rc=$?
[ $rc -eq 0 ] && grep -Eq "^Guest4 +$id4 +[0-9]+ +[0-9]+ +-----d " "$work/list" &&
	grep -Eq "^Guest3 +$id3 " "$work/list" && ! grep -q Sanitizer "$work/err" &&
	t_ok "xm list, one QEMU stopped, one killed: the killed one dying (-----d)" ||
	t_fail "list with a killed QEMU" "rc=$rc: $(cat "$work/list" "$work/err")"
timeout 30 "$XM" list -l > "$work/list" 2>"$work/err"; rc=$?
[ $rc -eq 0 ] && grep -q '"status": "dying"' "$work/list" &&
	t_ok "xm list -l likewise" || t_fail "list -l" "rc=$rc: $(cat "$work/err")"
kill -CONT "$q3"
backd_up
i=0
while xenstore-read "/local/domain/$id4/name" >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
! xenstore-read "/local/domain/$id4/name" >/dev/null 2>&1 && [ ! -d "$XM_RUNDIR/dom/$id4" ] &&
	t_ok "xmbackd restarted cleans up the killed guest" || t_fail "cleanup of Guest4" "$("$XM" list)"

# xm destroy of a stopped QEMU: its monitor cannot answer, the QEMU that
# holds the pid file's lock is killed all the same, every trace removed.
id5=$(create "$work/g5.cfg") || t_fail "create Guest5" "$id5"
q5=$(cat "$XM_RUNDIR/dom/$id5/qemu.pid")
kill -STOP "$q5"
s0=$(date +%s.%N)
timeout 30 "$XM" destroy "$id5" 2>"$work/err"; rc=$?
secs=$(echo "$(date +%s.%N) - $s0" | bc)
[ $rc -eq 0 ] && ! running "$q5" && [ ! -d "$XM_RUNDIR/dom/$id5" ] &&
	! xenstore-read "/local/domain/$id5/name" >/dev/null 2>&1 && [ "$(echo "$secs < 10" | bc)" = 1 ] &&
	t_ok "xm destroy of a stopped QEMU: killed, nothing left ($secs s)" ||
	t_fail "destroy a stopped QEMU" "rc=$rc after $secs s, QEMU $(cat "/proc/$q5/comm" 2>&1) $(cat "$work/err")"

# ---- (d) the store down or lost ----
wait_ready "$id3" 60 || t_fail "agent of Guest3" "not ready"
"$XM" pause "$id3"
timeout 30 "$XM" shutdown -w "$id3" >/dev/null 2>"$work/err" &
XMPID=$!
sleep 1
kill -9 "$XS_PID"; wait "$XS_PID" 2>/dev/null; XS_PID=
wait "$XMPID"; rc=$?
[ $rc -eq 1 ] && grep -q "^Error: lost the connection to XenStore at $XS_SOCK: .* (did xmstored stop?)$" "$work/err" &&
	t_ok "xmstored killed under xm shutdown -w: exit 1, 'lost the connection to XenStore'" ||
	t_fail "store lost in flight" "rc=$rc $(cat "$work/err")"
# The QEMU of the domain being made (not Guest1-3's), kept for the
# teardown: its pid, or nothing.
new_qemu() {
	q=
	for d in "$XM_RUNDIR"/dom/*; do
		case " $id1 $id2 $id3 " in *" ${d##*/} "*) ;; *) q=$(cat "$d/qemu.pid" 2>/dev/null) ;; esac
	done
	echo "$q" >> "$work/qemu-pids"
	echo "$q"
}
# xm create with a disk waits for the guest's agent: the store killed then.
xs_start xm "$work/xs" || t_fail "store restart" "xmstored did not start"
restart_backd
truncate -s 8M "$work/disk.img"
guest_cfg "$work/g6.cfg" Guest6 128 1 "disk = [ 'file:$work/disk.img,xvdb,w' ]"
n0=$(ls "$XM_RUNDIR"/dom/*/qemu.pid 2>/dev/null | wc -l)
timeout 60 "$XM" create "$work/g6.cfg" >/dev/null 2>"$work/err" &
XMPID=$!
i=0
while [ "$(ls "$XM_RUNDIR"/dom/*/qemu.pid 2>/dev/null | wc -l)" = "$n0" ] && [ $i -lt 200 ]; do
	sleep 0.05; i=$((i + 1))
done
q6=$(new_qemu)
kill -9 "$XS_PID"; wait "$XS_PID" 2>/dev/null; XS_PID=
s0=$(date +%s.%N)
wait "$XMPID"; rc=$?
secs=$(echo "$(date +%s.%N) - $s0" | bc)
left=$(ls "$XM_RUNDIR/dom" | sort -n | tr '\n' ' ')
[ $rc -eq 1 ] && grep -q "^Error: lost the connection to XenStore at $XS_SOCK: " "$work/err" &&
	[ "$(echo "$secs < 10" | bc)" = 1 ] && [ "$left" = "$id1 $id2 $id3 " ] && [ -n "$q6" ] &&
	! running "$q6" &&
	t_ok "xmstored killed under xm create: exit 1 in $secs s, 'lost the connection', its QEMU and run dir gone" ||
	t_fail "store lost under create" "rc=$rc after $secs s, dirs [$left], QEMU '$q6' $(ps -o stat=,args= -p "$q6" | cut -c1-60): $(cat "$work/err")"

# xm create of CFG frozen at its crash point POINT (XM_CRASH_HOW=stop),
# xmstored killed, xm let go: sets rc, q (its QEMU) and left (the run dirs).
store_killed_at() { # store_killed_at CFG POINT
	xs_start xm "$work/xs" || t_fail "store restart" "xmstored did not start"
	restart_backd
	XM_CRASH_AT=$2 XM_CRASH_HOW=stop timeout 60 "$XM" create "$1" >/dev/null 2>"$work/err" &
	XMPID=$!
	i=0 # (timeout's child: xm itself, stopped at the point)
	until [ "$(ps -o stat= --ppid "$XMPID" 2>/dev/null | cut -c1)" = T ] || [ $i -ge 600 ]; do
		sleep 0.05; i=$((i + 1))
	done
	q=$(new_qemu)
	kill -9 "$XS_PID"; wait "$XS_PID" 2>/dev/null; XS_PID=
	pkill -CONT -P "$XMPID"
	wait "$XMPID"; rc=$?
	left=$(ls "$XM_RUNDIR/dom" | sort -n | tr '\n' ' ')
}
guest_cfg "$work/g7.cfg" Guest7 128 1 "disk = [ 'file:$work/disk.img,xvdb,w' ]"
# The store gone between the domain's records and its disk's attach, which
# opens a connection of its own: the same words, not "cannot reach" (xm
# create was connected a moment ago), and the create undone.
store_killed_at "$work/g7.cfg" xm.create-running
[ $rc -eq 1 ] && [ -n "$q" ] && ! running "$q" && [ "$left" = "$id1 $id2 $id3 " ] &&
	grep -q "^Error: lost the connection to XenStore at $XS_SOCK: Connection refused (did xmstored stop?)$" "$work/err" &&
	t_ok "xmstored gone before the disk's attach connects: 'lost the connection', its QEMU and run dir gone" ||
	t_fail "store gone before the disk's attach" "rc=$rc dirs [$left], QEMU '$q': $(cat "$work/err")"
# ... and while the disk's attach waits for the guest: the lost-store words,
# then what becomes of the attach.
store_killed_at "$work/g7.cfg" xm.attach-waiting
[ $rc -eq 1 ] && [ -n "$q" ] && ! running "$q" && [ "$left" = "$id1 $id2 $id3 " ] &&
	grep -q "^Error: lost the connection to XenStore at $XS_SOCK: .* (did xmstored stop?); xmbackd finishes or undoes the attach$" "$work/err" &&
	t_ok "xmstored gone while the disk's attach waits: 'lost the connection ...; xmbackd finishes or undoes the attach', its QEMU and run dir gone" ||
	t_fail "store gone while the disk's attach waits" "rc=$rc dirs [$left], QEMU '$q': $(cat "$work/err")"

refused="Error: cannot reach XenStore at $XS_SOCK: Connection refused (is xmstored running?)"
for c in list "destroy $id3" "console $id3" "block-list $id3" "create $work/g2.cfg"; do
	# shellcheck disable=SC2086
	"$XM" $c >/dev/null 2>"$work/err"; rc=$?
	[ $rc -eq 1 ] && [ "$(cat "$work/err")" = "$refused" ] && t_ok "store refusing: xm ${c%% *} says so" ||
		t_fail "store refusing: xm $c" "rc=$rc '$(cat "$work/err")'"
done
rm -f "$XS_SOCK"
xm_err "store absent: xm list says so" \
	"Error: cannot reach XenStore at $XS_SOCK: No such file or directory (is xmstored running?)" "$XM" list
run_dir_intact "$dir1" "$q1" && t_ok "the orphan ran through it all" || t_fail "orphan at the end" "$(ls "$dir1")"

if grep -l "Sanitizer\|runtime error" "$work"/*.stderr "$work"/*.log "$work"/xs*/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs above"
else
	t_ok "no sanitizer reports"
fi
t_summary
