#!/bin/sh
# Run every test tier against the build in $1 (default build/asan).
# Each tier prints its own "N passed, M failed"; this prints the total last.
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-build/asan}
export B TOP
cd "$TOP" || exit 1
pass=0; fail=0
for t in tests/unit/run.sh tests/proto/*.sh tests/fuzz/run.sh tests/guest/*.sh; do
	[ -f "$t" ] || continue
	case $t in */lib-*.sh) continue ;; esac # sourced helpers, not tests
	echo "=== $t"
	out=$(mktemp)
	sh "$t" 2>&1 | tee "$out"
	rc=$(sed -n 's/^\([0-9][0-9]*\) passed, \([0-9][0-9]*\) failed.*/\1 \2/p' "$out" | tail -1)
	if [ -n "$rc" ]; then
		pass=$((pass + ${rc% *})); fail=$((fail + ${rc#* }))
	else
		echo "FAIL $t: printed no summary"; fail=$((fail + 1))
	fi
	rm -f "$out"
done
echo "=== total"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
