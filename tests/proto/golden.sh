#!/bin/sh
# tests/proto/golden.sh — `xm create -n` and `xm block-attach -n` (dry runs:
# the parsed config or disk spec as JSON, nothing done) against golden files,
# as xl's check-xl-disk-parse and vmd -n do: real-world configs under
# tests/golden/create/*.cfg (expected: NAME.out), disk specs listed in
# tests/golden/attach/specs (expected: attach/NAME.out). An .out holds stdout
# and stderr and the exit status; the checkout's path reads @TOP@.
#
#   B=build/asan TOP=/work/main sh tests/proto/golden.sh
#   GOLDEN_UPDATE=1 ... writes the .out files from what xm prints (review
#   the diff before committing).
#
# block-attach resolves its domain: an xmstored is started with one guest's
# name written in (no QEMU: a dry run needs none).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
XM=$TOP/$B/xm/xm
G=$TOP/tests/golden
W=$(mktemp -d "${TMPDIR:-/tmp}/xm-golden.XXXXXX") || exit 1
cleanup() {
	xs_stop
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# check NAME WANT_FILE CMD...: run CMD, compare its output with WANT_FILE
check() {
	name=$1 want=$2
	shift 2
	"$@" > "$W/out" 2>&1
	echo "exit $?" >> "$W/out"
	sed "s#$TOP#@TOP@#g" "$W/out" > "$W/got"
	if [ -n "${GOLDEN_UPDATE:-}" ]; then
		cp "$W/got" "$want"
		t_ok "$name (written)"
	elif [ -f "$want" ] && cmp -s "$want" "$W/got"; then
		t_ok "$name"
	else
		t_fail "$name" "output differs from ${want#$TOP/}:"
		diff "$want" "$W/got" 2>&1 | head -20 | sed 's/^/#   /'
	fi
}

for cfg in "$G"/create/*.cfg; do
	n=$(basename "$cfg" .cfg)
	check "create -n $n" "$G/create/$n.out" "$XM" create -n "$cfg"
done

xs_start xm "$W/xs" || { t_fail "xmstored" "did not start"; t_summary; exit 1; }
xenstore-write /local/domain/7/name Guest /local/domain/7/domid 7 ||
	t_fail "guest" "cannot write its name"
check "block-attach -n to Domain-0 is refused" "$G/attach/dom0.out" \
	"$XM" block-attach -n 0 phy:/dev/loop0 xvda r
tab=$(printf '\t')
grep -v '^#' "$G/attach/specs" | while read -r line; do
	[ -n "$line" ] || continue
	# NAME, then the arguments, separated by tabs
	IFS=$tab
	# shellcheck disable=SC2086 # split on tabs on purpose
	set -- $line
	unset IFS
	n=$1
	shift
	check "block-attach -n $n" "$G/attach/$n.out" "$XM" block-attach -n Guest "$@"
done > "$W/attach.log"
cat "$W/attach.log"
T_PASS=$((T_PASS + $(grep -c '^ok' "$W/attach.log")))
T_FAIL=$((T_FAIL + $(grep -c '^FAIL' "$W/attach.log")))
t_summary
