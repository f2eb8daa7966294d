#!/bin/sh
# bench/ab.sh [BUILD_DIR] — an A/B of the block attach: two variants (A and
# B) of xmbackd, or of the guest's state, alternated in blocks of cycles in
# one guest, each xm attach timed next to a floor attach (raw QMP, as in
# bench/block.sh), so that the machine's drift, which moves both by more
# than most changes are worth, cancels in the pairs. Prints per variant:
# xm's and the floor's medians and p90s, the ratio of the medians, and the
# p25/p50/p75 of the paired ratio (xm / floor of the same cycle) and of the
# paired difference at the guest's kernel line (xm's start -> the disk's
# kernel line, minus the floor's). Asserts nothing (see bench/README.md).
#
#   AB_BACKD_A, AB_BACKD_B  the xmbackd binaries of each variant (default:
#                           the build's, for both); switched between blocks
#   AB_GUEST_A, AB_GUEST_B  a shell command run in the guest (through xm
#                           console) as each variant's block starts, e.g.
#                           "renice -n 0 -p \$(pidof xmfront)"
#   AB_XM_A, AB_XM_B        the xm binaries of each variant, for the timed
#                           attach and its detach (default: the build's)
#   AB_AGENT_A, AB_AGENT_B  a guest agent (a static xmfront, as $B/xmfront/
#                           xmfront) for each variant: copied into the guest
#                           once (through a disk), and the guest's agent and
#                           the floor's uevent monitor restarted with it
#                           between blocks (default: the image's, for both)
#   AB_BLOCKS=10            blocks per variant (their order swaps each time)
#   AB_CYCLES=3             cycles per block
#   BENCH_SETTLE=0.2        seconds of quiet before each timed step
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

BLOCKS=${AB_BLOCKS:-10}
PER=${AB_CYCLES:-3}
SETTLE=${BENCH_SETTLE:-0.2}
BACKD_A=${AB_BACKD_A:-$BACKD}
BACKD_B=${AB_BACKD_B:-$BACKD}
GUEST_A=${AB_GUEST_A:-}
GUEST_B=${AB_GUEST_B:-}
AGENT_A=${AB_AGENT_A:-}
AGENT_B=${AB_AGENT_B:-}
XM_A=${AB_XM_A:-$XM}
XM_B=${AB_XM_B:-$XM}
XMV=$XM
BLKTIME=$TOP/$B/bench/blktime
VDEV=xvdb
DEVID=51728
FLOOR_BUS=rp8

for n in "$BLOCKS" "$PER"; do
	case $n in '' | *[!0-9]* | 0) echo "ab.sh: AB_BLOCKS and AB_CYCLES are counts from 1: $n" >&2; exit 2 ;; esac
done
for f in "$BACKD_A" "$BACKD_B" "$AGENT_A" "$AGENT_B" "$XM_A" "$XM_B"; do
	[ -z "$f" ] || [ -x "$f" ] || { echo "ab.sh: $f is not an executable" >&2; exit 2; }
done

work=
cleanup() { [ -n "$work" ] && guests_teardown; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "ab.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/bench/blktime" >/dev/null || fail "cannot build $B/bench/blktime"
IMG=$work/ab.img
truncate -s 8M "$IMG"
guest_cfg "$work/ab.cfg" BenchAB
D=$(guest_create "$work/ab.cfg") || fail "the guest did not come up"
CON=$XM_RUNDIR/dom/$D/console.log
CTL=$XM_RUNDIR/dom/$D/ctl.sock
# the kernel line and the floor's uevent on the console, as block.sh has them
guest_floor_console "$D" "$FLOOR_BUS" ||
	fail "cannot raise the guest's console level or start its uevent monitor"

# A variant's agent into the guest as /tmp/ab-V/xmfront (so that it is
# still named xmfront), through a read-only disk holding the binary.
agent_in() { # V FILE
	size=$(wc -c <"$2")
	"$XM" block-attach "$D" "file:$2" xvdc r || fail "cannot attach agent $2"
	to=/tmp/ab-$1/xmfront # (guest_run takes one line)
	guest_run "$D" "mkdir -p ${to%/*} && head -c $size /dev/xvdc > $to && chmod 755 $to && [ \$(wc -c < $to) = $size ]" \
		>/dev/null || fail "cannot copy agent $2 into the guest"
	"$XM" block-detach "$D" xvdc || fail "cannot detach agent $2"
}
[ -z "$AGENT_A" ] || agent_in A "$AGENT_A"
[ -z "$AGENT_B" ] || agent_in B "$AGENT_B"
agent_now=image
# Both xmfront processes (the agent, the floor's monitor) stopped (init does
# not restart an agent stopped by SIGTERM) and started again from FILE's
# copy, or the image's (/sbin/xmfront); then one untimed attach.
agent_switch() { # V (A, B, or image)
	bin=/sbin/xmfront
	[ "$1" = image ] || bin=/tmp/ab-$1/xmfront
	guest_run "$D" "for p in \$(pidof xmfront); do kill \$p; done; sleep 0.5; { $bin --resync </dev/null >>/var/log/xmfront.log 2>&1 & }" \
		>/dev/null &&
		guest_floor_console "$D" "$FLOOR_BUS" "$bin" ||
		fail "cannot restart the guest's agent ($bin)"
	agent_now=$1
	i=0
	until "$XM" block-attach "$D" "file:$IMG" "$VDEV" w >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 20 ] || fail "the guest's agent ($bin) does not connect disks"
		sleep 0.5
	done
	"$XM" block-detach "$D" "$VDEV" >/dev/null || fail "detach after the agent's restart"
}

# The variant's xmbackd (restarted only when it changes) and guest command.
running=$BACKD # (the one guests_setup started)
variant() { # A|B
	if [ "$1" = A ]; then want=$BACKD_A cmd=$GUEST_A agent=$AGENT_A XMV=$XM_A; else
		want=$BACKD_B cmd=$GUEST_B agent=$AGENT_B XMV=$XM_B; fi
	agent=${agent:+$1}
	[ "${agent:-image}" = "$agent_now" ] || agent_switch "${agent:-image}"
	if [ "$want" != "$running" ]; then
		kill "$BACKD_PID" 2>/dev/null
		wait "$BACKD_PID" 2>/dev/null
		BACKD=$want
		backd_start
		running=$want
		sleep 0.5 # (it reconciles the guest first)
	fi
	if [ -n "$cmd" ]; then
		guest_run "$D" "$cmd" >/dev/null || fail "variant $1: the guest command failed: $cmd"
	fi
}
cycle() { # VARIANT: a floor attach and an xm attach, each with its detach
	sleep "$SETTLE"
	f=$("$BLKTIME" floor-attach "$CTL" "$IMG" "$FLOOR_BUS" "$CON") || fail "floor attach ($1)"
	sleep "$SETTLE"
	"$BLKTIME" floor-detach "$CTL" >/dev/null || fail "floor detach ($1)"
	sleep "$SETTLE"
	x=$("$BLKTIME" attach-exit "$CON" "$XMV" block-attach "$D" "file:$IMG" "$VDEV" w) ||
		fail "xm block-attach ($1)"
	sleep "$SETTLE"
	"$BLKTIME" detach "$D" "$DEVID" "$XMV" block-detach "$D" "$VDEV" >/dev/null ||
		fail "xm block-detach ($1)"
	echo "$1 $x $f" >>"$work/results"
	echo "# $1: xm $x / floor $f" >&2
}

: >"$work/results"
variant A
cycle warm >/dev/null 2>&1 # (its line is not counted)
: >"$work/results"
k=1
while [ "$k" -le "$BLOCKS" ]; do
	for v in A B; do
		[ $((k % 2)) = 0 ] && { [ $v = A ] && v=B || v=A; }
		variant $v
		c=1
		while [ "$c" -le "$PER" ]; do
			cycle $v
			c=$((c + 1))
		done
	done
	k=$((k + 1))
done

# results: "V XM XM_KMSG F_ADD F_PLUG F_KMSG F_UEVENT" (seconds)
echo "A: xmbackd $BACKD_A; xm $XM_A${AGENT_A:+; agent $AGENT_A}${GUEST_A:+; in the guest: $GUEST_A}"
echo "B: xmbackd $BACKD_B; xm $XM_B${AGENT_B:+; agent $AGENT_B}${GUEST_B:+; in the guest: $GUEST_B}"
awk -f "$TOP/bench/stats.awk" -f /dev/stdin "$work/results" <<'AWK'
{ add($1 "x", $2 * 1000); add($1 "f", $7 * 1000); add($1 "r", $2 / $7); add($1 "k", ($3 - $6) * 1000) }
END {
	printf "%-3s %5s %17s %17s %11s %20s %26s\n", "", "n", "xm p50 / p90 ms", "floor p50 / p90",
		"p50 ratio", "paired ratio p50", "kernel line, xm - floor"
	for (i = 1; i <= 2; i++) {
		w = i == 1 ? "A" : "B"
		printf "%-3s %5d %8.1f / %6.1f %8.1f / %6.1f %11.3f %8.3f (%.2f-%.2f) %10.2f (%.2f .. %.2f) ms\n",
			w, n_of(w "x"), med(w "x"), pc(w "x", 0.9), med(w "f"), pc(w "f", 0.9),
			med(w "x") / med(w "f"), med(w "r"), pc(w "r", 0.25), pc(w "r", 0.75),
			med(w "k"), pc(w "k", 0.25), pc(w "k", 0.75)
	}
	print "(p25-p75 in brackets; xm: start -> both ends Connected; floor: blockdev-add + device_add -> add uevent)"
}
AWK
