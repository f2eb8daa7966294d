#!/bin/sh
# bench/parallel.sh [BUILD_DIR] — parallel hot-plug (issue 14): one disk
# each to N guests at once, `xm block-attach` (returns once the guest has
# connected it) against the floor, N raw QMP hot-plugs issued at once, one
# per guest's monitor (blockdev-add + device_add until the guest's user
# space is told of the disk, its "add" uevent); then the detaches the same
# way. The time of a round is its makespan: from the launch of the N
# operations to the end of the last. Rounds interleaved (xm, floor; floor,
# xm; ...) in one run; prints one table, asserts nothing (bench/README.md).
# Starts its own xmstored, xmbackd and N guests in a temp dir.
#
#   BENCH_GUESTS=8      guests (128 MiB each)
#   BENCH_ROUNDS=6      counted rounds (one uncounted warm-up round first)
#   BENCH_SETTLE=0.3    seconds of quiet before each timed step
#   BLKTIME_TIMEOUT=60  seconds before one operation gives up
#   BENCH_IDLE=5        seconds over which the daemons' idle wake-ups and
#                       CPU are counted, before the rounds
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

N=${BENCH_GUESTS:-8}
ROUNDS=${BENCH_ROUNDS:-6}
SETTLE=${BENCH_SETTLE:-0.3}
BLKTIME_TIMEOUT=${BLKTIME_TIMEOUT:-60}
export BLKTIME_TIMEOUT
BLKTIME=$TOP/$B/bench/blktime
DEVID=51728      # xvdb
FLOOR_BUS=rp8    # xmbackd takes the lowest free port: rp8 stays free

work=
cleanup() { [ -n "$work" ] && guests_teardown; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
	echo "parallel.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/helper.err" ] && tail -5 "$work/helper.err" | sed 's/^/#   /' >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/bench/blktime" >/dev/null || fail "cannot build $B/bench/blktime"

ids=
t0=$(date +%s%3N)
i=1
while [ $i -le "$N" ]; do
	guest_cfg "$work/g$i.cfg" "Par$i" 128 1
	"$XM" create "$work/g$i.cfg" >"$work/create$i.out" 2>&1 || fail "xm create Par$i: $(cat "$work/create$i.out")"
	i=$((i + 1))
done
for f in "$work"/create*.out; do
	id=$(sed -n 's/^Started domain .* (id=\([0-9]*\))$/\1/p' "$f")
	ids="$ids $id"
	truncate -s 8M "$work/img.$id"
done
ready() { [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" = ready ]; }
for d in $ids; do
	k=0
	while ! ready "$d"; do k=$((k + 1)); [ $k -gt 1200 ] && fail "guest $d not ready"; sleep 0.1; done
done
echo "# $N guests up in $(($(date +%s%3N) - t0)) ms" >&2
# The daemons at idle with N guests: wake-ups (context switches) and CPU
# per second over IDLE seconds, nothing asked of them (no busy polling:
# xmbackd's timers and pings, xmstored's answers to them and the agents).
IDLE=${BENCH_IDLE:-5}
sample() { # sample PID: "switches cpu_ticks"
	sw=$(awk '/ctxt_switches/ { s += $2 } END { print s }' "/proc/$1/status")
	echo "$sw $(awk '{ print $14 + $15 }' "/proc/$1/stat")"
}
sleep 2
b0=$(sample "$BACKD_PID") s0=$(sample "$XS_PID")
sleep "$IDLE"
b1=$(sample "$BACKD_PID") s1=$(sample "$XS_PID")
hz=$(getconf CLK_TCK)
idle_line() { # NAME BEFORE AFTER
	set -- "$1" $2 $3
	echo "$1 $(( ($4 - $2) / IDLE )) $(echo "scale=2; ($5 - $3) * 100 / $hz / $IDLE" | bc)"
}
idle_b=$(idle_line xmbackd "$b0" "$b1") idle_s=$(idle_line xmstored "$s0" "$s1")
# The floor's "visible in the guest" is the disk's add uevent, printed on
# the console by the guest's uevent monitor, and the kernel's probe line
# (KERN_NOTICE): as bench/block.sh, the console level is raised, and the
# monitors run only around the floor's rounds.
for d in $ids; do
	guest_run "$d" "dmesg -n 6" >/dev/null || fail "cannot set guest $d's console level"
done
mon() { # mon start|stop
	for dom in $ids; do
		if [ "$1" = start ]; then
			guest_run "$dom" "{ xmfront --uevents </dev/null >/dev/console 2>&1 & echo \$! >/tmp/uevmon.pid; }" >/dev/null
		else
			guest_run "$dom" 'kill $(cat /tmp/uevmon.pid)' >/dev/null
		fi || fail "uevent monitor $1 in guest $dom"
	done
}
img() { echo "$work/img.$1"; }

# all KIND: the N operations at once; prints the makespan (ms); each
# operation's own line in $work/out.<domid>
all() {
	sleep "$SETTLE"
	s=$(date +%s%3N)
	pids=
	for d in $ids; do
		con=$XM_RUNDIR/dom/$d/console.log ctl=$XM_RUNDIR/dom/$d/ctl.sock
		case $1 in
		# xm's operations timed to their exit alone (blktime run): the
		# watches and console reading of blktime attach would cost the
		# CPUs the 8 guests share, and be charged to xm
		xa) "$BLKTIME" run "$XM" block-attach "$d" "file:$(img "$d")" xvdb w ;;
		xd) "$BLKTIME" run "$XM" block-detach "$d" xvdb ;;
		fa) "$BLKTIME" floor-attach "$ctl" "$(img "$d")" "$FLOOR_BUS" "$con" ;;
		fd) "$BLKTIME" floor-detach "$ctl" ;;
		esac >"$work/out.$d" 2>>"$work/helper.err" &
		pids="$pids $!"
	done
	rc=0
	for p in $pids; do wait "$p" || rc=1; done
	[ $rc -eq 0 ] || fail "$1: an operation failed"
	echo $(($(date +%s%3N) - s))
}
note() { # note KIND ROUND MAKESPAN: the makespan and each operation's time
	echo "$1 $2 $3" >>"$work/results"
	for dom in $ids; do echo "$1-op $2 $(cut -d' ' -f"$4" "$work/out.$dom")" >>"$work/results"; done
}
round() { # round R: xm's attach and detach, then the floor's (R odd: floor first)
	if [ $(($1 % 2)) = 1 ]; then floor_round "$1"; xm_round "$1"; else xm_round "$1"; floor_round "$1"; fi
}
xm_round() {
	a=$(all xa); note xa "$1" "$a" 1
	d=$(all xd); note xd "$1" "$d" 1
	echo "# round $1 xm: attach $a ms, detach $d ms" >&2
}
floor_round() {
	mon start
	a=$(all fa); note fa "$1" "$a" 4
	d=$(all fd); note fd "$1" "$d" 3
	mon stop
	echo "# round $1 floor: attach $a ms, detach $d ms" >&2
}

: >"$work/results"
round 0
: >"$work/results"
r=1
while [ $r -le "$ROUNDS" ]; do round "$r"; r=$((r + 1)); done

awk -v n="$ROUNDS" -v g="$N" '
function sorted(k,   m, i, j, t) {
	m = cnt[k]
	for (i = 1; i <= m; i++) s[i] = v[k, i]
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
	return m
}
function med(k,   m) { m = sorted(k); return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2 }
function pc(k, p,   m, i) { m = sorted(k); i = int(p * m); if (i < p * m) i++; return s[i] }
$2 ~ /^[0-9]+$/ && NF == 3 { v[$1, ++cnt[$1]] = $3 }
$1 ~ /-op$/ { k = substr($1, 1, 2) "op"; v[k, ++cnt[k]] = $3 * 1000 }
function row(label, k, o) {
	printf "%-44s %9.0f %9.0f %9.0f %9.0f\n", label, med(k), pc(k, 1), med(o), pc(o, 0.99)
}
END {
	printf "%-44s %9s %9s %9s %9s\n", "ms (" n " rounds of " g " at once)", "makespan", "max", "op p50", "op p99"
	row("(a) xm block-attach, one per guest", "xa", "xaop")
	row("(b) floor: blockdev-add + device_add -> uevent", "fa", "faop")
	row("(c) xm block-detach, one per guest", "xd", "xdop")
	row("(d) floor: device_del -> DELETED + blockdev-del", "fd", "fdop")
	printf "%-44s %9.2f (target <= 1.2)\n", "(a)/(b) makespan, medians", med("xa") / med("fa")
	printf "%-44s %9.2f\n", "(c)/(d) makespan, medians", med("xd") / med("fd")
	printf "%-44s %9.1f / %.1f\n", "attaches per second: xm / floor", g * 1000 / med("xa"), g * 1000 / med("fa")
}' "$work/results"
for l in "$idle_b" "$idle_s"; do
	set -- $l
	printf "%-44s %9s wake-ups/s, %s%% of a CPU\n" "$1 at idle ($N guests, ${IDLE} s)" "$2" "$3"
done
