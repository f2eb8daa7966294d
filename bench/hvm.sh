#!/bin/sh
# bench/hvm.sh [BUILD_DIR] — an HVM guest's boot (issue 13): `xm create` of
# builder = "hvm" with the disk of `make disk-image` until the guest's agent
# is connected, against the floor: QEMU alone booting the same disk with
# xm's own command line (the disk given on it with bootindex=1, instead of
# realised by xmbackd while QEMU waits paused; not confined, -daemonize; no
# xm, xmstored or xmbackd), measured in the same run, interleaved. For
# scale, a PV guest of the same kernel (kernel = the default image, qboot)
# under xm in the same run. Prints one table; asserts nothing (see
# bench/README.md). Real guests: run it under flock /tmp/xm-guest.lock.
#
#   BENCH_ROUNDS=3      interleaved rounds (xm, floor, pv; then floor, xm, pv ...)
#   BENCH_MEMORY=256    guest memory (MiB)
#   DOMTIME_TIMEOUT=120 seconds before one wait gives up
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh

ROUNDS=${BENCH_ROUNDS:-3}
MEM=${BENCH_MEMORY:-256}
XM=$TOP/$B/xm/xm
BACKD=$TOP/$B/xmbackd/xmbackd
DOMTIME=$TOP/$B/bench/domtime

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xmbench-hvm.XXXXXX") || exit 1
export XM_RUNDIR="$WORK/run"
FLOOR=$WORK/floor
mkdir -p "$FLOOR"
BACKD_PID=
HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	for f in "$WORK"/run/dom/*/qemu.pid "$FLOOR/qemu.pid"; do # only this run's QEMUs
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	[ -n "$BACKD_PID" ] && kill "$BACKD_PID" 2>/dev/null && wait "$BACKD_PID" 2>/dev/null
	xs_stop
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
	echo "hvm.sh: $*" >&2
	[ -s "$WORK/helper.err" ] && sed 's/^/#   /' "$WORK/helper.err" >&2
	exit 1
}

SAN=
[ "$B" = build/asan ] && SAN=address,undefined
make -s -C "$TOP" B="$B" SANITIZE="$SAN" programs "$B/bench/domtime" >/dev/null 2>"$WORK/make.err" &&
	make -s -C "$TOP" B="$B" SANITIZE="$SAN" disk-image >/dev/null 2>>"$WORK/make.err" ||
	{ tail -5 "$WORK/make.err" >&2; fail "build failed"; }

xs_start xm "$WORK/xs" >/dev/null || fail "xmstored did not start"
"$BACKD" --foreground --log "$WORK/backd.log" 2>>"$WORK/backd.stderr" &
BACKD_PID=$!
i=0
while [ ! -f "$XM_RUNDIR/xmbackd.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -f "$XM_RUNDIR/xmbackd.pid" ] || fail "xmbackd did not start"

DISK=$WORK/hvm.img
{
	echo 'kernel = "/usr/lib/xen/boot/hvmloader"'
	echo "builder = 'hvm'"
	echo 'name = "BenchHvm"'
	echo "memory = $MEM"
	echo "disk = [ 'file:$DISK,xvda,w' ]"
	echo 'boot = "c"'
	echo "serial = 'pty'"
} >"$WORK/hvm.cfg"
{
	echo 'name = "BenchPv"'
	echo "memory = $MEM"
	echo "kernel = \"$TOP/$B/guest/vmlinux\""
	echo "ramdisk = \"$TOP/$B/guest/initramfs.cpio.gz\""
} >"$WORK/pv.cfg"

helper() { # helper OUTFILE ARGS...: in the background, so that a signal is handled at once
	out=$1; shift
	"$DOMTIME" "$@" >"$out" 2>>"$WORK/helper.err" &
	HPID=$!
	wait "$HPID"; rc=$?
	HPID=
	return $rc
}
wait_pid_gone() {
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
fresh_disk() { cp --sparse=always "$TOP/$B/guest/hvm-disk.img" "$DISK"; }

# run_xm KIND ROUND: xm create -> prompt, agent ready; then xm destroy (untimed)
run_xm() {
	[ "$1" = hvm ] && fresh_disk
	helper "$WORK/create.out" create "$XM" "$WORK/$1.cfg" "$XM_RUNDIR/dom" ||
		fail "xm create ($1) round $2 failed"
	read -r id ret prompt ready <"$WORK/create.out"
	qpid=$(cat "$XM_RUNDIR/dom/$id/qemu.pid")
	[ "$1" = hvm ] && [ "$2" = 0 ] && tr '\0' '\n' <"/proc/$qpid/cmdline" >"$WORK/xm.args"
	"$XM" destroy "$id" >/dev/null 2>&1
	wait_pid_gone "$qpid"
	i=0
	while xenstore-exists "/local/domain/$id" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	[ "$2" = 0 ] || echo "$1 $ret $prompt $ready" >>"$WORK/results"
	echo "# round $2: $1: xm create returned $ret s, prompt $prompt s, agent ready $ready s" >&2
}

# run_floor ROUND: QEMU alone -> prompt
run_floor() {
	fresh_disk
	rm -f "$FLOOR/console.log" "$FLOOR/qemu.pid" "$FLOOR/xenbus.sock"
	helper "$WORK/floor.out" floor "$WORK/floor.args" "$FLOOR/console.log" "$FLOOR/xenbus.sock" ||
		fail "QEMU-only boot round $1 failed"
	read -r ret prompt <"$WORK/floor.out"
	qpid=$(cat "$FLOOR/qemu.pid")
	kill "$qpid" 2>/dev/null
	wait_pid_gone "$qpid"
	[ "$1" = 0 ] || echo "floor $ret $prompt" >>"$WORK/results"
	echo "# round $1: QEMU alone: returned $ret s, prompt $prompt s" >&2
}

# Round 0 (not counted) warms the caches and takes xm's QEMU command line;
# the floor runs it without -S and the confinement (-sandbox, -runas,
# -chroot: a QEMU as root opens the disk itself), with -daemonize, the disk
# on its command line, the per-domain paths moved.
run_xm hvm 0
dir=$(grep -m1 '^socket,id=con0,path=' "$WORK/xm.args" | sed 's|^socket,id=con0,path=\(.*\)/console.sock,.*|\1|')
awk -v skip=0 '
	skip { skip = 0; next }
	$0 == "-S" { next }
	$0 == "-sandbox" || $0 == "-runas" || $0 == "-chroot" { skip = 1; next }
	{ print }' "$WORK/xm.args" |
	sed -e "s|^socket,id=xenbus,path=[^,]*,|socket,id=xenbus,path=$FLOOR/xenbus.sock,|" \
		-e "s|$dir/|$FLOOR/|g" -e "s|process=xm-dom[0-9]*|process=xmbench-floor|" >"$WORK/floor.args"
printf '%s\n' -daemonize -drive "file=$DISK,if=none,id=d0,format=raw" \
	-device "virtio-blk-pci,drive=d0,bus=rp1,bootindex=1" >>"$WORK/floor.args"
accel=$(sed -n 's/^q35,accel=\(.*\)/\1/p' "$WORK/xm.args")
run_floor 0
run_xm pv 0

: >"$WORK/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then run_xm hvm "$r"; run_floor "$r"; else run_floor "$r"; run_xm hvm "$r"; fi
	run_xm pv "$r"
	r=$((r + 1))
done

awk -v rounds="$ROUNDS" -v accel="$accel" -v mem="$MEM" '
function med(k,   n, i, j, t) {
	n = cnt[k]
	for (i = 1; i <= n; i++) s[i] = v[k, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
	return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2
}
function add(k, x) { v[k, ++cnt[k]] = x + 0 }
function row(label, k) { printf "%-52s %8.3f\n", label, med(k) }
$1 == "hvm" { add("ret", $2); add("prompt", $3); add("ready", $4) }
$1 == "floor" { add("fprompt", $3) }
$1 == "pv" { add("pvready", $4) }
END {
	printf "%-52s %8s\n", "seconds (" rounds " rounds)", "median"
	row("(a) HVM: xm create -> agent connected", "ready")
	row("      xm create returns (disk realised, QEMU running)", "ret")
	row("      xm create -> shell prompt on the console", "prompt")
	row("(b) floor: QEMU alone, the same disk -> shell prompt", "fprompt")
	row("(c) PV, the same kernel: xm create -> agent connected", "pvready")
	printf "%-52s %8.3f\n", "(a)/(b)", med("ready") / med("fprompt")
	printf "%-52s %8.3f\n", "(HVM create -> prompt)/(b)", med("prompt") / med("fprompt")
	printf "%-52s %8.3f\n", "(a)/(c)", med("ready") / med("pvready")
	printf "(accel=%s, %s MiB, 1 vcpu; medians of %s rounds)\n", accel, mem, rounds
}' "$WORK/results"
