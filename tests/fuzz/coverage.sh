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
# Prints one line per target: its parser files' line coverage, and that of
# the parser's own functions in them (PARSER, see fns below); the full
# reports (per file, per function: NAME.report, NAME.functions; the lines
# never run: NAME.missed) are in $B/coverage/.
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

# The parser's own functions in those files (an extended regular
# expression on llvm-cov's function names, "file.c:name" for a static
# one): the files also hold what no input reaches (socket set-up, the
# write path, the store side of the claims), so the PARSER column counts
# the lines of these alone.
fns() {
	case $1 in
	config) echo '^(config_load|config\.c:.*)$' ;;
	journal) echo '^(journal_open|journal\.c:(load_snapshot|read_file|hdr_check|load_journal|replay|journal_new|domains_back))$' ;;
	qmp) echo '^(qmp_(read|next|exec|wait_reply|wait_event|pop_event|is_event|handshake|connect)|qmp\.c:(next_blocking|kept_reply|wait_readable))$' ;;
	request) echo '^(wire_(in_next|split|pack)|conn_feed|conn\.c:conn_process|core_request|core\.c:.*)$' ;;
	uevent) echo '^(uevent_parse|uevent\.c:num)$' ;;
	xsc) echo '^(xsc_(init|next|wait|call)|xsbatch\.c:(run|note_event|free_replies))$' ;;
	xsvalue) echo '^(vbd_state_parse|vbd_error_text|claim_parse|claim_format|sharing_same|sharing_compatible|sharing\.c:(has_token|is_writer))$' ;;
	*) echo . ;;
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
printf '%-9s %6s %6s %7s  %-7s  %s\n' TARGET LINES MISSED COVER PARSER FILES
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
	# shellcheck disable=SC2046
	"$COV" report "$B/tests/fuzz/fuzz_$n" -instr-profile="$out/$n.profdata" -show-functions \
		$(srcs "$n") > "$out/$n.functions"
	parser=$(awk -v re="$(fns "$n")" 'NF >= 8 && $1 != "Name" && $1 != "TOTAL" && $1 ~ re {
			l += $5; m += $6 } END { if (l) printf "%.1f%%", 100 * (l - m) / l }' \
		"$out/$n.functions")
	# the TOTAL row (or the only file's): lines, missed, cover
	awk -v n="$n" -v files="$(srcs "$n")" -v parser="$parser" '
		$1 == "TOTAL" || (NF >= 10 && $1 ~ /\.c$/) { l = $8; m = $9; c = $10 }
		END { printf "%-9s %6s %6s %7s  %-7s  %s\n", n, l, m, c, parser, files }' "$out/$n.report"
done
