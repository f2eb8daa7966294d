#!/bin/sh
# Run the libFuzzer target briefly (FUZZ_SECONDS, default 20) from seeds made
# here: a few well-formed requests of each kind. A crash, leak or sanitizer
# report fails the tier.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$TOP/tests/lib.sh"
fz="$TOP/$B/tests/fuzz/fuzz_request"
[ -x "$fz" ] || { t_fail fuzz "missing $fz"; t_summary; exit 1; }
work=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT
mkdir "$work/corpus"
# msg TYPE PAYLOAD: header (type, req 1, tx 0, len) little-endian + payload
msg() {
	len=$(printf '%s' "$2" | tr '|' '\0' | wc -c)
	printf "\\$(printf %03o "$1")\\0\\0\\0\\001\\0\\0\\0\\0\\0\\0\\0\\$(printf %03o "$len")\\0\\0\\0"
	printf '%s' "$2" | tr '|' '\0'
}
i=0
for spec in "2:/tool|" "11:/a/b|value" "1:/|" "3:/tool|" "4:/a|tok|" "12:/x/y|" "13:/a|" \
	"14:/a|r0|w1|" "6:|" "7:T|" "10:1|" "17:0|" "8:3|5|7|" "0:check|" "24:/|0|" \
	"21:|" "11:rel/path|v" "2:@introduceDomain|" "5:/a|tok|"; do
	i=$((i + 1))
	{ printf '\000'; msg "${spec%%:*}" "${spec#*:}"; } > "$work/corpus/s$i"
	{ printf '\001'; msg "${spec%%:*}" "${spec#*:}"; } > "$work/corpus/d$i"
done
secs=${FUZZ_SECONDS:-20}
if "$fz" -artifact_prefix="$work/" -max_total_time="$secs" -max_len=9000 -rss_limit_mb=1024 -print_final_stats=1 \
	"$work/corpus" > "$work/log" 2>&1; then
	t_ok "fuzz_request ${secs}s: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | awk '{print $2}') runs"
else
	t_fail fuzz_request "libFuzzer reported a problem"
	grep -E 'ERROR|SUMMARY|runtime error' "$work/log" | head -20
fi
t_summary
