#!/bin/sh
# tests/guest/hvm.sh — HVM guests (builder = "hvm", issue 13): guests that
# boot from their own disk through the BIOS, real QEMU, real images.
# - the disk of guest/build-disk.sh (make disk-image: an MBR, extlinux, an
#   ext4 root with busybox and the agent installed as its package lays it
#   out, started from its unit's ExecStart=): xm create with Xen's
#   kernel = hvmloader boots it; the boot's seconds are printed; its
#   vif = [...]: the NIC up by its MAC, Connected, a ping to the host
#   across a test bridge; the root is the disk's partition; the agent
#   runs as the unit says; xm list shows the guest;
# - a disk hot-attached with xm block-attach is /dev/xvdb in the guest,
#   mounted, written, unmounted; xm block-detach removes it; the file is in
#   the image on the host; xm shutdown powers the guest off, nothing left;
# - boot = "dc" with a bootable ISO at hdc:cdrom boots the CD (the default
#   guest image on it); boot = "cd" with the same disks boots the disk;
# - type = "hvm" with a kernel (xl's direct kernel boot): the BIOS boots it;
# - xm killed at xm.create-booting (QEMU paused, its disk realised) or at
#   xm.create-booted (let run, not yet recorded running): xmbackd undoes
#   the domain, nothing left;
# - refused: vnc = 1 (one line, the key and why), a missing disk image
#   (one line, nothing left: no nodes, run dir or QEMU).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

trap guests_teardown EXIT
trap 'exit 1' INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
# the HVM guest's vif goes on this bridge; the host's address on it is
# what the guest pings
bridge_make 10.79.0.254/24 ||
	{ t_fail setup "cannot make bridge $BR"; t_summary; exit 1; }
san=${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}
make -s -C "$TOP" SANITIZE="$san" B="$B" disk-image >"$work/disk.log" 2>&1 ||
	{ t_fail "make disk-image" "$(tail -3 "$work/disk.log")"; t_summary; exit 1; }

now_ms() { date +%s%3N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }
nothing_left() {
	doms=$(xenstore-list /local/domain 2>/dev/null | grep -vx 0 | tr '\n' ' ')
	recs=$(xenstore-list /tool/xm/domain 2>/dev/null | tr '\n' ' ')
	dirs=$(ls "$XM_RUNDIR/dom" 2>/dev/null | tr '\n' ' ')
	bes=$(xenstore-list /local/domain/0/backend/vbd 2>/dev/null | tr '\n' ' ')$(xenstore-list /local/domain/0/backend/vif 2>/dev/null | tr '\n' ' ')
	q=$(pgrep -f "$XM_RUNDIR/dom" | tr '\n' ' ')
	[ -z "$doms$recs$dirs$bes$q" ] ||
		{ echo "left: doms[$doms] recs[$recs] dirs[$dirs] backends[$bes] qemu[$q]"; return 1; }
}
fe_connected() { # fe_connected ID DEVID SECONDS: the guest's agent connected it
	i=0
	while [ "$(xenstore-read "/local/domain/$1/device/vbd/$2/state" 2>/dev/null)" != 4 ]; do
		i=$((i + 1)); [ $i -gt $(($3 * 10)) ] && return 1; sleep 0.1
	done
}
gone() { # gone ID SECONDS: the domain's nodes removed
	i=0
	while xenstore-exists "/local/domain/$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1; sleep 0.1
	done
}

# the guest's own disk: a copy of the built one (the guest writes to it)
cp --sparse=always "$TOP/$B/guest/hvm-disk.img" "$work/hvm.img"
ISO=$TOP/$B/guest/hvm-cd.iso
hvm_cfg() { # hvm_cfg FILE NAME [LINES...]
	f=$1 n=$2; shift 2
	{
		echo 'kernel = "/usr/lib/xen/boot/hvmloader"'
		echo "builder = 'hvm'"
		echo "name = \"$n\""
		echo 'memory = 256'
		echo "serial = 'pty'"
		echo 'vnc = 0'
		for l in "$@"; do echo "$l"; done
	} >"$f"
}

# ---- boot from its own disk ----
HMAC=00:16:3e:5c:00:01
hvm_cfg "$work/hvm.cfg" HvmGuest "disk = [ 'file:$work/hvm.img,xvda,w' ]" 'boot = "c"' \
	"vif = [ 'mac=$HMAC, bridge=$BR' ]"
t0=$(now_ms)
if id=$(guest_create "$work/hvm.cfg"); then
	t1=$(now_ms)
	t_ok "HVM guest booted from its disk by the BIOS, agent ready in $(secs "$t0" "$t1") s"
else
	t_fail "HVM guest boots from its disk" "see above"; t_summary; exit 1
fi
# its vif: the disk's kernel has the NIC (virtio_net), the agent brings it
# up by its MAC and says Connected; traffic to the host across the bridge
nic=$(guest_run "$id" "for n in /sys/class/net/*; do [ \"\$(cat \$n/address)\" = $HMAC ] && echo \${n##*/}; done" | tr -d '\r')
fl=$(guest_run "$id" "cat /sys/class/net/$nic/flags" | tr -d '\r\n')
if [ "$(echo "$nic" | grep -c .)" = 1 ] && [ $((fl & 1)) = 1 ] &&
	[ "$(xenstore-read "/local/domain/$id/device/vif/0/state" 2>/dev/null)" = 4 ] &&
	[ "$(xenstore-read "/local/domain/0/backend/vif/$id/0/state" 2>/dev/null)" = 4 ] &&
	on_bridge "vif$id.0"; then
	t_ok "its vif = [...]: NIC $nic with $HMAC, brought up by the agent (flags $fl), both ends Connected, tap vif$id.0 on $BR"
else
	t_fail "the HVM guest's vif" "NIC '$nic' flags '$fl'; fe $(xenstore-read "/local/domain/$id/device/vif/0/state" 2>&1)"
fi
guest_run "$id" "ip addr add 10.79.0.1/24 dev $nic && ping -c 2 -W 3 10.79.0.254 >/dev/null" >/dev/null &&
	t_ok "... it pings the host's address on $BR (10.79.0.254) from 10.79.0.1" ||
	t_fail "the HVM guest's traffic" "$(tail -3 "$work/pty.txt")"
out=$(guest_run "$id" 'cat /proc/cmdline; awk '"'"'$2 == "/" { print $1, $3 }'"'"' /proc/mounts; findfs LABEL=xmhvmroot')
echo "$out" | grep -q 'xm.hvm=disk' && echo "$out" | grep -q '^/dev/vda1 ext4$' &&
	echo "$out" | grep -q '^/dev/x*vda1$' &&
	t_ok "its root is the ext4 partition of its disk (extlinux booted the disk's kernel)" ||
	t_fail "root on the disk" "$out"
out=$(guest_run "$id" 'ps -o args | grep "^/usr/sbin/xmfront"; sed -n "s/^ExecStart=//p" /lib/systemd/system/xmfront.service')
[ "$(echo "$out" | sed -n 1p)" = "/usr/sbin/xmfront --resync-restarted" ] &&
	[ "$(echo "$out" | sed -n 2p)" = "/usr/sbin/xmfront --resync-restarted" ] &&
	t_ok "the agent runs from its packaged path as its unit's ExecStart= says" ||
	t_fail "the agent as a service" "$out"
# the package's files (debian/xm-guest-agent.install), the agent this build made
files=$(sed 's|/$||' "$TOP/debian/xm-guest-agent.install" | tr '\n' ' ')
sum=$(md5sum <"$TOP/$B/xmfront/xmfront" | cut -d' ' -f1)
out=$(guest_run "$id" "cd / && for f in $files; do [ -f \$f ] && echo \$f; done; md5sum </usr/sbin/xmfront")
[ "$out" = "$(printf '%s\n' $files "$sum  -")" ] &&
	t_ok "the disk holds the files of package xm-guest-agent ($files), xmfront this build's" ||
	t_fail "the package's files on the disk" "$out"
"$XM" list | grep -q "^HvmGuest  *$id " && t_ok "xm list shows the HVM guest" ||
	t_fail "xm list" "$("$XM" list 2>&1)"
bi=$(xenstore-read "/local/domain/0/backend/vbd/$id/51712/bootindex" 2>/dev/null)
[ "$bi" = 1 ] && t_ok "its disk went to QEMU with bootindex 1 (boot = \"c\")" ||
	t_fail "bootindex" "backend bootindex '$bi'"

# ---- a disk hot-attached, used, detached ----
truncate -s 32M "$work/data.img" && mkfs.ext4 -q -F "$work/data.img" ||
	t_fail "data image" "mkfs.ext4"
"$XM" block-attach "$id" "file:$work/data.img" xvdb w 2>"$work/err" &&
	t_ok "xm block-attach file:data.img xvdb w" || t_fail "block-attach" "$(cat "$work/err")"
out=$(guest_run "$id" 'ls -l /dev/xvdb && mount /dev/xvdb /mnt && echo hvm-was-here > /mnt/hello && umount /mnt && echo written')
echo "$out" | grep -q '^brw' && echo "$out" | grep -q '^written$' &&
	t_ok "the guest mounts /dev/xvdb, writes a file, unmounts it" || t_fail "use xvdb" "$out"
"$XM" block-detach "$id" xvdb 2>"$work/err" && t_ok "xm block-detach xvdb" ||
	t_fail "block-detach" "$(cat "$work/err")"
out=$(guest_run "$id" '[ -e /dev/xvdb ] && echo present || echo absent')
[ "$out" = absent ] && [ -z "$(xenstore-list "/local/domain/0/backend/vbd/$id" 2>/dev/null | grep -vx 51712)" ] &&
	t_ok "xvdb is gone from the guest and from XenStore" || t_fail "detached" "$out"
got=$(debugfs -R 'cat /hello' "$work/data.img" 2>/dev/null)
[ "$got" = hvm-was-here ] && t_ok "the guest's file is in the image on the host" ||
	t_fail "the file on the host" "'$got'"
out=$(timeout 60 "$XM" shutdown -w "$id" 2>&1) && gone "$id" 30 &&
	t_ok "xm shutdown -w: the HVM guest powered off ($out)" || t_fail "shutdown" "$out"
t_check "nothing left after its shutdown" nothing_left

# ---- boot order with a CD-ROM ----
hvm_cfg "$work/cd.cfg" HvmCd "disk = [ 'file:$work/hvm.img,xvda,w', 'file:$ISO,hdc:cdrom,r' ]" \
	'boot = "dc"' 'on_reboot = "destroy"'
t0=$(now_ms)
if id=$(guest_create "$work/cd.cfg"); then
	t1=$(now_ms)
	fe_connected "$id" 5632 30 || t_fail "the CD-ROM connected" "frontend not Connected"
	out=$(guest_run "$id" 'cat /proc/cmdline; ls /dev/xvdc')
	echo "$out" | grep -q 'xm.hvm=cd' && echo "$out" | grep -qx '/dev/xvdc' &&
		t_ok "boot = \"dc\": booted from the ISO at hdc:cdrom (/dev/xvdc in the guest) in $(secs "$t0" "$t1") s" ||
		t_fail "boot = dc" "$out"
	"$XM" destroy "$id" && gone "$id" 30 || t_fail "destroy" "the CD guest"
else
	t_fail "boot = \"dc\" boots the CD" "see above"
fi
sed -i 's/^boot = .*/boot = "cd"/; s/^name = .*/name = "HvmDisk"/' "$work/cd.cfg"
if id=$(guest_create "$work/cd.cfg"); then
	out=$(guest_run "$id" 'cat /proc/cmdline')
	echo "$out" | grep -q 'xm.hvm=disk' && t_ok "boot = \"cd\", the same disks: booted from the disk" ||
		t_fail "boot = cd" "$out"
	"$XM" destroy "$id" && gone "$id" 30 || t_fail "destroy" "the disk guest"
else
	t_fail "boot = \"cd\" boots the disk" "see above"
fi
t_check "nothing left after destroy" nothing_left

# ---- xl's direct kernel boot of an HVM guest: its BIOS loads the kernel ----
{
	echo 'type = "hvm"'
	echo 'name = "HvmDirect"'
	echo 'memory = 256'
	echo "kernel = \"$TOP/$B/guest/bzImage\""
	echo "ramdisk = \"$TOP/$B/guest/initramfs.cpio.gz\""
	echo 'extra = "xm.hvm=direct"'
} >"$work/direct.cfg"
t0=$(now_ms)
if id=$(guest_create "$work/direct.cfg"); then
	t1=$(now_ms)
	out=$(guest_run "$id" 'cat /proc/cmdline')
	echo "$out" | grep -q 'xm.hvm=direct' &&
		t_ok "type = \"hvm\" with a kernel: booted directly by the BIOS in $(secs "$t0" "$t1") s" ||
		t_fail "direct kernel boot" "$out"
	"$XM" destroy "$id" && gone "$id" 30 || t_fail "destroy" "the direct-boot guest"
else
	t_fail "type = \"hvm\" with a kernel boots it" "see above"
fi

# ---- xm killed while the guest waits paused for its disks (state
# "booting"), or just after it let it run: xmbackd undoes the domain ----
for pt in xm.create-booting xm.create-booted; do
	cp --sparse=always "$TOP/$B/guest/hvm-disk.img" "$work/hvm.img"
	XM_CRASH_AT=$pt "$XM" create "$work/hvm.cfg" >"$work/out" 2>&1; rc=$?
	i=0
	while ! nothing_left >/dev/null && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
	[ $rc -eq 137 ] && nothing_left >/dev/null &&
		t_ok "xm create killed at $pt: xmbackd undid the HVM guest (QEMU, disk, nodes) in $((i / 10)) s" ||
		t_fail "xm create killed at $pt" "rc=$rc $(nothing_left)"
done

# ---- refusals ----
hvm_cfg "$work/vnc.cfg" HvmVnc "disk = [ 'file:$work/hvm.img,xvda,w' ]"
sed -i 's/^vnc = 0/vnc = 1/' "$work/vnc.cfg"
xm_err "vnc = 1 is refused in one line naming the key" \
	"Error: $work/vnc.cfg:6: vnc = 1 is not supported (only 0): a guest has no display (QEMU runs with -display none), only its serial console (xm console)" \
	"$XM" create "$work/vnc.cfg"
hvm_cfg "$work/miss.cfg" HvmMissing "disk = [ 'file:$work/missing.img,xvda,w' ]"
xm_err "a missing disk image: one clear error" \
	"Error: $work/missing.img: No such file or directory" "$XM" create "$work/miss.cfg"
t_check "a missing disk image leaves nothing (nodes, run dir, QEMU)" nothing_left
t_summary
