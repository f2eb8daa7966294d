#!/bin/sh
# bench/qmpbytes.sh [BUILD_DIR] — what a QMP command's length costs: QEMU
# (7.2) reads a monitor's input one byte per system call, so each byte a
# client sends is QEMU CPU time before the command runs. Times query-status
# with an id of 1 (the baseline, alternated in the same run) to 10,000
# bytes on a QEMU of its own (-machine none: no guest), and prints the cost
# per byte. Asserts nothing (see bench/README.md, "QMP's bytes").
#
#   QMPBYTES_ROUNDS=20   round trips per size and per side
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
cd "$TOP" || exit 1
ROUNDS=${QMPBYTES_ROUNDS:-20}
make -s B="$B" "$B/bench/qmpbytes" >/dev/null || { echo "qmpbytes.sh: cannot build $B/bench/qmpbytes" >&2; exit 1; }

work=$(mktemp -d /tmp/xm-qmpbytes.XXXXXX)
cleanup() {
	[ -s "$work/qemu.pid" ] && kill "$(cat "$work/qemu.pid")" 2>/dev/null
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

qemu-system-x86_64 -machine none -display none -nodefaults -daemonize \
	-pidfile "$work/qemu.pid" -chardev "socket,id=m,path=$work/qmp.sock,server=on,wait=off" \
	-mon chardev=m,mode=control 2>"$work/qemu.err" ||
	{ echo "qmpbytes.sh: QEMU did not start: $(cat "$work/qemu.err")" >&2; exit 1; }
echo "# QEMU $(qemu-system-x86_64 --version | head -1 | sed 's/^QEMU emulator version //'), -machine none; $ROUNDS round trips each"
"$B/bench/qmpbytes" "$work/qmp.sock" "$ROUNDS" 10 100 1000 10000
