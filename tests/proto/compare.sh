#!/bin/sh
# tests/proto/compare.sh — xmstored side by side with Xen's cxenstored.
#
# Starts two XenStore daemons, A=${A:-xm} and B_KIND=${B_KIND:-cx} (xm, cx or
# ox; "B" itself is the build dir), and has tests/compare/xscompare send the
# same raw requests to both: every scripted case (one result line each), then
# random sequences from the seeds in $SEEDS, $COUNT steps each. A case passes
# when both daemons gave the same replies and watch events (after the
# normalisations documented at the head of xscompare.c).
#
#   sh tests/proto/compare.sh                    xmstored vs cxenstored
#   A=cx B_KIND=cx sh tests/proto/compare.sh     must pass: proves the normalisation
#   A=cx B_KIND=ox sh tests/proto/compare.sh     Xen's two daemons (they differ)
#
# The case "introduce-nohv" (what INTRODUCE of a guest answers without a
# hypervisor) only runs when neither side is xmstored, which can serve guests.
set -u
# (lib.sh keeps its own globals: kind, dir, out, i; hence "work" here)
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"

A=${A:-xm}
B_KIND=${B_KIND:-cx}
SEEDS=${SEEDS:-"1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20"}
EDGE_SEEDS=${EDGE_SEEDS:-"1 2 3 4 5 6 7 8 9 10"}
COUNT=${COUNT:-300}
X=$TOP/$B/tests/compare/xscompare

work=$(mktemp -d /tmp/xscompare.XXXXXX) || exit 1
A_PID=
B_PID=
cleanup() {
	XS_PID=$A_PID; xs_stop
	XS_PID=$B_PID; xs_stop
	A_PID=; B_PID=
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

if [ ! -x "$X" ]; then
	t_fail "compare $A vs $B_KIND" "$X not built (make SANITIZE=address,undefined testprogs)"
	t_summary
	exit 1
fi
if ! xs_start "$A" "$work/a"; then
	t_fail "compare $A vs $B_KIND" "daemon $A did not start"
	t_summary
	exit 1
fi
A_PID=$XS_PID; A_SOCK=$XS_SOCK
if ! xs_start "$B_KIND" "$work/b"; then
	t_fail "compare $A vs $B_KIND" "daemon $B_KIND did not start"
	t_summary
	exit 1
fi
B_PID=$XS_PID; B_SOCK=$XS_SOCK
echo "# A = $A ($A_SOCK), B = $B_KIND ($B_SOCK)"

# $1 = test name, rest = xscompare arguments before the sockets
run_compare() {
	name=$1; shift
	cmp_out=$("$X" "$@" "$A_SOCK" "$B_SOCK" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		t_ok "$name"
	else
		t_fail "$name" "$(printf "%s\n" "$cmp_out" | tail -1) (exit $rc)"
		printf "%s\n" "$cmp_out" | sed 's/^/    /'
	fi
	# a daemon that died takes every later case with it: say so once
	for p in "$A_PID" "$B_PID"; do
		if ! kill -0 "$p" 2>/dev/null; then
			t_fail "$name" "daemon $p died"
			t_summary
			exit 1
		fi
	done
}

cases=$("$X" --list) || { t_fail "xscompare --list" "failed"; t_summary; exit 1; }
if [ "$A" != xm ] && [ "$B_KIND" != xm ]; then
	cases="$cases introduce-nohv"
fi
for c in $cases; do
	run_compare "compare $A/$B_KIND: $c" --script "$c"
done
for s in $SEEDS; do
	run_compare "compare $A/$B_KIND: random seed $s ($COUNT steps)" --seed "$s" --count "$COUNT"
done
# the corners: special @ names, domain ids at the edges (xscompare --edges)
for s in $EDGE_SEEDS; do
	run_compare "compare $A/$B_KIND: edges seed $s ($COUNT steps)" --edges --seed "$s" --count "$COUNT"
done

t_summary
