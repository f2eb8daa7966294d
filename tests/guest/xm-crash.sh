#!/bin/sh
# tests/guest/xm-crash.sh — an xm that dies in a block command, and one that
# finds xmbackd down, with a real guest.
#
# - xm killed (XM_CRASH_AT, lib/crashpoint.h) at each point of block-detach
#   and block-detach -f: the detach converges by itself (xmbackd finds the
#   operation's lock free and finishes it): no backend, frontend, record or
#   QEMU device left, the claim free again; killed after Closing while the
#   guest refuses: back to Connected, the device usable.
# - another xm holding the device's operation lock: one clear error, nothing
#   written.
# - xmbackd down: attach and detach say so at once (not "the guest did not
#   release it"), nothing written; xmbackd killed while a detach waits: the
#   error names xmbackd, and the detach converges once it runs again.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

trap 'guests_teardown' EXIT
trap 'exit 1' INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
QMPCMD="$TOP/$B/tests/guest/qmpcmd"
make -s -C "$TOP" SANITIZE="${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}" \
	B="$B" "$B/tests/guest/qmpcmd" >/dev/null || { t_fail setup "qmpcmd"; t_summary; exit 1; }
truncate -s 32M "$work/disk.img" && mkfs.ext4 -q -F "$work/disk.img"
guest_cfg "$work/a.cfg" GuestA
A=$(guest_create "$work/a.cfg") && t_ok "GuestA up (id $A)" || { t_fail GuestA "no"; t_summary; exit 1; }
DEV=51728 # xvdb

# What is left of xvdb, in XenStore and in QEMU ("" when nothing).
left() {
	be=$(xenstore-read "/local/domain/0/backend/vbd/$A/$DEV/state" 2>/dev/null)
	fe=$(xenstore-read "/local/domain/$A/device/vbd/$DEV/state" 2>/dev/null)
	tl=$(xenstore-exists "/tool/xm/domain/$A/vbd/$DEV" 2>/dev/null && echo record)
	q=$({ "$QMPCMD" "$XM_RUNDIR/dom/$A/ctl.sock" query-named-block-nodes
	      "$QMPCMD" "$XM_RUNDIR/dom/$A/ctl.sock" qom-list '{"path":"/machine/peripheral"}'; } 2>/dev/null |
		grep -o "xm\(blk\|dev\)-$DEV" | sort -u | tr '\n' ' ')
	[ -z "$be$fe$tl$q" ] || echo "backend state '$be', frontend state '$fe', '$tl', QEMU '$q'"
}
# Wait up to $1 seconds for CMD to print nothing; prints its last output.
converge() {
	t=$1; shift
	end=$(($(date +%s) + t))
	while out=$("$@") && [ -n "$out" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
	echo "$out"
}
connected() {
	[ "$(xenstore-read "/local/domain/0/backend/vbd/$A/$DEV/state" 2>/dev/null)" = 4 ] &&
		[ "$(xenstore-read "/local/domain/$A/device/vbd/$DEV/state" 2>/dev/null)" = 4 ] ||
		echo "backend $(xenstore-read "/local/domain/0/backend/vbd/$A/$DEV/state" 2>&1)" \
			"frontend $(xenstore-read "/local/domain/$A/device/vbd/$DEV/state" 2>&1)"
}
attach() { "$XM" block-attach "$A" "file:$work/disk.img" xvdb w; }
# Each part starts from xvdb attached and Connected, whatever the last left
# (so that one failure is not counted again by every later part).
fresh() {
	[ -z "$(connected)" ] && return 0
	"$XM" block-detach "$A" xvdb -f >/dev/null 2>&1
	attach
}

# ---- xm killed at each point of a detach: it converges by itself ----
for case in "xm.detach-closing" "xm.detach-closed" "xm.detach-force-closing -f" "xm.detach-force-closed -f"; do
	set -- $case
	pt=$1; shift
	if ! attach 2>"$work/err"; then
		t_fail "$pt: attach first" "$(cat "$work/err")"
		"$XM" block-detach "$A" xvdb -f >/dev/null 2>&1
		continue
	fi
	XM_CRASH_AT=$pt "$XM" block-detach "$A" xvdb "$@" >/dev/null 2>&1; rc=$?
	[ $rc -eq 137 ] && t_ok "xm block-detach${*:+ $*} killed at $pt" || t_fail "$pt: xm not killed there" "rc=$rc"
	got=$(converge 15 left)
	[ -z "$got" ] && t_ok "$pt: the detach converged by itself (nothing left)" ||
		t_fail "$pt: the abandoned detach did not converge in 15 s" "$got"
	attach 2>"$work/err" && "$XM" block-detach "$A" xvdb 2>>"$work/err" &&
		t_ok "$pt: the device attaches again (no claim or node held)" ||
		t_fail "$pt: attach again" "$(cat "$work/err")"
	[ -z "$(left)" ] || "$XM" block-detach "$A" xvdb -f >/dev/null 2>&1
done

# ---- xm killed after Closing while the guest refuses: back to Connected ----
fresh && guest_run "$A" "mkdir -p /tmp/m && mount /dev/xvdb /tmp/m" >/dev/null
XM_CRASH_AT=xm.detach-closing "$XM" block-detach "$A" xvdb >/dev/null 2>&1; rc=$?
[ $rc -eq 137 ] || t_fail "refused, xm killed: xm not killed at xm.detach-closing" "rc=$rc"
got=$(converge 15 connected)
[ -z "$got" ] && t_ok "refused detach abandoned by a dead xm: back to Connected" ||
	t_fail "refused detach abandoned by a dead xm: not back to Connected in 15 s" "$got"
guest_run "$A" "echo still > /tmp/m/f && sync && cat /tmp/m/f" | grep -qx still &&
	t_ok "... and the device is usable in the guest" || t_fail "usable after the abandoned detach" "$(tail -3 "$work/pty.txt")"
guest_run "$A" "umount /tmp/m" >/dev/null

# ---- another xm holds the device's operation lock (this shell, as fd 9) ----
fresh
lock="$XM_RUNDIR/dom/$A/vbd-$DEV.lock"
exec 9>"$lock" && flock -n 9
xm_err "another xm holds the lock: detach refused, nothing written" \
	"Error: another xm is working on device xvdb of domain $A" "$XM" block-detach "$A" xvdb
[ -z "$(connected)" ] && t_ok "... the device is untouched (both ends Connected)" || t_fail "lock: untouched" "$(connected)"
exec 9>&-

# ---- xmbackd down: attach and detach name it ----
fresh
kill "$BACKD_PID"; wait "$BACKD_PID" 2>/dev/null
xm_err "xmbackd down: detach names xmbackd" \
	"Error: xmbackd is not running (no live pid in $XM_RUNDIR/xmbackd.pid): block devices cannot be disconnected; start it first" \
	"$XM" block-detach "$A" xvdb
[ -z "$(connected)" ] && t_ok "... nothing written" || t_fail "xmbackd down: detach wrote" "$(connected)"
xm_err "xmbackd down: attach names xmbackd" \
	"Error: xmbackd is not running (no live pid in $XM_RUNDIR/xmbackd.pid): block devices cannot be connected; start it first" \
	"$XM" block-attach "$A" "file:$work/disk.img" xvdc r
backd_start

# xmbackd dies while a detach waits (stopped first, so that it cannot act
# before it is killed): the guest lets go, nothing takes the device down
fresh
kill -STOP "$BACKD_PID"
XM_DETACH_TIMEOUT=3 "$XM" block-detach "$A" xvdb >/dev/null 2>"$work/err" & xmp=$!
i=0
while [ "$(xenstore-read "/local/domain/0/backend/vbd/$A/$DEV/state" 2>/dev/null)" != 5 ] && [ $i -lt 100 ]; do
	sleep 0.05; i=$((i + 1))
done
kill -9 "$BACKD_PID"; wait "$BACKD_PID" 2>/dev/null
wait "$xmp"; rc=$?
if [ $rc -eq 1 ] && grep -q "xmbackd is not running" "$work/err" && ! grep -q "guest did not release" "$work/err"; then
	t_ok "xmbackd killed during a detach: the error names xmbackd: $(cat "$work/err")"
else
	t_fail "xmbackd killed during a detach" "rc=$rc '$(cat "$work/err")'"
fi
backd_start
got=$(converge 15 left)
[ -z "$got" ] && t_ok "... and the detach completes once xmbackd runs again" ||
	t_fail "the detach did not complete after xmbackd's restart" "$got"

if grep -l "Sanitizer\|runtime error" "$work"/*.stderr "$work"/*.log "$work"/xs/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs"
else
	t_ok "no sanitizer reports"
fi
t_summary
