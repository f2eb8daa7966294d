#!/bin/sh
# bench/xmscale.sh [BUILD_DIR] — xm, xmbackd and xmstored with 10, 100 and
# 1,000 domains (issue 14), timed in one run:
#
#   attach      xm block-attach of a disk to the one real guest until both
#               ends are connected (the guest's kernel has the disk), and
#               its detach
#   refused     the sharing check: xm block-attach w of an image that
#               another domain holds w (refused by xmbackd)
#   list        xm list (every domain), and xm list of one domain
#   block-list  xm block-list of one domain (8 disks)
#
# Every domain is made by `xm create` with 8 disks in its config and is
# watched by xmbackd over QMP; all but the first are tests/guest/fakeqemu
# in place of QEMU (XM_QEMU): the monitors, the pid file, the channel to
# xmstored and the agent's side of it, as the host sees them, without a machine
# (1,000 real guests do not fit here). The first domain is a real guest:
# the attach is timed into its kernel. The 10-domain figures are the
# baseline: flat means the 1,000-domain p50 within 1.1x of them.
# Also printed: the daemons' RSS and CPU per domain, and xm create's time
# per domain as the host fills. Asserts nothing (bench/README.md).
#
#   SCALE_SIZES=10,100,1000 SCALE_SAMPLES=20
#   SCALE_HOLD=FILE: after each size, write the variables that reach this host
#   (XENSTORED_PATH, XM_RUNDIR, XM, the real guest A...) to FILE and wait until
#   it is removed (to profile or try commands by hand)
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
cd "$TOP" || exit 1
. tests/lib.sh
. tests/guest/lib-guest.sh

SIZES=$(echo "${SCALE_SIZES:-10,100,1000}" | tr ',' ' ')
N=${SCALE_SAMPLES:-20}
FAKE=$TOP/$B/tests/guest/fakeqemu

work=
cleanup() {
	[ -n "$work" ] && guests_teardown
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
fail() {
	echo "xmscale.sh: $*" >&2
	[ -n "$work" ] && [ -s "$work/backd.log" ] && tail -5 "$work/backd.log" | sed 's/^/#   backd: /' >&2
	exit 1
}

guests_setup || fail "could not build or start xmstored/xmbackd"
make -s -C "$TOP" B="$B" "$B/tests/guest/fakeqemu" >/dev/null || fail "cannot build $B/tests/guest/fakeqemu"
ulimit -n 65536 2>/dev/null # (xm list opens every monitor at once; xm raises it too)

us() { echo $(($(date +%s%N) / 1000)); }
# p50 and p90 of the numbers on stdin (us), in ms
pct() { sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "- -"; exit }
	printf "%.1f %.1f\n", v[int((NR + 1) / 2)] / 1000, v[int(NR * 0.9 + 0.999)] / 1000 }'; }
rss() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
IMG=$work/img
mkdir -p "$IMG"
letters="b c d e f g h i"
real_letters="b c d e f g h" # the real guest keeps a slot for the probe

# the real guest: domain 1, with 8 disks too
disks() { # disks PREFIX [LETTERS]: images of 1 MiB (sparse), as a disk = [...] line
	l=""
	for x in ${2:-$letters}; do
		truncate -s 1M "$1-$x.img"
		l="$l'file:$1-$x.img,xvd$x,w',"
	done
	echo "disk = [ ${l%,} ]"
}
guest_cfg "$work/real.cfg" ScaleReal 160 1 "$(disks "$IMG/real" "$real_letters")"
A=$(guest_create "$work/real.cfg") || fail "the real guest did not come up"
truncate -s 8M "$IMG/probe.img"
XS=$XS_PID
have=1 made_us=0 made=0
grow() { # grow TOTAL: fake domains until TOTAL domains
	t0=$(us)
	while [ "$have" -lt "$1" ]; do
		have=$((have + 1))
		guest_cfg "$work/sim.cfg" "sim$have" 64 1 "$(disks "$IMG/s$have")"
		XM_QEMU=$FAKE "$XM" create "$work/sim.cfg" >/dev/null 2>"$work/create.err" ||
			fail "xm create of fake domain $have: $(cat "$work/create.err")"
		made=$((made + 1))
	done
	made_us=$(($(us) - t0))
}

# one domain holds $IMG/s2-b.img w (the refusal's holder)
results=$work/results
: >"$results"
for size in $SIZES; do
	n0=$have
	grow "$size"
	per=$([ $((have - n0)) -gt 0 ] && echo $((made_us / 1000 / (have - n0))) || echo -)
	sleep 2 # let xmbackd's first look at the new guests pass
	b0=$(cpu_ticks "$BACKD_PID") s0=$(cpu_ticks "$XS") i0=$(us)
	sleep 5 # idle: what the daemons cost with nothing to do
	b1=$(cpu_ticks "$BACKD_PID") s1=$(cpu_ticks "$XS") i1=$(us)
	idle_b=$(( (b1 - b0) * 10000000 / (i1 - i0) )) idle_s=$(( (s1 - s0) * 10000000 / (i1 - i0) ))
	: >"$work/att" ; : >"$work/det" ; : >"$work/ref" ; : >"$work/list" ; : >"$work/list1" ; : >"$work/bl"
	for i in $(seq "$N"); do
		t=$(us); "$XM" block-attach "$A" "file:$IMG/probe.img" xvdj w >/dev/null 2>"$work/e" ||
			fail "attach at $size domains: $(cat "$work/e")"
		echo $(($(us) - t)) >>"$work/att"
		t=$(us); "$XM" block-detach "$A" xvdj >/dev/null 2>"$work/e" ||
			fail "detach at $size domains: $(cat "$work/e")"
		echo $(($(us) - t)) >>"$work/det"
		if [ "$have" -ge 2 ]; then
			t=$(us); if "$XM" block-attach "$A" "file:$IMG/s2-b.img" xvdj w >/dev/null 2>"$work/e"; then
				fail "the sharing check let $IMG/s2-b.img (held w by sim2) go to $A"
			fi
			echo $(($(us) - t)) >>"$work/ref"
		fi
		t=$(us); "$XM" list >"$work/l" 2>&1 || fail "xm list: $(tail -1 "$work/l")"
		echo $(($(us) - t)) >>"$work/list"
		rows=$(($(wc -l <"$work/l") - 1))
		t=$(us); "$XM" list "$A" >/dev/null 2>&1 || fail "xm list $A"
		echo $(($(us) - t)) >>"$work/list1"
		t=$(us); "$XM" block-list "$A" >"$work/bll" 2>&1 || fail "xm block-list: $(cat "$work/bll")"
		echo $(($(us) - t)) >>"$work/bl"
	done
	[ "$rows" -eq $((have + 1)) ] || fail "xm list showed $rows rows for $have domains (+ Domain-0)"
	grep -q "sim2" "$work/e" 2>/dev/null || [ "$have" -lt 2 ] ||
		fail "the refusal does not name the holder: $(cat "$work/e")"
	echo "$size attach $(pct <"$work/att")" >>"$results"
	echo "$size detach $(pct <"$work/det")" >>"$results"
	echo "$size refused $(pct <"$work/ref")" >>"$results"
	echo "$size list $(pct <"$work/list")" >>"$results"
	echo "$size list-one $(pct <"$work/list1")" >>"$results"
	echo "$size block-list $(pct <"$work/bl")" >>"$results"
	echo "$size rss $(rss "$XS") $(rss "$BACKD_PID")" >>"$results"
	echo "$size idle $idle_s $idle_b" >>"$results"
	echo "$size create $per" >>"$results"
	echo "# $size domains up ($made made by xm create, $per ms each)" >&2
	if [ -n "${SCALE_HOLD:-}" ]; then # (profiling by hand: the env to reach this host)
		printf "export XENSTORED_PATH=%s XM_RUNDIR=%s XM=%s A=%s IMG=%s BACKD_PID=%s XS_PID=%s\n" \
			"$XENSTORED_PATH" "$XM_RUNDIR" "$XM" "$A" "$IMG" "$BACKD_PID" "$XS" >"$SCALE_HOLD"
		echo "# holding at $size domains until $SCALE_HOLD is removed" >&2
		while [ -e "$SCALE_HOLD" ]; do sleep 1; done
	fi
done

awk -v n="$N" '
$2 == "rss" { xs[$1] = $3; bd[$1] = $4; next }
$2 == "idle" { ixs[$1] = $3; ibd[$1] = $4; next }
$2 == "create" { cr[$1] = $3; next }
{ p50[$1, $2] = $3; p90[$1, $2] = $4; if (!($1 in seen)) { seen[$1] = 1; size[++ns] = $1 } }
END {
	printf "%-22s", "ms (" n " samples)"
	for (i = 1; i <= ns; i++) printf " %8s %6s", size[i] " p50", "p90"
	printf " %9s\n", "p50 ratio"
	split("attach detach refused list list-one block-list", m, " ")
	for (j = 1; j <= 6; j++) {
		printf "%-22s", m[j]
		for (i = 1; i <= ns; i++) printf " %8s %6s", p50[size[i], m[j]], p90[size[i], m[j]]
		printf " %9.2f\n", p50[size[1], m[j]] ? p50[size[ns], m[j]] / p50[size[1], m[j]] : 0
	}
	printf "%-22s", "xmstored RSS kB"
	for (i = 1; i <= ns; i++) printf " %15d", xs[size[i]]
	printf "\n%-22s", "xmbackd RSS kB"
	for (i = 1; i <= ns; i++) printf " %15d", bd[size[i]]
	printf "\n%-22s", "idle CPU % xmstored"
	for (i = 1; i <= ns; i++) printf " %15.1f", ixs[size[i]] / 10
	printf "\n%-22s", "idle CPU % xmbackd"
	for (i = 1; i <= ns; i++) printf " %15.1f", ibd[size[i]] / 10
	printf "\n%-22s", "xm create ms/domain"
	for (i = 1; i <= ns; i++) printf " %15s", cr[size[i]]
	printf "\n"
	printf "xm list per domain listed (p50 / domains):"
	for (i = 1; i <= ns; i++) printf " %.2f ms at %d;", p50[size[i], "list"] / size[i], size[i]
	printf "\n"
	if (ns > 1)
		printf "per domain (8 vbds) from %d to %d: xmstored %.1f kB, xmbackd %.1f kB\n",
			size[1], size[ns], (xs[size[ns]] - xs[size[1]]) / (size[ns] - size[1]),
			(bd[size[ns]] - bd[size[1]]) / (size[ns] - size[1])
	printf "(list = every domain; list-one, block-list = the real guest; refused = the\n"
	printf " sharing check refusing a disk another domain holds w; ratio: p50 at %d / at %d)\n", size[ns], size[1]
}' "$results"
