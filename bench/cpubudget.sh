#!/bin/sh
# bench/cpubudget.sh [BUILD_DIR] — where the attach's CPU goes: one guest,
# `xm block-attach` until the disk's kernel line, against the floor (raw
# QMP blockdev-add + device_add until the block "add" uevent, as in
# bench/block.sh), each cycle recorded with `perf sched record` (the
# scheduler's switch events, system-wide). For each cycle, the CPU every
# thread ran for while the timing helper (blktime) lived is summed by role:
# the guest's vCPU, QEMU's main thread, QEMU's monitor thread (which reads
# QMP), QEMU's other threads, xm, xmstored, xmbackd, blktime, the rest.
# Prints the median of each, for xm and for the floor, and the difference.
# Asserts nothing. Needs perf (Debian's linux-perf: installed if missing).
#
# The floor's window holds blktime's QMP connect and its add-fd (not on the
# floor's clock); xm's holds xm's exec. perf's own events cost every thread
# a little, the same on both sides; the latency printed is under perf.
#
#   BENCH_CYCLES=10   counted cycles of each kind (alternated)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

CYCLES=${BENCH_CYCLES:-10}
BLKTIME=$TOP/$B/bench/blktime
FLOOR_BUS=rp8

work=
cleanup() { [ -n "$work" ] && guests_teardown; }
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

fail() {
	echo "cpubudget.sh: $*" >&2
	exit 1
}

if ! perf version >/dev/null 2>&1; then
	{ apt-get update && apt-get install -y linux-perf; } >/dev/null 2>&1 ||
		fail "perf is missing and could not be installed (linux-perf)"
fi
guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$BLKTIME" >/dev/null || fail "cannot build $BLKTIME"
IMG=$work/bench.img
FIMG=$work/floor.img
truncate -s 8M "$IMG" "$FIMG"
guest_cfg "$work/bench.cfg" CpuBudget
D=$(guest_create "$work/bench.cfg") || fail "the guest did not come up"
CON=$XM_RUNDIR/dom/$D/console.log
CTL=$XM_RUNDIR/dom/$D/ctl.sock
guest_floor_console "$D" "$FLOOR_BUS" || fail "cannot start the guest's uevent monitor"

# sums DATA KIND: one line "KIND WINDOW_MS role=ms ..." from a perf.data
sums() {
	perf sched timehist -i "$1" 2>/dev/null | awk -v kind="$2" '
	NR > 3 && NF >= 6 {
		t = $1; n = $0
		sub(/^ *[0-9.]+ +\[[0-9]+\] +/, "", n); sub(/\[.*/, "", n)
		if (n ~ /^CPU [0-9]+\/TCG/ || n ~ /^CPU [0-9]+\/KVM/) n = "vcpu"
		else if (n ~ /mon_iothread/) n = "qemu_mon"
		else if (n ~ /^xm-dom/) n = "qemu_main"
		else if (n ~ /^qemu-system/ || n ~ /^worker/ || n ~ /^IO /) n = "qemu_other"
		else if (n !~ /^(xm|xmstored|xmbackd|blktime)$/ && n !~ /idle/) n = "other"
		if (n == "blktime") { if (s == "") s = t; e = t }
		k++; N[k] = n; T[k] = t; R[k] = $NF
	}
	END {
		for (i = 1; i <= k; i++)
			if (T[i] >= s && T[i] <= e && N[i] !~ /idle/) r[N[i]] += R[i]
		printf "%s %.3f", kind, (e - s) * 1000
		for (x in r) printf " %s=%.3f", x, r[x]
		printf "\n"
	}'
}

one() { # KIND CYCLE
	data=$work/perf.data
	if [ "$1" = floor ]; then
		perf sched record -q -o "$data" -- "$BLKTIME" floor-attach "$CTL" "$FIMG" "$FLOOR_BUS" "$CON" \
			>/dev/null 2>>"$work/helper.err" || fail "QMP attach, cycle $2"
		"$BLKTIME" floor-detach "$CTL" >/dev/null 2>>"$work/helper.err" || fail "QMP detach, cycle $2"
	else
		perf sched record -q -o "$data" -- "$BLKTIME" attach-exit "$CON" "$XM" block-attach "$D" \
			"file:$IMG" xvdb w >/dev/null 2>>"$work/helper.err" || fail "xm block-attach, cycle $2"
		"$XM" block-detach "$D" xvdb || fail "xm block-detach, cycle $2"
	fi
	[ "$2" = 0 ] || sums "$data" "$1" >>"$work/results"
	rm -f "$data"
	sleep 0.2
}

: >"$work/results"
one xm 0
one floor 0
c=1
while [ "$c" -le "$CYCLES" ]; do
	if [ $((c % 2)) = 1 ]; then one floor "$c"; one xm "$c"; else one xm "$c"; one floor "$c"; fi
	echo "# cycle $c done" >&2
	c=$((c + 1))
done

awk -v n="$CYCLES" '
function med(kind, role,   m, i, j, t, a) {
	m = 0
	for (i = 1; i <= cnt[kind]; i++) a[++m] = v[kind, i, role] + 0
	for (i = 2; i <= m; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return m % 2 ? a[(m + 1) / 2] : (a[m / 2] + a[m / 2 + 1]) / 2
}
{
	k = $1; i = ++cnt[k]; v[k, i, "window"] = $2
	for (f = 3; f <= NF; f++) { split($f, p, "="); v[k, i, p[1]] = p[2]; v[k, i, "total"] += p[2] }
}
END {
	split("window total vcpu qemu_main qemu_mon qemu_other xm xmstored xmbackd blktime other", roles, " ")
	printf "CPU ms while blktime lived, median of %d cycles     %8s %8s %8s\n", n, "xm", "floor", "xm-floor"
	for (r = 1; r <= 11; r++) {
		x = med("xm", roles[r]); f = med("floor", roles[r])
		label = roles[r] == "window" ? "wall time (under perf)" : roles[r] == "total" ? "all threads" : roles[r]
		printf "  %-50s %8.2f %8.2f %+8.2f\n", label, x, f, x - f
	}
	print "(vcpu: the guest; qemu_mon: QEMU reading QMP; the floor window holds its QMP connect and add-fd)"
}' "$work/results"
