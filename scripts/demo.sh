#!/bin/sh
# The walk-through: Xen's xm block hot-plug session on real QEMU guests.
# Every command is printed as it runs, like a tutorial; commands "in the
# guest" are typed into the guest's serial console (xm console) for you.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
# scripts/demo.sh [BUILD_DIR]          the programs of a build (default
#                                      build/release), sockets in /tmp
# scripts/demo.sh --installed [PREFIX] the installed ones (default /usr),
#                                      their default paths, XenGuest1 from
#                                      /etc/xen (what the package installs)
PREFIX=
if [ "${1:-}" = --installed ]; then
	PREFIX=${2:-/usr}
	set -- build/release
fi
B=${1:-build/release}
export B TOP
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

loop=
cleanup() {
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	guests_teardown
}
trap cleanup EXIT INT TERM

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; rc=$?; [ $rc -eq 0 ] || printf '(exit status %d)\n' "$rc"; return $rc; }
ing() { # ing DOMID NAME CMD: a command typed in the guest
	printf '(%s)# %s\n' "$2" "$3"
	guest_run "$1" "$3"
	r=$?; [ $r -eq 0 ] || printf '(exit status %d)\n' "$r"
	return $r
}

say "Start the control plane: xmstored (XenStore) and xmbackd (backend daemon)"
if [ -n "$PREFIX" ]; then
	guests_setup_installed "$PREFIX/sbin" || { echo "demo: setup failed" >&2; exit 1; }
	PATH="$PREFIX/sbin:$PATH"
	echo "$PREFIX/sbin/xmstored, $PREFIX/sbin/xmbackd: sockets in /run/xenstored, /run/xm"
	CFG1=XenGuest1 CFGFILE1=/etc/xen/XenGuest1.cfg # xm create finds it there
	sed 's/XenGuest1/XenGuest2/' /etc/xen/XenGuest1.cfg > "$work/XenGuest2.cfg"
else
	guests_setup || { echo "demo: setup failed" >&2; exit 1; }
	PATH="$TOP/$B/xm:$TOP/$B/xmstored:$TOP/$B/xmbackd:$PATH"
	echo "XENSTORED_PATH=$XENSTORED_PATH XM_RUNDIR=$XM_RUNDIR"
	sed "s|\.\./build/release|$TOP/$B|" "$TOP/examples/XenGuest1.cfg" > "$work/XenGuest1.cfg"
	sed 's/XenGuest1/XenGuest2/' "$work/XenGuest1.cfg" > "$work/XenGuest2.cfg"
	CFG1=$work/XenGuest1.cfg CFGFILE1=$work/XenGuest1.cfg
fi
XM=xm

say "Create the default guest (Debian's kernel, busybox, the xmfront agent)"
run cat "$CFGFILE1"
printf '$ xm create %s\n' "$CFG1"
D1=$(guest_create "$CFG1") || exit 1
echo "Started domain XenGuest1 (id=$D1); its agent is up"
run "$XM" list

say "A DVD image and a disk image, made on the host"
mkdir -p "$work/dvd"
echo "Hello from the DVD" > "$work/dvd/README.TXT"
cp "$TOP/README.md" "$work/dvd/"
run genisoimage -quiet -R -J -V XMDVD -o "$work/dvd.iso" "$work/dvd"
run truncate -s 64M "$work/disk.img"
run mkfs.ext4 -q -F -L xmdisk "$work/disk.img"
loop=$(losetup -f --show "$work/disk.img")
echo "$ losetup -f --show $work/disk.img"; echo "$loop"

say "Attach the DVD to the running guest as /dev/xvda2, read-only"
run "$XM" block-attach "$D1" "file:$work/dvd.iso" /dev/xvda2 r
run "$XM" block-list "$D1"
ing "$D1" XenGuest1 "ls -l /dev/xvda2"
ing "$D1" XenGuest1 "mkdir -p /tmp/mnt; mount /dev/xvda2 /tmp/mnt; ls -l /tmp/mnt; cat /tmp/mnt/README.TXT"
ing "$D1" XenGuest1 "touch /tmp/mnt/new-file"

say "Detaching a device the guest still uses is refused (Xen: 'Device in use')"
run "$XM" block-detach "$D1" /dev/xvda2
ing "$D1" XenGuest1 "umount /tmp/mnt"
run "$XM" block-detach "$D1" /dev/xvda2
ing "$D1" XenGuest1 "ls -l /dev/xvda2"

say "A disk through a loop device (phy:), read-write"
run "$XM" block-attach "$D1" "phy:$loop" /dev/xvdb w
ing "$D1" XenGuest1 "mount /dev/xvdb /tmp/mnt; echo 'written by XenGuest1' > /tmp/mnt/note; cat /tmp/mnt/note; umount /tmp/mnt"

say "A second guest may not have it while XenGuest1 writes to it ..."
printf '$ xm create %s\n' "$work/XenGuest2.cfg"
D2=$(guest_create "$work/XenGuest2.cfg") || exit 1
echo "Started domain XenGuest2 (id=$D2)"
run "$XM" list
run "$XM" block-attach "$D2" "phy:$loop" /dev/xvdb w
say "... nor through the image file behind the loop device (the same device) ..."
run "$XM" block-attach "$D2" "file:$work/disk.img" /dev/xvdb r
say "... unless both sides accept sharing: w! (shared write, on purpose)"
run "$XM" block-attach "$D2" "phy:$loop" /dev/xvdb 'w!'
ing "$D2" XenGuest2 "ls -l /dev/xvdb"
run xenstore-ls -f "/local/domain/0/backend/vbd/$D2"

say "Clean up: detach, shut the guests down through their agents"
run "$XM" block-detach "$D2" /dev/xvdb
run "$XM" block-detach "$D1" /dev/xvdb
run "$XM" shutdown -w XenGuest2
run "$XM" shutdown -w XenGuest1
run "$XM" list
say "Done"
