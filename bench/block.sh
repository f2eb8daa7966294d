#!/bin/sh
# bench/block.sh [BUILD_DIR] — block hot-plug benchmark (issue 4): `xm
# block-attach D file:IMG xvdb w` until the disk is usable in the guest and
# `xm block-detach D xvdb` until it is gone, with a breakdown from XenStore
# watch times (the attach's from cycles of their own: the watches cost xm's
# path CPU the floor does not pay), against the floor: raw QMP hot-plug of the same image into the
# same guest (blockdev-add + device_add until the guest's user space is told
# of the disk, the block "add" uevent; device_del until DEVICE_DELETED +
# blockdev-del), interleaved in one run.
# Prints one table; asserts nothing (see bench/README.md). Starts its own
# xmstored, xmbackd and one guest in a temp dir; ~40 s under TCG.
#
#   BENCH_CYCLES=20     counted cycles (one uncounted warm-up before them)
#   BENCH_BREAKDOWN=10  attach cycles timed with XenStore watches, after them,
#                       for the attach's breakdown
#   BENCH_SETTLE=0.2    seconds of quiet before each timed step
#   BENCH_CHECK="1 20"  cycles whose attached disk is read and written in the
#                       guest (through xm console, untimed)
#   BLKTIME_TIMEOUT=30  seconds before one timed step gives up
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

CYCLES=${BENCH_CYCLES:-20}
SETTLE=${BENCH_SETTLE:-0.2}
CHECK=${BENCH_CHECK:-"1 $CYCLES"}
BREAKDOWN=${BENCH_BREAKDOWN:-10}
BLKTIME=$TOP/$B/bench/blktime
VDEV=xvdb
DEVID=51728      # xvdb: 202<<8 | 1<<4
FLOOR_BUS=rp8    # xmbackd takes the lowest free port (rp1 here): rp8 stays free

work=
HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	[ -n "$work" ] && guests_teardown
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "block.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/helper.err" ] && tail -5 "$work/helper.err" | sed 's/^/#   /' >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/bench/blktime" >/dev/null || fail "cannot build $B/bench/blktime"

IMG=$work/bench.img
truncate -s 8M "$IMG"
printf 'XMBENCH-DISK-OK' | dd of="$IMG" conv=notrunc 2>/dev/null

guest_cfg "$work/bench.cfg" BenchBlock
D=$(guest_create "$work/bench.cfg") || fail "the guest did not come up"
CON=$XM_RUNDIR/dom/$D/console.log
CTL=$XM_RUNDIR/dom/$D/ctl.sock
# The guest's /init silences the kernel console (dmesg -n 1). Show
# KERN_NOTICE again so that virtio-blk's "[vdX] N 512-byte logical blocks"
# line, printed when the driver probes a new disk, reaches the console log.
# The floor's "visible in the guest" signal is later: the disk's "add"
# uevent, when the guest's user space (mdev, an agent) can know the disk,
# printed on the console by the agent's uevent monitor (xmfront --uevents,
# at the agent's priority). The monitor runs throughout but prints only
# the disks of the floor's root port: in xm's cycles it is woken by the
# same uevents and prints nothing, as the agent in the floor's. (It was
# started and stopped around each floor cycle, through the console: that
# put half a second or more between an xm attach and the floor's next to
# it, while the host's speed changes by spells of 0.1 to 1 s.)
guest_floor_console "$D" "$FLOOR_BUS" ||
	fail "cannot raise the guest's console level or start its uevent monitor"

# helper in the background + wait, so that a signal is handled at once
helper() { # helper OUTFILE ARGS...
	out=$1; shift
	sleep "$SETTLE"
	"$BLKTIME" "$@" >"$out" 2>>"$work/helper.err" &
	HPID=$!
	wait "$HPID"; rc=$?
	HPID=
	return $rc
}

checked=0
run_xm() { # CYCLE [w: the attach timed with XenStore watches, for its breakdown]
	kind=xa
	if [ "${2:-}" = w ]; then
		kind=xw
		helper "$work/xa" attach "$D" "$DEVID" "$CON" "$XM" block-attach "$D" "file:$IMG" "$VDEV" w
	else
		helper "$work/xa" attach-exit "$CON" "$XM" block-attach "$D" "file:$IMG" "$VDEV" w
	fi || fail "xm block-attach, cycle $1"
	use=
	case " $CHECK " in *" $1 "*)
		# usable: the host's marker reads back, and a write lands in the image
		out=$(guest_run "$D" "dd if=/dev/$VDEV bs=15 count=1 2>/dev/null; echo; echo cycle-$1 | dd of=/dev/$VDEV bs=512 seek=1 conv=sync,fsync 2>/dev/null && echo wrote")
		echo "$out" | grep -q XMBENCH-DISK-OK && echo "$out" | grep -q wrote || fail "cycle $1: /dev/$VDEV not usable in the guest: $out"
		use=1 ;;
	esac
	helper "$work/xd" detach "$D" "$DEVID" "$XM" block-detach "$D" "$VDEV" || fail "xm block-detach, cycle $1"
	if [ -n "$use" ]; then
		[ "$(dd if="$IMG" bs=512 skip=1 count=1 2>/dev/null | tr -d '\0' | head -n 1)" = "cycle-$1" ] ||
			fail "cycle $1: the guest's write is not in the image"
		checked=$((checked + 1))
	fi
	[ "$1" = 0 ] && return
	echo "$kind $(cat "$work/xa") $1" >>"$work/results"
	[ $kind = xa ] && echo "xd $(cat "$work/xd") $1" >>"$work/results"
	echo "# cycle $1 xm: attach $(cat "$work/xa") / detach $(cat "$work/xd")" >&2
}
run_floor() { # CYCLE
	helper "$work/fa" floor-attach "$CTL" "$IMG" "$FLOOR_BUS" "$CON" || fail "QMP attach, cycle $1"
	helper "$work/fd" floor-detach "$CTL" || fail "QMP detach, cycle $1"
	[ "$1" = 0 ] && return
	echo "fa $(cat "$work/fa") $1" >>"$work/results"
	echo "fd $(cat "$work/fd") $1" >>"$work/results"
	echo "# cycle $1 floor: attach $(cat "$work/fa") / detach $(cat "$work/fd")" >&2
}

# Cycle 0 (not counted) warms caches and checks both paths once.
: >"$work/results"
run_xm 0
run_floor 0
c=1
while [ "$c" -le "$CYCLES" ]; do
	if [ $((c % 2)) = 1 ]; then run_floor "$c"; run_xm "$c"; else run_xm "$c"; run_floor "$c"; fi
	c=$((c + 1))
done
# The attach's breakdown, from cycles of its own: xm timed with the XenStore
# watches that date each state (blktime attach), which cost its path CPU.
c=1
while [ "$c" -le "$BREAKDOWN" ]; do
	run_xm "b$c" w
	c=$((c + 1))
done
accel=$(tr '\0' '\n' <"/proc/$(cat "$XM_RUNDIR/dom/$D/qemu.pid")/cmdline" | sed -n 's/^q35,accel=//p')

# results: "xa XM KMSG C", "xw XM BE1 BE4 FE4 KMSG bC", "xd XM BE5 FE6 BE6 C", "fa ADD PLUG KMSG UEV C",
# "fd DEL DELETED BDEL C" (C: the cycle)
awk -v n="$CYCLES" -v accel="$accel" -v checked="$checked" '
function sorted(k,   m, i, j, t) {
	m = cnt[k]
	for (i = 1; i <= m; i++) s[i] = v[k, i]
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
	return m
}
function med(k,   m) { m = sorted(k); return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2 }
function p90(k,   m, i) { m = sorted(k); i = int(0.9 * m); if (i < 0.9 * m) i++; return s[i] }  # nearest rank
function add(k, x) { v[k, ++cnt[k]] = (x + 0) * 1000 }
function row(label, k) { printf "%-52s %8.1f %8.1f\n", label, med(k), p90(k) }
function addr(k, x) { v[k, ++cnt[k]] = x }
function rrow(label, k) { printf "%-52s %8.2f %8.2f\n", label, med(k), p90(k) }
$1 == "xa" { A[$NF] = $2; add("a", $2); add("a_kmsg", $3) }
$1 == "xw" {
	add("w", $2); add("w_cli", $3); add("w_backd", $4 - $3); add("w_guest", $5 - $4)
	add("w_ret", $2 - $5); add("w_kmsg", $6); add("w_kfe", $5 - $6)
}
$1 == "xd" { D[$NF] = $2; add("d", $2); add("d_cli", $3); add("d_guest", $4 - $3); add("d_backd", $5 - $4); add("d_ret", $2 - $5) }
$1 == "fa" {
	F[$NF] = $5
	add("f", $5); add("f_add", $2); add("f_plug", $3 - $2); add("f_probe", $4 - $3)
	add("f_uev", $5 - $4); add("fk", $4)
}
$1 == "fd" { G[$NF] = $4; add("g", $4); add("g_del", $2); add("g_dd", $3 - $2); add("g_bdel", $4 - $3) }
function ratio(label, a, b) { printf "%-52s %8.2f %8.2f\n", label, med(a) / med(b), p90(a) / p90(b) }
END {
	printf "%-52s %8s %8s\n", "ms (" n " cycles)", "median", "p90"
	row("(a) xm block-attach -> returns (both ends Connected)", "a")
	row("    start -> guest kernel line", "a_kmsg")
	if (cnt["w"]) {
		row("(aw) the same, dated by XenStore watches (" cnt["w"] ")", "w")
		row("      CLI + XenStore: start -> backend 1", "w_cli")
		row("      xmbackd + QMP: backend 1 -> backend 4", "w_backd")
		row("      guest: backend 4 -> frontend 4", "w_guest")
		row("      xm: frontend 4 -> xm returns", "w_ret")
		row("    start -> guest kernel line", "w_kmsg")
		row("      guest kernel line -> frontend 4", "w_kfe")
	}
	row("(b) floor: blockdev-add + device_add -> add uevent", "f")
	row("      blockdev-add returns", "f_add")
	row("      then device_add returns", "f_plug")
	row("      then -> guest kernel line", "f_probe")
	row("      then -> add uevent in the guest", "f_uev")
	row("(c) xm block-detach -> returns (gone from the guest)", "d")
	row("      xm -> backend 5", "d_cli")
	row("      guest: backend 5 -> frontend 6", "d_guest")
	row("      xmbackd + QMP: frontend 6 -> backend 6", "d_backd")
	row("      xm cleanup: backend 6 -> returns", "d_ret")
	row("(d) floor: device_del -> DEVICE_DELETED + blockdev-del", "g")
	row("      device_del returns", "g_del")
	row("      then -> DEVICE_DELETED (this id)", "g_dd")
	row("      then blockdev-del returns", "g_bdel")
	ratio("(a)/(b)  attach / floor (target <= 1.2)", "a", "f")
	ratio("(c)/(d)  detach / floor (target <= 1.2)", "d", "g")
	ratio("(start -> guest kernel line)/(floor to it)", "a_kmsg", "fk")
	ratio("(a)/(floor to the kernel line)", "a", "fk")
	# each cycle against the floor of the same cycle (run next to it): the
	# slow drifts of the machine cancel
	for (c in A) if (c in F) addr("pa", A[c] / F[c])
	for (c in D) if (c in G) addr("pd", D[c] / G[c])
	rrow("(a)/(b) cycle by cycle: median, p90 of the ratios", "pa")
	rrow("(c)/(d) cycle by cycle: median, p90 of the ratios", "pd")
	printf "(accel=%s; p90 = nearest rank; ratios of medians and of p90s;" \
		" disk usable in the guest (read + write) checked in %d cycles)\n", accel, checked
}' "$work/results"
