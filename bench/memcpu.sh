#!/bin/sh
# bench/memcpu.sh [BUILD_DIR] — vCPU hot-plug and ballooning (issue 13):
# `xm vcpu-set D N+1` (plug one in), `xm vcpu-set D N-1` (plug one out,
# until QEMU's slot is empty: the guest ejected the CPU) and `xm mem-set D
# MIB`, each
# against its floor in the same guest and run: raw QMP on a fresh
# connection to the domain's ctl.sock (device_add; device_del until the
# slot is empty; balloon), by bench/cputime, interleaved. xm's figures
# include its process start, the XenStore records and the pinning it
# applies. Prints one table (medians, ratio xm / floor); asserts nothing
# (see bench/README.md). Starts its own xmstored, xmbackd and one guest in a
# temp dir.
#
#   BENCH_CYCLES=10     counted cycles (one uncounted warm-up before them; at
#                       most 30: each plug takes a fresh one of 64 CPU slots)
#   BENCH_SETTLE=0.5    seconds between steps (the guest onlines a new CPU)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

CYCLES=${BENCH_CYCLES:-10}
SETTLE=${BENCH_SETTLE:-0.5}
T=$TOP/$B/bench/cputime

work=
cleanup() { [ -n "$work" ] && guests_teardown; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
	echo "memcpu.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/bench/cputime" >/dev/null || fail "cannot build $T"
# a fresh CPU slot for every plug (QEMU 7.2 under TCG aborts when one is
# plugged again, and xm passes such slots over): xm's from socket 1 up,
# the floor's from the top down
MAXV=$((2 * (CYCLES + 1) + 1))
[ "$MAXV" -le 64 ] || fail "BENCH_CYCLES=$CYCLES: at most 30 (64 vCPU slots)"
guest_cfg "$work/bench.cfg" BenchCpu 160 1 "maxmem = 256
maxvcpus = $MAXV"
D=$(guest_create "$work/bench.cfg") || fail "the guest did not come up"
CTL=$XM_RUNDIR/dom/$D/ctl.sock

step() { # NAME CYCLE ARGS...: one timed step, its seconds in results
	name=$1 c=$2; shift 2
	sleep "$SETTLE"
	t=$("$T" "$@") || fail "$name, cycle $c"
	[ "$c" = 0 ] || echo "$name $t" >>"$work/results"
}
: >"$work/results"
# plug-ins first, then plug-outs: under TCG QEMU 7.2 aborts at a CPU
# plugged in after one went out (xm refuses it; see xm/vcpu.c)
n=1 c=0
while [ "$c" -le "$CYCLES" ]; do
	if [ $((c % 2)) = 0 ]; then
		step xup "$c" run "$XM" vcpu-set "$D" $((n + 1))
		step fup "$c" plug "$CTL" $((MAXV - 1 - c))
	else
		step fup "$c" plug "$CTL" $((MAXV - 1 - c))
		step xup "$c" run "$XM" vcpu-set "$D" $((n + 1))
	fi
	n=$((n + 2)) c=$((c + 1))
done
c=0
while [ "$c" -le "$CYCLES" ]; do
	if [ $((c % 2)) = 0 ]; then
		step xdown "$c" run "$XM" vcpu-set "$D" $((n - 1))
		step fdown "$c" unplug "$CTL"
	else
		step fdown "$c" unplug "$CTL"
		step xdown "$c" run "$XM" vcpu-set "$D" $((n - 1))
	fi
	n=$((n - 2)) c=$((c + 1))
done
c=0
while [ "$c" -le "$CYCLES" ]; do
	m=$((160 + 20 * (c % 2))) # a different target each time
	if [ $((c % 2)) = 0 ]; then
		step xmem "$c" run "$XM" mem-set "$D" "$m"
		step fmem "$c" balloon "$CTL" $((m + 10))
	else
		step fmem "$c" balloon "$CTL" $((m + 10))
		step xmem "$c" run "$XM" mem-set "$D" "$m"
	fi
	c=$((c + 1))
done
online=$(guest_run "$D" 'cat /sys/devices/system/cpu/online') || fail "cannot read the guest's CPUs"
accel=$(tr '\0' '\n' <"/proc/$(cat "$XM_RUNDIR/dom/$D/qemu.pid")/cmdline" | sed -n 's/^q35,accel=//p')

awk -v n="$CYCLES" -v accel="$accel" -v online="$online" '
function median(k,   m, i, j, t, s) {
	m = cnt[k]
	for (i = 1; i <= m; i++) s[i] = v[k, i]
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
	return m % 2 ? s[(m + 1) / 2] : (s[m / 2] + s[m / 2 + 1]) / 2
}
{ v[$1, ++cnt[$1]] = $2 }
function row(what, x, f,   a, b) {
	a = median(x) * 1000; b = median(f) * 1000
	printf "%-34s %9.1f %9.1f %7.2f\n", what, a, b, (b > 0 ? a / b : 0)
}
END {
	printf "bench/memcpu.sh: %d cycles, %s, one guest (maxmem 256 MiB, a fresh vCPU slot each plug); medians in ms\n", n, accel
	printf "%-34s %9s %9s %7s\n", "operation", "xm", "floor", "ratio"
	row("vcpu-set +1 (device_add)", "xup", "fup")
	row("vcpu-set -1 (until ejected)", "xdown", "fdown")
	row("mem-set (balloon)", "xmem", "fmem")
	printf "guest online CPUs after the run: %s\n", online
}' "$work/results"
