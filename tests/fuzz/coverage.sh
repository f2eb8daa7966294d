#!/bin/sh
# Line coverage of each fuzz target's parser from replaying its kept corpus
# (tests/fuzz/corpus/NAME, or FUZZ_CORPUS/NAME) and its seeds once: every
# target built again with clang's source-based coverage
# (-fprofile-instr-generate -fcoverage-mapping; libFuzzer for its main,
# no sanitizer) into $B (default build/fuzz-cov), each replay's profile
# merged with llvm-profdata-14, and llvm-cov-14 report on the parser's own
# files (the table below). Not in make check. From the top of the tree:
#   sh tests/fuzz/coverage.sh              every target
#   sh tests/fuzz/coverage.sh jrec qview   some
# Prints one line per target: its parser files' line coverage; the full
# reports (and, per file, the lines never run: $B/coverage/NAME.missed)
# are in $B/coverage/.
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/fuzz-cov}
CORPUS=${FUZZ_CORPUS:-$TOP/tests/fuzz/corpus}
out=$TOP/$B/coverage
PROFDATA=${PROFDATA:-llvm-profdata-14}
COV=${COV:-llvm-cov-14}

# The parser files of each target: what its line coverage is about.
srcs() {
	case $1 in
	config) echo xm/config.c ;;
	diskspec) echo lib/diskspec.c ;;
	journal) echo xmstored/journal.c ;;
	jrec) echo xmstored/jrec.c ;;
	mux) echo xmfront/mux.c ;;
	qmp) echo lib/qmp.c ;;
	qview) echo xmbackd/qview.c ;;
	request) echo lib/wire.c xmstored/conn.c xmstored/core.c ;;
	uevent) echo xmfront/uevent.c ;;
	vdev) echo lib/vdev.c ;;
	xsc) echo lib/xsbatch.c ;;
	xsvalue) echo lib/vbd.c xmbackd/claims.c xmbackd/sharing.c ;;
	*) echo "coverage.sh: no parser files listed for $1" >&2; return 1 ;;
	esac
}

all=$(cd "$TOP/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')
names=${*:-$all}
progs=""
for n in $names; do
	progs="$progs $B/tests/fuzz/fuzz_$n"
done
# shellcheck disable=SC2086
make -C "$TOP" -s -j2 B="$B" \
	FUZZ_SAN="-fsanitize=fuzzer -fprofile-instr-generate -fcoverage-mapping" $progs
mkdir -p "$out"
# libxlutil leaks on some syntax errors (see lsan.supp); no LSan here anyway
cd "$TOP"
printf '%-9s %6s %6s %7s  %s\n' TARGET LINES MISSED COVER FILES
for n in $names; do
	rm -f "$out/$n".*.profraw
	set --
	[ -d "$CORPUS/$n" ] && set -- "$@" "$CORPUS/$n"
	[ -d "tests/fuzz/seeds/$n" ] && set -- "$@" "tests/fuzz/seeds/$n"
	LLVM_PROFILE_FILE="$out/$n.%p.profraw" "$B/tests/fuzz/fuzz_$n" -runs=0 \
		-rss_limit_mb=2048 "$@" > "$out/$n.log" 2>&1 || true
	"$PROFDATA" merge -sparse -o "$out/$n.profdata" "$out/$n".*.profraw
	rm -f "$out/$n".*.profraw
	# shellcheck disable=SC2046
	"$COV" report "$B/tests/fuzz/fuzz_$n" -instr-profile="$out/$n.profdata" \
		$(srcs "$n") > "$out/$n.report"
	# shellcheck disable=SC2046
	"$COV" show "$B/tests/fuzz/fuzz_$n" -instr-profile="$out/$n.profdata" \
		$(srcs "$n") > "$out/$n.show"
	# the lines that have code and never ran, "file:line: text"
	# (one file: llvm-cov show names none)
	awk -v f="$(srcs "$n" | cut -d' ' -f1)" '/^\/.*:$/ { f = $0; sub(/:$/, "", f); sub(".*/" "'"$(basename "$TOP")"'" "/", "", f) }
	     /^ *[0-9]+\| *0\|/ { split($0, a, "|"); l = a[1] + 0; t = a[3];
				  sub(/^[ \t]*/, "", t); print f ":" l ": " t }' \
		"$out/$n.show" > "$out/$n.missed"
	# the TOTAL row (or the only file's): lines, missed, cover
	awk -v n="$n" -v files="$(srcs "$n")" '
		$1 == "TOTAL" || (NF >= 10 && $1 ~ /\.c$/) { l = $8; m = $9; c = $10 }
		END { printf "%-9s %6s %6s %7s  %s\n", n, l, m, c, files }' "$out/$n.report"
done
