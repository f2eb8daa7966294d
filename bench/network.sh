#!/bin/sh
# bench/network.sh [BUILD_DIR] — NIC hot-plug benchmark (issue 13): `xm
# network-attach D bridge=BR mac=M` until the guest sees the NIC (and until
# xm returns: the guest's agent has brought it up and said Connected), and
# `xm network-detach D 0`, against the floor: the same work by hand on the
# same guest (the tap made and put on the bridge by xmbackd's own tap.c,
# getfd + netdev_add + device_add over QMP, until the guest's "add" uevent
# of the NIC; device_del until DEVICE_DELETED + netdev_del), interleaved in
# one run. "The guest sees the NIC" is the kernel's "add" uevent for it, as
# the guest's uevent monitor (xmfront --uevents) prints it on the console,
# for both. Prints one table; asserts nothing (see bench/README.md). Starts
# its own xmstored, xmbackd, a test bridge and one guest in a temp dir.
#
#   BENCH_CYCLES=20     counted cycles (one uncounted warm-up before them)
#   BENCH_SETTLE=0.2    seconds of quiet before each timed step
#   BENCH_CHECK="1 20"  cycles whose attached NIC is pinged from the guest
#                       (through xm console, untimed)
#   NETTIME_TIMEOUT=30  seconds before one timed step gives up
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
NETTIME=$TOP/$B/bench/nettime
BR=xmtb$$
FTAP=xmtf$$
XMAC=00:16:3e:bb:00:01
FMAC=00:16:3e:bb:00:02
FLOOR_BUS=rp12   # xmbackd takes the lowest free NIC port (rp9 here): rp12 stays free

work=
HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	[ -n "$work" ] && guests_teardown
	ip link del "$BR" 2>/dev/null
	ip link del "$FTAP" 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "network.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/helper.err" ] && tail -5 "$work/helper.err" | sed 's/^/#   /' >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/bench/nettime" >/dev/null || fail "cannot build $B/bench/nettime"
ip link add "$BR" type bridge && ip link set "$BR" up || fail "cannot make bridge $BR"
ip addr add 10.78.0.1/24 dev "$BR" || fail "cannot address bridge $BR"

guest_cfg "$work/bench.cfg" BenchNet
D=$(guest_create "$work/bench.cfg") || fail "the guest did not come up"
CON=$XM_RUNDIR/dom/$D/console.log
CTL=$XM_RUNDIR/dom/$D/ctl.sock
# the guest's uevent monitor prints each NIC's "add" on the console, for
# both paths alike
guest_run "$D" "{ xmfront --uevents </dev/null >/dev/console 2>&1 & }" >/dev/null ||
	fail "cannot start the uevent monitor in the guest"

helper() { # helper OUTFILE ARGS...
	out=$1; shift
	sleep "$SETTLE"
	"$NETTIME" "$@" >"$out" 2>>"$work/helper.err" &
	HPID=$!
	wait "$HPID"; rc=$?
	HPID=
	return $rc
}
# the guest's NIC with MAC $1 answers the host across the bridge
pinged() {
	guest_run "$D" "(n=\$(for i in /sys/class/net/*; do [ \"\$(cat \$i/address)\" = $1 ] && echo \${i##*/}; done); ip link set \$n up; ip addr add 10.78.0.2/24 dev \$n && ping -c 1 -W 3 10.78.0.1 >/dev/null; rc=\$?; ip addr flush dev \$n; exit \$rc)" >/dev/null
}

checked=0
run_xm() { # CYCLE
	helper "$work/xa" attach "$CON" "$XM" network-attach "$D" "bridge=$BR" "mac=$XMAC" ||
		fail "xm network-attach, cycle $1"
	case " $CHECK " in *" $1 "*)
		pinged $XMAC || fail "cycle $1: the NIC attached by xm carries no traffic"
		checked=$((checked + 1)) ;;
	esac
	helper "$work/xd" detach "$XM" network-detach "$D" 0 || fail "xm network-detach, cycle $1"
	[ "$1" = 0 ] && return
	echo "xa $(cat "$work/xa") $1" >>"$work/results"
	echo "xd $(cat "$work/xd") $1" >>"$work/results"
	echo "# cycle $1 xm: attach $(cat "$work/xa") / detach $(cat "$work/xd")" >&2
}
run_floor() { # CYCLE
	helper "$work/fa" floor-attach "$CTL" "$FTAP" "$BR" "$FMAC" "$FLOOR_BUS" "$CON" ||
		fail "QMP attach, cycle $1"
	case " $CHECK " in *" $1 "*) pinged $FMAC || fail "cycle $1: the floor's NIC carries no traffic" ;; esac
	helper "$work/fd" floor-detach "$CTL" || fail "QMP detach, cycle $1"
	[ "$1" = 0 ] && return
	echo "fa $(cat "$work/fa") $1" >>"$work/results"
	echo "fd $(cat "$work/fd") $1" >>"$work/results"
	echo "# cycle $1 floor: attach $(cat "$work/fa") / detach $(cat "$work/fd")" >&2
}

: >"$work/results"
run_xm 0
run_floor 0
c=1
while [ "$c" -le "$CYCLES" ]; do
	if [ $((c % 2)) = 1 ]; then run_floor "$c"; run_xm "$c"; else run_xm "$c"; run_floor "$c"; fi
	c=$((c + 1))
done
accel=$(tr '\0' '\n' <"/proc/$(cat "$XM_RUNDIR/dom/$D/qemu.pid")/cmdline" | sed -n 's/^q35,accel=//p')

# results: "xa XM UEVENT C", "xd XM C", "fa TAP GETFD NETDEV DEVICE UEVENT C",
# "fd DEL DELETED NETDEV_DEL C"
cat >"$work/report.awk" <<'AWK'
function ms(k, x) { add(k, (x + 0) * 1000) }
function row(label, k) { printf "%-52s %8.1f %8.1f\n", label, med(k), pc(k, 0.9) }
function ratio(label, a, b) { printf "%-52s %8.2f %8.2f\n", label, med(a) / med(b), pc(a, 0.9) / pc(b, 0.9) }
$1 == "xa" { A[$NF] = $3; R[$NF] = $2; ms("a", $3); ms("a_ret", $2); ms("a_after", $2 - $3) }
$1 == "xd" { D[$NF] = $2; ms("d", $2) }
$1 == "fa" {
	F[$NF] = $6
	ms("f", $6); ms("f_tap", $2); ms("f_getfd", $3 - $2); ms("f_netdev", $4 - $3)
	ms("f_dev", $5 - $4); ms("f_uev", $6 - $5)
}
$1 == "fd" { G[$NF] = $4; ms("g", $4); ms("g_del", $2); ms("g_dd", $3 - $2); ms("g_ndel", $4 - $3) }
END {
	printf "%-52s %8s %8s\n", "ms (" n " cycles)", "median", "p90"
	row("(a) xm network-attach: start -> the guest sees the NIC", "a")
	row("    xm returns (agent: NIC up, Connected)", "a_ret")
	row("      the guest sees it -> xm returns", "a_after")
	row("(b) floor: tap, getfd, netdev_add, device_add -> seen", "f")
	row("      tap made, on the bridge, up", "f_tap")
	row("      then getfd returns", "f_getfd")
	row("      then netdev_add returns", "f_netdev")
	row("      then device_add returns", "f_dev")
	row("      then -> add uevent in the guest", "f_uev")
	row("(c) xm network-detach -> returns (tap gone)", "d")
	row("(d) floor: device_del -> DEVICE_DELETED + netdev_del", "g")
	row("      device_del returns", "g_del")
	row("      then -> DEVICE_DELETED (this id)", "g_dd")
	row("      then netdev_del returns", "g_ndel")
	ratio("(a)/(b)  the guest sees the NIC: xm / floor", "a", "f")
	ratio("(xm returns)/(b)", "a_ret", "f")
	ratio("(c)/(d)  detach / floor", "d", "g")
	for (c in A) if (c in F) add("pa", A[c] / F[c])
	for (c in D) if (c in G) add("pd", D[c] / G[c])
	printf "%-52s %8.2f %8.2f\n", "(a)/(b) cycle by cycle: median, p90 of the ratios", med("pa"), pc("pa", 0.9)
	printf "%-52s %8.2f %8.2f\n", "(c)/(d) cycle by cycle: median, p90 of the ratios", med("pd"), pc("pd", 0.9)
	printf "(accel=%s; p90 = nearest rank; ratios of medians and of p90s;" \
		" NIC pinged across the bridge in %d cycles)\n", accel, checked
}
AWK
awk -v n="$CYCLES" -v accel="$accel" -v checked="$checked" -f bench/stats.awk -f "$work/report.awk" \
	"$work/results"
