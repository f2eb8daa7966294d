#!/bin/sh
# bench/multidisk.sh [BUILD_DIR] — N disks attached at once to one guest
# (issue 14): N `xm block-attach` started together (each returns once the
# guest has connected its disk), against the floor, the same N hot-plugs
# as raw QMP on the guest's monitor, every blockdev-add and device_add sent
# back to back (`blktime floor-multi-attach`, until every disk's "add"
# uevent in the guest); then the N detaches the same way (`xm
# block-detach` until each is gone from guest and host; floor: every
# device_del, every DEVICE_DELETED, every blockdev-del). A round's time is
# its makespan, from the launch to the end of the last. Rounds interleaved
# (xm, floor; floor, xm; ...) in one run; prints one table, asserts nothing
# (bench/README.md).
#
#   BENCH_DISKS=8       disks (at most 8: the guest's hot-plug ports)
#   BENCH_ROUNDS=6      counted rounds (one uncounted warm-up first)
#   BENCH_SETTLE=0.3    seconds of quiet before each timed step
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

N=${BENCH_DISKS:-8} R=${BENCH_ROUNDS:-6} SETTLE=${BENCH_SETTLE:-0.3}
[ "$N" -ge 1 ] && [ "$N" -le 8 ] || { echo "multidisk.sh: BENCH_DISKS is 1 to 8" >&2; exit 2; }
BLKTIME=$TOP/$B/bench/blktime
letters=$(echo "b c d e f g h i" | cut -d' ' -f1-"$N")

work=
cleanup() { [ -n "$work" ] && guests_teardown; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
	echo "multidisk.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/bench/blktime" >/dev/null || fail "cannot build $B/bench/blktime"
for x in $letters; do truncate -s 8M "$work/$x.img"; done
guest_cfg "$work/g.cfg" MultiDisk 256
D=$(guest_create "$work/g.cfg") || fail "the guest did not come up"
CON=$XM_RUNDIR/dom/$D/console.log
CTL=$XM_RUNDIR/dom/$D/ctl.sock
guest_run "$D" "dmesg -n 6" >/dev/null || fail "cannot set the guest's console level"

ns() { date +%s%N; }
# xm ATTACH|DETACH: N xm commands at once; prints the makespan in ms
xm_round() {
	pids= t=$(ns)
	for x in $letters; do
		if [ "$1" = attach ]; then
			"$XM" block-attach "$D" "file:$work/$x.img" "xvd$x" w >/dev/null 2>"$work/err.$x" &
		else
			"$XM" block-detach "$D" "xvd$x" >/dev/null 2>"$work/err.$x" &
		fi
		pids="$pids $!"
	done
	for p in $pids; do wait "$p" || fail "xm block-$1: $(cat "$work"/err.* | head -3)"; done
	echo $((($(ns) - t) / 1000000))
}
floor_round() {
	if [ "$1" = attach ]; then
		guest_run "$D" "{ xmfront --uevents </dev/null >/dev/console 2>&1 & echo \$! >/tmp/uevmon.pid; }" >/dev/null ||
			fail "cannot start the uevent monitor in the guest"
		args= i=1
		for x in $letters; do args="$args rp$i:$work/$x.img"; i=$((i + 1)); done
		# shellcheck disable=SC2086
		out=$("$BLKTIME" floor-multi-attach "$CTL" "$CON" $args) || fail "floor attach"
		guest_run "$D" 'kill $(cat /tmp/uevmon.pid)' >/dev/null || fail "cannot stop the uevent monitor"
	else
		out=$("$BLKTIME" floor-multi-detach "$CTL" "$N") || fail "floor detach"
	fi
	echo "$out" | awk '{ printf "%d\n", $2 * 1000 }'
}

: >"$work/res"
for r in $(seq 0 "$R"); do
	order="xm floor"; [ $((r % 2)) -eq 1 ] && order="floor xm"
	for who in $order; do
		for op in attach detach; do
			sleep "$SETTLE"
			v=$("${who}_round" "$op") || exit 1
			[ "$r" -gt 0 ] && echo "$who $op $v" >>"$work/res"
		done
	done
done

echo "$N disks to one guest at once, $R rounds (makespan ms: median, max)"
awk '
{ v[$1 " " $2, ++n[$1 " " $2]] = $3 }
function med(k,   i, j, t, m) {
	m = n[k]
	for (i = 1; i <= m; i++) a[i] = v[k, i]
	for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
	mx = a[m]
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
END {
	printf "%-8s %10s %8s %10s %8s %7s\n", "", "xm", "max", "floor", "max", "ratio"
	split("attach detach", ops, " ")
	for (o = 1; o <= 2; o++) {
		x = med("xm " ops[o]); xmax = mx; f = med("floor " ops[o]); fmax = mx
		printf "%-8s %10.1f %8d %10.1f %8d %7.2f\n", ops[o], x, xmax, f, fmax, x / f
	}
}' "$work/res"
