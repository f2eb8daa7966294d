#!/bin/sh
# bench/memory.sh [BUILD_DIR] — memory per node: xmstored (with and without
# its journal) against Xen's cxenstored and oxenstored in the same run, after
# the same writes: 50 backends' params under each of 1,000 domains
# (/local/domain/D/device/vbd/K/params, 50,000 writes, 103,000 nodes with the
# directories they make), values of 40 bytes (a host's image path).
# Prints, per daemon: RSS before and after (and its parts: anonymous memory,
# file and shared pages such as xmstored's journal mapping), bytes per node,
# and how long the fill took; asserts nothing. The daemons run one at a time.
#
#   MEM_DOMAINS=1000 MEM_PER=50 MEM_VALUE=40 MEM_DAEMONS="xm xmnj cx ox"
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
. "$TOP/tests/lib.sh"
DOMS=${MEM_DOMAINS:-1000} PER=${MEM_PER:-50} VAL=${MEM_VALUE:-40}
DAEMONS=${MEM_DAEMONS:-"xm xmnj cx ox"}
FILL=$TOP/$B/bench/xsfill
[ -x "$FILL" ] && [ -x "$TOP/$B/xmstored/xmstored" ] ||
	make -s -C "$TOP" B="$B" programs benchprogs >/dev/null || exit 1
W=$(mktemp -d /tmp/xm-membench.XXXXXX)
trap 'xs_stop; rm -rf "$W"' EXIT
trap 'exit 1' INT TERM
NODES=$((DOMS * (3 + 2 * PER)))

# kB of a /proc/PID/status field
field() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }

printf '%d domains x %d writes of %d bytes = %d nodes made\n' "$DOMS" "$PER" "$VAL" "$NODES"
printf '%-10s | %9s %9s | %9s %9s %9s | %9s | %7s\n' daemon "RSS0 kB" "RSS kB" "anon kB" "file kB" "shmem kB" "B/node" "fill s"
for d in $DAEMONS; do
	case $d in
	xmnj) kind=xm; XMSTORED_ARGS=--no-journal ;;
	*) kind=$d; XMSTORED_ARGS= ;;
	esac
	export XMSTORED_ARGS
	if ! xs_start "$kind" "$W/$d" >/dev/null 2>&1; then
		printf '%-10s | n/a\n' "$d"; continue
	fi
	sleep 0.3
	r0=$(field "$XS_PID" VmRSS)
	out=$(XENSTORED_PATH=$XS_SOCK "$FILL" "$DOMS" "$PER" "$VAL") || { printf '%-10s | fill failed\n' "$d"; xs_stop; continue; }
	sleep 0.3
	r1=$(field "$XS_PID" VmRSS) an=$(field "$XS_PID" RssAnon) fi=$(field "$XS_PID" RssFile) sh=$(field "$XS_PID" RssShmem)
	printf '%-10s | %9d %9d | %9d %9d %9d | %9d | %7s\n' "$d" "$r0" "$r1" "$an" "$fi" "$sh" \
		$(( (r1 - r0) * 1024 / NODES )) "${out#* }"
	xs_stop
done
echo "(xm: xmstored with its journal, whose mapped pages count as shmem; xmnj: --no-journal;"
echo " B/node = (RSS after - RSS before) / nodes; cx/ox: Xen 4.17's daemons via tests/refxs)"
