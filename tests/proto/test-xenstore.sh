#!/bin/sh
# tests/proto/test-xenstore.sh — Xen's own XenStore test suite, test-xenstore
# from Debian's xen-utils-4.17, against a XenStore daemon:
#   - each of its tests on its own (-t NAME), then all of them 20 times (-i 20);
#   - a random run of 60 s (-r; shorter when $CI is set, or set XS_RANDOM_SECS),
#     and a short one with two clients at once;
#   - afterwards the daemon is still up and test-xenstore cleaned up after itself.
#
#   KIND=xm|cx|ox B=build/asan TOP=/work/main sh tests/proto/test-xenstore.sh
#
# test-xenstore works on the relative path xenstore-test/<pid>, i.e. below
# /local/domain/0; it prints "NAME: N ns" per test, "NAME: failed (ret = E,
# stage S)" and exits 3 on a failure, and prints nothing in random mode unless a
# test fails. An unknown -t name runs nothing and exits 0, so each run's output
# is checked, not only its exit status.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
KIND=${KIND:-xm}
. "$TOP/tests/lib.sh"

XST=${XST:-/usr/lib/xen-4.17/bin/test-xenstore}
if [ -n "${XS_RANDOM_SECS:-}" ]; then
	RSECS=$XS_RANDOM_SECS
elif [ -n "${CI:-}" ]; then
	RSECS=20
else
	RSECS=60
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/xm-xstest.XXXXXX") || exit 1
trap 'xs_stop; rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP

# report NAME RC OUTFILE WANT_LINES PATTERN — the run must have exited 0 and
# printed exactly WANT_LINES lines, each matching PATTERN (an ERE)
report() {
	rp_lines=$(grep -c '' "$3")
	rp_bad=$(grep -cvE "$5" "$3")
	if [ "$2" -ne 0 ]; then
		t_fail "$1" "exit status $2: $(head -c 300 "$3")"
	elif [ "$rp_lines" -ne "$4" ] || [ "$rp_bad" -ne 0 ]; then
		t_fail "$1" "unexpected output ($rp_lines lines, want $4): $(head -c 300 "$3")"
	else
		t_ok "$1"
	fi
}

echo "# test-xenstore against KIND=$KIND"
if [ ! -x "$XST" ]; then
	t_fail "test-xenstore present" "$XST missing (Debian package xen-utils-4.17)"
	t_summary
	exit 1
fi
if ! xs_start "$KIND" "$W/xs"; then
	t_fail "start $KIND daemon" "xs_start failed"
	t_summary
	exit 1
fi

# the list of tests, from the binary itself ("name      : description")
"$XST" --list-tests | sed 's/ *:.*//' >"$W/tests"
ntests=$(grep -c '' "$W/tests")
if [ "$ntests" -ge 12 ]; then
	t_ok "test-xenstore lists its tests ($ntests)"
else
	t_fail "test-xenstore lists its tests" "only $ntests: $(cat "$W/tests")"
fi

# each test on its own: exactly one line "NAME: N ns"
while IFS= read -r name; do
	timeout 30 "$XST" -t "$name" >"$W/out" 2>&1 </dev/null
	rc=$?
	pat=$(printf '%-10s' "$name" | sed 's/[][\.*^$()+?{}|]/\\&/g')
	report "test-xenstore -t '$name'" $rc "$W/out" 1 "^$pat: [0-9]+ ns\$"
done <"$W/tests"

# all of them, 20 iterations each: one "avg" line per test
timeout 60 "$XST" -i 20 >"$W/out" 2>&1 </dev/null
report "test-xenstore -i 20 (all tests)" $? "$W/out" "$ntests" \
	'^[a-z0-9 ]{10}: avg: [0-9]+ ns \([0-9]+ ns \.\. [0-9]+ ns\)$'

# random order for RSECS seconds: silent on success
timeout $((RSECS + 30)) "$XST" -r "$RSECS" >"$W/out" 2>&1 </dev/null
report "test-xenstore -r $RSECS (random)" $? "$W/out" 0 '^$'

# two random runs at once (own paths, shared parent xenstore-test)
timeout 40 "$XST" -r 5 >"$W/out1" 2>&1 </dev/null &
p1=$!
timeout 40 "$XST" -r 5 >"$W/out2" 2>&1 </dev/null
rc2=$?
wait "$p1"
rc1=$?
report "test-xenstore -r 5, client 1 of 2" $rc1 "$W/out1" 0 '^$'
report "test-xenstore -r 5, client 2 of 2" $rc2 "$W/out2" 0 '^$'

# the daemon survived, and test-xenstore's cleanup removed xenstore-test
if kill -0 "$XS_PID" 2>/dev/null; then t_ok "daemon still running"; else t_fail "daemon still running" "it died"; fi
timeout 10 xenstore-list /local/domain/0 </dev/null >"$W/out" 2>&1
rc=$?
if [ $rc -eq 0 ] && ! grep -qx xenstore-test "$W/out"; then
	t_ok "no xenstore-test node left behind"
else
	t_fail "no xenstore-test node left behind" "xenstore-list /local/domain/0 gave $rc: $(head -c 200 "$W/out")"
fi

t_summary
