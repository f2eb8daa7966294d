#!/bin/sh
# bench/journal.sh BUILD_DIR — the cost of xmstored's journal: the client
# load of bench/run-all.sh (bench/xsbench) in ONE run against xmstored with
# its journal, the same xmstored with --no-journal, and Xen's cxenstored;
# ops/s per cell and the ratios journal/no-journal and journal/cxenstored
# (the target: every cell >= 1.2 x cxenstored). Then the recovery time of a
# store of BENCH_NODES nodes: start -> serving, from the journal alone and
# from a snapshot. Prints; asserts nothing (see bench/README.md).
#
#   BENCH_REPEAT=3 BENCH_DURATION=1 BENCH_CLIENTS=1,2,4
#   BENCH_OPS=read,write,dir,txn,watch BENCH_CPUS= (taskset list)
#   BENCH_NODES=10000
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
NODES=${BENCH_NODES:-10000}
CPUS=${BENCH_CPUS:-}
PIN=""
[ -n "$CPUS" ] && PIN="taskset -c $CPUS"
XSBENCH=$TOP/$B/bench/xsbench
XSD=$TOP/$B/xmstored/xmstored
for f in "$XSBENCH" "$XSD"; do
	[ -x "$f" ] || { echo "journal.sh: $f not built (make B=$B programs benchprogs)" >&2; exit 1; }
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/xmbench-jrn.XXXXXX") || exit 1
PIDS=""
BPID=""
cleanup() {
	[ -n "$BPID" ] && kill "$BPID" 2>/dev/null && wait "$BPID" 2>/dev/null
	for p in $PIDS; do XS_PID=$p; xs_stop; done
	for f in "$WORK"/*/xmstored.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 141' PIPE # (output into head: still clean up)

# The three daemons: xj (journal, the default), xn (--no-journal), cx.
UP=""
for d in xj xn cx; do
	XS_PID=
	case $d in
	xj) XMSTORED_ARGS= ; export XMSTORED_ARGS; xs_start xm "$WORK/$d" >"$WORK/$d.start" 2>&1 ;;
	xn) XMSTORED_ARGS=--no-journal; export XMSTORED_ARGS; xs_start xm "$WORK/$d" >"$WORK/$d.start" 2>&1 ;;
	cx) xs_start cx "$WORK/$d" >"$WORK/$d.start" 2>&1 ;;
	esac
	if [ $? -eq 0 ] && [ -n "${XS_PID:-}" ]; then
		PIDS="$PIDS $XS_PID"
		[ -n "$CPUS" ] && taskset -apc "$CPUS" "$XS_PID" >/dev/null
		echo "$XS_SOCK $XS_PID" >"$WORK/$d.info"
		UP="$UP $d"
	else
		[ -n "${XS_PID:-}" ] && PIDS="$PIDS $XS_PID"
		echo "# $d: did not start; skipped ($(tr '\n' ' ' <"$WORK/$d.start"))" >&2
	fi
done
unset XMSTORED_ARGS XENSTORED_PATH
TO=""
command -v timeout >/dev/null 2>&1 && TO="timeout 300"

# Interleaved cell by cell: the three daemons measure the same (op,
# clients) cell within seconds of each other, in an order rotated every
# round, so that a machine shared with other work (whose load drifts from
# one minute to the next) weighs on all three alike.
round=1
while [ "$round" -le "$REPEAT" ]; do
	order=$UP
	i=1
	while [ "$i" -lt "$round" ]; do
		set -- $order
		[ $# -gt 1 ] && { first=$1; shift; order="$* $first"; }
		i=$((i + 1))
	done
	echo "# round $round: $order" >&2
	for op in $(echo "$OPS" | tr ',' ' '); do
		for cl in $(echo "$CLIENTS" | tr ',' ' '); do
			for d in $order; do
				read -r sock pid <"$WORK/$d.info"
				kill -0 "$pid" 2>/dev/null || { echo "# $d: daemon died" >&2; continue; }
				XENSTORED_PATH=$sock $TO $PIN "$XSBENCH" -d "$DUR" -c "$cl" -o "$op" -p "$pid" \
					>"$WORK/out" 2>>"$WORK/$d.err" &
				BPID=$!
				wait "$BPID"
				BPID=""
				grep -v '^#' "$WORK/out" | sed "s/^/$d /" >>"$WORK/results"
			done
		done
	done
	round=$((round + 1))
done
jsize=$(stat -c %s "$WORK/xj/xmstored.journal" 2>/dev/null || echo 0)
ssize=$(stat -c %s "$WORK/xj/xmstored.snap" 2>/dev/null || echo 0)

touch "$WORK/results"
awk -v ops="$OPS" -v clients="$CLIENTS" '
function med(key,   n, i, j, t, a) {
	n = cnt[key]
	if (!n) return "n/a"
	for (i = 1; i <= n; i++) a[i] = val[key, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function add(key, v) { if (v == "n/a" || v == "-") return; val[key, ++cnt[key]] = v }
{ add($1 SUBSEP $2 SUBSEP $3 SUBSEP 4, $4); add($1 SUBSEP $2 SUBSEP $3 SUBSEP 7, $7) }
function fi(v) { return v == "n/a" ? sprintf("%7s", "n/a") : sprintf("%7.0f", v) }
function ff(v) { return v == "n/a" ? sprintf("%6s", "n/a") : sprintf("%6.1f", v) }
function ratio(a, b) { return (a == "n/a" || b == "n/a" || b + 0 == 0) ? "  n/a" : sprintf("%5.2f", a / b) }
END {
	nd = split("xj xn cx", ds, " ")
	no = split(ops, os, ","); nc = split(clients, cs, ",")
	printf "%-6s %2s | %-14s | %-14s | %-14s | %-5s %-5s\n", "", "", "xm journal", "xm no-journal", "cxenstored", "xj/", "xj/"
	printf "%-6s %2s | %7s %6s | %7s %6s | %7s %6s | %5s %5s\n", "op", "cl", "ops/s", "cpuus", "ops/s", "cpuus", "ops/s", "cpuus", "xn", "cx"
	worst = ""; low = 0
	for (o = 1; o <= no; o++) for (c = 1; c <= nc; c++) {
		printf "%-6s %2d", os[o], cs[c]
		for (d = 1; d <= nd; d++) {
			k = ds[d] SUBSEP os[o] SUBSEP cs[c]
			r[d] = med(k SUBSEP 4)
			printf " | %s %s", fi(r[d]), ff(med(k SUBSEP 7))
		}
		printf " | %s %s\n", ratio(r[1], r[2]), ratio(r[1], r[3])
		if (r[1] != "n/a" && r[3] != "n/a" && r[3] + 0 > 0) {
			q = r[1] / r[3]
			if (worst == "" || q < worst) { worst = q; wcell = os[o] " " cs[c] }
			if (q < 1.2) low++
		}
	}
	if (worst != "")
		printf "journal / cxenstored: worst cell %s at %.2f; cells below 1.2: %d\n", wcell, worst, low
}' "$WORK/results"
echo "(medians of $REPEAT interleaved runs, ${DUR}s per cell${CPUS:+, pinned to CPUs $CPUS}; cpuus = daemon CPU us/op;" \
	"the journal daemon ended with a ${jsize}-byte journal and a ${ssize}-byte snapshot)"
for f in "$WORK"/*.err; do
	[ -s "$f" ] && { echo "# $(basename "$f" .err):"; sed 's/^/#   /' "$f"; } >&2
done
for p in $PIDS; do XS_PID=$p; xs_stop; done
PIDS=""

# --- recovery: start -> serving, BENCH_NODES nodes ------------------------------
now_us() { echo $(($(date +%s%N) / 1000)); }
R=$WORK/rec
xs_start xm "$R" >/dev/null 2>&1 || { echo "recovery: xmstored did not start" >&2; exit 1; }
PIDS=$XS_PID
# 100 nodes under each of NODES/100 directories, one transaction (one
# record) per directory, as a toolstack writes a domain's nodes
d=0
while [ $((d * 100)) -lt "$NODES" ]; do
	set --
	k=0
	while [ $k -lt 100 ]; do set -- "$@" "/bench/rec/d$d/k$k" "value-$d-$k"; k=$((k + 1)); done
	xenstore-write "$@" || { echo "recovery: fill failed" >&2; exit 1; }
	d=$((d + 1))
done
total=$(xenstore-ls -f / | wc -l)
# serving: the first READ answered (the socket exists before the tree is
# loaded; a client connecting meanwhile waits). Sets ms (and XS_PID).
serve_time() {
	t0=$(now_us)
	"$XSD" --foreground --socket "$R/socket" --pid-file "$R/xmstored.pid" \
		--log "$R/xmstored.log" $1 >/dev/null 2>>"$R/xmstored.stderr" &
	XS_PID=$!
	PIDS=$XS_PID
	until XENSTORED_PATH=$R/socket xenstore-read "$2" >/dev/null 2>&1; do
		kill -0 "$XS_PID" 2>/dev/null || { echo "recovery: xmstored died" >&2; ms=n/a; return 1; }
	done
	t1=$(now_us)
	ms=$(((t1 - t0) / 1000)).$(((t1 - t0) % 1000 / 100))
}
kill -9 "$(cat "$R/xmstored.pid")"; wait "$XS_PID" 2>/dev/null
j1=$(stat -c %s "$R/xmstored.journal"); s1=$(stat -c %s "$R/xmstored.snap" 2>/dev/null || echo 0)
serve_time "" /bench/rec/d0/k0; ms1=$ms
loaded1=$(grep 'nodes, .* domains loaded' "$R/xmstored.log" | tail -1 | sed 's/.* in \([0-9]*\) ms/\1/')
xs_stop    # a clean stop compacts: the next start reads a snapshot only
s2=$(stat -c %s "$R/xmstored.snap" 2>/dev/null || echo 0)
serve_time "" /bench/rec/d0/k0; ms2=$ms
loaded2=$(grep 'nodes, .* domains loaded' "$R/xmstored.log" | tail -1 | sed 's/.* in \([0-9]*\) ms/\1/')
kill -9 "$XS_PID"; wait "$XS_PID" 2>/dev/null
serve_time --no-journal /; ms0=$ms
xs_stop
PIDS=
echo
echo "recovery of a store of $total nodes (start -> first READ answered):"
printf "  %-44s %8s ms (loading %s ms; journal %s bytes, snapshot %s)\n" \
	"after kill -9, from the journal" "$ms1" "$loaded1" "$j1" "$s1"
printf "  %-44s %8s ms (loading %s ms; snapshot %s bytes)\n" \
	"after SIGTERM, from the snapshot" "$ms2" "$loaded2" "$s2"
printf "  %-44s %8s ms\n" "an empty store (--no-journal), for reference" "$ms0"
