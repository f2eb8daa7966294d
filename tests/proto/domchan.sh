#!/bin/sh
# tests/proto/domchan.sh — xmstored's per-domain channels: permissions,
# watches, quotas, SET_TARGET, RELEASE and malformed messages, checked by
# tests/proto/domchan (libxenstore + raw wire) against a fresh xmstored.
#
#   make SANITIZE=address,undefined programs build/asan/tests/proto/domchan
#   B=build/asan TOP=/work/main sh tests/proto/domchan.sh
#
# XMSTORED_ARGS passes extra options to xmstored (e.g. "--entry-nb 100"): the
# program reads the quotas back with CONTROL quota. Afterwards the daemon
# must still be alive, and its log and stderr must hold no sanitizer report.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"

PROG=$TOP/$B/tests/proto/domchan
W=$(mktemp -d "${TMPDIR:-/tmp}/xm-domchan.XXXXXX") || exit 1
cleanup() {
	xs_stop
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

if [ ! -x "$PROG" ]; then
	t_fail domchan_built "no $PROG (make SANITIZE=... $B/tests/proto/domchan)"
	t_summary
	exit
fi
if ! xs_start xm "$W"; then
	t_fail xmstored_start "xmstored did not start (see above)"
	t_summary
	exit
fi
DAEMON_PID=$XS_PID

# The program reports one line per check; relay them into our own counts.
"$PROG" "$XS_SOCK" "$W/domains" >"$W/out" 2>"$W/err"
rc=$?
summary=
while IFS= read -r line; do
	case $line in
	"ok "*)
		name=${line#ok}
		t_ok "${name#"${name%%[! ]*}"}"
		;;
	"FAIL "*)
		rest=${line#FAIL }
		t_fail "${rest%%: *}" "${rest#*: }"
		;;
	*" passed, "*" failed")
		summary=$line
		;;
	*)
		echo "$line"
		;;
	esac
done <"$W/out"
if [ -s "$W/err" ]; then
	echo "# domchan stderr:"
	sed -n '1,40p' "$W/err" | sed 's/^/#   /'
fi
if [ -z "$summary" ]; then
	t_fail domchan_finished "the program printed no summary (exit status $rc)"
elif [ "$rc" -ne 0 ] && [ "$T_FAIL" -eq 0 ]; then
	t_fail domchan_exit "exit status $rc without a failed check"
else
	t_ok domchan_finished
fi

# The daemon survived everything and still answers.
if kill -0 "$DAEMON_PID" 2>/dev/null; then
	t_ok daemon_alive
	if command -v xenstore-read >/dev/null 2>&1; then
		got=$(XENSTORED_PATH=$XS_SOCK timeout 10 xenstore-read /local/domain/6/secret 2>&1)
		if [ "$got" = six ]; then
			t_ok daemon_answers
		else
			t_fail daemon_answers "xenstore-read /local/domain/6/secret: '$got', want 'six'"
		fi
	fi
else
	t_fail daemon_alive "xmstored (pid $DAEMON_PID) is gone"
fi

# Clean shutdown, then no sanitizer report anywhere (leaks show at exit).
xs_stop
for f in "$W/xmstored.log" "$W/xmstored.stderr" "$W/err"; do
	[ -f "$f" ] || continue
	if grep -Eq 'Sanitizer|runtime error:' "$f"; then
		t_fail "no_sanitizer_report_$(basename "$f")" "$(grep -Em3 'Sanitizer|runtime error:' "$f" | tr '\n' ' ')"
		sed -n '1,60p' "$f" | sed 's/^/#   /'
	else
		t_ok "no_sanitizer_report_$(basename "$f")"
	fi
done
t_summary
