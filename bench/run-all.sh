#!/bin/sh
# bench/run-all.sh BUILD_DIR — XenStore benchmark: xmstored against Xen's own
# cxenstored and oxenstored, all started here, in the same run, plus the raw
# AF_UNIX floor. Prints one table; asserts nothing (see bench/README.md).
#
#   BENCH_REPEAT=3      runs per daemon (interleaved; the table shows medians)
#   BENCH_DURATION=1    seconds per (operation, clients) cell
#   BENCH_CLIENTS=1,2,4 BENCH_OPS=read,write,dir,txn,watch  BENCH_DAEMONS="xm cx ox"
#   BENCH_CPUS=0        pin daemons and clients to these CPUs (taskset list);
#                       unset = let the scheduler place them (see README)
#   BENCH_JOURNAL=1     then bench/journal.sh: xmstored's journal against
#                       --no-journal and cxenstored, and its recovery time
#                       (0: skip it)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh

REPEAT=${BENCH_REPEAT:-3}
DUR=${BENCH_DURATION:-1}
CLIENTS=${BENCH_CLIENTS:-1,2,4}
OPS=${BENCH_OPS:-read,write,dir,txn,watch}
DAEMONS=${BENCH_DAEMONS:-xm cx ox}
CPUS=${BENCH_CPUS:-}
PIN=""
if [ -n "$CPUS" ]; then
	command -v taskset >/dev/null 2>&1 || { echo "run-all.sh: BENCH_CPUS needs taskset" >&2; exit 1; }
	PIN="taskset -c $CPUS"
fi
XSBENCH=$TOP/$B/bench/xsbench
[ -x "$XSBENCH" ] || { echo "run-all.sh: $XSBENCH not built (make benchprogs)" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xmbench.XXXXXX") || exit 1
PIDS=""
cleanup() {
	[ -n "${BPID:-}" ] && kill "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
	for p in $PIDS; do XS_PID=$p; xs_stop; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Start every daemon first; a daemon that cannot start gets "n/a" columns.
UP=""
for d in $DAEMONS; do
	if [ "$d" = xm ] && [ ! -x "$TOP/$B/xmstored/xmstored" ]; then
		echo "# xmstored: $B/xmstored/xmstored not built; skipped" >&2
		continue
	fi
	XS_PID=
	if xs_start "$d" "$WORK/$d" >"$WORK/$d.start" 2>&1 && [ -n "${XS_PID:-}" ]; then
		PIDS="$PIDS $XS_PID"
		[ -n "$CPUS" ] && taskset -apc "$CPUS" "$XS_PID" >/dev/null
		echo "$XS_SOCK $XS_PID" >"$WORK/$d.info"
		UP="$UP $d"
	else
		[ -n "${XS_PID:-}" ] && PIDS="$PIDS $XS_PID"
		echo "# $d: did not start; skipped ($(tr '\n' ' ' <"$WORK/$d.start"))" >&2
	fi
done
unset XENSTORED_PATH

# Guard against a hung run: timeout(1) if there is one.
TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout 300"

# bench_run LABEL XSBENCH-ARGS...: one xsbench run, results tagged LABEL. In
# the background + wait, so that a signal to this script is handled at once.
BPID=""
bench_run() {
	label=$1; shift
	$TO $PIN "$XSBENCH" -d "$DUR" -c "$CLIENTS" "$@" >"$WORK/out" 2>>"$WORK/$label.err" &
	BPID=$!
	wait "$BPID"
	BPID=""
	grep -v '^#' "$WORK/out" | sed "s/^/$label /" >>"$WORK/results"
}

# Interleave: every round runs each daemon once, in a rotated order, then the floor.
round=1
while [ "$round" -le "$REPEAT" ]; do
	order=$UP
	i=1
	while [ "$i" -lt "$round" ]; do
		set -- $order
		[ $# -gt 1 ] && { first=$1; shift; order="$* $first"; }
		i=$((i + 1))
	done
	for d in $order; do
		read -r sock pid <"$WORK/$d.info"
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "# $d: daemon died; no more runs against it" >&2
			UP=$(echo " $UP " | sed "s/ $d / /")
			continue
		fi
		echo "# round $round: $d" >&2
		XENSTORED_PATH=$sock bench_run "$d" -o "$OPS" -p "$pid"
	done
	echo "# round $round: floor" >&2
	bench_run floor -o sock2,sock1
	round=$((round + 1))
done
for f in "$WORK"/*.err; do
	[ -s "$f" ] && { echo "# $(basename "$f" .err):"; sed 's/^/#   /' "$f"; } >&2
done

# results: DAEMON OP CLIENTS OPS_S P50 P99 CPU ERRORS  ->  medians per cell.
touch "$WORK/results"
awk -v ops="$OPS" -v clients="$CLIENTS" '
function med(key,   n, i, j, t, a) {
	n = cnt[key]
	if (!n) return "n/a"
	for (i = 1; i <= n; i++) a[i] = val[key, i]
	for (i = 2; i <= n; i++)            # insertion sort; n is tiny
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { if (v == "n/a" || v == "-") return; val[key, ++cnt[key]] = v }
{
	for (f = 4; f <= 7; f++) add($1 SUBSEP $2 SUBSEP $3 SUBSEP f, $f)
	if ($8 != "0") errs[$1] += ($8 == "failed" ? 1 : $8)
}
function fmt(v, spec) { return v == "n/a" ? sprintf("%" spec "s", "n/a") : sprintf("%" spec ".1f", v) }
function fmti(v, spec) { return v == "n/a" ? sprintf("%" spec "s", "n/a") : sprintf("%" spec ".0f", v) }
function ratio(a, b) { return (a == "n/a" || b == "n/a" || b + 0 == 0) ? "  n/a" : sprintf("%5.2f", a / b) }
END {
	nd = split("xm cx ox", ds, " ")
	split("xmstored cxenstored oxenstored", names, " ")
	no = split(ops, os, ","); nc = split(clients, cs, ",")
	printf "%-6s %2s", "", ""
	for (d = 1; d <= nd; d++) printf " | %-34s", names[d]
	printf " | %-11s\n", "xm/cx"
	printf "%-6s %2s", "op", "cl"
	for (d = 1; d <= nd; d++) printf " | %7s %7s %7s %10s", "ops/s", "p50us", "p99us", "cpuus/op"
	printf " | %5s %5s\n", "ops/s", "cpu"
	for (o = 1; o <= no; o++) for (c = 1; c <= nc; c++) {
		printf "%-6s %2d", os[o], cs[c]
		for (d = 1; d <= nd; d++) {
			k = ds[d] SUBSEP os[o] SUBSEP cs[c]
			r[d] = med(k SUBSEP 4); u[d] = med(k SUBSEP 7)
			printf " | %7s %7s %7s %10s", fmti(r[d], 7), fmt(med(k SUBSEP 5), 7),
			       fmt(med(k SUBSEP 6), 7), fmt(u[d], 10)
		}
		printf " | %s %s\n", ratio(r[1], r[2]), ratio(u[1], u[2])
	}
	print ""
	print "floor: raw AF_UNIX round trip, READ-sized, against a trivial poll(2) echo server"
	printf "%-28s %2s | %7s %7s %7s %10s\n", "variant", "cl", "ops/s", "p50us", "p99us", "cpuus/op"
	split("sock2 sock1", fs, " ")
	fn["sock2"] = "header+payload: 2 writes"; fn["sock1"] = "header+payload: 1 write"
	for (f = 1; f <= 2; f++) for (c = 1; c <= nc; c++) {
		k = "floor" SUBSEP fs[f] SUBSEP cs[c]
		printf "%-28s %2d | %7s %7s %7s %10s\n", fn[fs[f]], cs[c], fmti(med(k SUBSEP 4), 7),
		       fmt(med(k SUBSEP 5), 7), fmt(med(k SUBSEP 6), 7), fmt(med(k SUBSEP 7), 10)
	}
	for (d in errs) printf "note: %s had %d failed calls or cells (see above)\n", d, errs[d]
}' "$WORK/results"
echo "(medians of $REPEAT interleaved runs, ${DUR}s per cell${CPUS:+, pinned to CPUs $CPUS}; cpuus/op = daemon utime+stime per op;" \
	"xm/cx ops/s > 1 and cpu < 1 favour xmstored)"

# The journal's cost and recovery (bench/journal.sh, its own daemons).
if [ "${BENCH_JOURNAL:-1}" != 0 ]; then
	for p in $PIDS; do XS_PID=$p; xs_stop; done
	PIDS=""
	echo
	echo "xmstored's journal (bench/journal.sh):"
	sh "$TOP/bench/journal.sh" "$B"
fi
