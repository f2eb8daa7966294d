#!/bin/sh
# Run every cmocka unit test program of the build in $B.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
for p in "$TOP/$B"/tests/unit/test_*; do
	case $p in *.o|*.d) continue ;; esac
	[ -x "$p" ] || continue
	n=$(basename "$p")
	if out=$("$p" 2>&1); then t_ok "$n"; else t_fail "$n" "$(echo "$out" | grep -E 'FAILED|ERROR|Sanitizer' | head -5)"; echo "$out" | tail -30; fi
done
t_summary
