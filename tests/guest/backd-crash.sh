#!/bin/sh
# tests/guest/backd-crash.sh — xmbackd killed at every step of an attach,
# a detach and a reconcile (XM_CRASH_AT, lib/crashpoint.h), then started
# again: each operation converges without a second xm command, QEMU and
# XenStore agree (no device without its record, no record without its
# device), and a writable claim is still refused to the other guest,
# through a loop device's backing file. Also: operations left half-way by
# an xm that died (simulated with xenstore-write, holding no lock), the
# guest agent's liveness from its port (VSERPORT_CHANGE, query-chardev),
# and a restart of xmstored under a running xmbackd. Two guests are booted
# once and used throughout; the times from xmbackd's restart to reconciled
# are printed at the end.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

# the slow timer at 1 s, and xm waits while xmbackd is down and back
XMBACKD_RECONCILE_MS=1000
XM_ATTACH_TIMEOUT=40
export XMBACKD_RECONCILE_MS XM_ATTACH_TIMEOUT
loops=
cleanup() {
	for l in $loops; do losetup -d "$l" 2>/dev/null; done
	guests_teardown
}
trap cleanup EXIT INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
QMPCMD="$TOP/$B/tests/guest/qmpcmd"
make -s -C "$TOP" SANITIZE="${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}" \
	B="$B" "$B/tests/guest/qmpcmd" >/dev/null

truncate -s 32M "$work/shared.img" && mkfs.ext4 -q -F "$work/shared.img"
truncate -s 16M "$work/disk.img" && mkfs.ext4 -q -F "$work/disk.img"
loop=$(losetup -f --show "$work/shared.img") && loops="$loop"

guest_cfg "$work/a.cfg" GuestA
guest_cfg "$work/b.cfg" GuestB
A=$(guest_create "$work/a.cfg") && t_ok "GuestA up (id $A)" || { t_fail GuestA "no"; t_summary; exit 1; }
Bd=$(guest_create "$work/b.cfg") && t_ok "GuestB up (id $Bd)" || { t_fail GuestB "no"; t_summary; exit 1; }

now_ms() { echo $(($(date +%s%N) / 1000000)); }
# until_ok SECONDS CMD...: CMD again every 50 ms until it succeeds
until_ok() {
	end=$(($(now_ms) + $1 * 1000)); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.05
	done
}
dead() { ! kill -0 "$1" 2>/dev/null || grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null; }
qmp() { "$QMPCMD" "$XM_RUNDIR/dom/$1/ctl.sock" "$2" ${3:+"$3"}; }

# QEMU's devices and nodes of ours, and XenStore's records, of domain $1
q_devs() { qmp "$1" qom-list '{"path":"/machine/peripheral"}' | grep -o '"xmdev-[0-9]*"' | sed 's/[^0-9]//g' | sort; }
q_nodes() { qmp "$1" query-named-block-nodes '{"flat":true}' | grep -o '"xmblk-[0-9]*"' | sed 's/[^0-9]//g' | sort -u; }
records() { xenstore-list "/tool/xm/domain/$1/vbd" 2>/dev/null | sort; }
# Records and QEMU agree, every record connected with its backend and
# frontend at 4 and its node in QEMU: prints the difference and fails.
agree() {
	qd=$(q_devs "$1" | tr '\n' ' ') qn=$(q_nodes "$1" | tr '\n' ' ') rs=$(records "$1" | tr '\n' ' ')
	[ "$qd" = "$rs" ] || { echo "QEMU devices [$qd] records [$rs]"; return 1; }
	for n in $qn; do
		case " $qd " in *" $n "*) ;; *) echo "node xmblk-$n without device"; return 1 ;; esac
	done
	for r in $rs; do
		ph=$(xenstore-read "/tool/xm/domain/$1/vbd/$r/phase" 2>/dev/null)
		bs=$(xenstore-read "/local/domain/0/backend/vbd/$1/$r/state" 2>/dev/null)
		fs=$(xenstore-read "/local/domain/$1/device/vbd/$r/state" 2>/dev/null)
		[ "$ph/$bs/$fs" = "connected/4/4" ] || { echo "vbd $r: phase/backend/frontend $ph/$bs/$fs"; return 1; }
	done
}
# Nothing of any vbd of domain $1, in XenStore or in its QEMU.
no_vbds() {
	be=$(xenstore-list "/local/domain/0/backend/vbd/$1" 2>/dev/null | tr '\n' ' ')
	fe=$(xenstore-list "/local/domain/$1/device/vbd" 2>/dev/null | tr '\n' ' ')
	tl=$(records "$1" | tr '\n' ' ')
	q="$(q_devs "$1" | tr '\n' ' ')$(q_nodes "$1" | tr '\n' ' ')"
	[ -z "$be$fe$tl$q" ] || { echo "left: be[$be] fe[$fe] records[$tl] qemu[$q]"; return 1; }
}

backd_stop() { kill "$BACKD_PID" 2>/dev/null; wait "$BACKD_PID" 2>/dev/null; }
backd_crashing() { # backd_crashing POINT: a new xmbackd that dies there
	backd_stop
	XM_CRASH_AT=$1; export XM_CRASH_AT
	backd_start
	unset XM_CRASH_AT
}
# Wait for the crashing xmbackd to die, start a sound one; RESTART_T0 = then.
backd_recover() {
	until_ok 30 dead "$BACKD_PID" || { echo "xmbackd did not die at ${1:-its point}"; return 1; }
	wait "$BACKD_PID" 2>/dev/null
	RESTART_T0=$(now_ms)
	backd_start
}
TIMES=
note_time() { # note_time WHAT: restart to now
	ms=$(($(now_ms) - RESTART_T0)); TIMES="$TIMES $ms"
	echo "     ($1: restart to reconciled $ms ms)"
}
refused_to_b() { # the claim of A's w device holds for B, through the file
	want="Error: Device $work/shared.img is mounted read-write in a guest domain (GuestA, xvdb), and so cannot be mounted now."
	got=$("$XM" block-attach "$Bd" "file:$work/shared.img" xvdb w 2>&1); rc=$?
	[ $rc -eq 1 ] && [ "$got" = "$want" ] || { echo "rc=$rc: $got"; return 1; }
	no_vbds "$Bd"
}
reset_a() { "$XM" block-detach "$A" xvdb >/dev/null 2>&1; until_ok 15 no_vbds "$A"; }

# ---- attach, xmbackd killed at each step: converges to Connected ----
for p in claimed after-blockdev-add after-device-add before-connected after-connected; do
	backd_crashing "xmbackd.$p"
	"$XM" block-attach "$A" "phy:$loop" xvdb w >"$work/att.out" 2>&1 & xp=$!
	if ! backd_recover "$p"; then t_fail "attach, killed at $p" "$(tail -3 "$work/backd.log")"; wait $xp; continue; fi
	wait $xp; rc=$?
	if [ $rc -eq 0 ] && until_ok 15 agree "$A"; then
		note_time "attach killed at $p"
		t_ok "attach, xmbackd killed at $p: xm returns 0, QEMU and the records agree"
	else
		t_fail "attach, killed at $p" "rc=$rc $(cat "$work/att.out") $(agree "$A")"
	fi
	guest_run "$A" "ls /dev/xvdb" >/dev/null && t_ok "  ... the disk is in the guest" ||
		t_fail "  ... disk in the guest ($p)" "$(tail -3 "$work/pty.txt")"
	out=$(refused_to_b) && t_ok "  ... the claim holds: GuestB refused the backing file w" ||
		t_fail "  ... claim after $p" "$out"
	reset_a || t_fail "  ... reset after $p" "$(no_vbds "$A")"
done

# xm gives up while xmbackd is down after its device_add (xm removes the
# directories): the restarted xmbackd takes the device out, then the claim
backd_crashing xmbackd.after-device-add
XM_ATTACH_TIMEOUT=2 "$XM" block-attach "$A" "phy:$loop" xvdb w >"$work/att.out" 2>&1; rc=$?
if backd_recover after-device-add && until_ok 15 no_vbds "$A"; then
	note_time "attach given up by xm"
	t_ok "attach given up by xm while xmbackd was down: the device taken out (xm: $rc)"
else
	t_fail "attach given up" "$(cat "$work/att.out") $(no_vbds "$A")"
fi
"$XM" block-attach "$Bd" "file:$work/shared.img" xvdb w >/dev/null 2>&1 &&
	t_ok "  ... and its claim released: GuestB takes it w" || t_fail "  ... claim after the given-up attach" "refused"
"$XM" block-detach "$Bd" xvdb >/dev/null 2>&1
until_ok 15 no_vbds "$Bd" || t_fail "  ... GuestB reset" "$(no_vbds "$Bd")"

# ---- a reconcile killed half-way, then done by the next xmbackd ----
backd_crashing xmbackd.claimed
"$XM" block-attach "$A" "phy:$loop" xvdb w >"$work/att.out" 2>&1 & xp=$!
if until_ok 30 dead "$BACKD_PID"; then
	wait "$BACKD_PID" 2>/dev/null
	XM_CRASH_AT=xmbackd.mid-reconcile; export XM_CRASH_AT
	backd_start # this one dies reconciling what the last one left
	unset XM_CRASH_AT
	if backd_recover mid-reconcile; then
		wait $xp; rc=$?
		[ $rc -eq 0 ] && until_ok 15 agree "$A" && note_time "reconcile killed" &&
			t_ok "reconcile killed half-way: the next xmbackd finishes the attach" ||
			t_fail "mid-reconcile" "rc=$rc $(cat "$work/att.out") $(agree "$A")"
	else
		wait $xp; t_fail "mid-reconcile" "xmbackd did not die reconciling"
	fi
else
	wait $xp; t_fail "mid-reconcile" "xmbackd did not die at claimed"
fi
out=$(refused_to_b) && t_ok "  ... the claim holds" || t_fail "  ... claim after mid-reconcile" "$out"
reset_a || t_fail "  ... reset after mid-reconcile" "$(no_vbds "$A")"

# ---- detach, xmbackd killed at each step: converges to gone ----
for p in after-device-del after-device-deleted after-blockdev-del before-closed; do
	"$XM" block-attach "$A" "phy:$loop" xvdb w >/dev/null 2>&1
	backd_crashing "xmbackd.$p"
	XM_DETACH_TIMEOUT=30 "$XM" block-detach "$A" xvdb >"$work/det.out" 2>&1 & xp=$!
	if ! backd_recover "$p"; then t_fail "detach, killed at $p" "$(tail -3 "$work/backd.log")"; wait $xp; continue; fi
	wait $xp; rc=$?
	if until_ok 15 no_vbds "$A"; then
		note_time "detach killed at $p"
		t_ok "detach, xmbackd killed at $p: device out of QEMU, directories gone (xm: $rc)"
	else
		t_fail "detach, killed at $p" "rc=$rc $(cat "$work/det.out") $(no_vbds "$A")"
	fi
	"$XM" block-attach "$Bd" "file:$work/shared.img" xvdb w >/dev/null 2>&1 &&
		t_ok "  ... the claim went with the device: GuestB takes it w" ||
		t_fail "  ... claim free after $p" "GuestB refused"
	"$XM" block-detach "$Bd" xvdb >/dev/null 2>&1
	until_ok 15 no_vbds "$Bd" || t_fail "  ... GuestB reset after $p" "$(no_vbds "$Bd")"
done

# xm gives up while xmbackd is down after its device_del (xm puts the
# backend back to Connected): the restarted xmbackd must not keep a device
# that QEMU has let go, nor leak its node
"$XM" block-attach "$A" "phy:$loop" xvdb w >/dev/null 2>&1
backd_crashing xmbackd.after-device-del
XM_DETACH_TIMEOUT=2 "$XM" block-detach "$A" xvdb >"$work/det.out" 2>&1; rc=$?
if backd_recover after-device-del && until_ok 15 no_vbds "$A"; then
	note_time "detach given up by xm"
	t_ok "detach given up by xm while xmbackd was down: converged to gone (xm: $rc)"
else
	t_fail "detach given up" "$(cat "$work/det.out") $(no_vbds "$A")"
fi

# ---- a media change, xmbackd killed at each step of its chain (eject,
# add-fd, blockdev-change-medium: answered through the loop, qcall.h):
# the next xmbackd finds media-change still asked and makes it; no fdset
# of the half-done change stays in QEMU ----
truncate -s 1M "$work/cd1.img" "$work/cd2.img"
printf 'XMCD2' | dd of="$work/cd2.img" conv=notrunc 2>/dev/null
# (one descriptor an fdset: its opaque names the device and the image, the
# same for a leaked fdset of the same disc, so each occurrence counts)
cd_fdsets() { qmp "$A" query-fdsets | grep -o '"xmblk-51744:[^"]*"' | wc -l; }
one_fdset() { [ "$(cd_fdsets)" -eq 1 ]; }
"$XM" block-attach "$A" "file:$work/cd1.img" xvdc:cdrom r >/dev/null 2>&1 ||
	t_fail "media: a cdrom on GuestA" "refused"
for p in media-after-eject media-after-add-fd media-before-done; do
	backd_crashing "xmbackd.$p"
	XM_MEDIA_TIMEOUT=40 "$XM" cd-insert "$A" xvdc "$work/cd2.img" >"$work/med.out" 2>&1 & xp=$!
	if ! backd_recover "$p"; then t_fail "media change, killed at $p" "$(tail -3 "$work/backd.log")"; wait $xp; continue; fi
	wait $xp; rc=$?
	got=$(guest_run "$A" "dd if=/dev/xvdc bs=5 count=1 2>/dev/null")
	if [ $rc -eq 0 ] && [ "$(xenstore-read "/local/domain/0/backend/vbd/$A/51744/params")" = "$work/cd2.img" ] &&
		echo "$got" | grep -q XMCD2 && until_ok 15 one_fdset; then
		note_time "media change killed at $p"
		t_ok "cd-insert, xmbackd killed at $p: the new disc reads in the guest, one fdset in QEMU"
	else
		t_fail "media change, killed at $p" "rc=$rc $(cat "$work/med.out"); guest: $got; fdsets $(cd_fdsets); $(grep "domain $A vbd 51744" "$work/backd.log" | tail -3)"
	fi
	"$XM" cd-insert "$A" xvdc "$work/cd1.img" >/dev/null 2>&1 || t_fail "  ... back to cd1 after $p" "refused"
done
"$XM" block-detach "$A" xvdc >/dev/null 2>&1
until_ok 15 no_vbds "$A" || t_fail "  ... the cdrom's detach" "$(no_vbds "$A")"

# ---- operations left by an xm that died (its nodes written by hand, no lock) ----
be() { echo "/local/domain/0/backend/vbd/$1/$2"; }
"$XM" block-attach "$A" "file:$work/disk.img" xvdc w >/dev/null 2>&1
guest_run "$A" "mkdir -p /tmp/m; mount /dev/xvdc /tmp/m" >/dev/null
xenstore-write "$(be "$A" 51744)/online" 0 "$(be "$A" 51744)/state" 5
reconnected() {
	[ "$(xenstore-read "$(be "$A" 51744)/state")" = 4 ] && [ "$(xenstore-read "$(be "$A" 51744)/online")" = 1 ] &&
		! xenstore-exists "/local/domain/$A/error/device/vbd/51744/error"
}
until_ok 10 reconnected && t_ok "a detach refused by the guest, its xm dead: back to Connected" ||
	t_fail "refused detach, xm dead" "state $(xenstore-read "$(be "$A" 51744)/state")"
guest_run "$A" "cat /proc/mounts | grep -c /tmp/m" | grep -qx 1 && t_ok "  ... and still mounted in the guest" ||
	t_fail "  ... still mounted" "$(tail -3 "$work/pty.txt")"
guest_run "$A" "umount /tmp/m" >/dev/null
xenstore-write "$(be "$A" 51744)/online" 0 "$(be "$A" 51744)/state" 5
until_ok 15 no_vbds "$A" && t_ok "a detach the guest accepted, its xm dead: device out, directories removed" ||
	t_fail "accepted detach, xm dead" "$(no_vbds "$A")"

"$XM" block-attach "$A" "phy:$loop" xvdb w >/dev/null 2>&1
fb="$(be "$Bd" 51728)" ff="/local/domain/$Bd/device/vbd/51728"
xenstore-write "$fb/frontend" "$ff" "$fb/frontend-id" "$Bd" "$fb/params" "$work/shared.img" \
	"$fb/type" file "$fb/format" raw "$fb/mode" w "$fb/online" 1 "$fb/removable" 0 \
	"$fb/bootable" 1 "$fb/dev" xvdb "$fb/device-type" disk \
	"$ff/backend" "$fb" "$ff/backend-id" 0 "$ff/virtual-device" 51728 "$ff/device-type" disk \
	"$ff/state" 1 "$fb/state" 1
until_ok 15 no_vbds "$Bd" && t_ok "an attach refused by the sharing check, its xm dead: removed" ||
	t_fail "refused attach, xm dead" "$(no_vbds "$Bd") hs=$(xenstore-read "$fb/hotplug-status" 2>&1)"
reset_a || t_fail "  ... reset" "$(no_vbds "$A")"

# ---- QEMU is the reality: a lost record, a stray device, a stray node ----
"$XM" block-attach "$A" "phy:$loop" xvdb w >/dev/null 2>&1
xenstore-rm "/tool/xm/domain/$A/vbd/51728"
adopted() { [ "$(xenstore-read "/tool/xm/domain/$A/vbd/51728/claim" 2>/dev/null)" = "$1" ] && agree "$A"; }
claim=$(xenstore-read "/tool/xm/domain/$A/vbd/51728/claim" 2>/dev/null)
t0=$(now_ms)
until_ok 10 adopted "w b$(stat -c '%t:%T' "$loop") f$(printf '%x:%x' "$(stat -c %d "$work/shared.img")" "$(stat -c %i "$work/shared.img")")" &&
	t_ok "a record lost, the device in QEMU: adopted in $(($(now_ms) - t0)) ms, its claim rebuilt from QEMU ($(xenstore-read "/tool/xm/domain/$A/vbd/51728/claim"))" ||
	t_fail "adopt" "claim '$(xenstore-read "/tool/xm/domain/$A/vbd/51728/claim" 2>&1)' $(agree "$A")"
out=$(refused_to_b) && t_ok "  ... the claim holds" || t_fail "  ... claim after adoption" "$out"
reset_a || t_fail "  ... reset after adoption" "$(no_vbds "$A")"
# (over null-co: the deprivileged QEMU opens no file by its path)
qmp "$A" blockdev-add '{"node-name":"xmblk-51760","driver":"raw","read-only":true,"file":{"driver":"null-co","size":8388608}}' >/dev/null
qmp "$A" device_add '{"driver":"virtio-blk-pci","id":"xmdev-51760","bus":"rp8","drive":"xmblk-51760"}' >/dev/null
qmp "$A" blockdev-add '{"node-name":"xmblk-51776","driver":"raw","read-only":true,"file":{"driver":"null-co","size":8388608}}' >/dev/null
t0=$(now_ms)
until_ok 15 no_vbds "$A" &&
	t_ok "a device no backend wants and a stray node, made in QEMU by hand: removed in $(($(now_ms) - t0)) ms" ||
	t_fail "stray device" "$(no_vbds "$A")"

# ---- the agent's liveness from its connection ----
# QEMU 7.2 sends VSERPORT_CHANGE when the guest opens or closes a port that
# has a qdev id: seen for real on a second port added for the purpose
qmp "$A" chardev-add '{"id":"probe","backend":{"type":"null","data":{}}}' >/dev/null
qmp "$A" device_add '{"driver":"virtserialport","bus":"vser0.0","chardev":"probe","name":"xmprobe","id":"xmprobe"}' >/dev/null
"$QMPCMD" "$XM_RUNDIR/dom/$A/ctl.sock" --event VSERPORT_CHANGE 20000 2 >"$work/ev" 2>"$work/ev.err" & ep=$!
until_ok 5 grep -q waiting "$work/ev.err"
guest_run "$A" 'for p in /sys/class/virtio-ports/*; do [ "$(cat $p/name)" = xmprobe ] && d=/dev/${p##*/}; done; [ -e "$d" ] || mknod "$d" c $(tr : " " < /sys/class/virtio-ports/${d##*/}/dev); exec 3<>"$d"; sleep 0.2; exec 3>&-' >/dev/null
wait $ep
grep -q '"data":{"open":true,"id":"xmprobe"}' "$work/ev" && grep -q '"data":{"open":false,"id":"xmprobe"}' "$work/ev" &&
	t_ok "QEMU 7.2 sends VSERPORT_CHANGE on the guest's open and close: $(grep -o '"data":{[^}]*}' "$work/ev" | tr '\n' ' ')" ||
	t_fail "VSERPORT_CHANGE" "$(cat "$work/ev" "$work/ev.err")"
qmp "$A" device_del '{"id":"xmprobe"}' >/dev/null
agent_is() { [ "$(xenstore-read "/tool/xm/domain/$1/agent" 2>/dev/null)" = "$2" ]; }
until_ok 5 agent_is "$A" connected && t_ok "agent record: connected" ||
	t_fail "agent connected" "$(xenstore-read "/tool/xm/domain/$A/agent" 2>&1)"
"$XM" block-attach "$A" "file:$work/disk.img" xvdc w >/dev/null 2>&1 # (before the agent dies)
guest_run "$A" 'kill $(pidof xmfront)' >/dev/null
t0=$(now_ms)
until_ok 5 agent_is "$A" disconnected &&
	t_ok "agent killed in the guest: recorded disconnected in $(($(now_ms) - t0)) ms (attr/xmfront/state still says $(xenstore-read "/local/domain/$A/attr/xmfront/state"))" ||
	t_fail "agent disconnected" "$(xenstore-read "/tool/xm/domain/$A/agent" 2>&1)"
xenstore-write "$(be "$A" 51744)/online" 0 "$(be "$A" 51744)/state" 5 # an xm that died
until_ok 10 reconnected && t_ok "a detach its xm left, with no agent to answer it: back to Connected" ||
	t_fail "unanswered detach, xm dead" "state $(xenstore-read "$(be "$A" 51744)/state")"
guest_run "$A" '/sbin/xmfront </dev/null >>/var/log/xmfront.log 2>&1 & echo started' >/dev/null
until_ok 5 agent_is "$A" connected && t_ok "agent started again: connected" ||
	t_fail "agent back" "$(xenstore-read "/tool/xm/domain/$A/agent" 2>&1)"
"$XM" block-detach "$A" xvdc >/dev/null 2>&1
until_ok 15 no_vbds "$A" || t_fail "  ... reset after the agent" "$(no_vbds "$A")"

# ---- xmstored killed and started again under a running xmbackd ----
kill -9 "$XS_PID"; wait "$XS_PID" 2>/dev/null
xs_start xm "$work/xs" || t_fail "xmstored restart" "did not start"
until_ok 10 grep -q "XenStore is back" "$work/backd.log" && ! dead "$BACKD_PID" &&
	t_ok "xmbackd reconnected: $(grep "XenStore is back" "$work/backd.log" | tail -1 | sed 's/.*xmbackd\[[a-z]*\]: //')" ||
	t_fail "xmbackd reconnect" "$(tail -3 "$work/backd.log")"
if xenstore-read "/local/domain/$A/name" >/dev/null 2>&1; then
	D=$A what="GuestA (kept by the store)"
else # a store without its journal starts empty: a new guest
	guest_cfg "$work/c.cfg" GuestC
	D=$(guest_create "$work/c.cfg") what="a new GuestC (the store started empty)"
fi
if [ -n "$D" ] && "$XM" block-attach "$D" "file:$work/disk.img" xvdd w 2>"$work/err" && agree "$D" >/dev/null &&
	"$XM" block-detach "$D" xvdd 2>>"$work/err"; then
	t_ok "after the store's restart an attach and a detach work: $what"
else
	t_fail "attach after the store restart" "$(cat "$work/err")"
fi

set -- $TIMES 0 # (a last 0: none measured)
min=$1 max=$1
set -- $TIMES
for t in "$@"; do [ "$t" -lt "$min" ] && min=$t; [ "$t" -gt "$max" ] && max=$t; done
echo "     xmbackd restart to reconciled: $# runs, $min ms to $max ms;" \
	"its own count: $(grep -o 'started: [0-9]* guests reconciled in [0-9]* ms' "$work/backd.log" | sed 's/.* in //' | sort -n | tr '\n' ' ')"
if grep -l "Sanitizer\|runtime error" "$work"/*.stderr "$work"/*.log "$work"/xs/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs"
else
	t_ok "no sanitizer reports"
fi
t_summary
