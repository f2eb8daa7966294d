#!/bin/sh
# tests/guest/deprivilege.sh — each guest's QEMU deprivileged (issue 11;
# xm/create-qemu.c, xmbackd/fdpass.c, man/xmbackd.8 "QEMU deprivileged"),
# with two real guests:
#  - each QEMU runs under its own uid and gid, base + domain id (Uid:, Gid:
#    in /proc/PID/status), with the seccomp filter on (Seccomp: 2,
#    NoNewPrivs: 1), its rlimits, and chrooted in a root that holds
#    neither binaries nor images (/proc/PID/root);
#  - as that uid (util-linux setpriv, the same credentials as the QEMU):
#    the other guest's attached image cannot be opened, nor the guest's
#    own image by its path (QEMU has only the descriptor xmbackd gave it);
#    the run dir, the QMP and console sockets are out of reach; the
#    channel is that uid's alone;
#  - attach / detach / CD change end to end with a mounted fs in the guest,
#    each disk a descriptor (/dev/fdset/N in QEMU), no fdset left after a
#    detach or a disc change;
#  - an xmstored restart: the guest's agent reconnects through the chroot;
#  - an xmbackd restart: an attach killed before its end is finished from
#    QEMU's fd-backed device, and a device whose record is lost is adopted
#    (the image told by its fdset's opaque), with its claim;
#  - a uid base whose range holds a user is refused.
#
#   SANITIZE=address,undefined B=build/x flock /tmp/xm-guest.lock sh tests/guest/deprivilege.sh build/x
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${1:-${B:-build/asan}}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

BASE=${XM_QEMU_UID_BASE:-131072}
loops=
cleanup() {
	for l in $loops; do losetup -d "$l" 2>/dev/null; done
	guests_teardown
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
QMPCMD="$TOP/$B/tests/guest/qmpcmd"
make -s -C "$TOP" SANITIZE="${SANITIZE-}" B="$B" "$B/tests/guest/qmpcmd" >/dev/null

now_ms() { echo $(($(date +%s%N) / 1000000)); }
until_ok() {
	end=$(($(now_ms) + $1 * 1000)); shift
	until "$@"; do [ "$(now_ms)" -lt "$end" ] || return 1; sleep 0.05; done
}
qpid() { cat "$XM_RUNDIR/dom/$1/qemu.pid"; }
qmp() { "$QMPCMD" "$XM_RUNDIR/dom/$1/ctl.sock" "$2" ${3:+"$3"} 2>&1; }
# as the uid of domain $1's QEMU, with no other group: its credentials
as_qemu() { u=$(($BASE + $1)); shift; setpriv --reuid="$u" --regid="$u" --clear-groups "$@"; }
# the fdsets QEMU holds of xmbackd's
fdsets() { qmp "$1" query-fdsets | grep -o '"opaque": *"xmblk-[^"]*"' | sort | tr '\n' ' '; }
no_fdsets() { [ -z "$(fdsets "$1")" ]; }

# ---- images: root's, 0600, in a directory anyone may pass ----
mkdir -m 0755 "$work/img"
for n in a b; do
	truncate -s 32M "$work/img/$n.img" && mkfs.ext4 -q -F -L "xm$n" "$work/img/$n.img"
done
mkdir -p "$work/iso"
echo "hello from the DVD" > "$work/iso/README.TXT"
genisoimage -quiet -R -J -V XMDVD -o "$work/img/dvd.iso" "$work/iso" 2>/dev/null
echo "the second disc" > "$work/iso/README.TXT"
genisoimage -quiet -R -J -V XMDVD2 -o "$work/img/dvd2.iso" "$work/iso" 2>/dev/null
chmod 0600 "$work/img/"*
loop=$(losetup -f --show "$work/img/b.img") && loops=$loop

guest_cfg "$work/a.cfg" PrivA
guest_cfg "$work/b.cfg" PrivB
A=$(guest_create "$work/a.cfg") && t_ok "PrivA up (id $A)" || { t_fail PrivA "no"; t_summary; exit 1; }
Bd=$(guest_create "$work/b.cfg") && t_ok "PrivB up (id $Bd)" || { t_fail PrivB "no"; t_summary; exit 1; }

# ---- each QEMU: its own uid, the sandbox, its limits, its chroot ----
for d in "$A" "$Bd"; do
	p=$(qpid "$d") u=$(($BASE + d))
	st=$(cat "/proc/$p/status")
	uid=$(echo "$st" | awk '/^Uid:/ {print $2, $3, $4, $5}')
	gid=$(echo "$st" | awk '/^Gid:/ {print $2, $3, $4, $5}')
	grp=$(echo "$st" | awk '/^Groups:/ {$1 = ""; print}' | tr -d ' ')
	sc=$(echo "$st" | awk '/^Seccomp:/ {print $2}') nnp=$(echo "$st" | awk '/^NoNewPrivs:/ {print $2}')
	capeff=$(echo "$st" | awk '/^CapEff:/ {print $2}')
	[ "$uid" = "$u $u $u $u" ] && [ "$gid" = "$u $u $u $u" ] && [ -z "$grp" -o "$grp" = "$u" ] &&
		t_ok "domain $d's QEMU (pid $p) runs as uid and gid $u (base $BASE + $d): $uid" ||
		t_fail "uid of domain $d's QEMU" "Uid: $uid Gid: $gid Groups: $grp (want $u)"
	[ "$sc" = 2 ] && [ "$nnp" = 1 ] && [ "$capeff" = 0000000000000000 ] &&
		t_ok "  ... Seccomp: 2, NoNewPrivs: 1, no capability" ||
		t_fail "sandbox of domain $d" "Seccomp: $sc NoNewPrivs: $nnp CapEff: $capeff"
	lim=$(awk '/^Max (core file size|locked memory|open files|processes)/ {print $(NF-2)}' "/proc/$p/limits" | tr '\n' ' ')
	[ "$lim" = "0 512 4096 0 " ] &&
		t_ok "  ... rlimits core 0, memlock 0, nofile 4096, nproc 512" ||
		t_fail "rlimits of domain $d" "$(grep -E 'core|locked|open files|processes' "/proc/$p/limits" | tr -s ' ' | tr '\n' ';')"
	root=$(ls -A "/proc/$p/root" | tr '\n' ' ')
	[ ! -e "/proc/$p/root/usr" ] && [ ! -e "/proc/$p/root$work/img" ] && [ -e "/proc/$p/root/dev/null" ] &&
		! touch "/proc/$p/root/x" 2>/dev/null &&
		t_ok "  ... chrooted in a read-only root of [$root] only: no /usr, no image path" ||
		t_fail "chroot of domain $d" "its root: [$root]"
done

# ---- disks go in as descriptors ----
"$XM" block-attach "$A" "file:$work/img/a.img" xvdb w && t_ok "attach of PrivA's image" || t_fail "attach A" ""
"$XM" block-attach "$Bd" "phy:$loop" xvdb w && t_ok "attach of PrivB's image (phy: a loop device)" || t_fail "attach B" ""
qa=$(qmp "$A" query-block)
echo "$qa" | grep -q '"file": *"/dev/fdset/[0-9]*"' && ! echo "$qa" | grep -q "$work/img" &&
	t_ok "PrivA's QEMU has its disk as /dev/fdset/N, never by its path" ||
	t_fail "fdset in QEMU" "$(echo "$qa" | grep -o '"file": *"[^"]*"')"
fd=$(ls -l "/proc/$(qpid "$A")/fd" | grep -c "$work/img/a.img")
[ "$fd" -ge 1 ] && t_ok "  ... the descriptor xmbackd opened is in its QEMU ($fd of them)" ||
	t_fail "descriptor in QEMU" "$(ls -l "/proc/$(qpid "$A")/fd" | tail -5)"
case $(fdsets "$A") in *"xmblk-51728:$work/img/a.img"*) t_ok "  ... its fdset's opaque names the image: $(fdsets "$A")" ;;
	*) t_fail "opaque" "$(fdsets "$A")" ;; esac

# ---- what the uid of a QEMU can reach ----
out=$(as_qemu "$A" cat "$work/img/b.img" 2>&1 >/dev/null) && t_fail "A's uid opens B's image" "it could" ||
	t_ok "as PrivA's QEMU uid: opening PrivB's attached image fails: $out"
out=$(as_qemu "$A" cat "$loop" 2>&1 >/dev/null) && t_fail "A's uid opens B's loop device" "it could" ||
	t_ok "  ... and PrivB's loop device: $out"
out=$(as_qemu "$A" cat "$work/img/a.img" 2>&1 >/dev/null) && t_fail "A's uid opens its own image" "it could" ||
	t_ok "  ... and its own image by path (it has only the descriptor): $out"
out=$(as_qemu "$A" ls "$XM_RUNDIR/dom/$A" 2>&1) && t_fail "A's uid lists its run dir" "$out" ||
	t_ok "  ... its run dir is out of reach: $out"
for s in qmp.sock ctl.sock console.sock console.log; do
	out=$(as_qemu "$A" sh -c ": < '$XM_RUNDIR/dom/$A/$s'" 2>&1) || true
	case $out in *"ermission denied"*) t_ok "  ... $s: $out" ;;
		*) t_fail "$s reachable by A's uid" "[$out]" ;; esac
done
for d in "$A" "$Bd"; do
	o=$(stat -c '%u:%g %a' "$(dirname "$XENSTORED_PATH")/domains/domain-$d.sock")
	[ "$o" = "$(($BASE + d)):$(($BASE + d)) 600" ] && t_ok "domain $d's channel is its QEMU uid's only ($o)" ||
		t_fail "channel owner of $d" "$o"
done

# ---- attach, detach, CD change end to end, a mounted fs in the guest ----
out=$(guest_run "$A" "mkdir -p /tmp/m && mount /dev/xvdb /tmp/m && echo deprivileged > /tmp/m/f && sync && cat /tmp/m/f && umount /tmp/m")
[ "$out" = deprivileged ] && t_ok "PrivA mounts its fd-backed disk, writes, reads, unmounts" ||
	t_fail "mount in A" "$out $(tail -3 "$work/pty.txt")"
"$XM" block-detach "$A" xvdb && until_ok 5 no_fdsets "$A" && t_ok "detach: no fdset left in QEMU" ||
	t_fail "fdset after detach" "$(fdsets "$A")"
n0=$(ls "/proc/$(qpid "$A")/fd" | wc -l) fails=0
for i in 1 2 3 4 5; do
	"$XM" block-attach "$A" "file:$work/img/a.img" xvdb w >/dev/null 2>&1 &&
		"$XM" block-detach "$A" xvdb >/dev/null 2>&1 || fails=$((fails + 1))
done
n1=$(ls "/proc/$(qpid "$A")/fd" | wc -l)
[ $fails -eq 0 ] && no_fdsets "$A" && [ "$n1" -le "$n0" ] &&
	t_ok "5 attach/detach cycles: no fdset and no descriptor left ($n0 -> $n1 fds)" ||
	t_fail "cycles" "$fails failed; fdsets [$(fdsets "$A")]; fds $n0 -> $n1"
"$XM" block-attach "$A" "file:$work/img/dvd.iso" xvdc:cdrom r && t_ok "a DVD attached" || t_fail "DVD" ""
out=$(guest_run "$A" "mount /dev/xvdc /tmp/m && cat /tmp/m/README.TXT; umount /tmp/m")
[ "$out" = "hello from the DVD" ] && t_ok "  ... mounted and read in the guest" || t_fail "DVD read" "$out"
"$XM" cd-insert "$A" xvdc "$work/img/dvd2.iso" && t_ok "cd-insert of another disc" || t_fail "cd-insert" ""
out=$(guest_run "$A" "mount /dev/xvdc /tmp/m && cat /tmp/m/README.TXT; umount /tmp/m")
[ "$out" = "the second disc" ] && t_ok "  ... the new disc reads in the guest" || t_fail "new disc" "$out"
set -- $(fdsets "$A")
[ $# -eq 1 ] && case $1 in *dvd2.iso*) true ;; *) false ;; esac &&
	t_ok "  ... one fdset, the new disc's: the old one's removed" || t_fail "fdsets after the change" "$*"
"$XM" cd-eject "$A" xvdc && no_fdsets "$A" && t_ok "cd-eject: no fdset left" || t_fail "eject" "$(fdsets "$A")"
"$XM" block-detach "$A" xvdc && t_ok "the DVD drive detached" || t_fail "DVD detach" ""

# ---- xmstored restarted: the agent reconnects through the chroot ----
"$XM" block-attach "$A" "file:$work/img/a.img" xvdb w >/dev/null 2>&1
guest_run "$A" "mount /dev/xvdb /tmp/m" >/dev/null
kill -9 "$XS_PID"; wait "$XS_PID" 2>/dev/null
xs_start xm "$work/xs" || t_fail "xmstored restart" "did not start"
t0=$(now_ms)
reconnect() { # the guest reads the store again: through the channel, as its uid
	out=$(guest_run "$A" "xenstore-read /local/domain/$A/name" 2>/dev/null); [ "$out" = PrivA ]; }
until_ok 30 reconnect && t_ok "xmstored restarted: PrivA's agent reads the store again ($(($(now_ms) - t0)) ms)" ||
	t_fail "agent after the store restart" "$out"
out=$(guest_run "$A" "echo again > /tmp/m/g && cat /tmp/m/g")
[ "$out" = again ] && t_ok "  ... the mounted fd-backed disk still writes" || t_fail "disk after store restart" "$out"
"$XM" block-attach "$Bd" "file:$work/img/dvd.iso" xvdc:cdrom r && "$XM" block-detach "$Bd" xvdc &&
	t_ok "  ... and attach/detach work after it" || t_fail "attach after store restart" ""

# ---- xmbackd restarted: what QEMU holds by descriptor is known again ----
claim0=$(xenstore-read "/tool/xm/domain/$A/vbd/51728/claim" 2>/dev/null)
kill "$BACKD_PID"; wait "$BACKD_PID" 2>/dev/null
xenstore-rm "/tool/xm/domain/$A/vbd/51728"
backd_start
adopted() { [ "$(xenstore-read "/tool/xm/domain/$A/vbd/51728/phase" 2>/dev/null)" = connected ] &&
	[ "$(xenstore-read "/tool/xm/domain/$A/vbd/51728/claim" 2>/dev/null)" = "$claim0" ]; }
until_ok 15 adopted && t_ok "xmbackd restarted, the disk's record lost: adopted from QEMU's fd-backed device (claim $claim0)" ||
	t_fail "adopt" "phase $(xenstore-read "/tool/xm/domain/$A/vbd/51728/phase" 2>&1) claim $(xenstore-read "/tool/xm/domain/$A/vbd/51728/claim" 2>&1); $(tail -3 "$work/backd.log")"
out=$("$XM" block-attach "$Bd" "file:$work/img/a.img" xvdd w 2>&1) && t_fail "claim after adoption" "B got A's image: $out" ||
	case $out in *"mounted read-write in a guest domain (PrivA, xvdb)"*) t_ok "  ... its claim holds: $out" ;;
		*) t_fail "claim after adoption" "$out" ;; esac
[ -n "$(xenstore-read "/tool/xm/domain/$A/vbd/51728/fdset" 2>/dev/null)" ] && t_ok "  ... its fdset recorded again" ||
	t_fail "fdset record" "none"
guest_run "$A" "umount /tmp/m" >/dev/null
"$XM" block-detach "$A" xvdb && until_ok 5 no_fdsets "$A" && t_ok "  ... detached: no fdset left" ||
	t_fail "detach after adoption" "$(fdsets "$A")"

kill "$BACKD_PID"; wait "$BACKD_PID" 2>/dev/null
XM_CRASH_AT=xmbackd.before-connected; export XM_CRASH_AT
backd_start
unset XM_CRASH_AT
"$XM" block-attach "$A" "file:$work/img/a.img" xvdb w >"$work/att.out" 2>&1 & xp=$!
until_ok 30 sh -c "! kill -0 $BACKD_PID 2>/dev/null"; wait "$BACKD_PID" 2>/dev/null
backd_start
wait $xp; rc=$?
[ $rc -eq 0 ] && [ "$(xenstore-read "/tool/xm/domain/$A/vbd/51728/phase" 2>/dev/null)" = connected ] &&
	t_ok "an attach whose xmbackd died before its end is finished from QEMU's fd-backed device" ||
	t_fail "finish after crash" "rc=$rc $(cat "$work/att.out") $(tail -3 "$work/backd.log")"
out=$(guest_run "$A" "mount /dev/xvdb /tmp/m && cat /tmp/m/f /tmp/m/g && umount /tmp/m" | tr '\n' ' ')
[ "$out" = "deprivileged again " ] && t_ok "  ... the disk reads in the guest: $out" || t_fail "disk after finish" "$out"
"$XM" block-detach "$A" xvdb && until_ok 5 no_fdsets "$A" && t_ok "  ... detached: no fdset left" ||
	t_fail "detach after finish" "$(fdsets "$A")"

# ---- the debugging switch: QEMU as root, unconfined; disks still by fd ----
guest_cfg "$work/d.cfg" PrivDebug
XM_DEBUG_QEMU_AS_ROOT=1; export XM_DEBUG_QEMU_AS_ROOT
D=$(guest_create "$work/d.cfg")
unset XM_DEBUG_QEMU_AS_ROOT
[ -n "$D" ] && p=$(qpid "$D") &&
	[ "$(awk '/^Uid:/ {print $2}' "/proc/$p/status")" = 0 ] && [ -e "/proc/$p/root/usr" ] &&
	t_ok "XM_DEBUG_QEMU_AS_ROOT=1: domain $D's QEMU runs as root, unconfined" ||
	t_fail "debug switch" "id '$D' $(grep -E '^(Uid|Seccomp):' "/proc/${p:-0}/status" 2>&1 | tr '\n' ' ')"
"$XM" block-attach "$D" "file:$work/img/dvd2.iso" xvdb r && "$XM" block-detach "$D" xvdb && no_fdsets "$D" &&
	t_ok "  ... attach and detach work there too" || t_fail "debug switch attach" "$(fdsets "$D")"
"$XM" destroy "$D" >/dev/null 2>&1

# ---- a uid base whose range holds a user is refused ----
guest_cfg "$work/c.cfg" PrivC
nobody=$(id -u nobody)
out=$(XM_QEMU_UID_BASE=$((nobody - 5)) "$XM" create "$work/c.cfg" 2>&1) && t_fail "colliding base" "accepted: $out" ||
	case $out in *"holds user nobody"*) t_ok "a base whose range holds user nobody is refused: $(echo "$out" | grep Error)" ;;
		*) t_fail "colliding base" "$out" ;; esac
"$XM" list 2>/dev/null | grep -q PrivC && t_fail "refused create" "PrivC left" || t_ok "  ... and leaves nothing"

t_summary
