#!/bin/sh
# bench/saverestore.sh [BUILD_DIR] — xm save / xm restore (issue 13) against
# the floor: the same guest (same memory, same devices: a disk attached on
# the same root port) restored with raw QMP into a fresh QEMU started with
# xm's restored guest's own command line, unconfined (-S -incoming defer;
# blockdev-add + device_add of the disk, migrate-incoming fd:, cont) from
# the stream of xm's save file, and saved with raw QMP (stop, migrate fd:
# to a file, fsync: xm save makes its file durable too), round by round in
# one run (round() says how). Every step, xm's and the floor's, is timed
# the same way: a process's start to its exit (savetime run), the floor's
# process being bench/savetime. xm restore returns once the guest runs and
# its port was dropped, not when its agent is ready again (neither side
# waits for an agent). Prints one table; asserts nothing (bench/README.md).
# ~2 min under TCG.
#
#   BENCH_ROUNDS=8     counted rounds (one uncounted warm-up before them)
#   BENCH_SETTLE=0.3   seconds of quiet (after a sync) before each timed step
#   BENCH_MEM=warm     then 400 MiB touched and freed (savetime warm), so
#                      that every step finds memory the kernel has at hand;
#                      cold: 3 s more of quiet instead, so that every step
#                      gets memory this VM's hypervisor has taken back
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

ROUNDS=${BENCH_ROUNDS:-8}
SAVETIME=$TOP/$B/bench/savetime
DEVID=51728      # xvdb
FPID=
work=
cleanup() {
	[ -n "$FPID" ] && kill -9 "$FPID" 2>/dev/null
	[ -n "$work" ] && guests_teardown
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "saverestore.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/bench/savetime" >/dev/null || fail "cannot build $B/bench/savetime"
IMG=$work/bench.img
truncate -s 8M "$IMG"
guest_cfg "$work/bench.cfg" BenchSave
D=$(guest_create "$work/bench.cfg") || fail "the guest did not come up"
"$XM" block-attach "$D" "file:$IMG" xvdb w >/dev/null || fail "cannot attach the disk"
mkdir -p "$work/floor"

# The guest settled: its agent ready and its disk Connected in the guest.
settled() {
	i=0
	while [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" != ready ] ||
	      [ "$(xenstore-read "/local/domain/$1/device/vbd/$DEVID/state" 2>/dev/null)" != 4 ]; do
		i=$((i + 1)); [ $i -gt 600 ] && fail "domain $1 did not settle"; sleep 0.05
	done
	sleep 0.3
}

# The floor's QEMU: the restored guest's command line (-S -incoming defer
# included) without its confinement, its files in $work/floor, its xenbus
# port on a socket nobody serves.
floor_argv() {
	pid=$(cat "$XM_RUNDIR/dom/$1/qemu.pid")
	tr '\0' '\n' <"/proc/$pid/cmdline" | awk -v dir="$XM_RUNDIR/dom/$1" -v fl="$work/floor" '
		skip { skip = 0; next }
		$0 == "-sandbox" || $0 == "-runas" || $0 == "-chroot" { skip = 1; next }
		{
			gsub(dir, fl)
			if ($0 ~ /^socket,id=xenbus,/) sub(/path=[^,]*/, "path=" fl "/nochan.sock")
			print
		}' >"$work/floor/argv"
}

# Before each timed step: the last step's file written back, a moment of
# quiet, and the host's memory in one state for both sides (savetime warm:
# memory freed a second ago is taken back by this VM's hypervisor, and a
# restore into it loads 5x slower; BENCH_MEM=cold instead waits 3 s, so
# that every load gets memory taken back).
MEM=${BENCH_MEM:-warm}
SETTLE=${BENCH_SETTLE:-0.3}
quiet() {
	sync; sleep "$SETTLE"
	if [ "$MEM" = cold ]; then sleep 3; else "$SAVETIME" warm 400 || fail "savetime warm"; fi
}
: >"$work/results"
# timed CMD...: CMD's wall time (savetime run, the same clock for xm and the
# floor: from before its fork to its exit) in $T.
timed() { "$SAVETIME" run "$work/t" "$@"; rc=$?; T=$(cat "$work/t"); return $rc; }
# One round, with never more than one copy of the guest alive while a
# restore loads (a stopped source beside it would make the host find
# memory for the newcomer): xm save of the guest (gone then); the floor's
# restore from xm's file (its stream, after xm's head and meta) into a fresh
# QEMU; the floor's save of that QEMU, killed then; xm restore of xm's
# file. Both restores load the same stream, both saves save the same guest.
round() { # ROUND
	settled "$D"
	rm -f "$work/xm.save" "$work/floor.save"
	quiet
	timed "$XM" save "$D" "$work/xm.save" >/dev/null 2>"$work/err" || fail "xm save: $(cat "$work/err")"
	xs=$T
	size=$(stat -c %s "$work/xm.save")
	if [ "$1" != 0 ]; then
		off=$((32 + $(od -An -tu4 -j12 -N4 "$work/xm.save")))
		rm -f "$work/floor/ctl.sock" "$work/floor/qmp.sock" "$work/floor/console.sock"
		quiet
		(IFS='
'; timed "$SAVETIME" restore "$work/xm.save" "$off" "$work/floor/ctl.sock" "$IMG" "$BUS" "$DEVID" \
			-- $(cat "$work/floor/argv") >/dev/null 2>"$work/floor/err") || fail "floor restore: $(cat "$work/floor/err")"
		fr=$(cat "$work/t")
		FPID=$(sed -n 's/^pid //p' "$work/floor/err")
		quiet
		timed "$SAVETIME" save "$work/floor/ctl.sock" "$work/floor.save" >/dev/null || fail "floor save"
		fs=$T
		kill -9 "$FPID"; while kill -0 "$FPID" 2>/dev/null; do sleep 0.02; done; FPID=
	fi
	quiet
	timed "$XM" restore "$work/xm.save" >"$work/out" 2>&1 || fail "xm restore: $(cat "$work/out")"
	xr=$T
	D=$(sed -n 's/^Restored domain .* (id=\([0-9]*\)).*/\1/p' "$work/out")
	if [ "$1" = 0 ]; then # the floor's command line: xm's restored QEMU's
		floor_argv "$D"
		BUS=$(xenstore-read "/tool/xm/domain/$D/vbd/$DEVID/bus")
		return
	fi
	echo "x $xs $xr $size" >>"$work/results"
	echo "f $fs $fr $(stat -c %s "$work/floor.save")" >>"$work/results"
	echo "# round $1: xm save $xs restore $xr ms; floor save $fs restore $fr ms ($(sed -n 's/^steps: //p' "$work/floor/err"))" >&2
}
r=0
while [ "$r" -le "$ROUNDS" ]; do round "$r"; r=$((r + 1)); done
accel=$(tr '\0' '\n' <"/proc/$(cat "$XM_RUNDIR/dom/$D/qemu.pid")/cmdline" | sed -n 's/^q35,accel=//p')
mem=$(xenstore-read "/local/domain/$D/memory/target")

awk -f bench/stats.awk -f /dev/stdin "$work/results" <<EOF
\$1 == "x" { add("xs", \$2); add("xr", \$3); add("xt", \$2 + \$3); add("xz", \$4 / 1048576) }
\$1 == "f" { add("fs", \$2); add("fr", \$3); add("ft", \$2 + \$3); add("fz", \$4 / 1048576) }
function row(label, k) { printf "%-48s %8.0f %8.0f\n", label, med(k), pc(k, 0.9) }
END {
	printf "%-48s %8s %8s\n", "ms ($ROUNDS rounds, guest ${mem} KiB, accel=$accel, mem $MEM)", "p50", "p90"
	row("(a) xm save DOM FILE", "xs")
	row("(b) floor: stop + migrate fd: to a file", "fs")
	row("(c) xm restore FILE", "xr")
	row("(d) floor: fresh QEMU -incoming + disk + cont", "fr")
	row("(e) xm save + restore", "xt")
	row("(f) floor save + restore", "ft")
	printf "%-48s %8.2f\n", "(a)/(b) save / floor", med("xs") / med("fs")
	printf "%-48s %8.2f\n", "(c)/(d) restore / floor", med("xr") / med("fr")
	printf "%-48s %8.2f   (target <= 1.2)\n", "(e)/(f) save + restore / floor", med("xt") / med("ft")
	printf "file MiB: xm %.1f, floor %.1f (p50)\n", med("xz"), med("fz")
}
EOF
