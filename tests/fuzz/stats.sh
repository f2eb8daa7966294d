#!/bin/sh
# The table of a long run (run.sh with FUZZ_WORK and KEEP=1), per target:
# its time (libFuzzer's "Done N runs in S seconds", else the time asked),
# executions, executions a second, libFuzzer's edge coverage
# (cov) and features (ft) at the end, and the kept corpus after the merge
# (corpus.sh): files and bytes. From the top of the tree:
#   FUZZ_WORK=/tmp/xm-fuzz sh tests/fuzz/stats.sh
set -eu
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
: "${FUZZ_WORK:?FUZZ_WORK: the folder of the long run}"
printf '| target | time (s) | executions | exec/s | cov | ft | corpus files | corpus bytes |\n'
printf '|--------|---------:|-----------:|-------:|----:|---:|-------------:|-------------:|\n'
for log in "$FUZZ_WORK"/*.log; do
	n=$(basename "$log" .log)
	case $n in *.*) continue ;; esac
	kept=$TOP/tests/fuzz/corpus/$n
	files=$(ls "$kept" 2>/dev/null | wc -l)
	bytes=$(cat "$kept"/* 2>/dev/null | wc -c)
	awk -v n="$n" -v secs="$(cat "$FUZZ_WORK/$n.secs" 2>/dev/null || echo ?)" \
	    -v files="$files" -v bytes="$bytes" '
		/^#[0-9]+/ { for (i = 1; i <= NF; i++) { if ($i == "cov:") cov = $(i + 1);
							 if ($i == "ft:") ft = $(i + 1) } }
		/^Done [0-9]+ runs in [0-9]+ second/ { secs = $5 }
		/^stat::number_of_executed_units:/ { runs = $2 }
		/^stat::average_exec_per_sec:/ { eps = $2 }
		END { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n",
			     n, secs, runs, eps, cov, ft, files, bytes }' "$log"
done
