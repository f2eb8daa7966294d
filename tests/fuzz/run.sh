#!/bin/sh
# Run every libFuzzer target (tests/fuzz/fuzz_NAME.c, built as
# $B/tests/fuzz/fuzz_NAME: one per parser, see module.mk): first each file
# of its kept corpus (tests/fuzz/corpus/NAME/, grown by the hour-long runs
# and merged, see docs/testing.md "Fuzzing") once, then for a bounded time
# from its seeds: the files committed under tests/fuzz/seeds/NAME/ and the
# binary ones made here (XenStore messages, uevent datagrams). A crash,
# leak, broken invariant, hang or sanitizer report fails the tier.
# In make check fuzz_request runs 10 s and each other target 4 s, after
# the corpus replays (about 8 s): about 70 s in all, with start-up.
#
# Longer by hand: FUZZ_SECONDS sets every target's time, FUZZ_TARGETS picks
# some, KEEP=1 keeps the work folder (the corpora grown, each log, any
# crash-* input), FUZZ_WORK names it (default: a new one under /tmp),
# FUZZ_PARALLEL=1 runs the targets all at once, each under nice -n 19
# (FUZZ_NICE), FUZZ_REPLAY=0 skips the corpus replay. The hour-long run of
# every target, from the top of the tree:
#   FUZZ_SECONDS=3600 FUZZ_PARALLEL=1 KEEP=1 FUZZ_WORK=/tmp/xm-fuzz \
#     B=build/fuzz sh tests/fuzz/run.sh
#   FUZZ_TARGETS="qmp config" FUZZ_SECONDS=600 B=build/fuzz sh tests/fuzz/run.sh
# Each target's corpus then is $FUZZ_WORK/NAME, its log $FUZZ_WORK/NAME.log
# (with -print_final_stats=1); tests/fuzz/corpus.sh merges the corpora into
# tests/fuzz/corpus/. An input that failed replays with:
#   $B/tests/fuzz/fuzz_NAME FILE
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
# libxlutil leaks on some syntax errors (see lsan.supp)
LSAN_OPTIONS=suppressions=$TOP/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
export LSAN_OPTIONS
if [ -n "${FUZZ_WORK:-}" ]; then
	work=$FUZZ_WORK
	mkdir -p "$work"
else
	work=$(mktemp -d)
fi
trap '[ -n "${KEEP:-}" ] && echo "fuzz work folder kept: $work" || rm -rf "$work"' EXIT

# msg TYPE PAYLOAD [REQ]: a XenStore message, header (type, req, tx 0, len)
# little-endian + payload; '|' in PAYLOAD stands for NUL
msg() {
	len=$(printf '%s' "$2" | tr '|' '\0' | wc -c)
	printf "\\$(printf %03o "$1")\\0\\0\\0\\$(printf %03o "${3:-1}")\\0\\0\\0\\0\\0\\0\\0\\$(printf %03o "$len")\\0\\0\\0"
	printf '%s' "$2" | tr '|' '\0'
}

# fuzz_request: a few well-formed requests of each kind, as a privileged
# client (first byte 0) and as domain 1 (1)
seeds_request() {
	i=0
	for spec in "2:/tool|" "11:/a/b|value" "1:/|" "3:/tool|" "4:/a|tok|" "12:/x/y|" "13:/a|" \
		"14:/a|r0|w1|" "6:|" "7:T|" "10:1|" "17:0|" "8:3|5|7|" "0:check|" "24:/|0|" \
		"21:|" "11:rel/path|v" "2:@introduceDomain|" "5:/a|tok|"; do
		i=$((i + 1))
		{ printf '\000'; msg "${spec%%:*}" "${spec#*:}"; } > "$1/s$i"
		{ printf '\001'; msg "${spec%%:*}" "${spec#*:}"; } > "$1/d$i"
	done
}

# fuzz_xsc: first byte 0 xmbackd's loop, 1 xm's event wait, 2 a READ
# (req 0) and its reply among events
seeds_xsc() {
	ev1=/local/domain/0/backend/vbd/1/51712/state\|backend\|
	ev2=/local/domain/1/device/vbd/51712/state\|frontend\|
	for m in 0 1 2; do
		{ printf "\\00$m"; msg 15 "$ev1"; msg 15 "$ev2"; msg 2 "4" 0; } > "$1/events$m"
		{ printf "\\00$m"; msg 15 "$ev2"; msg 16 "ENOENT|" 0; msg 15 "@releaseDomain|error|"; } > "$1/error$m"
		{ printf "\\00$m"; msg 4 "OK|" 0; msg 15 "/a|nobody's|"; msg 15 "/a|"; } > "$1/odd$m"
	done
	# a header whose length is over XENSTORE_PAYLOAD_MAX (4097)
	printf '\000\017\0\0\0\0\0\0\0\0\0\0\0\001\020\0\0' > "$1/toolong"
}

# fuzz_uevent: the kernel's datagrams for a disk coming, a partition, an
# eject request, a disk going, something not a block device, a bad number
seeds_uevent() {
	i=0
	dp=/devices/pci0000:00/0000:00:10.0/0000:01:00.0/virtio2/block/vda
	for s in \
		"add@$dp|ACTION=add|DEVPATH=$dp|SUBSYSTEM=block|MAJOR=254|MINOR=0|DEVNAME=vda|DEVTYPE=disk|DISKSEQ=9|SEQNUM=1234" \
		"add@$dp/vda1|ACTION=add|DEVPATH=$dp/vda1|SUBSYSTEM=block|MAJOR=254|MINOR=1|DEVNAME=vda1|DEVTYPE=partition|PARTN=1|SEQNUM=1235" \
		"change@/devices/pci0000:00/0000:00:1f.2/ata1/host0/target0:0:0/0:0:0:0/block/sr0|ACTION=change|SUBSYSTEM=block|DISK_EJECT_REQUEST=1|MAJOR=11|MINOR=0|DEVNAME=sr0|DEVTYPE=disk|SEQNUM=77" \
		"remove@$dp|ACTION=remove|DEVPATH=$dp|SUBSYSTEM=block|MAJOR=254|MINOR=0|DEVNAME=vda|DEVTYPE=disk|SEQNUM=1240|" \
		"add@/module/loop|ACTION=add|DEVPATH=/module/loop|SUBSYSTEM=module|SEQNUM=5" \
		"add@$dp|ACTION=add|SUBSYSTEM=block|MAJOR=25x|MINOR=-1|DEVNAME=vda"; do
		i=$((i + 1))
		printf '%s' "$s" | tr '|' '\0' > "$1/u$i"
	done
}

# replay NAME: every file of tests/fuzz/corpus/NAME once (-runs=0 runs
# the inputs given and stops)
replay() {
	name=$1
	shift
	fz="$TOP/$B/tests/fuzz/fuzz_$name"
	dir=$TOP/tests/fuzz/corpus/$name
	[ -d "$dir" ] || return 0
	[ -x "$fz" ] || { t_fail "fuzz_$name corpus" "missing $fz"; return; }
	n=$(ls "$dir" | wc -l)
	if "$fz" -runs=0 -rss_limit_mb=1024 -artifact_prefix="$work/$name-" "$@" "$dir" \
		> "$work/$name.replay.log" 2>&1; then
		t_ok "fuzz_$name corpus: $n files replayed"
	else
		t_fail "fuzz_$name corpus" "an input of $dir failed (KEEP=1 keeps $work)"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written|Running:' "$work/$name.replay.log" | tail -20
	fi
}

# start NAME SECONDS [libFuzzer options]: the timed run (in the background
# with FUZZ_PARALLEL=1); its exit status goes to $work/NAME.rc
start() {
	name=$1 secs=${FUZZ_SECONDS:-$2}
	shift 2
	fz="$TOP/$B/tests/fuzz/fuzz_$name"
	[ -x "$fz" ] || { echo 127 > "$work/$name.rc"; return; }
	mkdir -p "$work/$name"
	case $name in request | xsc | uevent) "seeds_$name" "$work/$name" ;; esac
	seeds=$TOP/tests/fuzz/seeds/$name
	[ -d "$seeds" ] || seeds=$work/$name
	echo "$secs" > "$work/$name.secs"
	if [ "${FUZZ_PARALLEL:-0}" = 1 ]; then
		(nice -n "${FUZZ_NICE:-19}" "$fz" -artifact_prefix="$work/$name-" \
			-max_total_time="$secs" -rss_limit_mb=1024 -print_final_stats=1 "$@" \
			"$work/$name" "$seeds" > "$work/$name.log" 2>&1
		 echo $? > "$work/$name.rc") &
	else
		"$fz" -artifact_prefix="$work/$name-" -max_total_time="$secs" -rss_limit_mb=1024 \
			-print_final_stats=1 "$@" "$work/$name" "$seeds" > "$work/$name.log" 2>&1
		echo $? > "$work/$name.rc"
	fi
}

# report NAME: the timed run's outcome
report() {
	name=$1
	rc=$(cat "$work/$name.rc" 2>/dev/null || echo 1)
	if [ "$rc" = 127 ]; then
		t_fail "fuzz_$name" "missing $TOP/$B/tests/fuzz/fuzz_$name"
	elif [ "$rc" = 0 ]; then
		t_ok "fuzz_$name $(cat "$work/$name.secs")s: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/$name.log" | awk '{print $2}') runs"
	else
		t_fail "fuzz_$name" "libFuzzer reported a problem (KEEP=1 keeps $work)"
		grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$work/$name.log" | head -20
	fi
}

# Each target's libFuzzer options (the same for the replay and the run).
opts() {
	case $1 in
	request) echo -max_len=9000 ;;
	xsc) echo -max_len=40000 -timeout=20 ;;
	config) echo -max_len=8192 -timeout=20 ;;
	journal | qview) echo -max_len=8192 -timeout=20 ;;
	*) echo -timeout=20 ;;
	esac
}

# every tests/fuzz/fuzz_NAME.c, unless FUZZ_TARGETS names some
all=$(cd "$TOP/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
targets=${FUZZ_TARGETS:-$all}
if [ "${FUZZ_REPLAY:-1}" = 1 ]; then
	for name in $targets; do
		# shellcheck disable=SC2046
		replay "$name" $(opts "$name")
	done
fi
for name in $targets; do
	case $name in request) secs=10 ;; *) secs=4 ;; esac
	# shellcheck disable=SC2046
	start "$name" "$secs" $(opts "$name")
done
wait
for name in $targets; do
	report "$name"
done
t_summary
