#!/bin/sh
# Merge the corpora that a long run grew (FUZZ_WORK/NAME, see run.sh) into
# the kept ones, tests/fuzz/corpus/NAME: libFuzzer's -merge=1 keeps the
# fewest inputs that give every feature (edge, counter) of the kept corpus,
# the grown one and the seeds together, and the result replaces the kept
# corpus. make check replays every kept file once (run.sh). Then commit
# tests/fuzz/corpus. From the top of the tree, after the hour-long run:
#   FUZZ_WORK=/tmp/xm-fuzz B=build/fuzz sh tests/fuzz/corpus.sh [NAME...]
# Prints per target: files and bytes kept.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/fuzz}
: "${FUZZ_WORK:?FUZZ_WORK: the folder of the long run}"
LSAN_OPTIONS=suppressions=$TOP/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}
export LSAN_OPTIONS
all=$(cd "$TOP/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
for n in ${*:-$all}; do
	kept=$TOP/tests/fuzz/corpus/$n
	new=$(mktemp -d)
	set --
	[ -d "$kept" ] && set -- "$@" "$kept"
	[ -d "$FUZZ_WORK/$n" ] && set -- "$@" "$FUZZ_WORK/$n"
	[ -d "$TOP/tests/fuzz/seeds/$n" ] && set -- "$@" "$TOP/tests/fuzz/seeds/$n"
	case $n in
	request) set -- -max_len=9000 "$@" ;;
	xsc) set -- -max_len=40000 "$@" ;;
	config | journal | qview) set -- -max_len=8192 "$@" ;;
	esac
	"$TOP/$B/tests/fuzz/fuzz_$n" -merge=1 -rss_limit_mb=2048 -timeout=20 "$new" "$@" \
		> "$FUZZ_WORK/$n.merge.log" 2>&1 ||
		{ echo "corpus.sh: the merge of $n failed: $FUZZ_WORK/$n.merge.log" >&2; rm -rf "$new"; exit 1; }
	rm -rf "$kept"
	mkdir -p "$kept"
	cp "$new"/* "$kept"/ 2>/dev/null || true
	rm -rf "$new"
	printf '%-9s %5s files %8s bytes\n' "$n" "$(ls "$kept" | wc -l)" \
		"$(cat "$kept"/* 2>/dev/null | wc -c)"
done
