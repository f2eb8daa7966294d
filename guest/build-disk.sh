#!/bin/sh
# guest/build-disk.sh OUTDIR AGENT_ROOT
#
# Builds the disk of an HVM guest (man/xm.cfg.5 "HVM guests"), a guest that
# boots from its own disk through the BIOS, and a CD-ROM that boots:
#
#   OUTDIR/hvm-disk.img   64 MiB raw disk: an MBR partition table (sfdisk)
#                         with one active partition, Debian's extlinux
#                         (syslinux's mbr.bin in the MBR, ldlinux in the
#                         partition), an ext4 root made with mkfs.ext4 -d
#   OUTDIR/hvm-cd.iso     isolinux (El Torito, no emulation), booting the
#                         kernel with the default guest image as its root
#
# Inputs from guest/build-image.sh in OUTDIR: bzImage (Debian's cloud
# kernel as shipped), initramfs.cpio.gz (for the CD), kernel.version and
# the kernel tree in cache/. AGENT_ROOT holds the guest agent as the
# package xm-guest-agent lays it out (`make install-guest-agent
# DESTDIR=AGENT_ROOT PREFIX=/usr`, the rule debian/rules packages):
# /usr/sbin/xmfront, /lib/systemd/system/xmfront.service, its man page.
# XM_AGENT_DEB=/path/xm-guest-agent_*.deb takes the files from the package
# itself instead (dpkg-deb -x).
#
# The root is busybox (no systemd: a Debian root with systemd takes minutes
# to build and ~30 s to boot under TCG). Its /sbin/init mounts the kernel
# file systems, starts `mdev -d`, then starts every unit of
# /lib/systemd/system that is WantedBy=multi-user.target the way the unit
# says: its ExecStart= command line as written, again after RestartSec= when
# Restart=always (or on-failure and it failed) — so the agent runs from its
# packaged path with its packaged options (xmfront --resync-restarted).
# Then a shell on the serial console, prompt "xm-guest# ", as the default
# image has. The disk's initrd (the kernel's virtio modules are modules)
# only loads them, finds the root by its label and switch_roots into it.
#
# Partitions are made in a loop device with partscan (extlinux must write
# to a mounted file system; it is mounted for that step alone, in a private
# folder). Cached: the outputs are rebuilt only when an input is newer.
set -eu

die() { echo "build-disk: $*" >&2; exit 1; }

[ $# -eq 2 ] || die "usage: $0 OUTDIR AGENT_ROOT"
OUT=$(cd "$1" && pwd) || die "no folder $1"
AGENT=$2
KVER=$(cat "$OUT/kernel.version") || die "no $OUT/kernel.version: run guest/build-image.sh first"
BZ=$OUT/bzImage
[ -f "$BZ" ] || die "no $BZ: run guest/build-image.sh first"
BUSYBOX=${BUSYBOX:-/bin/busybox}
MBR=/usr/lib/syslinux/mbr/mbr.bin
ISOLINUX=/usr/lib/ISOLINUX/isolinux.bin
LDLINUX_C32=/usr/lib/syslinux/modules/bios/ldlinux.c32
LABEL=xmhvmroot
# virtio_net: a vif = [...] is a virtio-net NIC, which the agent brings up
MODULES="virtio_pci virtio_blk virtio_scsi sd_mod sr_mod cdrom isofs virtio_console loop virtio_net"

for t in sfdisk mkfs.ext4 losetup extlinux genisoimage cpio gzip modprobe depmod; do
	command -v "$t" >/dev/null 2>&1 ||
		die "missing host tool: $t (scripts/install-deps.sh: fdisk e2fsprogs extlinux genisoimage)"
done
for f in "$MBR" "$ISOLINUX" "$LDLINUX_C32"; do
	[ -f "$f" ] || die "missing $f (scripts/install-deps.sh: syslinux-common isolinux)"
done

W=$OUT/disk.tmp.$$
MNT=
LOOP=
cleanup() {
	[ -z "$MNT" ] || umount "$MNT" 2>/dev/null || true
	[ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
rm -rf "$W"
mkdir -p "$W"

# --- the agent, as its package lays it out -----------------------------------
if [ -n "${XM_AGENT_DEB:-}" ]; then
	mkdir -p "$W/agent"
	dpkg-deb -x "$XM_AGENT_DEB" "$W/agent"
	AGENT=$W/agent
fi
[ -x "$AGENT/usr/sbin/xmfront" ] && [ -f "$AGENT/lib/systemd/system/xmfront.service" ] ||
	die "$AGENT does not hold the agent as packaged (usr/sbin/xmfront, lib/systemd/system/xmfront.service)"

# busybox's applet links under DIR
bb_links() {
	"$BUSYBOX" --list-full | while read -r p; do
		[ "$p" = bin/busybox ] && continue
		mkdir -p "$1/$(dirname "$p")"
		ln -sf /bin/busybox "$1/$p"
	done
	cp "$BUSYBOX" "$1/bin/busybox"
}

# --- the initrd: the virtio modules, then the root by its label ------------
KTREE=$(ls -d "$OUT"/cache/linux-image-*/lib/modules/"$KVER" 2>/dev/null | head -1)
[ -n "$KTREE" ] || die "no kernel tree for $KVER in $OUT/cache"
KBASE=${KTREE%/lib/modules/*}
I=$W/initrd
mkdir -p "$I/bin" "$I/sbin" "$I/usr/bin" "$I/usr/sbin" "$I/proc" "$I/sys" "$I/dev" "$I/newroot" \
	"$I/lib/modules/$KVER"
bb_links "$I"
: >"$I/etc-modules"
for m in $MODULES; do
	modprobe -S "$KVER" -d "$KBASE" --show-depends "$m" || die "module $m not found in $KVER"
done | while read -r cmd path _; do
	[ "$cmd" = insmod ] || continue
	rel=${path#"$KTREE"/}
	grep -qxF "$rel" "$I/etc-modules" && continue
	mkdir -p "$I/lib/modules/$KVER/$(dirname "$rel")"
	cp "$path" "$I/lib/modules/$KVER/$rel"
	echo "$rel" >>"$I/etc-modules"
done
cat >"$I/init" <<EOF
#!/bin/sh
# the HVM disk's initrd (guest/build-disk.sh): modules, root, switch_root
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
dmesg -n 1
while read -r m; do insmod "/lib/modules/$KVER/\$m" 2>/dev/null; done </etc-modules
i=0
while ! dev=\$(findfs LABEL=$LABEL 2>/dev/null); do
	i=\$((i + 1))
	[ \$i -lt 100 ] || { echo "initrd: no disk labelled $LABEL"; exec sh; }
	sleep 0.1
done
mount -o ro "\$dev" /newroot || { echo "initrd: cannot mount \$dev"; exec sh; }
umount /sys /proc
mount --move /dev /newroot/dev
exec switch_root /newroot /sbin/init
EOF
chmod 755 "$I/init"
find "$I" -exec touch -h -d @0 {} +
(cd "$I" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -6n >"$W/initrd.img"

# --- the root ------------------------------------------------------------------
R=$W/root
mkdir -p "$R/bin" "$R/sbin" "$R/usr/bin" "$R/usr/sbin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" \
	"$R/run" "$R/tmp" "$R/mnt" "$R/root" "$R/var/log" "$R/boot/extlinux" "$R/lib/modules/$KVER"
ln -s ../run "$R/var/run"
bb_links "$R"
cp -a "$I/lib/modules/$KVER/." "$R/lib/modules/$KVER/"
mv "$I/etc-modules" "$R/etc/xm-modules"
cp "$BZ" "$R/boot/vmlinuz"
cp "$W/initrd.img" "$R/boot/initrd.img"
# the agent's package files, where the package puts them
(cd "$AGENT" && find . -type f -o -type l) | while read -r f; do
	mkdir -p "$R/$(dirname "$f")"
	cp -a "$AGENT/$f" "$R/$f"
done
echo xm-hvm >"$R/etc/hostname"
echo 'root:x:0:0:root:/root:/bin/sh' >"$R/etc/passwd"
printf 'root:x:0:\ndisk:x:6:\n' >"$R/etc/group"
echo "LABEL=$LABEL / ext4 rw 0 1" >"$R/etc/fstab"
cat >"$R/etc/profile" <<'EOF'
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
PS1='xm-guest# '
EOF
echo 'SUBSYSTEM=block;.* 0:0 660' >"$R/etc/mdev.conf"
cat >"$R/sbin/start-units" <<'EOF'
#!/bin/sh
# Starts each unit of /lib/systemd/system that multi-user.target wants, the
# way its [Service] says (guest/build-disk.sh): ExecStart= run as written,
# Restart=always restarts it after RestartSec=, on-failure when it failed.
for u in /lib/systemd/system/*.service; do
	[ -f "$u" ] || continue
	grep -q '^WantedBy=multi-user.target' "$u" || continue
	exe=$(sed -n 's/^ExecStart=//p' "$u" | head -1)
	restart=$(sed -n 's/^Restart=//p' "$u" | head -1)
	sec=$(sed -n 's/^RestartSec=\([0-9]*\).*/\1/p' "$u" | head -1)
	name=$(basename "$u" .service)
	[ -n "$exe" ] || continue
	(
		while :; do
			echo "start-units: $name: $exe" >>"/var/log/$name.log"
			$exe </dev/null >>"/var/log/$name.log" 2>&1
			rc=$?
			echo "start-units: $name ended (status $rc)" >>"/var/log/$name.log"
			case $restart:$rc in
			always:*) ;;
			on-failure:0|on-failure:130|on-failure:143) exit 0 ;;
			on-failure:*) ;;
			*) exit 0 ;;
			esac
			sleep "${sec:-1}"
		done
	) </dev/null >/dev/null 2>&1 &
done
EOF
chmod 755 "$R/sbin/start-units"
rm -f "$R/sbin/init"
cat >"$R/sbin/init" <<'EOF'
#!/bin/sh
# the HVM disk's init (guest/build-disk.sh)
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -o remount,rw /
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/xenstored
hostname -F /etc/hostname
kver=$(uname -r)
while read -r m; do
	grep -q "^$(basename "$m" .ko) " /proc/modules || insmod "/lib/modules/$kver/$m" 2>/dev/null
done </etc/xm-modules
mdev -d
start-units
cd /root
setsid cttyhack sh -l
echo "init: shell exited, powering off"
sync
mount -o remount,ro /
poweroff -f
EOF
chmod 755 "$R/sbin/init"
cat >"$R/boot/extlinux/extlinux.conf" <<EOF
SERIAL 0 115200
DEFAULT xm
PROMPT 0
TIMEOUT 0
LABEL xm
	LINUX /boot/vmlinuz
	INITRD /boot/initrd.img
	APPEND console=ttyS0 quiet i8042.noaux i8042.nokbd i8042.nopnp mitigations=off 8250.nr_uarts=1 block.events_dfl_poll_msecs=1000 xm.hvm=disk
EOF

# --- the disk: MBR, one active partition from 1 MiB, ext4, extlinux -----------
IMG=$W/hvm-disk.img
truncate -s 64M "$IMG"
echo 'start=2048, type=83, bootable' | sfdisk -q "$IMG" >/dev/null
# extlinux 6.04 reads no 64bit or metadata_csum_seed ext4; the kernel mounts this
find "$R" -exec touch -h -d @0 {} +
mkfs.ext4 -q -F -b 4096 -L "$LABEL" -O ^64bit,^metadata_csum,^orphan_file -E offset=$((2048 * 512)) \
	-d "$R" "$IMG" 63M ||
	die "mkfs.ext4 -d failed"
dd if="$MBR" of="$IMG" bs=440 count=1 conv=notrunc status=none
# The partition through a loop device at its offset (loop partscan is not
# available everywhere, e.g. in containers). extlinux then cannot learn the
# partition's start and writes 0 as the boot sector's hidden sectors (the
# BPB field at 0x1C, the partition's first LBA): it is set to 2048 after.
LOOP=$(losetup -f --show -o $((2048 * 512)) --sizelimit $((63 * 1024 * 1024)) "$IMG") ||
	die "losetup $IMG failed"
mkdir -p "$W/mnt"
mount -t ext4 "$LOOP" "$W/mnt" || die "cannot mount $LOOP"
MNT=$W/mnt
extlinux --install "$MNT/boot/extlinux" >/dev/null 2>"$W/extlinux.err" ||
	die "extlinux: $(cat "$W/extlinux.err")"
umount "$MNT"
MNT=
losetup -d "$LOOP"
LOOP=
printf '\000\010\000\000' | dd of="$IMG" bs=1 seek=$((2048 * 512 + 28)) conv=notrunc status=none
mv "$IMG" "$OUT/hvm-disk.img"

# --- the CD: isolinux, the kernel, the default guest image as its root --------
C=$W/cd
mkdir -p "$C/isolinux"
cp "$ISOLINUX" "$LDLINUX_C32" "$C/isolinux/"
cp "$BZ" "$C/isolinux/vmlinuz"
cp "$OUT/initramfs.cpio.gz" "$C/isolinux/initrd.img"
sed 's|/boot/vmlinuz|/isolinux/vmlinuz|; s|/boot/initrd.img|/isolinux/initrd.img|; s|xm.hvm=disk|xm.hvm=cd|' \
	"$R/boot/extlinux/extlinux.conf" >"$C/isolinux/isolinux.cfg"
genisoimage -quiet -o "$W/hvm-cd.iso" -V XMHVMCD -J -R -b isolinux/isolinux.bin \
	-c isolinux/boot.cat -no-emul-boot -boot-load-size 4 -boot-info-table "$C" ||
	die "genisoimage failed"
mv "$W/hvm-cd.iso" "$OUT/hvm-cd.iso"
echo "build-disk: $OUT/hvm-disk.img, $OUT/hvm-cd.iso (kernel $KVER)" >&2
