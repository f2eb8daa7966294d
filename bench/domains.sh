#!/bin/sh
# bench/domains.sh [BUILD_DIR] — domain lifecycle benchmark (issue 3): how long
# `xm create` takes until the guest agent is connected, and `xm shutdown -w`
# until the domain is gone, against the floor: the same image booted by QEMU
# alone (same command line as xm's, no xm, no xmstored), measured in the same
# run. Prints one table; asserts nothing (see bench/README.md). Slow (real
# guests, ~1-2 min under TCG), so bench/run-all.sh does not run it.
#
#   BENCH_ROUNDS=5      interleaved rounds (xm, floor; then floor, xm; ...)
#   BENCH_MEMORY=256    guest memory (MiB)     BENCH_VCPUS=1
#   DOMTIME_TIMEOUT=120 seconds before one wait gives up
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh

ROUNDS=${BENCH_ROUNDS:-5}
MEM=${BENCH_MEMORY:-256}
VCPUS=${BENCH_VCPUS:-1}

XM=$TOP/$B/xm/xm
BACKD=$TOP/$B/xmbackd/xmbackd
DOMTIME=$TOP/$B/bench/domtime
KERNEL=$TOP/$B/guest/vmlinux
RAMDISK=$TOP/$B/guest/initramfs.cpio.gz

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xmbench-dom.XXXXXX") || exit 1
export XM_RUNDIR="$WORK/run"
FLOOR=$WORK/floor
mkdir -p "$FLOOR"
BACKD_PID=
HPID=
cleanup() {
	[ -n "$HPID" ] && kill "$HPID" 2>/dev/null
	# only QEMUs this run started: their pid files are under $WORK
	for f in "$WORK"/run/dom/*/qemu.pid "$FLOOR/qemu.pid"; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	[ -n "$BACKD_PID" ] && kill "$BACKD_PID" 2>/dev/null && wait "$BACKD_PID" 2>/dev/null
	xs_stop
	[ -n "${BENCH_KEEP:-}" ] && echo "# kept $WORK" >&2 || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- build what is needed: the programs, the helper, then the image (after
# xmfront, so that the image holds the fresh agent) ---
SAN=
[ "$B" = build/asan ] && SAN=address,undefined
mk() { make -s -C "$TOP" B="$B" SANITIZE="$SAN" "$@" >/dev/null; }
if ! mk programs "$B/bench/domtime" 2>"$WORK/make.err"; then
	# A -O2-only -Wmaybe-uninitialized in a program must not stop the
	# benchmark: retry with that one warning not fatal, and say so.
	echo "# note: make failed; retrying with -Wno-error=maybe-uninitialized:" >&2
	grep -m3 'error:' "$WORK/make.err" | sed 's/^/#   /' >&2
	mk CFLAGS="${CFLAGS:--g} -Wno-error=maybe-uninitialized" programs "$B/bench/domtime" \
		2>"$WORK/make.err" || { grep -v warning "$WORK/make.err" | tail -20 >&2
		echo "domains.sh: build failed" >&2; exit 1; }
fi
mk image 2>"$WORK/make.err" || { cat "$WORK/make.err" >&2; echo "domains.sh: make image failed" >&2; exit 1; }

xs_start xm "$WORK/xs" >/dev/null || { echo "domains.sh: xmstored did not start" >&2; exit 1; }
"$BACKD" --foreground --log "$WORK/backd.log" 2>>"$WORK/backd.stderr" &
BACKD_PID=$!
i=0
while [ ! -f "$XM_RUNDIR/xmbackd.pid" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ -f "$XM_RUNDIR/xmbackd.pid" ] || { echo "domains.sh: xmbackd did not start" >&2; exit 1; }

CFG=$WORK/bench.cfg
{
	echo 'name = "BenchGuest"'
	echo "memory = $MEM"
	echo "vcpus = $VCPUS"
	echo "kernel = \"$KERNEL\""
	echo "ramdisk = \"$RAMDISK\""
} >"$CFG"

# helper in the background + wait, so that a signal is handled at once
helper() { # helper OUTFILE ARGS...
	out=$1; shift
	"$DOMTIME" "$@" >"$out" 2>>"$WORK/helper.err" &
	HPID=$!
	wait "$HPID"; rc=$?
	HPID=
	return $rc
}
wait_pid_gone() { # PID: not timed; the next measurement starts on a quiet machine
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}
fail() {
	echo "domains.sh: $*" >&2
	[ -s "$WORK/helper.err" ] && sed 's/^/#   /' "$WORK/helper.err" >&2
	exit 1
}

# run_xm ROUND: (a) create -> prompt / ready, (b) shutdown -w.
run_xm() {
	helper "$WORK/create.out" create "$XM" "$CFG" "$XM_RUNDIR/dom" || fail "xm create round $1 failed"
	read -r id ret prompt ready <"$WORK/create.out"
	qpid=$(cat "$XM_RUNDIR/dom/$id/qemu.pid")
	if [ "$1" = 0 ]; then
		# the exact QEMU command line xm used, one argument per line
		tr '\0' '\n' <"/proc/$qpid/cmdline" >"$WORK/xm.args"
	fi
	helper "$WORK/shutdown.out" run "$XM" shutdown -w "$id" || fail "xm shutdown -w round $1 failed"
	read -r down <"$WORK/shutdown.out"
	wait_pid_gone "$qpid"
	[ "$1" = 0 ] || echo "xm $ret $prompt $ready $down" >>"$WORK/results"
	echo "# round $1: xm create returned $ret s, prompt $prompt s, agent ready $ready s; shutdown -w $down s" >&2
}

# run_floor ROUND: (c) QEMU alone -> prompt.
run_floor() {
	rm -f "$FLOOR/console.log" "$FLOOR/qemu.pid"
	helper "$WORK/floor.out" floor "$WORK/floor.args" "$FLOOR/console.log" "$FLOOR/xenbus.sock" ||
		fail "QEMU-only boot round $1 failed"
	read -r ret prompt <"$WORK/floor.out"
	qpid=$(cat "$FLOOR/qemu.pid")
	kill "$qpid" 2>/dev/null
	wait_pid_gone "$qpid"
	rm -f "$FLOOR/qemu.pid"
	[ "$1" = 0 ] || echo "floor $ret $prompt" >>"$WORK/results"
	echo "# round $1: QEMU alone: set up in $ret s, prompt $prompt s" >&2
}

# Round 0 (not counted) warms the page cache and takes xm's QEMU command
# line; the floor runs that very command line with only the per-domain paths
# moved and the process name changed (the xenbus chardev connects to a socket
# the helper listens on, where xmstored's channel would be).
run_xm 0
dir=$(grep -m1 '^socket,id=con0,path=' "$WORK/xm.args" | sed 's|^socket,id=con0,path=\(.*\)/console.sock,.*|\1|')
sed -e "s|^socket,id=xenbus,path=[^,]*,|socket,id=xenbus,path=$FLOOR/xenbus.sock,|" \
	-e "s|$dir/|$FLOOR/|g" -e "s|process=xm-dom[0-9]*|process=xmbench-floor|" \
	"$WORK/xm.args" >"$WORK/floor.args"
accel=$(sed -n 's/^q35,accel=\(.*\)/\1/p' "$WORK/xm.args")
run_floor 0

: >"$WORK/results"
r=1
while [ "$r" -le "$ROUNDS" ]; do
	if [ $((r % 2)) = 1 ]; then run_xm "$r"; run_floor "$r"; else run_floor "$r"; run_xm "$r"; fi
	r=$((r + 1))
done

# results: "xm RETURNED PROMPT READY SHUTDOWN" / "floor RETURNED PROMPT"
awk -v rounds="$ROUNDS" -v accel="$accel" -v mem="$MEM" -v vcpus="$VCPUS" '
function sorted(k,   n, i, j, t) {
	n = cnt[k]
	for (i = 1; i <= n; i++) s[i] = v[k, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && s[j - 1] > s[j]; j--) { t = s[j]; s[j] = s[j - 1]; s[j - 1] = t }
	return n
}
function med(k,   n) { n = sorted(k); return n % 2 ? s[(n + 1) / 2] : (s[n / 2] + s[n / 2 + 1]) / 2 }
function p90(k,   n, i) { n = sorted(k); i = int(0.9 * n); if (i < 0.9 * n) i++; return s[i] }  # nearest rank
function add(k, x) { v[k, ++cnt[k]] = x + 0 }
function row(label, k) { printf "%-46s %8.3f %8.3f\n", label, med(k), p90(k) }
$1 == "xm" {
	add("ret", $2); add("rest", $4 - $2); add("ready", $4); add("prompt", $3)
	add("gap", $4 - $3); add("down", $5)
}
$1 == "floor" { add("fret", $2); add("floor", $3) }
END {
	printf "%-46s %8s %8s\n", "seconds (" rounds " rounds)", "median", "p90"
	row("(a) xm create -> agent connected (ready)", "ready")
	row("      xm create returns", "ret")
	row("      then -> agent connected", "rest")
	row("    xm create -> shell prompt on console", "prompt")
	row("      prompt -> agent connected", "gap")
	row("(b) xm shutdown -w -> returns (domain gone)", "down")
	row("(c) floor: QEMU alone -> shell prompt", "floor")
	row("      QEMU has set the machine up", "fret")
	printf "%-46s %8.3f %8.3f\n", "(a)/(c)", med("ready") / med("floor"), p90("ready") / p90("floor")
	printf "%-46s %8.3f %8.3f\n", "(create -> prompt)/(c)", med("prompt") / med("floor"), p90("prompt") / p90("floor")
	printf "(accel=%s, %s MiB, %s vcpu; p90 = nearest rank, i.e. the worst of 5;" \
		" ready seen via a XenStore watch, prompt via inotify on the console log)\n", accel, mem, vcpus
}' "$WORK/results"
