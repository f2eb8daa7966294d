#!/bin/sh
# bench/domscale.sh [BUILD_DIR] — the XenStore side of 1,000 domains (issue
# 14): xmstored with domains introduced (each its channel), 8 virtual disks
# each whose frontends are simulated on the domains' channels by
# bench/domscale (the wire protocol, as the guest agent speaks it), timed at
# 10, 100 and 1,000 domains in one run: a dom0 read, a backend/frontend
# handshake (state 4 -> 4 and 5 -> 6 through the domain's channel), and an
# INTRODUCE + RELEASE; and the daemon's memory per domain. The 10-domain
# figures are the baseline: flat means the 1,000-domain ones within 1.1x.
# Prints one table; asserts nothing (bench/README.md).
#
#   SCALE_SIZES=10,100,1000 SCALE_VBDS=8 SCALE_SAMPLES=300
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/release}
export B TOP
. "$TOP/tests/lib.sh"
SIZES=${SCALE_SIZES:-10,100,1000} VBDS=${SCALE_VBDS:-8} SAMPLES=${SCALE_SAMPLES:-300}
PROG=$TOP/$B/bench/domscale
[ -x "$PROG" ] && [ -x "$TOP/$B/xmstored/xmstored" ] ||
	make -s -C "$TOP" B="$B" programs "$B/bench/domscale" >/dev/null || exit 1
W=$(mktemp -d /tmp/xm-domscale.XXXXXX)
trap 'xs_stop; rm -rf "$W"' EXIT
trap 'exit 1' INT TERM
xs_start xm "$W" >/dev/null || exit 1
r0=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$XS_PID/status")
XS_PID=$XS_PID "$PROG" "$XS_SOCK" "$W/domains" "$SIZES" "$VBDS" "$SAMPLES" >"$W/out" || {
	echo "domscale failed" >&2; exit 1; }
awk -v r0="$r0" -v vbds="$VBDS" -v n="$SAMPLES" '
$2 == "rss" { rss[$1] = $3; next }
{ p50[$1, $2] = $3; p90[$1, $2] = $4; if (!($1 in seen)) { seen[$1] = 1; size[++ns] = $1 } }
END {
	printf "%-26s", "us (" n " samples)"
	for (i = 1; i <= ns; i++) printf " %9s %9s", size[i] " p50", "p90"
	printf " %9s\n", "p50 ratio"
	split("read handshake introduce", m, " ")
	for (j = 1; j <= 3; j++) {
		printf "%-26s", m[j]
		for (i = 1; i <= ns; i++) printf " %9.1f %9.1f", p50[size[i], m[j]], p90[size[i], m[j]]
		printf " %9.2f\n", p50[size[ns], m[j]] / p50[size[1], m[j]]
	}
	printf "%-26s", "RSS kB"
	for (i = 1; i <= ns; i++) printf " %9d %9s", rss[size[i]], ""
	printf "\n"
	printf "memory per domain (%d vbds, frontend and backend nodes): %.1f kB\n", vbds,
		(rss[size[ns]] - rss[size[1]]) / (size[ns] - size[1])
	printf "(ratio: p50 at %d domains / p50 at %d; daemon RSS %d kB before the first domain)\n",
		size[ns], size[1], r0
}' "$W/out"
