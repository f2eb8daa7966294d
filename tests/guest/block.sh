#!/bin/sh
# tests/guest/block.sh — block hot-plug end to end with two real guests:
# the seed session word for word, Xen's sharing rules, refusal while in use,
# forced detach, CD/DVD media, errors, 20 attach/detach cycles, disk=[...].
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

loops=
cleanup() {
	for m in $(awk -v w="$work" 'index($2, w) == 1 {print $2}' /proc/mounts 2>/dev/null); do umount "$m"; done
	for l in $loops; do losetup -d "$l" 2>/dev/null; done
	guests_teardown
}
trap cleanup EXIT INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }

# ---- images: an ext4 disk, an ISO with files, a loop device ----
mkdir -p "$work/iso"
echo "hello from the DVD" > "$work/iso/README.TXT"
seq 1 1000 > "$work/iso/numbers.txt"
genisoimage -quiet -R -J -V XMDVD -o "$work/dvd.iso" "$work/iso" 2>/dev/null
cp "$work/dvd.iso" "$work/dvd2.iso"
truncate -s 64M "$work/disk.img" && mkfs.ext4 -q -F -L xmdisk "$work/disk.img"
truncate -s 32M "$work/shared.img" && mkfs.ext4 -q -F "$work/shared.img"
truncate -s 8M "$work/disk2.img"
loop=$(losetup -f --show "$work/shared.img") && loops="$loop"
isoloop=$(losetup -f --show -r "$work/dvd.iso") && loops="$loops $isoloop"

# No trace of any vbd of domain $1 in XenStore or in its QEMU.
no_vbds() {
	be=$(xenstore-list "/local/domain/0/backend/vbd/$1" 2>/dev/null | tr '\n' ' ')
	fe=$(xenstore-list "/local/domain/$1/device/vbd" 2>/dev/null | tr '\n' ' ')
	tl=$(xenstore-list "/tool/xm/domain/$1/vbd" 2>/dev/null | tr '\n' ' ')
	q=$(qdevs "$1")
	[ -z "$be$fe$tl$q" ] || { echo "left: be[$be] fe[$fe] tool[$tl] qemu[$q]"; return 1; }
}
# QEMU's own view: block nodes and devices that are ours (xmblk-/xmdev-).
qdevs() {
	{ "$QMPCMD" "$XM_RUNDIR/dom/$1/ctl.sock" query-named-block-nodes
	  "$QMPCMD" "$XM_RUNDIR/dom/$1/ctl.sock" qom-list '{"path":"/machine/peripheral"}'; } 2>/dev/null |
		grep -o 'xm\(blk\|dev\)-[0-9]*' | sort -u | tr '\n' ' '
}
QMPCMD="$TOP/$B/tests/guest/qmpcmd"
make -s -C "$TOP" SANITIZE="$( [ "$B" = build/asan ] && echo address,undefined )" B="$B" "$B/tests/guest/qmpcmd" >/dev/null

guest_cfg "$work/a.cfg" GuestA
guest_cfg "$work/b.cfg" GuestB
A=$(guest_create "$work/a.cfg") && t_ok "GuestA up (id $A)" || { t_fail GuestA "no"; t_summary; exit 1; }
Bd=$(guest_create "$work/b.cfg") && t_ok "GuestB up (id $Bd)" || { t_fail GuestB "no"; t_summary; exit 1; }

# ---- the seed session, word for word (phy: on a loop device holding a DVD) ----
"$XM" list > "$work/list" && grep -q "^GuestA " "$work/list" && t_ok "seed: xm list" || t_fail "seed: xm list" "$(cat "$work/list")"
out=$("$XM" block-attach "$A" "phy:$isoloop" /dev/xvda2 r 2>&1) && [ -z "$out" ] &&
	t_ok "seed: xm block-attach $A phy:$isoloop /dev/xvda2 r" || t_fail "seed: block-attach" "$out"
maj_min=$(guest_run "$A" 'cat /sys/block/$(basename $(ls -d /sys/block/vd* | head -1))/dev')
ls_out=$(guest_run "$A" "ls -l /dev/xvda2")
echo "$ls_out" | grep -Eq "^brw-.* ${maj_min%%:*}, +${maj_min##*:} .*/dev/xvda2$" &&
	t_ok "seed: ls -l /dev/xvda2 in the guest: a block node ($maj_min)" || t_fail "seed: ls -l" "$ls_out (want $maj_min)"
guest_run "$A" "mkdir -p /tmp/mnt; mount /dev/xvda2 /tmp/mnt && cat /tmp/mnt/README.TXT" | grep -q "hello from the DVD" &&
	t_ok "seed: mount /dev/xvda2 /tmp/mnt (the DVD's files)" || t_fail "seed: mount" "$(cat "$work/pty.txt" | tail -5)"
guest_run "$A" "touch /tmp/mnt/x" >/dev/null; [ $? -ne 0 ] && t_ok "read-only: writing to the DVD fails in the guest" ||
	t_fail "read-only" "touch succeeded"
guest_run "$A" "dd if=/dev/zero of=/dev/xvda2 bs=512 count=1 2>&1" >/dev/null; [ $? -ne 0 ] &&
	t_ok "read-only: the block device itself refuses writes" || t_fail "read-only dev" "dd succeeded"
# The refusal is read from the guest's answer, not from a timeout: with a
# 20 s timeout it must come back before 10 s (the time is printed).
t0=$(date +%s%3N)
XM_DETACH_TIMEOUT=20 "$XM" block-detach "$A" /dev/xvda2 >/dev/null 2>"$work/err"; rc=$?
ms=$(($(date +%s%3N) - t0))
grep -q "Device in use; refusing to close" "$work/err" && [ $rc -eq 1 ] && [ "$(wc -l < "$work/err")" = 1 ] && [ $ms -lt 10000 ] &&
	t_ok "detach refused while mounted, answered in $ms ms (not at the timeout): $(cat "$work/err")" ||
	t_fail "refused while mounted" "rc=$rc after $ms ms: $(cat "$work/err")"
guest_run "$A" "cat /tmp/mnt/numbers.txt | wc -l" | grep -qx 1000 && t_ok "after the refusal the device is fully usable" ||
	t_fail "usable after refusal" "$(tail -3 "$work/pty.txt")"
guest_run "$A" "umount /tmp/mnt" >/dev/null && t_ok "seed: umount /tmp/mnt" || t_fail "seed: umount" ""
"$XM" block-detach "$A" /dev/xvda2 && t_ok "seed: xm block-detach $A /dev/xvda2" || t_fail "seed: detach" ""
guest_run "$A" "ls /dev/xvda2" >/dev/null; [ $? -ne 0 ] && t_ok "/dev/xvda2 is gone in the guest" || t_fail "node gone" "still there"
t_check "no stale nodes or QEMU devices after the seed session" no_vbds "$A"

# ---- ext4 read-write round trip, checked on the host ----
"$XM" block-attach "$A" "file:$work/disk.img" xvdb w && t_ok "attach file: ext4 image rw as xvdb" || t_fail "attach ext4" ""
guest_run "$A" "mount /dev/xvdb /tmp/mnt && echo written-in-guest > /tmp/mnt/note && sync && umount /tmp/mnt" >/dev/null &&
	t_ok "guest wrote a file and unmounted" || t_fail "guest write" "$(tail -5 "$work/pty.txt")"
"$XM" block-detach "$A" xvdb && t_ok "detach xvdb" || t_fail "detach xvdb" ""
e2fsck -fn "$work/disk.img" >/dev/null 2>&1 && [ "$(debugfs -R 'cat /note' "$work/disk.img" 2>/dev/null)" = written-in-guest ] &&
	t_ok "on the host: e2fsck clean and the file is there" || t_fail "host check" "$(e2fsck -fn "$work/disk.img" 2>&1 | tail -3)"

# ---- forced detach ----
"$XM" block-attach "$A" "file:$work/disk.img" xvdb w >/dev/null 2>&1
guest_run "$A" "mount /dev/xvdb /tmp/mnt" >/dev/null
"$XM" block-detach "$A" xvdb -f 2>"$work/err" && grep -q "^Warning: " "$work/err" &&
	t_ok "block-detach -f of a mounted disk: done, with a warning" || t_fail "-f" "$(cat "$work/err")"
t_check "-f leaves no nodes or QEMU devices" no_vbds "$A"
guest_run "$A" "umount -l /tmp/mnt" >/dev/null

# ---- a qcow2 image: the backend's size is its virtual size (read from the
# image's header, not the file's length) ----
qemu-img create -q -f qcow2 "$work/q.qcow2" 24M
"$XM" block-attach "$A" "tap:qcow2:$work/q.qcow2" xvdg w 2>"$work/err" &&
	[ "$(xenstore-read "/local/domain/0/backend/vbd/$A/51808/sectors")" = 49152 ] &&
	[ "$(guest_run "$A" "blockdev --getsize64 /dev/xvdg" | tr -d '\r' | grep -x '[0-9]*')" = 25165824 ] &&
	t_ok "qcow2: attached, 24 MiB in the backend's sectors and in the guest" ||
	t_fail "qcow2" "$(cat "$work/err"); sectors $(xenstore-read "/local/domain/0/backend/vbd/$A/51808/sectors" 2>&1); guest: $(tail -3 "$work/pty.txt")"
"$XM" block-detach "$A" xvdg 2>"$work/err" || t_fail "qcow2 detach" "$(cat "$work/err")"

# ---- sharing rules ----
"$XM" block-attach "$A" "file:$work/shared.img" xvdc w >/dev/null 2>&1 && t_ok "GuestA: shared.img w" || t_fail "share w" "$(cat "$work/err")"
xm_err "a second guest, w: refused naming the holder" \
	"Error: Device $work/shared.img is mounted read-write in a guest domain (GuestA, xvdc), and so cannot be mounted now." \
	"$XM" block-attach "$Bd" "file:$work/shared.img" xvdc w
xm_err "the loop device over that file is the same device" \
	"Error: Device $loop is mounted read-write in a guest domain (GuestA, xvdc), and so cannot be mounted now." \
	"$XM" block-attach "$Bd" "phy:$loop" xvdc r
t_check "refusals left nothing in GuestB" no_vbds "$Bd"
"$XM" block-attach "$Bd" "phy:$loop" xvdc 'w!' && t_ok "w! on a second guest is accepted" || t_fail "w!" ""
"$XM" block-detach "$Bd" xvdc && "$XM" block-detach "$A" xvdc && t_ok "both detached" || t_fail "detach shared" ""
"$XM" block-attach "$A" "file:$work/shared.img" xvdc r && "$XM" block-attach "$Bd" "phy:$loop" xvdc r &&
	t_ok "r on two guests (loop and file) is fine" || t_fail "r+r" "$(cat "$work/err")"
xm_err "w while another guest reads: refused" \
	"Error: Device $work/shared.img is mounted in a guest domain (GuestA, xvdc), and so cannot be mounted read-write now." \
	"$XM" block-attach "$Bd" "file:$work/shared.img" xvdd w
"$XM" block-detach "$A" xvdc; "$XM" block-detach "$Bd" xvdc
mkdir -p "$work/hostmnt"
mount "$loop" "$work/hostmnt" 2>/dev/null
xm_err "host mounts it read-write: refused" \
	"Error: Device $loop is mounted read-write on the host ($work/hostmnt), and so cannot be mounted now." \
	"$XM" block-attach "$A" "phy:$loop" xvdc r
umount "$work/hostmnt"; mount -o ro "$loop" "$work/hostmnt" 2>/dev/null
xm_err "host mounts it read-only: w refused" \
	"Error: Device $work/shared.img is mounted on the host ($work/hostmnt), and so cannot be mounted read-write now." \
	"$XM" block-attach "$A" "file:$work/shared.img" xvdc w
"$XM" block-attach "$A" "file:$work/shared.img" xvdc r && t_ok "host mounts it read-only: r accepted" || t_fail "host ro + r" "$(cat "$work/err")"
"$XM" block-detach "$A" xvdc; umount "$work/hostmnt"

# ---- concurrent attach race: exactly one of two w attaches wins ----
"$XM" block-attach "$A" "file:$work/shared.img" xvde w >"$work/ra" 2>&1 & p1=$!
"$XM" block-attach "$Bd" "phy:$loop" xvde w >"$work/rb" 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
[ $((r1 + r2)) -eq 1 ] && t_ok "race: exactly one w attach won ($r1/$r2)" || t_fail "race" "rc $r1 $r2: $(cat "$work/ra" "$work/rb")"
"$XM" block-detach "$A" xvde 2>/dev/null; "$XM" block-detach "$Bd" xvde 2>/dev/null
t_check "race: nothing left in GuestA" no_vbds "$A"
t_check "race: nothing left in GuestB" no_vbds "$Bd"
# The same with both transactions landed before xmbackd looks (it is
# stopped meanwhile): it sees both in one burst of events.
kill -STOP "$BACKD_PID"
"$XM" block-attach "$A" "file:$work/shared.img" xvde w >"$work/ra" 2>&1 & p1=$!
"$XM" block-attach "$Bd" "phy:$loop" xvde w >"$work/rb" 2>&1 & p2=$!
i=0
while [ $i -lt 100 ] && ! { xenstore-exists "/local/domain/0/backend/vbd/$A/51776/state" &&
	xenstore-exists "/local/domain/0/backend/vbd/$Bd/51776/state"; } 2>/dev/null; do
	sleep 0.05; i=$((i + 1))
done
kill -CONT "$BACKD_PID"
wait $p1; r1=$?; wait $p2; r2=$?
[ $((r1 + r2)) -eq 1 ] && t_ok "race, both pending at once: exactly one won ($r1/$r2)" ||
	t_fail "race, both pending" "rc $r1 $r2: $(cat "$work/ra" "$work/rb")"
# (xmbackd took both in one batch: the loser was checked against the
# winner's claim in the same transaction, and Xen's message names it)
if [ $r1 -eq 0 ]; then loser=$work/rb winner=GuestA; else loser=$work/ra winner=GuestB; fi
grep -q "is mounted read-write in a guest domain ($winner, xvde)" "$loser" &&
	t_ok "race, both pending: the refusal names the winner: $(cat "$loser")" ||
	t_fail "race, both pending: the refusal" "$(cat "$loser")"
"$XM" block-detach "$A" xvde 2>/dev/null; "$XM" block-detach "$Bd" xvde 2>/dev/null
t_check "race, both pending: nothing left in GuestA" no_vbds "$A"
t_check "race, both pending: nothing left in GuestB" no_vbds "$Bd"

# ---- a node left over in QEMU (an unplug that timed out) under our name:
# blockdev-add fails, and the device sent with it must not stay bound to it
# (over null-co: the deprivileged QEMU opens no file by its path)
"$QMPCMD" "$XM_RUNDIR/dom/$A/ctl.sock" blockdev-add \
	'{"node-name":"xmblk-51792","driver":"raw","file":{"driver":"null-co","size":8388608}}' >/dev/null
"$XM" block-attach "$A" "file:$work/disk.img" xvdf w >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 1 ] && grep -q "QEMU cannot open" "$work/err" && t_ok "stale node: the attach fails: $(cat "$work/err")" ||
	t_fail "stale node attach" "rc=$rc $(cat "$work/err")"
left=$(no_vbds "$A") && t_ok "stale node: no device left on it, the node removed too" ||
	t_fail "stale node: left behind" "$left"

# ---- xm gives up while xmbackd waits for QEMU: QEMU is stopped, so the
# commands xmbackd sends wait; xm's attach times out and removes the
# nodes; once QEMU runs again the device it adds must be taken out again
qpid=$(cat "$XM_RUNDIR/dom/$A/qemu.pid")
kill -STOP "$qpid"
XM_ATTACH_TIMEOUT=1 "$XM" block-attach "$A" "file:$work/disk.img" xvdf w >/dev/null 2>"$work/err"; rc=$?
kill -CONT "$qpid"
[ $rc -eq 1 ] && grep -q "timed out" "$work/err" && t_ok "QEMU stopped: the attach times out: $(cat "$work/err")" ||
	t_fail "attach with QEMU stopped" "rc=$rc $(cat "$work/err")"
i=0
while ! grep -q "vbd 51792: removed while being connected: unplugged" "$work/backd.log" && [ $i -lt 100 ]; do
	sleep 0.1; i=$((i + 1))
done
grep -q "vbd 51792: removed while being connected: unplugged" "$work/backd.log" &&
	t_ok "xmbackd takes the late device out again" || t_fail "late device" "$(tail -3 "$work/backd.log")"
i=0
while ! no_vbds "$A" >/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
left=$(no_vbds "$A") && t_ok "QEMU stopped: nothing left, in XenStore or QEMU" ||
	t_fail "QEMU stopped: left behind" "$left"
got=$(guest_run "$A" 'ls /dev/xvdf 2>&1; grep -l 51792 /sys/block/vd*/serial 2>/dev/null | wc -l')
case "$got" in *"No such file"*0) t_ok "QEMU stopped: no disk or node in the guest" ;;
*) t_fail "QEMU stopped: guest" "$got" ;; esac

# ---- errors: one line, exit 1, nothing written ----
xm_err "no type prefix" "Error: Block device must have physical details specified" "$XM" block-attach "$A" /dev/loop0 xvdf r
xm_err "bad type" 'Error: Block device type "nbd" is invalid.' "$XM" block-attach "$A" nbd:x xvdf r
xm_err "bad mode" "Error: Invalid mode" "$XM" block-attach "$A" "file:$work/disk.img" xvdf rw-
xm_err "bad vdev" "Error: Unable to find number for device (xvdA)" "$XM" block-attach "$A" "file:$work/disk.img" xvdA r
xm_err "missing backend" "Error: $work/none.img: No such file or directory" "$XM" block-attach "$A" "file:$work/none.img" xvdf r
xm_err "phy: not a block device" \
	"Error: $work/disk.img is not a block device (phy: needs one; use file: for an image)" \
	"$XM" block-attach "$A" "phy:$work/disk.img" xvdf r
xm_err "back domain other than 0" \
	"Error: Backend domain 3 is not supported: only Domain-0 serves block devices here" \
	"$XM" block-attach "$A" "file:$work/disk.img" xvdf r 3
xm_err "unknown domain" "Error: Domain 'nope' does not exist." "$XM" block-attach nope "file:$work/disk.img" xvdf r
# By id, xm reads the domain's name with its first requests; an unknown
# one is still said first, and a run directory left without its domain
# (the name then read with the transaction's start) changes nothing.
xm_err "unknown domain by id" "Error: Domain '4242' does not exist." "$XM" block-attach 4242 "file:$work/disk.img" xvdf r
xm_err "unknown domain by id, before a bad spec" "Error: Domain '4242' does not exist." "$XM" block-attach 4242 nbd:x xvdf r
xm_err "unknown domain by id: detach" "Error: Domain '4242' does not exist." "$XM" block-detach 4242 xvdf
mkdir -p "$XM_RUNDIR/dom/4242"
xm_err "unknown domain by id, its run directory there" "Error: Domain '4242' does not exist." \
	"$XM" block-attach 4242 "file:$work/disk.img" xvdf r
xm_err "unknown domain by id, its run directory there: detach" "Error: Domain '4242' does not exist." \
	"$XM" block-detach 4242 xvdf
left=$(ls -A "$XM_RUNDIR/dom/4242" 2>/dev/null; xenstore-ls /local/domain/0/backend/vbd/4242 2>/dev/null;
	xenstore-ls /local/domain/4242 2>/dev/null)
[ -z "$left" ] && t_ok "unknown domain by id: nothing written, no lock left" || t_fail "unknown domain by id: left" "$left"
rmdir "$XM_RUNDIR/dom/4242" 2>/dev/null
"$XM" block-attach GuestA "file:$work/dvd.iso" xvdg r 2>"$work/err" && "$XM" block-detach GuestA xvdg 2>>"$work/err" &&
	t_ok "attach and detach by the domain's name" || t_fail "by name" "$(cat "$work/err")"
"$XM" block-attach "$A" "file:$work/dvd.iso" /dev/xvda2 r >/dev/null 2>&1
xm_err "already connected" "Error: Device /dev/xvda2 (51714, vbd) is already connected." \
	"$XM" block-attach "$A" "file:$work/dvd2.iso" /dev/xvda2 r
"$XM" block-detach "$A" 51714 && t_ok "detach by number" || t_fail "detach by number" ""
xm_err "detach of a device not there" "Error: Device xvdz not connected" "$XM" block-detach "$A" xvdz
xm_err "detach from Domain-0" "Error: Device xvdb not connected" "$XM" block-detach 0 xvdb
xm_err "detach from Domain-0, by name" "Error: Device xvdb not connected" "$XM" block-detach Domain-0 xvdb
t_check "errors left nothing behind" no_vbds "$A"

# ---- block-list ----
"$XM" block-attach "$A" 'target='"$work/dvd.iso"',vdev=xvdc,access=r,devtype=cdrom' && t_ok "xl disk-spec form, cdrom" ||
	t_fail "xl form" "$(cat "$work/err")"
"$XM" block-list "$A" > "$work/bl"
head -1 "$work/bl" | grep -qx 'Vdev  BE handle state evt-ch ring-ref BE-path' && grep -Eq "^51744 +0 +51744 +4 " "$work/bl" &&
	t_ok "block-list: xm's format" || t_fail "block-list" "$(cat "$work/bl")"

# ---- CD/DVD media ----
guest_run "$A" "mount /dev/xvdc /tmp/mnt && cat /tmp/mnt/README.TXT" | grep -q "hello from the DVD" &&
	t_ok "cdrom: the disc mounts in the guest (iso9660 on scsi-cd)" || t_fail "cdrom mount" "$(tail -5 "$work/pty.txt")"
# The refused eject waits ~2.5 s for the guest to let go; meanwhile xmbackd
# serves others: an attach to GuestB started after it returns before it.
"$XM" cd-eject "$A" xvdc >/dev/null 2>"$work/err" & pe=$!
sleep 0.3
"$XM" block-attach "$Bd" "file:$work/disk2.img" xvdf w 2>"$work/err2"; ra=$?
kill -0 $pe 2>/dev/null; running=$?
wait $pe; rc=$?
[ $rc -eq 1 ] && grep -q "locked" "$work/err" && t_ok "cd-eject refused while mounted: $(cat "$work/err")" ||
	t_fail "eject while mounted" "rc=$rc $(cat "$work/err")"
[ $ra -eq 0 ] && [ $running -eq 0 ] && t_ok "an attach elsewhere completes while the locked eject waits" ||
	t_fail "attach during a waiting eject" "rc=$ra, eject still running: $([ $running -eq 0 ] && echo yes || echo no) $(cat "$work/err2")"
"$XM" block-detach "$Bd" xvdf
guest_run "$A" "umount /tmp/mnt" >/dev/null
"$XM" cd-insert "$A" xvdc "$work/dvd2.iso" && t_ok "cd-insert of another disc after umount" || t_fail "cd-insert" "$(cat "$work/err")"
guest_run "$A" "mount /dev/xvdc /tmp/mnt && ls /tmp/mnt && umount /tmp/mnt" | grep -q README && t_ok "the new disc reads" ||
	t_fail "new disc" "$(tail -5 "$work/pty.txt")"
"$XM" cd-eject "$A" xvdc && t_ok "cd-eject when not mounted" || t_fail "cd-eject" "$(cat "$work/err")"
"$XM" block-configure "$A" "file:$work/dvd.iso" xvdc:cdrom r && [ "$(xenstore-read "/local/domain/0/backend/vbd/$A/51744/params")" = "$work/dvd.iso" ] &&
	guest_run "$A" "mount /dev/xvdc /tmp/mnt && cat /tmp/mnt/README.TXT; umount /tmp/mnt" | grep -q "hello from the DVD" &&
	t_ok "block-configure (xm's form) puts a disc back" || t_fail "block-configure" "$(cat "$work/err") $(tail -3 "$work/pty.txt")"
xm_err "block-configure of a disk (not a cdrom)" "Error: Device xvdb is not a cdrom: only removable media can be changed" \
	sh -c "\"$XM\" block-attach $A file:$work/disk.img xvdb w >/dev/null 2>&1; \"$XM\" block-configure $A file:$work/dvd2.iso xvdb r; rc=\$?; \"$XM\" block-detach $A xvdb; exit \$rc"
"$XM" block-detach "$A" xvdc && t_ok "cdrom detached" || t_fail "cdrom detach" ""

# ---- 20 attach/detach cycles ----
fails=0
for i in $(seq 1 20); do
	"$XM" block-attach "$A" "file:$work/disk.img" xvdb w >/dev/null 2>&1 && "$XM" block-detach "$A" xvdb >/dev/null 2>&1 ||
		fails=$((fails + 1))
done
[ $fails -eq 0 ] && t_ok "20 attach/detach cycles" || t_fail "cycles" "$fails failed"
t_check "cycles: no stale nodes, QEMU devices or claims" no_vbds "$A"

# ---- several disks at once to one guest: each its own job on the guest's
# QEMU, all in flight together; each reaches the guest under its own name ----
pids= want= 
for x in d e f g; do
	truncate -s 4M "$work/par-$x.img" && printf 'XMPAR-%s' "$x" | dd of="$work/par-$x.img" conv=notrunc 2>/dev/null
	"$XM" block-attach "$A" "file:$work/par-$x.img" "xvd$x" w >/dev/null 2>"$work/par-$x.err" &
	pids="$pids $!" want="${want}XMPAR-$x "
done
fails=0; for p in $pids; do wait "$p" || fails=$((fails + 1)); done
[ $fails -eq 0 ] && t_ok "4 attaches at once to one guest" || t_fail "4 attaches at once" "$(cat "$work"/par-*.err)"
got=$(guest_run "$A" 'for x in d e f g; do head -c 7 /dev/xvd$x; echo -n " "; done' | tr -d '\n')
[ "$got" = "$want" ] && t_ok "each at its own name in the guest: $got" || t_fail "parallel names" "got '$got', want '$want'"
pids=
for x in d e f g; do "$XM" block-detach "$A" "xvd$x" >/dev/null 2>"$work/par-$x.err" & pids="$pids $!"; done
fails=0; for p in $pids; do wait "$p" || fails=$((fails + 1)); done
[ $fails -eq 0 ] && t_ok "4 detaches at once" || t_fail "4 detaches at once" "$(cat "$work"/par-*.err)"
t_check "after them: no stale nodes, QEMU devices or claims" no_vbds "$A"

# ---- a burst of more attaches than a guest's QEMU takes jobs at once (8):
# xmbackd stopped while 8 disks and 2 CD/DVDs are asked for, so that it
# finds them in one batch; those past the 8th wait for a job to end (and
# for the batch's end), and all ten connect ----
kill -STOP "$BACKD_PID"
pids= n=0
for x in d e f g h i j k; do
	truncate -s 1M "$work/burst-$x.img" && printf 'XMBST-%s' "$x" | dd of="$work/burst-$x.img" conv=notrunc 2>/dev/null
	"$XM" block-attach "$A" "file:$work/burst-$x.img" "xvd$x" w >/dev/null 2>"$work/burst-$x.err" &
	pids="$pids $!"
done
for x in l m; do
	"$XM" block-attach "$A" "target=$work/dvd.iso,vdev=xvd$x,access=r,devtype=cdrom" \
		>/dev/null 2>"$work/burst-$x.err" &
	pids="$pids $!"
done
i=0
while [ $i -lt 200 ]; do
	n=$(xenstore-list "/local/domain/0/backend/vbd/$A" 2>/dev/null | wc -l)
	[ "$n" -ge 10 ] && break
	sleep 0.05; i=$((i + 1))
done
kill -CONT "$BACKD_PID"
fails=0; for p in $pids; do wait "$p" || fails=$((fails + 1)); done
[ "$n" -ge 10 ] && [ $fails -eq 0 ] && t_ok "10 attaches in one burst to one guest (8 jobs at most): all connected" ||
	t_fail "burst of 10" "$n backends seen; $fails failed: $(cat "$work"/burst-*.err)"
got=$(guest_run "$A" 'ls /dev/xvd[d-m] 2>/dev/null | wc -l' | tr -d '\r\n ')
[ "$got" = 10 ] && t_ok "burst: the guest has all ten" || t_fail "burst: in the guest" "$got of 10"
# each disk its own image: the burst's add-fds, one per device, went out
# on one monitor together, each with its own descriptor (lib/qmp.c, the
# descriptor gate: QEMU keeps only the last one received)
got=$(guest_run "$A" 'for x in d e f g h i j k; do head -c 7 /dev/xvd$x; echo -n " "; done' | tr -d '\r\n')
want="XMBST-d XMBST-e XMBST-f XMBST-g XMBST-h XMBST-i XMBST-j XMBST-k "
[ "$got" = "$want" ] && t_ok "burst: each disk is its own image" || t_fail "burst: images" "got '$got', want '$want'"
pids=
for x in d e f g h i j k l m; do "$XM" block-detach "$A" "xvd$x" >/dev/null 2>"$work/burst-$x.err" & pids="$pids $!"; done
fails=0; for p in $pids; do wait "$p" || fails=$((fails + 1)); done
[ $fails -eq 0 ] && t_ok "burst: 10 detaches at once" || t_fail "burst: detaches" "$(cat "$work"/burst-*.err)"
t_check "burst: no stale nodes, QEMU devices or claims" no_vbds "$A"
"$XM" block-attach "$Bd" "file:$work/disk.img" xvdb w && t_ok "the claim is free again (GuestB takes it w)" || t_fail "claim free" ""

# ---- a guest that dies releases its claims ----
kill -9 "$(cat "$XM_RUNDIR/dom/$Bd/qemu.pid")"
i=0; while xenstore-read "/local/domain/$Bd/name" >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
"$XM" block-attach "$A" "file:$work/disk.img" xvdb w && t_ok "a dead guest's claim is released" || t_fail "dead claim" "$(cat "$work/err")"
"$XM" block-detach "$A" xvdb

# ---- disk = [...] at create time ----
guest_cfg "$work/c.cfg" GuestC 160 1 "disk = [ 'file:$work/dvd.iso,xvda2,r', 'target=$work/shared.img,vdev=xvdb,access=w' ]"
C=$(guest_create "$work/c.cfg") && t_ok "create with disk = [...]" || t_fail "disk=[...]" ""
[ "$(xenstore-read "/local/domain/$C/device/vbd/51714/state" 2>/dev/null)" = 4 ] &&
	[ "$(xenstore-read "/local/domain/$C/device/vbd/51728/state" 2>/dev/null)" = 4 ] &&
	t_ok "disk = [...]: both devices connected" || t_fail "disk=[...] devices" "$("$XM" block-list "$C" 2>&1)"

# no xm died here: xmbackd never took one's work over (it once did when it
# read a finished detach's Closed just before that xm removed the nodes)
n=$(grep -c "left by an xm that died" "$work/backd.log")
[ "$n" = 0 ] && t_ok "xmbackd removed nothing in xm's place" || t_fail "xmbackd took over a live xm" "$n times"

if grep -l "Sanitizer\|runtime error" "$work"/*.stderr "$work"/*.log "$work"/xs/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs"
else
	t_ok "no sanitizer reports"
fi
t_summary
