#!/bin/sh
# tests/proto/journal.sh — xmstored keeps its tree across its own death (its
# journal and snapshots, xmstored/journal.c): the tree, permissions,
# introduced domains and their channels, and the quota counts are the same
# after a kill -9, after a SIGTERM, after a kill -9 at each crash point of a
# compaction; a truncated or damaged journal tail is cut (and logged), never
# half-applied; on a full file system no reply leaves before its record is
# written; --no-journal keeps nothing.
#
#   make SANITIZE=address,undefined programs testprogs
#   B=build/asan sh tests/proto/journal.sh
#
# The tree is filled by tests/proto/domchan (INTRODUCE, SET_TARGET, RELEASE,
# quotas, transactions, permissions, through libxenstore and domain
# channels) and by the stock xenstore-* clients (xenstore-write of several
# pairs is one transaction). The daemons are stopped by their pid files.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"

DOMCHAN=$TOP/$B/tests/proto/domchan
XSTEST=$TOP/$B/tests/guest/xstest
W=$(mktemp -d "${TMPDIR:-/tmp}/xm-journal.XXXXXX") || exit 1
cleanup() {
	xs_stop
	for f in "$W"/*/xmstored.pid; do
		[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
	done
	umount "$W/g/j" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

for p in "$DOMCHAN" "$XSTEST"; do
	[ -x "$p" ] || { t_fail built "no $p (make SANITIZE=... testprogs)"; t_summary; exit 1; }
done

# kill9 DIR: kill -9 the daemon whose pid file is in DIR, and reap it
kill9() {
	pid=$(cat "$1/xmstored.pid" 2>/dev/null)
	[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
	[ -n "${XS_PID:-}" ] && wait "$XS_PID" 2>/dev/null
	XS_PID=
}
# dump: the whole tree with permissions, and the special nodes' permissions
dump() {
	xenstore-ls -p / 2>&1
	for s in @introduceDomain @releaseDomain; do echo "$s $(xenstore-getperms "$s" 2>&1)"; done
}
# same NAME FILE1 FILE2
same() {
	if cmp -s "$2" "$3"; then t_ok "$1"
	else t_fail "$1" "trees differ: $(diff "$2" "$3" | head -8 | tr '\n' '|')"; fi
}
restart() {
	xs_start xm "$1" || { t_fail "$2" "xmstored did not start again: $(tail -3 "$1/xmstored.log")"; return 1; }
}

# --- A: a tree made by domchan and the stock clients -------------------------
A=$W/a
xs_start xm "$A" || { t_fail start "xmstored did not start"; t_summary; exit 1; }
"$DOMCHAN" "$XS_SOCK" "$A/domains" >"$W/domchan.out" 2>&1
if tail -1 "$W/domchan.out" | grep -q ' passed, 0 failed$'; then t_ok "tree filled by domchan ($(tail -1 "$W/domchan.out"))"
else t_fail "domchan fill" "$(grep FAIL "$W/domchan.out" | head -3 | tr '\n' '|')"; fi
xenstore-write /vm/u1/name g1 /vm/u1/uuid u1 /vm/u1/image/kernel /boot/k &&
	xenstore-chmod /vm/u1 n0 r5 && xenstore-write /gone/a 1 /gone/b/c 2 && xenstore-rm /gone &&
	xenstore-write /big "$(printf '%02000d' 7)" && xenstore-write /empty "" &&
	xenstore-write /jr/for5 yes /jr/priv no /local/domain/5/jr five &&
	xenstore-chmod /jr/for5 n0 r5 && xenstore-chmod /jr/priv n0 && xenstore-chmod /local/domain/5/jr n5
t_check "stock clients: writes, a transaction, chmod, rm" [ $? -eq 0 ]
dump >"$W/a.before"
ls "$A/domains" >"$W/a.chans.before"
# a second daemon on the same journal is refused (its records would interleave)
# and leaves the running one's sockets alone
timeout 10 "$TOP/$B/xmstored/xmstored" --foreground --socket "$A/socket" >"$W/second.out" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "is in use by another xmstored" "$W/second.out" && xenstore-read /empty >/dev/null &&
	t_ok "a second xmstored on the same journal: refused, the first one untouched" ||
	t_fail "second daemon refused" "rc=$rc $(head -2 "$W/second.out")"
t_check "domains' channels before" grep -q domain-5.sock "$W/a.chans.before"

kill9 "$A"
restart "$A" "restart after kill -9" || { t_summary; exit 1; }
dump >"$W/a.after9"
same "kill -9: the tree is identical (xenstore-ls -p)" "$W/a.before" "$W/a.after9"
ls "$A/domains" >"$W/a.chans.after"
same "kill -9: the same domain channels are back" "$W/a.chans.before" "$W/a.chans.after"
grep -q 'records replayed' "$A/xmstored.log" && t_ok "the journal was replayed (logged)" ||
	t_fail "replay logged" "$(tail -3 "$A/xmstored.log")"

# A client on a channel is that domain, held to the permissions (the
# nodes were made before the kill: /jr/for5 n0,r5; /jr/priv n0; its own
# /local/domain/5/jr n5).
D5=$A/domains/domain-5.sock
got=$(XENSTORED_PATH=$D5 timeout 10 xenstore-read /jr/for5 2>&1)
[ "$got" = yes ] && t_ok "domain 5's channel: reads what r5 allows" || t_fail "domain 5 reads /jr/for5" "'$got'"
got=$(XENSTORED_PATH=$D5 timeout 10 "$XSTEST" reads 1 /jr/priv 2>&1)
[ "$got" = "xstest: READ: EACCES" ] && t_ok "domain 5's channel: /jr/priv refused (EACCES)" ||
	t_fail "domain 5 refused /jr/priv" "'$got'"
got=$(XENSTORED_PATH=$D5 timeout 10 xenstore-read jr 2>&1)
[ "$got" = five ] && t_ok "domain 5's channel: its relative paths" || t_fail "domain 5 reads jr" "'$got'"

# Changes after a replay are journaled too; then a clean SIGTERM.
xenstore-write /after/replay yes
dump >"$W/a.before2"
xs_stop
[ -f "$A/xmstored.journal" ] && [ -f "$A/xmstored.snap" ] && t_ok "SIGTERM: journal and snapshot kept" ||
	t_fail "SIGTERM keeps the files" "$(ls "$A")"
restart "$A" "restart after SIGTERM" || { t_summary; exit 1; }
dump >"$W/a.afterterm"
same "SIGTERM: the tree is identical" "$W/a.before2" "$W/a.afterterm"
ls "$A/domains" >"$W/a.chans.term"
same "SIGTERM: the same domain channels are back" "$W/a.chans.before" "$W/a.chans.term"
kill9 "$A"

# --- B: kill -9 inside a compaction ------------------------------------------
# At a clean stop (SIGTERM) the daemon compacts; XM_CRASH_AT makes it die at
# each step. Then, with a small --compact-size, compactions while serving.
B_=$W/b
n=0
for point in xmstored.snapshot-written xmstored.snapshot-renamed xmstored.journal-restarted; do
	n=$((n + 1))
	xs_start xm "$B_" || { t_fail "$point: start" "did not start"; break; }
	xenstore-write "/c/p$n/a" "$n" "/c/p$n/b" "$point" && xenstore-rm "/c/p$((n - 1))/a" 2>/dev/null
	dump >"$W/b.before"
	kill9 "$B_"
	XM_CRASH_AT=$point XM_CRASH_LOG=$W/crash.log
	export XM_CRASH_AT XM_CRASH_LOG
	xs_start xm "$B_" && xenstore-write "/c/p$n/c" late && dump >"$W/b.before" && kill -TERM "$XS_PID"
	wait "$XS_PID" 2>/dev/null; st=$?
	XS_PID=
	unset XM_CRASH_AT XM_CRASH_LOG
	[ $st -eq 137 ] && grep -qx "$point" "$W/crash.log" && t_ok "compaction at SIGTERM: died at $point" ||
		t_fail "died at $point" "exit status $st"
	restart "$B_" "restart after $point" || break
	dump >"$W/b.after"
	same "crash at $point: the tree is identical" "$W/b.before" "$W/b.after"
	kill9 "$B_"
done

C=$W/c
XMSTORED_ARGS="--compact-size 2048"
XM_CRASH_AT=xmstored.snapshot-renamed@2 XM_CRASH_LOG=$W/crash2.log
export XMSTORED_ARGS XM_CRASH_AT XM_CRASH_LOG
xs_start xm "$C"
unset XM_CRASH_AT XM_CRASH_LOG
i=0
while [ $i -lt 400 ] && xenstore-write "/w/n$i" "value-$i-$(printf '%0100d' $i)" 2>/dev/null; do i=$((i + 1)); done
nw=$i # (xs_start uses i)
kill9 "$C"
restart "$C" "restart after a compaction cut short" || { t_summary; exit 1; }
unset XMSTORED_ARGS
# all writes acknowledged are there; the one in flight may be
missing=0 j=0
while [ $j -lt $nw ]; do
	[ "$(xenstore-read "/w/n$j" 2>/dev/null)" = "value-$j-$(printf '%0100d' $j)" ] || missing=$((missing + 1))
	j=$((j + 1))
done
[ $nw -lt 400 ] && [ $missing -eq 0 ] && grep -qx xmstored.snapshot-renamed "$W/crash2.log" &&
	t_ok "crash in the 2nd compaction while serving: all $nw acknowledged writes kept" ||
	t_fail "compaction while serving" "$nw writes acknowledged, $missing missing"
grep -q 'older than the snapshot' "$C/xmstored.log" && t_ok "the stale journal (already in the snapshot) is dropped, logged" ||
	t_fail "stale journal" "$(grep journal: "$C/xmstored.log" | tail -3 | tr '\n' '|')"
kill9 "$C"

# A compaction whose new journal cannot be made (a directory in the way of
# xmstored.journal.tmp) takes the old journal over in place: what follows
# the snapshot is still kept.
G=$W/g
XMSTORED_ARGS="--compact-size 1024"
export XMSTORED_ARGS
xs_start xm "$G"
mkdir "$G/xmstored.journal.tmp"
i=0
while [ $i -lt 20 ]; do xenstore-write "/g/n$i" "$(printf '%0100d' $i)"; i=$((i + 1)); done
xenstore-write /g/last kept
kill9 "$G"
restart "$G" "restart after a compaction in place"
unset XMSTORED_ARGS
[ "$(xenstore-read /g/last 2>&1)" = kept ] && [ "$(xenstore-read /g/n0 2>&1)" = "$(printf '%0100d' 0)" ] &&
	grep -q "compacted into snapshot" "$G/xmstored.log" &&
	t_ok "a compaction that cannot make its new journal file: nothing lost" ||
	t_fail "compaction in place" "/g/last='$(xenstore-read /g/last 2>&1)' $(grep journal: "$G/xmstored.log" | tail -2 | tr '\n' '|')"
kill9 "$G"

# --- D: a truncated, then a damaged tail --------------------------------------
# used FILE: its length without the trailing zeros (the journal's file holds
# room allocated ahead, which reads as zeros; the loader counts a cut so)
used() {
	od -An -v -tx1 "$1" | awk '{ for (i = 1; i <= NF; i++) { n++; if ($i != "00") last = n } } END { print last + 0 }'
}
D=$W/d
xs_start xm "$D"
for k in 1 2 3; do xenstore-write "/t/$k" "v$k"; done
xenstore-write /m/a 1 /m/b 2 /m/c 3 # one transaction: one record
kill9 "$D"
J=$D/xmstored.journal
size=$(used "$J")
truncate -s $((size - 3)) "$J"
restart "$D" "restart with a truncated journal" || { t_summary; exit 1; }
[ "$(xenstore-read /t/3)" = v3 ] && t_ok "truncated tail: the records before it are kept" || t_fail "truncated: /t/3" "'$(xenstore-read /t/3 2>&1)'"
xenstore-read /m >/dev/null 2>&1 && t_fail "truncated: never half-applied" "/m exists" ||
	t_ok "truncated tail: the transaction's record is cut whole (no /m)"
grep -q "cut .* bytes at offset .* (truncated record)" "$D/xmstored.log" && t_ok "the cut is logged" ||
	t_fail "cut logged" "$(tail -2 "$D/xmstored.log")"
good=$(stat -c %s "$J") # (trimmed to its last good record; no room yet)
xenstore-write /t/4 v4
xenstore-write /t/5 v5
kill9 "$D"
size=$(used "$J")
# one byte of the next-to-last record (/t/4's) is changed
printf 'X' | dd of="$J" bs=1 seek=$((good + 30)) conv=notrunc 2>/dev/null
restart "$D" "restart with a damaged journal" || { t_summary; exit 1; }
[ "$(xenstore-read /t/3)" = v3 ] && ! xenstore-read /t/4 >/dev/null 2>&1 && ! xenstore-read /t/5 >/dev/null 2>&1 &&
	t_ok "damaged record: replay stops before it (nothing after it either)" ||
	t_fail "damaged record" "/t/3='$(xenstore-read /t/3 2>&1)' /t/4='$(xenstore-read /t/4 2>&1)' /t/5='$(xenstore-read /t/5 2>&1)'"
grep -q "cut $((size - good)) bytes at offset $good (damaged record)" "$D/xmstored.log" && t_ok "the damaged tail's cut is logged" ||
	t_fail "damaged cut logged" "$(grep cut "$D/xmstored.log" | tail -1)"
[ "$(stat -c %s "$J")" -eq "$good" ] && t_ok "the journal file is cut at the last good record" ||
	t_fail "journal cut" "size $(stat -c %s "$J"), want $good"
xenstore-write /t/6 v6
kill9 "$D"
restart "$D" "restart after the cut" && [ "$(xenstore-read /t/6)" = v6 ] && t_ok "records after the cut are kept" ||
	t_fail "after the cut" "/t/6='$(xenstore-read /t/6 2>&1)'"
kill9 "$D"

# --- E: quota counts after a replay -------------------------------------------
E=$W/e
XMSTORED_ARGS="--entry-nb 6"
export XMSTORED_ARGS
xs_start xm "$E"
unset XMSTORED_ARGS
"$XSTEST" introduce 3 && xenstore-write /local/domain/3 "" && xenstore-chmod /local/domain/3 n3
D3=$E/domains/domain-3.sock
k=0
while [ $k -lt 20 ] && XENSTORED_PATH=$D3 timeout 10 xenstore-write "q$k" x 2>/dev/null; do k=$((k + 1)); done
[ $k -eq 5 ] && t_ok "domain 3 at its quota (6 nodes: its home and 5)" || t_fail "quota before" "$k writes went through, want 5"
kill9 "$E"
XMSTORED_ARGS="--entry-nb 6"
export XMSTORED_ARGS
restart "$E" "restart at quota"
unset XMSTORED_ARGS
# xstest hold: a transaction and a WRITE in it, then it holds them
got=$(XENSTORED_PATH=$D3 timeout 5 "$XSTEST" hold extra 0 2>&1); rc=$?
[ $rc -eq 1 ] && [ "$got" = "xstest: WRITE: ENOSPC" ] && t_ok "after replay: domain 3 at its quota is still refused (ENOSPC)" ||
	t_fail "quota after replay" "rc=$rc '$got'"
xenstore-rm /local/domain/3/q0
XENSTORED_PATH=$D3 timeout 10 xenstore-write extra x && t_ok "after replay: one node removed, one more allowed" ||
	t_fail "quota count after replay" "write refused after a removal"
kill9 "$E"

# --- F: --no-journal ------------------------------------------------------------
F=$W/f
XMSTORED_ARGS=--no-journal
export XMSTORED_ARGS
xs_start xm "$F" && xenstore-write /kept no
kill9 "$F"
restart "$F" "restart without journal"
unset XMSTORED_ARGS
! xenstore-read /kept >/dev/null 2>&1 && [ ! -e "$F/xmstored.journal" ] && t_ok "--no-journal: no file, nothing kept" ||
	t_fail "--no-journal" "$(ls "$F")"
xs_stop

# --- G: a full file system: replies wait for the journal, nothing is lost -----
# The journal on a small tmpfs of its own; a filler takes the rest. A write
# then gets no reply while its record cannot be written (and no other
# client sees it); once space is freed it is written and answered, and a
# kill -9 right after finds it. A write whose record never made it out is
# never answered: killed then, the daemon comes back without it, and its
# client got an error, not a success.
G=$W/g
mkdir -p "$G/j"
V=$(printf '%03000d' 2)
# held_write NAME: writes of V to /full/NAME-1, -2 ... until one gets no
# answer within a second (the room the journal had allocated ahead, up to
# 64 KiB, is used up by then); wp = that writer, HELD = its path. 1 if
# every one was answered.
held_write() {
	k=0
	while [ $k -lt 40 ]; do
		k=$((k + 1)); HELD=/full/$1-$k
		timeout 20 xenstore-write "$HELD" "$V" >"$W/held.out" 2>&1 & wp=$!
		t=0
		while kill -0 "$wp" 2>/dev/null && [ $t -lt 20 ]; do sleep 0.05; t=$((t + 1)); done
		kill -0 "$wp" 2>/dev/null && return 0
		wait "$wp"
	done
	return 1
}
if mount -t tmpfs -o size=512k xm-journal-test "$G/j" 2>/dev/null; then
	XMSTORED_ARGS="--journal-dir $G/j"
	export XMSTORED_ARGS
	xs_start xm "$G" && xenstore-write /full/before 1
	dd if=/dev/zero of="$G/j/filler" bs=4k 2>/dev/null # until ENOSPC
	held_write held
	seen=$(XENSTORED_PATH=$XS_SOCK timeout 1 xenstore-read /full/before 2>&1); src=$?
	kill -0 "$wp" 2>/dev/null && [ $src -ne 0 ] &&
		t_ok "file system full: the write is not answered, nor any other request, while its record cannot be written" ||
		t_fail "full: replies held" "writer $(kill -0 "$wp" 2>/dev/null && echo waiting || echo done: $(cat "$W/held.out")), reader rc=$src '$seen'"
	grep -q "replies wait until it can be written" "$G/xmstored.log" && t_ok "... logged once: $(grep -c 'replies wait' "$G/xmstored.log") line" ||
		t_fail "full: logged" "$(tail -2 "$G/xmstored.log")"
	rm -f "$G/j/filler"
	wait "$wp"; rc=$?
	[ $rc -eq 0 ] && grep -q "written again after" "$G/xmstored.log" &&
		t_ok "space freed: the record written, the write answered ($(grep -o 'written again after [0-9]* ms' "$G/xmstored.log"))" ||
		t_fail "full: answered once freed" "rc=$rc $(cat "$W/held.out") $(tail -2 "$G/xmstored.log")"
	kill9 "$G"
	restart "$G" "restart after the full file system"
	kept=$HELD
	[ "$(xenstore-read "$kept" 2>&1)" = "$V" ] && t_ok "kill -9 then: the answered write is kept" ||
		t_fail "full: answered write kept" "$kept: '$(xenstore-read "$kept" 2>&1 | head -c 40)'"
	# the other way: killed while the record waits
	dd if=/dev/zero of="$G/j/filler" bs=4k 2>/dev/null
	held_write lost
	kill9 "$G"
	wait "$wp"; rc=$?
	rm -f "$G/j/filler"
	restart "$G" "restart after a kill with a record waiting"
	[ $rc -ne 0 ] && ! xenstore-read "$HELD" >/dev/null 2>&1 && [ "$(xenstore-read "$kept")" = "$V" ] &&
		t_ok "killed while a record waits: the write was never answered, and is not there (rc=$rc: $(head -c 60 "$W/held.out"))" ||
		t_fail "full: unanswered write" "rc=$rc $(cat "$W/held.out"); $HELD '$(xenstore-read "$HELD" 2>&1 | head -c 40)'"
	xs_stop
	unset XMSTORED_ARGS
	umount "$G/j"
else
	echo "     (no tmpfs mount here: the full file system case not run)"
fi

for f in "$W"/*/xmstored.log "$W"/*/xmstored.stderr; do
	if grep -Eq 'Sanitizer|runtime error:' "$f"; then
		t_fail "no sanitizer report in $f" "$(grep -Em3 'Sanitizer|runtime error:' "$f" | tr '\n' ' ')"
	fi
done
t_ok "no sanitizer report"
t_summary
