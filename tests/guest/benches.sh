#!/bin/sh
# tests/guest/benches.sh — every benchmark under bench/ still runs: each once,
# with the smallest counts its knobs allow, on this build, must exit 0 within
# its time limit and print its table (a line that only its end prints). The
# figures are not judged (benchmarks assert nothing, bench/README.md); a
# bench that no longer runs is. bench/domains.sh hung at its first floor
# round for several sessions (QEMU lost -daemonize in 85c8fd7, its timing
# helper waited for it) because nothing ran it; this is what runs them.
# Each bench starts and stops its own daemons and guests (its trap, also on
# timeout's SIGTERM); what a bench left behind is looked for after it.
# bench/cpubudget.sh is left out: it needs perf, which it installs.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1

LIMIT=${BENCHES_LIMIT:-600}
out=$(mktemp /tmp/xm-benches.XXXXXX)
trap 'rm -f "$out"' EXIT

# the build's flavour, as guests_setup takes it (the benches' own makes then
# find everything built)
san=${SANITIZE-$([ "$B" = build/asan ] && echo address,undefined)}
make -s SANITIZE="$san" B="$B" programs benchprogs >/dev/null 2>&1 ||
	{ t_fail "build" "make SANITIZE=$san B=$B programs benchprogs"; t_summary; exit 1; }

# bench NAME SIGNATURE KNOB=VALUE...
bench() {
	name=$1 sig=$2; shift 2
	label="bench/$name.sh${*:+ $*}"
	s=$(date +%s)
	env "$@" timeout "$LIMIT" sh "bench/$name.sh" "$B" >"$out" 2>&1
	rc=$?
	t=$(($(date +%s) - s))
	if [ $rc -ne 0 ]; then
		t_fail "$label" "exit $rc after ${t}s (124: past ${LIMIT}s); its last lines:"
		tail -5 "$out" | sed 's/^/#   /'
	elif ! grep -qF -- "$sig" "$out"; then
		t_fail "$label" "exit 0 but no \"$sig\" in its output"
		tail -5 "$out" | sed 's/^/#   /'
	else
		t_ok "$label runs and prints its table (${t}s)"
	fi
	left=$(ps -eo args= | grep -c '^qemu-system.*process=xm\(bench\|-dom\)' || true)
	[ "$left" -eq 0 ] || t_fail "$label" "$left QEMU(s) of it still running"
}

bench domains "(a)/(c)" BENCH_ROUNDS=1
bench block "(a)/(b)  attach / floor" BENCH_CYCLES=1 BENCH_BREAKDOWN=1 BENCH_CHECK=1
bench ab "paired ratio" AB_BLOCKS=1 AB_CYCLES=1
bench network "(a)/(b)  the guest sees the NIC" BENCH_CYCLES=1
bench memcpu "vcpu-set +1" BENCH_CYCLES=1
bench parallel "attaches per second" BENCH_GUESTS=2 BENCH_ROUNDS=1 BENCH_IDLE=1
bench multidisk "disks to one guest at once" BENCH_DISKS=2 BENCH_ROUNDS=1
bench saverestore "(e)/(f) save + restore" BENCH_ROUNDS=1
bench hvm "(HVM create -> prompt)/(b)" BENCH_ROUNDS=1
bench guests "xmstored CPU %" BENCH_GUESTS=2 BENCH_CYCLES=1 BENCH_CHURN=1 BENCH_IDLE=1 BENCH_LISTS=1
bench qmpbytes "10000"
bench journal "after kill -9, from the journal" BENCH_DURATION=1 BENCH_REPEAT=1 BENCH_CLIENTS=1 BENCH_OPS=read
bench run-all "after kill -9, from the journal" BENCH_DURATION=1 BENCH_REPEAT=1 BENCH_CLIENTS=1 BENCH_OPS=read
bench memory "B/node"
bench domscale "memory per domain"
bench xmscale "per domain (8 vbds) from 10 to 1000" SCALE_SAMPLES=3

t_summary
