#!/bin/sh
# guest/build-image.sh OUTDIR [XMFRONT_BINARY]
#
# Builds the default xm guest image from Debian packages, without installing
# anything on the host:
#
#   OUTDIR/vmlinux            uncompressed PVH-capable kernel (boot with qboot)
#   OUTDIR/bzImage            the same kernel as shipped (SeaBIOS fallback)
#   OUTDIR/initramfs.cpio.gz  busybox, the virtio/scsi/cdrom modules, mdev,
#                             Debian's xenstore-* tools, /sbin/xmfront
#   OUTDIR/kernel.version     the kernel release (what `uname -r` prints)
#
# The kernel comes from linux-image-cloud-amd64, resolved to its concrete
# versioned package, fetched with `apt-get download` and unpacked with
# `dpkg-deb -x` into OUTDIR/cache/, so a rebuild needs no network and takes
# about a second. XM_KERNEL_DEB=/path/to/linux-image-*.deb uses that package
# instead (offline builds).
#
# Guest side: /init mounts proc/sys/devtmpfs, loads the modules, starts
# `mdev -d` (the kernel has no uevent helper), starts /sbin/xmfront if it is
# in the image (and again, with --resync, when it dies other than by a stop
# asked for), and runs a shell on the serial console with the prompt
# "xm-guest# ". Leaving that shell powers the guest off.
set -eu

die() { echo "build-image: $*" >&2; exit 1; }

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: $0 OUTDIR [XMFRONT_BINARY]"
OUT=$1
XMFRONT=${2:-}
[ -z "$XMFRONT" ] || [ -f "$XMFRONT" ] || die "xmfront binary $XMFRONT not found"

# Modules the guest needs (ext4, devtmpfs, acpiphp, pciehp, ACPI CPU hot-plug
# and the pvpanic core are built in): virtio_balloon for xm mem-set,
# pvpanic_mmio (QEMU's ISA pvpanic, ACPI QEMU0001) for on_crash, virtio_net
# for vifs (it brings net_failover and failover along).
MODULES="virtio_pci virtio_blk virtio_scsi sd_mod sr_mod cdrom isofs virtio_console loop virtio_balloon pvpanic_mmio virtio_net"
KMETA=linux-image-cloud-amd64
BUSYBOX=${BUSYBOX:-/bin/busybox}
XENSTORE_BIN=/usr/bin/xenstore
XENSTORE_TOOLS="chmod exists list ls read rm watch write"

for t in dpkg-deb depmod modprobe cpio gzip readelf od; do
	command -v "$t" >/dev/null 2>&1 || die "missing host tool: $t"
done
[ -x "$BUSYBOX" ] || die "$BUSYBOX missing (install busybox-static: scripts/install-deps.sh)"
"$BUSYBOX" --list-full >/dev/null 2>&1 || die "$BUSYBOX is not a busybox binary"

mkdir -p "$OUT/cache"
OUT=$(cd "$OUT" && pwd)
CACHE=$OUT/cache

# --- 1. the kernel package --------------------------------------------------
# A versioned package name (linux-image-6.1.0-56-cloud-amd64) contains the
# kernel release; its Debian version says which build of it.
if [ -n "${XM_KERNEL_DEB:-}" ]; then
	[ -f "$XM_KERNEL_DEB" ] || die "XM_KERNEL_DEB=$XM_KERNEL_DEB not found"
	deb=$XM_KERNEL_DEB
	pkg=$(dpkg-deb -f "$deb" Package)
else
	# The meta package depends on exactly one versioned image:
	#   Depends: linux-image-6.1.0-56-cloud-amd64 (= 6.1.192-2)
	# apt-cache takes ~1 s here, so the answer is kept until the apt lists
	# change (apt-get update renames files into /var/lib/apt/lists).
	if [ -s "$CACHE/resolved" ] && [ "$CACHE/resolved" -nt /var/lib/apt/lists ]; then
		read -r pkg ver <"$CACHE/resolved"
	else
		apt-cache show --no-all-versions "$KMETA" 2>/dev/null |
			sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\) *(= *\([^ )]*\)).*/\1 \2/p' |
			head -n 1 >"$CACHE/resolved.tmp" || true
		pkg= ver=
		read -r pkg ver <"$CACHE/resolved.tmp" || true
		if [ -n "$pkg" ] && [ -n "$ver" ]; then
			mv "$CACHE/resolved.tmp" "$CACHE/resolved"
		else
			rm -f "$CACHE/resolved.tmp"
		fi
	fi
	deb=
	if [ -n "$pkg" ]; then
		# apt-get download writes an epoch ':' as %3a
		[ -z "$ver" ] || deb=$CACHE/${pkg}_$(echo "$ver" | sed 's/:/%3a/')_amd64.deb
		if [ -n "$deb" ] && [ ! -f "$deb" ]; then
			echo "build-image: downloading $pkg $ver" >&2
			rm -rf "$CACHE/dl"; mkdir -p "$CACHE/dl"
			sandbox=
			[ "$(id -u)" != 0 ] || sandbox="-o APT::Sandbox::User=root"
			# shellcheck disable=SC2086
			if (cd "$CACHE/dl" && apt-get download -q $sandbox "$pkg=$ver" >/dev/null); then
				mv "$CACHE/dl/$(basename "$deb")" "$deb" ||
					die "apt-get download did not produce $(basename "$deb")"
			else
				echo "build-image: apt-get download $pkg failed" >&2
				deb=
			fi
			rm -rf "$CACHE/dl"
		fi
	fi
	if [ -z "$deb" ] || [ ! -f "$deb" ]; then
		# Offline or no apt lists: fall back to the newest cached package.
		deb=$(ls -t "$CACHE"/linux-image-*_amd64.deb 2>/dev/null | head -n 1) || true
		[ -n "$deb" ] || die "cannot resolve or download $KMETA (apt-get update? or set XM_KERNEL_DEB)"
		pkg=$(dpkg-deb -f "$deb" Package)
		echo "build-image: using cached $(basename "$deb")" >&2
	fi
fi
KVER=${pkg#linux-image-}
debid=$(basename "$deb" .deb)

# --- 2. unpack it once into the cache ----------------------------------------
KTREE=$CACHE/$debid
if [ ! -f "$KTREE/.done" ]; then
	rm -rf "$KTREE" "$KTREE.tmp"
	mkdir -p "$KTREE.tmp"
	dpkg-deb -x "$deb" "$KTREE.tmp"
	[ -f "$KTREE.tmp/boot/vmlinuz-$KVER" ] || die "$deb has no boot/vmlinuz-$KVER"
	# modules.dep for `modprobe --show-depends` below
	depmod -b "$KTREE.tmp" "$KVER"
	touch "$KTREE.tmp/.done"
	mv "$KTREE.tmp" "$KTREE"
	# drop trees and packages of other kernel builds
	for old in "$CACHE"/linux-image-*; do
		case $old in "$KTREE"|"$deb") ;; *) rm -rf "$old" ;; esac
	done
fi
KMOD=$KTREE/lib/modules/$KVER
BZ=$KTREE/boot/vmlinuz-$KVER

# --- 3. vmlinux out of the bzImage -------------------------------------------
# x86 boot protocol (Documentation/x86/boot.rst): setup_sects at 0x1f1, "HdrS"
# at 0x202, payload_offset/payload_length at 0x248/0x24c (protocol >= 2.08),
# the payload offset counted from the protected-mode code, which starts after
# the (setup_sects + 1) 512-byte sectors of real-mode code. The payload is the
# compressed vmlinux ELF followed by its uncompressed size (4 bytes, LE).
le32() { od -An -tu4 -j "$2" -N4 "$1" | tr -d ' \n'; }
extract_vmlinux() { # bzImage output
	[ "$(od -An -tx1 -j 514 -N4 "$1" | tr -d ' \n')" = 48647253 ] ||
		die "$1: not a bzImage (no HdrS)"
	proto=$(od -An -tu2 -j 518 -N2 "$1" | tr -d ' \n')
	[ "$proto" -ge 520 ] || die "$1: boot protocol too old for payload fields"
	sects=$(od -An -tu1 -j 497 -N1 "$1" | tr -d ' \n')
	[ "$sects" -ne 0 ] || sects=4
	poff=$(le32 "$1" 584)
	plen=$(le32 "$1" 588)
	start=$(( (sects + 1) * 512 + poff ))
	tail -c "+$((start + 1))" "$1" | head -c "$plen" >"$2.payload"
	magic=$(od -An -tx1 -N6 "$2.payload" | tr -d ' \n')
	case $magic in
	1f8b*)        dec="gzip -dc" ;;
	fd377a585a00) dec="xz -dc" ;;
	5d0000*)      dec="xz -dc --format=lzma" ;;
	425a68*)      dec="bzip2 -dc" ;;
	894c5a4f*)    dec="lzop -dc" ;;
	02214c18*)    dec="lz4 -dc" ;;
	28b52ffd*)    dec="zstd -dcq" ;;
	*) die "$1: unknown kernel compression (payload starts $magic)" ;;
	esac
	command -v "${dec%% *}" >/dev/null 2>&1 || die "need ${dec%% *} to unpack the kernel"
	# The trailing size word makes some decompressors (lz4 legacy) complain
	# after writing everything, so judge by the result, not the exit status.
	$dec <"$2.payload" >"$2" 2>/dev/null || true
	want=$(le32 "$2.payload" $((plen - 4)))
	rm -f "$2.payload"
	got=$(wc -c <"$2" | tr -d ' ')
	[ "$got" = "$want" ] || die "$1: decompressed $got bytes, expected $want ($dec)"
	[ "$(od -An -tx1 -N4 "$2" | tr -d ' \n')" = 7f454c46 ] || die "$1: payload is not an ELF"
	# XEN_ELFNOTE_PHYS32_ENTRY (18) is the PVH entry point qboot/QEMU use.
	readelf -n "$2" | grep -q 'Xen .*(0x00000012)' || die "$1: vmlinux has no PVH entry note"
}

if [ ! -f "$OUT/vmlinux" ] || [ ! -f "$OUT/bzImage" ] || [ ! -f "$OUT/kernel.version" ] ||
	[ "$(cat "$OUT/kernel.version")" != "$KVER" ] || [ "$BZ" -nt "$OUT/vmlinux" ]; then
	extract_vmlinux "$BZ" "$OUT/vmlinux.tmp.$$"
	cp "$BZ" "$OUT/bzImage.tmp.$$"
	mv "$OUT/vmlinux.tmp.$$" "$OUT/vmlinux"
	mv "$OUT/bzImage.tmp.$$" "$OUT/bzImage"
	echo "$KVER" >"$OUT/kernel.version"
fi

# --- 4. the initramfs tree ----------------------------------------------------
ROOT=$OUT/root.tmp.$$
trap 'rm -rf "$ROOT" "$OUT/initramfs.cpio.gz.tmp.$$"' EXIT
trap 'exit 1' INT TERM HUP
rm -rf "$ROOT"
mkdir -p "$ROOT"
(cd "$ROOT" && mkdir -p bin sbin usr/bin usr/sbin etc lib lib64 proc sys dev run tmp \
	var/log mnt root "lib/modules/$KVER")
ln -s ../run "$ROOT/var/run"

# busybox and its applet links; the links only change with busybox, so they
# are made once per busybox build and copied from the cache.
bbid=$(cksum <"$BUSYBOX" | tr ' ' -)
BBLINKS=$CACHE/busybox-links-$bbid
if [ ! -d "$BBLINKS" ]; then
	rm -rf "$CACHE"/busybox-links-* "$BBLINKS.tmp"
	mkdir -p "$BBLINKS.tmp"
	"$BUSYBOX" --list-full | while read -r p; do
		[ "$p" = bin/busybox ] && continue
		mkdir -p "$BBLINKS.tmp/$(dirname "$p")"
		ln -s /bin/busybox "$BBLINKS.tmp/$p"
	done
	mv "$BBLINKS.tmp" "$BBLINKS"
fi
cp -a "$BBLINKS/." "$ROOT/"
cp "$BUSYBOX" "$ROOT/bin/busybox"

# modules with their dependencies, in load order
: >"$ROOT/etc/xm-modules"
deps=$(for m in $MODULES; do
	modprobe -S "$KVER" -d "$KTREE" --show-depends "$m" ||
		die "module $m not found in $KVER"
done)
echo "$deps" | while read -r cmd path _; do
	[ "$cmd" = insmod ] || continue # "builtin foo" needs nothing
	rel=${path#"$KMOD"/}
	grep -qxF "$rel" "$ROOT/etc/xm-modules" && continue
	mkdir -p "$ROOT/lib/modules/$KVER/$(dirname "$rel")"
	cp "$path" "$ROOT/lib/modules/$KVER/$rel"
	echo "$rel" >>"$ROOT/etc/xm-modules"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
	[ ! -f "$KMOD/$f" ] || cp "$KMOD/$f" "$ROOT/lib/modules/$KVER/"
done
depmod -b "$ROOT" "$KVER"

# copy_libs BINARY: the shared libraries `ldd` resolves, at the same paths
copy_libs() {
	ldd "$1" 2>/dev/null | sed -n 's/.*=> \(\/[^ ]*\) .*/\1/p; s/^[[:space:]]*\(\/[^ ]*\) (.*/\1/p' |
	while read -r lib; do
		[ -e "$ROOT$lib" ] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done
}

# Debian's stock xenstore tools (one multi-call binary, named by argv[0])
if [ -x "$XENSTORE_BIN" ]; then
	cp "$XENSTORE_BIN" "$ROOT/usr/bin/xenstore"
	for t in $XENSTORE_TOOLS; do ln -s xenstore "$ROOT/usr/bin/xenstore-$t"; done
	copy_libs "$XENSTORE_BIN"
	# glibc loads libgcc_s at run time for pthread_cancel (libxenstore's
	# watch thread); ldd does not list it, and without it xenstore-watch
	# aborts on exit.
	gcc_s=$(ldconfig -p | sed -n 's/.*libgcc_s.so.1 (libc6,x86-64) => \(.*\)/\1/p' | head -1)
	if [ -n "$gcc_s" ]; then
		mkdir -p "$ROOT$(dirname "$gcc_s")"
		cp -L "$gcc_s" "$ROOT$gcc_s"
	fi
else
	echo "build-image: $XENSTORE_BIN missing (xenstore-utils); image has no xenstore tools" >&2
fi

# the guest agent
if [ -n "$XMFRONT" ]; then
	cp "$XMFRONT" "$ROOT/sbin/xmfront"
	chmod 755 "$ROOT/sbin/xmfront"
	copy_libs "$XMFRONT"
fi

echo "$KVER" >"$ROOT/etc/xm-kernel"
echo xm-guest >"$ROOT/etc/hostname"
echo 'root:x:0:0:root:/root:/bin/sh' >"$ROOT/etc/passwd"
printf 'root:x:0:\ndisk:x:6:\n' >"$ROOT/etc/group"
cat >"$ROOT/etc/profile" <<'EOF'
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
export HOME=/root
PS1='xm-guest# '
EOF

# mdev: block nodes 0660 (devtmpfs makes them 0600; tests/guest/boot.sh
# tells mdev's work by it) and udev-style /dev/virtio-ports/NAME links for
# virtio-serial ports. No command per block event: a fork costs ~10 ms of
# the single vCPU under TCG, right when a hot-plugged disk is being set up.
cat >"$ROOT/etc/mdev.conf" <<'EOF'
SUBSYSTEM=block;.* 0:0 660
vport[0-9]+p[0-9]+ 0:0 600 */lib/mdev/vport
EOF
mkdir -p "$ROOT/lib/mdev"
cat >"$ROOT/lib/mdev/vport" <<'EOF'
#!/bin/sh
# mdev helper: /dev/virtio-ports/NAME -> ../vportXpY, as udev does
case $ACTION in
add|"")
	name=$(cat "/sys/class/virtio-ports/$MDEV/name" 2>/dev/null) || exit 0
	[ -n "$name" ] || exit 0
	mkdir -p /dev/virtio-ports
	ln -sfn "../$MDEV" "/dev/virtio-ports/$name" ;;
remove)
	for l in /dev/virtio-ports/*; do
		[ "$(readlink "$l")" = "../$MDEV" ] && rm -f "$l"
	done ;;
esac
exit 0
EOF
chmod 755 "$ROOT/lib/mdev/vport"

cat >"$ROOT/init" <<'EOF'
#!/bin/sh
# xm guest /init (generated by guest/build-image.sh)
export PATH=/sbin:/usr/sbin:/bin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
# Keep the console for the shell: only emergencies from the kernel.
dmesg -n 1
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/xenstored
hostname -F /etc/hostname
kver=$(uname -r)
while read -r m; do
	insmod "/lib/modules/$kver/$m" || echo "init: cannot load $m" >&2
done </etc/xm-modules
# hot-plug events: mdev scans what exists, then follows the netlink socket
mdev -d
# The agent, supervised as systemd's Restart=on-failure would: an end by
# SIGKILL, a crash or an error status starts it again 1 s later, with
# --resync (whoever had the port may have left a frame half-written); a
# stop asked for (exit 0, SIGTERM, SIGINT) is left stopped, and so is an
# agent someone else started meanwhile (found by name): no two compete.
if [ -x /sbin/xmfront ]; then
	(
		args=
		while :; do
			/sbin/xmfront $args </dev/null >>/var/log/xmfront.log 2>&1
			rc=$?
			case $rc in 0|130|143)
				echo "init: xmfront stopped (status $rc); not restarted" >>/var/log/xmfront.log
				exit 0 ;;
			esac
			echo "init: xmfront ended (status $rc); restarting it in 1 s" >>/var/log/xmfront.log
			sleep 1
			if pidof xmfront >/dev/null; then
				echo "init: another xmfront runs; it is left alone" >>/var/log/xmfront.log
				exit 0
			fi
			args=--resync
		done
	) </dev/null >/dev/null 2>&1 &
fi
cd /root
setsid cttyhack sh -l
echo "init: shell exited, powering off"
sync
poweroff -f
EOF
chmod 755 "$ROOT/init"

# --- 5. pack ---------------------------------------------------------------------
# Same inputs, same bytes: fixed mtimes, sorted names, no inode numbers.
find "$ROOT" -exec touch -h -d @0 {} +
(cd "$ROOT" && find . -mindepth 1 | LC_ALL=C sort |
	cpio -o -H newc -R 0:0 --reproducible --quiet) |
	gzip -6n >"$OUT/initramfs.cpio.gz.tmp.$$"
mv "$OUT/initramfs.cpio.gz.tmp.$$" "$OUT/initramfs.cpio.gz"
echo "build-image: $OUT/initramfs.cpio.gz ($(wc -c <"$OUT/initramfs.cpio.gz" | tr -d ' ') bytes, kernel $KVER)" >&2
