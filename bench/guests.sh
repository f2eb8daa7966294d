#!/bin/sh
# bench/guests.sh [BUILD_DIR] — many guests on this machine (issue 14): one
# guest alone first (the baseline, in the same run), then N-1 more created
# at once (an `xm create` storm), and with N guests up: `xm list`, the
# daemons' wake-ups and CPU at idle, and `xm block-attach`/`block-detach`
# to the first guest while the others idle, then while a churn loop
# destroys and re-creates guests behind it. Each figure beside the one
# guest alone's. Prints one table; asserts nothing (bench/README.md).
#
#   BENCH_GUESTS=20    guests in all (128 MiB each)
#   BENCH_CYCLES=10    attach/detach cycles per phase
#   BENCH_LISTS=10     xm list runs per phase
#   BENCH_IDLE=5       seconds over which idle wake-ups and CPU are counted
#   BENCH_CHURN=4      guests the churn loop destroys and re-creates in turn
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

N=${BENCH_GUESTS:-20}
CYCLES=${BENCH_CYCLES:-10}
LISTS=${BENCH_LISTS:-10}
IDLE=${BENCH_IDLE:-5}
CHURN=${BENCH_CHURN:-4}
BLKTIME_TIMEOUT=${BLKTIME_TIMEOUT:-60}
export BLKTIME_TIMEOUT
BLKTIME=$TOP/$B/bench/blktime
DEVID=51728 # xvdb

work=
CHURN_PID=
cleanup() {
	[ -n "$CHURN_PID" ] && kill "$CHURN_PID" 2>/dev/null && wait "$CHURN_PID" 2>/dev/null
	[ -n "$work" ] && guests_teardown
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
	echo "guests.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}
ms() { date +%s%3N; }
ready() { [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" = ready ]; }
wait_ready() { # wait_ready ID...
	for d in "$@"; do
		k=0
		while ! ready "$d"; do k=$((k + 1)); [ $k -gt 3000 ] && fail "guest $d not ready"; sleep 0.1; done
	done
}
id_of() { sed -n 's/^Started domain .* (id=\([0-9]*\))$/\1/p' "$1"; }

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/bench/blktime" >/dev/null || fail "cannot build $B/bench/blktime"
: >"$work/results"
r() { echo "$*" >>"$work/results"; }

# --- phase A: one guest alone -------------------------------------------------
guest_cfg "$work/g1.cfg" "Many1" 128 1
s=$(ms)
"$XM" create "$work/g1.cfg" >"$work/create1.out" 2>&1 || fail "xm create: $(cat "$work/create1.out")"
c=$(ms)
first=$(id_of "$work/create1.out")
wait_ready "$first"
r create1 $((c - s)); r ready1 $(($(ms) - s))
truncate -s 8M "$work/img"
con=$XM_RUNDIR/dom/$first/console.log
# blktime's "seen in the guest" is the kernel's probe line on the console
guest_run "$first" "dmesg -n 6" >/dev/null || fail "cannot set the guest's console level"

lists() { # lists KEY
	i=0
	while [ $i -lt "$LISTS" ]; do
		s=$(ms); "$XM" list >/dev/null 2>&1 || fail "xm list"; r "$1" $(($(ms) - s)); i=$((i + 1))
	done
}
cycles() { # cycles KEY: attach/detach cycles to the first guest
	i=0
	while [ $i -lt "$CYCLES" ]; do
		sleep 0.2
		a=$("$BLKTIME" attach "$first" "$DEVID" "$con" "$XM" block-attach "$first" "file:$work/img" xvdb w) ||
			fail "$1: attach $i"
		sleep 0.2
		d=$("$BLKTIME" detach "$first" "$DEVID" "$XM" block-detach "$first" xvdb) || fail "$1: detach $i"
		r "$1-a" "$(echo "$a" | awk '{ printf "%.1f", $1 * 1000 }')"
		r "$1-d" "$(echo "$d" | awk '{ printf "%.1f", $1 * 1000 }')"
		i=$((i + 1))
	done
}
sample() { # "switches cpu_ticks" of PID
	sw=$(awk '/ctxt_switches/ { s += $2 } END { print s }' "/proc/$1/status")
	echo "$sw $(awk '{ print $14 + $15 }' "/proc/$1/stat")"
}
idle() { # idle KEY: wake-ups/s and CPU % of both daemons over IDLE s
	sleep 2
	b0=$(sample "$BACKD_PID") s0=$(sample "$XS_PID")
	sleep "$IDLE"
	b1=$(sample "$BACKD_PID") s1=$(sample "$XS_PID")
	hz=$(getconf CLK_TCK)
	set -- "$1" $b0 $b1 $s0 $s1
	r "$1-bw" $((($4 - $2) / IDLE)); r "$1-bc" "$(echo "scale=2; ($5 - $3) * 100 / $hz / $IDLE" | bc)"
	r "$1-sw" $((($8 - $6) / IDLE)); r "$1-sc" "$(echo "scale=2; ($9 - $7) * 100 / $hz / $IDLE" | bc)"
}
lists l1
idle i1
cycles one
echo "# one guest: done" >&2

# --- phase B: the storm -------------------------------------------------------
i=2 storm=
s=$(ms)
while [ $i -le "$N" ]; do
	guest_cfg "$work/g$i.cfg" "Many$i" 128 1
	( a=$(ms); "$XM" create "$work/g$i.cfg" >"$work/create$i.out" 2>&1; echo $? $(($(ms) - a)) >"$work/rc$i" ) &
	storm="$storm $!"
	i=$((i + 1))
done
for p in $storm; do wait "$p"; done # (not a bare wait: the daemons are children too)
ids=
i=2
while [ $i -le "$N" ]; do
	set -- $(cat "$work/rc$i")
	[ "$1" = 0 ] || fail "xm create Many$i: $(cat "$work/create$i.out")"
	r storm-create "$2"
	ids="$ids $(id_of "$work/create$i.out")"
	i=$((i + 1))
done
r storm-returned $(($(ms) - s))
wait_ready $ids
r storm-ready $(($(ms) - s))
echo "# $N guests up; load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
lists lN
idle iN
cycles idle

# --- phase C: churn behind the first guest ------------------------------------
set -- $ids
churn_ids=
k=0
for d in "$@"; do [ $k -lt "$CHURN" ] && churn_ids="$churn_ids $d"; k=$((k + 1)); done
(
	trap 'exit 0' TERM
	n=0
	while :; do
		for d in $churn_ids; do
			name=$(xenstore-read "/local/domain/$d/name" 2>/dev/null) || continue
			"$XM" destroy "$d" >/dev/null 2>&1
			"$XM" create "$work/g${name#Many}.cfg" >"$work/churn.out" 2>&1 || continue
			n=$((n + 1)); echo "$n" >"$work/churned"
		done
		churn_ids=$("$XM" list 2>/dev/null | awk -v c="$CHURN" 'NR > 2 && $1 != "Many1" && k++ < c { print $2 }')
	done
) &
CHURN_PID=$!
sleep 3
cycles churn
kill "$CHURN_PID" 2>/dev/null; wait "$CHURN_PID" 2>/dev/null; CHURN_PID=
r churned "$(cat "$work/churned" 2>/dev/null || echo 0)"

awk -f bench/stats.awk -f /dev/stdin "$work/results" <<AWK
{ add(\$1, \$2) }
function row(label, k1, kn) {
	printf "%-46s %9.1f %9.1f %9.1f %9.1f %6.2f\n", label, med(k1), pc(k1, 0.9), med(kn), pc(kn, 0.9), med(kn) / (med(k1) ? med(k1) : 1)
}
END {
	printf "%-46s %9s %9s %9s %9s %6s\n", "ms", "1: p50", "1: p90", "$N: p50", "$N: p90", "ratio"
	row("xm list", "l1", "lN")
	row("xm block-attach (first guest; others idle)", "one-a", "idle-a")
	row("xm block-detach (first guest; others idle)", "one-d", "idle-d")
	row("xm block-attach (first guest; churn)", "one-a", "churn-a")
	row("xm block-detach (first guest; churn)", "one-d", "churn-d")
	printf "%-46s %9.0f  (alone, until its agent is ready: %.0f)\n", "xm create, one guest", med("create1"), med("ready1")
	printf "%-46s %9.0f / %.0f  (p50 / max of $N - 1 at once)\n", "xm create in the storm", med("storm-create"), pc("storm-create", 1)
	printf "%-46s %9.0f  (all xm create returned: %.0f)\n", "storm: all $N - 1 agents ready", med("storm-ready"), med("storm-returned")
	printf "%-46s %9d  (destroy + create, during the churn cycles)\n", "guests churned", med("churned")
	printf "%-46s %9s %9s\n", "idle, per second", "1 guest", "$N guests"
	printf "%-46s %9d %9d\n", "  xmbackd wake-ups", med("i1-bw"), med("iN-bw")
	printf "%-46s %9.2f %9.2f\n", "  xmbackd CPU %", med("i1-bc"), med("iN-bc")
	printf "%-46s %9d %9d\n", "  xmstored wake-ups", med("i1-sw"), med("iN-sw")
	printf "%-46s %9.2f %9.2f\n", "  xmstored CPU %", med("i1-sc"), med("iN-sc")
}
AWK
echo "(accel=$(XM_ACCEL= sh -c 'test -w /dev/kvm && echo kvm || echo tcg'); ratio = p50 with $N guests / p50 with one; $(nproc) cores, $(free -m | awk '/Mem:/ { print $2 }') MiB)"
