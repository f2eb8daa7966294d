#!/bin/sh
# Install the Debian packages the project builds, tests and demos with.
# Idempotent: when every package is already there it does nothing (no network).
set -eu
PKGS="build-essential pkg-config libxen-dev xenstore-utils xen-utils-4.17
 libcmocka-dev libjansson-dev clang libclang-rt-14-dev llvm-14 valgrind zlib1g-dev
 qemu-system-x86 qemu-utils busybox-static genisoimage e2fsprogs kmod cpio
 extlinux syslinux-common isolinux
 util-linux fdisk procps lz4 bc iproute2
 debhelper lintian libsystemd-dev groff-base bsdextrautils"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
	echo "install-deps: need root to install:$missing" >&2
	exit 1
fi
echo "install-deps: installing:$missing"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
