#!/bin/sh
# tests/proto/clients.sh — Debian's stock xenstore-utils clients (xenstore-write,
# -read, -ls, -list, -exists, -rm, -chmod, -watch, and xen-utils' xenstore-control)
# against a XenStore daemon, asserting their exact stdout, stderr and exit status.
#
#   KIND=xm|cx|ox B=build/asan TOP=/work/main sh tests/proto/clients.sh
#
# KIND selects the daemon (default xm = our xmstored). The expected outputs were
# taken from Xen 4.17's cxenstored (KIND=cx), the reference: this file passes
# against it unchanged. Everything runs as domain 0 over the Unix socket.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
KIND=${KIND:-xm}
. "$TOP/tests/lib.sh"

XSCTL=${XSCTL:-/usr/lib/xen-4.17/bin/xenstore-control}
W=$(mktemp -d "${TMPDIR:-/tmp}/xm-clients.XXXXXX") || exit 1
WPIDS=
cleanup() {
	for p in $WPIDS; do kill "$p" 2>/dev/null; done
	xs_stop
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# ---- helpers -------------------------------------------------------------

# diff of want/got, indented, for a failure report
show_diff() {
	diff -u "$1" "$2" | sed -n '3,16p' | cut -c1-160 | sed 's/^/	/'
}

# short CMD... — the command line, cut to fit a report line
short() { printf '%s' "$*" | cut -c1-120; }

# chk NAME RC CMD... — runs CMD (stdin /dev/null, 10 s limit). Its stdout must
# equal this function's own stdin (a here-doc, or </dev/null for nothing), its
# stderr must be empty and its exit status RC.
chk() {
	c_name=$1; c_rc=$2; shift 2
	cat >"$W/want.out"
	: >"$W/want.err"
	chk_run "$c_name" "$c_rc" "$@"
}

# chke NAME RC STDERR CMD... — as chk, but stdout must be empty and stderr must
# be STDERR followed by a newline.
chke() {
	c_name=$1; c_rc=$2; shift 2
	printf '%s\n' "$1" >"$W/want.err"; shift
	: >"$W/want.out"
	chk_run "$c_name" "$c_rc" "$@"
}

# chkboth NAME RC STDERR CMD... — stdout as for chk (stdin), stderr as for chke
chkboth() {
	c_name=$1; c_rc=$2; shift 2
	printf '%s\n' "$1" >"$W/want.err"; shift
	cat >"$W/want.out"
	chk_run "$c_name" "$c_rc" "$@"
}

chk_run() {
	r_name=$1; r_rc=$2; shift 2
	timeout 10 "$@" </dev/null >"$W/got.out" 2>"$W/got.err"
	r_got=$?
	if [ "$r_got" -ne "$r_rc" ]; then
		t_fail "$r_name" "exit status $r_got, want $r_rc ($(short "$@"))"
		show_diff "$W/want.out" "$W/got.out"
		show_diff "$W/want.err" "$W/got.err"
	elif ! cmp -s "$W/want.out" "$W/got.out"; then
		t_fail "$r_name" "stdout differs ($(short "$@"))"
		show_diff "$W/want.out" "$W/got.out"
	elif ! cmp -s "$W/want.err" "$W/got.err"; then
		t_fail "$r_name" "stderr differs ($(short "$@"))"
		show_diff "$W/want.err" "$W/got.err"
	else
		t_ok "$r_name"
	fi
}

# must CMD... — a set-up step: counted only when it fails
must() {
	if ! timeout 10 "$@" </dev/null >"$W/must.out" 2>&1; then
		t_fail "setup: $(short "$@")" "$(head -c 160 "$W/must.out")"
	fi
}

# rep CHAR N — CHAR repeated N times, no newline
rep() { awk -v c="$1" -v n="$2" 'BEGIN { while (n-- > 0) printf "%s", c }'; }

# watch_start F PATH — start `xenstore-watch -n N PATH` in the background, its
# output in F.got, where N is the number of lines of F.want (the expected
# events, ending with a sentinel write so that extra events show up as a
# difference); returns once the initial event has arrived, i.e. once the watch
# is registered.
watch_start() {
	ws_n=$(wc -l <"$1.want")
	timeout 20 xenstore-watch -n "$ws_n" "$2" </dev/null >"$1.got" 2>&1 &
	echo $! >"$1.pid"
	WPIDS="$WPIDS $!"
	i=0
	while [ ! -s "$1.got" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
}

# watch_end NAME F — wait (up to 5 s) for the watcher to exit by itself after
# its N events; its output must equal F.want and its exit status be 0.
watch_end() {
	we_pid=$(cat "$2.pid")
	i=0
	while kill -0 "$we_pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
	kill "$we_pid" 2>/dev/null
	wait "$we_pid"
	we_rc=$?
	WPIDS=$(echo " $WPIDS " | sed "s/ $we_pid / /")
	if [ "$we_rc" -ne 0 ]; then
		t_fail "$1" "xenstore-watch exit status $we_rc (124/143: events missing)"
		show_diff "$2.want" "$2.got"
	elif ! cmp -s "$2.want" "$2.got"; then
		t_fail "$1" "events differ"
		show_diff "$2.want" "$2.got"
	else
		t_ok "$1"
	fi
}

# ---- daemon --------------------------------------------------------------

echo "# clients against KIND=$KIND"
if ! xs_start "$KIND" "$W/xs"; then
	t_fail "start $KIND daemon" "xs_start failed"
	t_summary
	exit 1
fi

# ---- write / read --------------------------------------------------------

chk "write one node" 0 xenstore-write /xmt/a hello </dev/null
chk "read it back" 0 xenstore-read /xmt/a <<EOF
hello
EOF
chk "write several nodes in one call" 0 xenstore-write /xmt/b 1 /xmt/c "two words" /xmt/e "" </dev/null
chk "read several nodes, incl. an empty value" 0 xenstore-read /xmt/b /xmt/c /xmt/e <<EOF
1
two words

EOF
chk "read -p prefixes the path" 0 xenstore-read -p /xmt/a /xmt/e <<EOF
/xmt/a: hello
/xmt/e: 
EOF
chk "overwrite a value" 0 xenstore-write /xmt/a "hello again" </dev/null
chk "read the new value" 0 xenstore-read /xmt/a <<EOF
hello again
EOF
chk "overwrite with empty value" 0 xenstore-write /xmt/b "" </dev/null
chk "read empty value" 0 xenstore-read /xmt/b <<EOF

EOF
chke "read a missing node" 1 "xenstore-read: couldn't read path /xmt/nope" \
	xenstore-read /xmt/nope
chke "read below a leaf" 1 "xenstore-read: couldn't read path /xmt/a/nope" \
	xenstore-read /xmt/a/nope
chkboth "read: stops at the first missing node, fails" 1 "xenstore-read: couldn't read path /xmt/nope" \
	xenstore-read /xmt/a /xmt/nope /xmt/c <<EOF
hello again
EOF

# binary-safe values: xenstore-write expands C escapes, xenstore-read prints
# them escaped, -R raw
chk "write a value with escapes, NUL and high bytes" 0 \
	xenstore-write /xmt/bin 'a\tb\x00c\\d\ne"f\xff' </dev/null
chk "read it escaped" 0 xenstore-read /xmt/bin <<'EOF'
a\tb\000c\\d\ne"f\xff
EOF
printf 'a\tb\000c\\d\ne"f\377' >"$W/raw.want"
chk "read -R gives the raw bytes" 0 xenstore-read -R /xmt/bin <"$W/raw.want"
chk "write -R stores backslashes as is" 0 xenstore-write -R /xmt/raw 'x\ty' </dev/null
chk "read back the -R value" 0 xenstore-read /xmt/raw <<'EOF'
x\\ty
EOF

# big values (the whole message payload is at most 4096 bytes: path, NUL, value)
for n in 2000 2048 3000 4087; do
	v=$(rep v $n)
	chk "write a $n-byte value" 0 xenstore-write /xmt/big "$v" </dev/null
	printf '%s\n' "$v" >"$W/big.want"
	chk "read the $n-byte value" 0 xenstore-read /xmt/big <"$W/big.want"
done
chk "ls of a 4087-byte value (client truncates the display)" 0 xenstore-ls /xmt <<EOF
a = "hello again"
b = ""
c = "two words"
e = ""
bin = "a\tb\000c\\\\d\ne"f\xff"
raw = "x\\\\ty"
big = "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv\\..."
EOF
must xenstore-write /xmt/bigd/v "$(rep v 3000)"
printf '/xmt/bigd/v = "%s"\n' "$(rep v 3000)" >"$W/bigls.want"
chk "ls -f shows a long value whole" 0 xenstore-ls -f /xmt/bigd <"$W/bigls.want"
must xenstore-rm /xmt/big /xmt/bin /xmt/raw /xmt/bigd

# ---- nested creation ------------------------------------------------------

chk "write creates missing parents" 0 xenstore-write /xmt/n/n1/n2/n3 deep </dev/null
chk "created parents have empty values" 0 xenstore-read /xmt/n/n1 /xmt/n/n1/n2 /xmt/n/n1/n2/n3 <<EOF


deep
EOF
chk "write below a node with a value keeps that value" 0 xenstore-write /xmt/a/child c </dev/null
chk "parent value unchanged" 0 xenstore-read /xmt/a /xmt/a/child <<EOF
hello again
c
EOF
chk "ls -f of the nested tree" 0 xenstore-ls -f /xmt/n <<EOF
/xmt/n/n1 = ""
/xmt/n/n1/n2 = ""
/xmt/n/n1/n2/n3 = "deep"
EOF

# ---- listing: order and formats -------------------------------------------

chk "create children in a non-sorted order" 0 \
	xenstore-write /xmt/o/z 1 /xmt/o/a 2 /xmt/o/m 3 /xmt/o/10 4 /xmt/o/9 5 /xmt/o/B 6 </dev/null
chk "list keeps creation order" 0 xenstore-list /xmt/o <<EOF
z
a
m
10
9
B
EOF
must xenstore-rm /xmt/o/a
must xenstore-write /xmt/o/a 7 /xmt/o/m 8
chk "a re-created child goes last, a rewritten one stays" 0 xenstore-list /xmt/o <<EOF
z
m
10
9
B
a
EOF
chk "list -p prints full paths" 0 xenstore-list -p /xmt/o <<EOF
/xmt/o/z
/xmt/o/m
/xmt/o/10
/xmt/o/9
/xmt/o/B
/xmt/o/a
EOF
chk "list several paths" 0 xenstore-list /xmt/n /xmt/n/n1 <<EOF
n1
n2
EOF
chk "list of a leaf is empty" 0 xenstore-list /xmt/c </dev/null
chke "list of a missing node" 1 "xenstore-list: could not list path /xmt/nope" \
	xenstore-list /xmt/nope

# a directory whose listing exceeds one message (DIRECTORY_PART fallback)
args=$(awk 'BEGIN { for (i = 600; i > 0; i--) printf "/xmt/many/child%05d %d ", i, i }')
# shellcheck disable=SC2086
chk "write 600 children in one call" 0 xenstore-write $args </dev/null
awk 'BEGIN { for (i = 600; i > 0; i--) printf "child%05d\n", i }' >"$W/many.want"
chk "list a directory bigger than 4096 bytes" 0 xenstore-list /xmt/many <"$W/many.want"
awk 'BEGIN { for (i = 600; i > 0; i--) printf "child%05d = \"%d\"\n", i, i }' >"$W/many.want"
chk "ls a directory bigger than 4096 bytes" 0 xenstore-ls /xmt/many <"$W/many.want"
must xenstore-rm /xmt/many

must xenstore-write /xmt/ls/a 1 /xmt/ls/a/b "two words" /xmt/ls/a/b/c 'say "hi"\tthere' \
	/xmt/ls/d "" /xmt/ls/e/f 2
chk "ls output" 0 xenstore-ls /xmt/ls <<'EOF'
a = "1"
 b = "two words"
  c = "say "hi"\tthere"
d = ""
e = ""
 f = "2"
EOF
chk "ls -f output" 0 xenstore-ls -f /xmt/ls <<'EOF'
/xmt/ls/a = "1"
/xmt/ls/a/b = "two words"
/xmt/ls/a/b/c = "say "hi"\tthere"
/xmt/ls/d = ""
/xmt/ls/e = ""
/xmt/ls/e/f = "2"
EOF
chk "ls -p output" 0 xenstore-ls -p /xmt/ls <<'EOF'
a = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
 b = "two words" . . . . . . . . . . . . . . . . . . . . . .  (n0)
  c = "say "hi"\tthere"  . . . . . . . . . . . . . . . . . .  (n0)
d = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
e = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
 f = "2" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
EOF
chk "ls -fp output" 0 xenstore-ls -fp /xmt/ls <<'EOF'
/xmt/ls/a = "1"   (n0)
/xmt/ls/a/b = "two words"   (n0)
/xmt/ls/a/b/c = "say "hi"\tthere"   (n0)
/xmt/ls/d = ""   (n0)
/xmt/ls/e = ""   (n0)
/xmt/ls/e/f = "2"   (n0)
EOF
chk "ls of a leaf prints nothing" 0 xenstore-ls /xmt/ls/d </dev/null
chke "ls of a missing node" 1 "xenstore-ls: xs_directory (/xmt/nope): No such file or directory" \
	xenstore-ls /xmt/nope
chke "ls -f of a missing node" 1 "xenstore-ls: xs_directory (/xmt/nope): No such file or directory" \
	xenstore-ls -f /xmt/nope

# ---- exists ----------------------------------------------------------------

chk "exists: node" 0 xenstore-exists /xmt/ls/a/b </dev/null
chk "exists: node with empty value" 0 xenstore-exists /xmt/ls/d </dev/null
chk "exists: root" 0 xenstore-exists / </dev/null
chk "exists: missing node" 1 xenstore-exists /xmt/nope </dev/null
chk "exists: below a missing node" 1 xenstore-exists /xmt/nope/deeper </dev/null
chk "exists: one missing of two" 1 xenstore-exists /xmt/ls /xmt/nope </dev/null
chk "exists: invalid path" 1 xenstore-exists '/xmt//ls' </dev/null

# ---- rm --------------------------------------------------------------------

chk "rm a leaf" 0 xenstore-rm /xmt/ls/d </dev/null
chk "it is gone" 1 xenstore-exists /xmt/ls/d </dev/null
chk "rm a subtree" 0 xenstore-rm /xmt/ls/a </dev/null
chk "the subtree is gone" 1 xenstore-exists /xmt/ls/a/b/c </dev/null
chk "the subtree root is gone" 1 xenstore-exists /xmt/ls/a </dev/null
chk "siblings remain" 0 xenstore-ls -f /xmt/ls <<EOF
/xmt/ls/e = ""
/xmt/ls/e/f = "2"
EOF
chk "rm of a missing node whose parent exists succeeds" 0 xenstore-rm /xmt/ls/nope </dev/null
chke "rm of a node whose parent is missing" 1 "xenstore-rm: could not remove path /xmt/nope/deeper" \
	xenstore-rm /xmt/nope/deeper
chke "rm of the root is refused" 1 "xenstore-rm: could not remove path /" \
	xenstore-rm /
chk "the tree survived rm /" 0 xenstore-read /xmt/c <<EOF
two words
EOF
must xenstore-write /xmt/rt/t1/t2/t3 v /xmt/rt/k 1
chk "rm -t removes the emptied parents" 0 xenstore-rm -t /xmt/rt/t1/t2/t3 </dev/null
chk "up to the first non-empty one" 0 xenstore-ls -f /xmt/rt <<EOF
/xmt/rt/k = "1"
EOF

# ---- permissions -----------------------------------------------------------

must xenstore-write /xmt/p/q v
chk "chmod with several entries" 0 xenstore-chmod /xmt/p n0 r1 w2 b3 </dev/null
chk "ls -p shows them in order" 0 xenstore-ls -p /xmt/p <<EOF
q = "v"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
EOF
chk "ls -fp shows the node's own perms from its parent" 0 xenstore-ls -fp /xmt <<EOF
/xmt/a = "hello again"   (n0)
/xmt/a/child = "c"   (n0)
/xmt/b = ""   (n0)
/xmt/c = "two words"   (n0)
/xmt/e = ""   (n0)
/xmt/n = ""   (n0)
/xmt/n/n1 = ""   (n0)
/xmt/n/n1/n2 = ""   (n0)
/xmt/n/n1/n2/n3 = "deep"   (n0)
/xmt/o = ""   (n0)
/xmt/o/z = "1"   (n0)
/xmt/o/m = "8"   (n0)
/xmt/o/10 = "4"   (n0)
/xmt/o/9 = "5"   (n0)
/xmt/o/B = "6"   (n0)
/xmt/o/a = "7"   (n0)
/xmt/ls = ""   (n0)
/xmt/ls/e = ""   (n0)
/xmt/ls/e/f = "2"   (n0)
/xmt/rt = ""   (n0)
/xmt/rt/k = "1"   (n0)
/xmt/p = ""   (n0,r1,w2,b3)
/xmt/p/q = "v"   (n0)
EOF
chk "new nodes inherit the parent's perms" 0 xenstore-write /xmt/p/new/deeper x </dev/null
chk "ls -p of the inherited perms" 0 xenstore-ls -p /xmt/p <<EOF
q = "v"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
new = "" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0,r1,w2,b3)
 deeper = "x"  . . . . . . . . . . . . . . . . . . . . . . .  (n0,r1,w2,b3)
EOF
chk "chmod -r sets a whole subtree" 0 xenstore-chmod -r /xmt/p b0 r5 </dev/null
chk "ls -fp after chmod -r" 0 xenstore-ls -fp /xmt/p <<EOF
/xmt/p/q = "v"   (b0,r5)
/xmt/p/new = ""   (b0,r5)
/xmt/p/new/deeper = "x"   (b0,r5)
EOF
chk "chmod with 8 entries (dom0 has no perms quota)" 0 \
	xenstore-chmod /xmt/p/q w0 r1 r2 r3 r4 r5 r6 r7 </dev/null
chk "ls -p shows all 8" 0 xenstore-ls -p /xmt/p <<EOF
q = "v"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (w0,r1,r2,r3,r4,r5,r6,r7)
new = "" . . . . . . . . . . . . . . . . . . . . . . . . . .  (b0,r5)
 deeper = "x"  . . . . . . . . . . . . . . . . . . . . . . .  (b0,r5)
EOF
chk "chmod leaves the value alone" 0 xenstore-read /xmt/p/q <<EOF
v
EOF
chke "chmod to an owner that does not exist" 1 \
	"xenstore-chmod: Error occurred setting permissions on '/xmt/p/q': No such file or directory" \
	xenstore-chmod /xmt/p/q n7 r0
chk "a failed chmod changes nothing" 0 xenstore-ls -fp /xmt/p/new <<EOF
/xmt/p/new/deeper = "x"   (b0,r5)
EOF
chke "chmod of a missing node" 1 \
	"xenstore-chmod: Error occurred setting permissions on '/xmt/nope': No such file or directory" \
	xenstore-chmod /xmt/nope n0
chke "chmod without any perms" 1 \
	"xenstore-chmod: Error occurred setting permissions on '/xmt/p': Invalid argument" \
	xenstore-chmod /xmt/p

# ---- invalid paths ---------------------------------------------------------

# '@' names are valid for permissions only; one that does not exist is
# ENOENT. (cxenstored answers EINVAL instead once a failed write to the
# same name went before, an artefact of its transaction handling: checked
# here first, on a clean slate.)
chke "chmod of a missing special node" 1 \
	"xenstore-chmod: Error occurred setting permissions on '@foo': No such file or directory" \
	xenstore-chmod @foo n0
for p in '/xmt/a b' '/xmt/' '//xmt' '/xmt//a' '/xmt/a.b' '/xmt/a\b' '/xmt/a:b' '@foo'; do
	chke "ls invalid path '$p'" 1 "xenstore-ls: xs_directory ($p): Invalid argument" xenstore-ls "$p"
	chke "write invalid path '$p'" 1 "xenstore-write: could not write path $p" xenstore-write "$p" v
	[ "$p" = @foo ] && continue
	chke "chmod invalid path '$p'" 1 \
		"xenstore-chmod: Error occurred setting permissions on '$p': Invalid argument" \
		xenstore-chmod "$p" n0
done
chk "- _ @ are valid in names" 0 xenstore-write /xmt/a-b_c@d v </dev/null
chk "read it" 0 xenstore-read /xmt/a-b_c@d <<EOF
v
EOF
must xenstore-rm /xmt/a-b_c@d
p2048=/$(rep y 2047)
p2049=/$(rep y 2048)
chk "a 2048-byte path is valid" 0 xenstore-write "$p2048" v </dev/null
chk "and readable" 0 xenstore-read "$p2048" <<EOF
v
EOF
must xenstore-rm "$p2048"
chke "a 2049-byte path is not" 1 "xenstore-ls: xs_directory ($p2049): Invalid argument" \
	xenstore-ls "$p2049"
chke "write to a 2049-byte path" 1 "xenstore-write: could not write path $p2049" \
	xenstore-write "$p2049" v
# below /local/domain/<id>/ the limit applies to the part after that prefix
l2048=/local/domain/0/$(rep z 2048)
l2049=/local/domain/0/$(rep z 2049)
chk "2048 bytes below /local/domain/0/ are valid" 0 xenstore-write "$l2048" v </dev/null
must xenstore-rm "$l2048"
chke "2049 bytes below /local/domain/0/ are not" 1 "xenstore-write: could not write path $l2049" \
	xenstore-write "$l2049" v

# ---- relative paths (domain 0's home is /local/domain/0) -------------------

chk "write a relative path" 0 xenstore-write xmrel/a 1 xmrel/b/c 2 </dev/null
chk "it lands below /local/domain/0" 0 xenstore-read /local/domain/0/xmrel/a /local/domain/0/xmrel/b/c <<EOF
1
2
EOF
chk "read a relative path" 0 xenstore-read -p xmrel/a <<EOF
xmrel/a: 1
EOF
chk "list -p of a relative path" 0 xenstore-list -p xmrel <<EOF
xmrel/a
xmrel/b
EOF
chk "ls -f of a relative path" 0 xenstore-ls -f xmrel <<EOF
xmrel/a = "1"
xmrel/b = ""
xmrel/b/c = "2"
EOF
chk "exists of a relative path" 0 xenstore-exists xmrel/b/c </dev/null
chke "ls of a missing relative path" 1 "xenstore-ls: xs_directory (xmnope): No such file or directory" \
	xenstore-ls xmnope
chk "chmod of a relative path" 0 xenstore-chmod xmrel/a r0 </dev/null
chk "ls -p of the relative path" 0 xenstore-ls -p xmrel <<EOF
a = "1"  . . . . . . . . . . . . . . . . . . . . . . . . . .  (r0)
b = "" . . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
 c = "2" . . . . . . . . . . . . . . . . . . . . . . . . . .  (n0)
EOF
chk "rm of a relative path" 0 xenstore-rm xmrel </dev/null
chk "it is gone" 1 xenstore-exists /local/domain/0/xmrel </dev/null

# ---- watches ---------------------------------------------------------------

# events on a subtree: creation (one event, for the node written), change,
# rm (one event for the removed node), chmod, the watched node itself; no
# event for a sibling sharing the prefix or an rm of a missing node
must xenstore-write /xmt/w/a 1
cat >"$W/w1.want" <<EOF
/xmt/w
/xmt/w/b/c/d
/xmt/w/a
/xmt/w/b
/xmt/w/b/c
/xmt/w/b/c
/xmt/w/a
/xmt/w
/xmt/w/x
/xmt/w/y
/xmt/w
/xmt/w
/xmt/w/end
EOF
# a second watcher, on a node below, sees the rm of its ancestor
cat >"$W/w2.want" <<EOF
/xmt/w/b/c
/xmt/w/b/c/d
/xmt/w/b/c
/xmt/w/b/c
/xmt/w/b/c
EOF
watch_start "$W/w1" /xmt/w
watch_start "$W/w2" /xmt/w/b/c
must xenstore-write /xmt/w/b/c/d 2
must xenstore-write /xmt/w/a 3
must xenstore-rm /xmt/w/b
must xenstore-write /xmt/wx 1
must xenstore-rm /xmt/w/nope
must xenstore-write /xmt/w/b/c 1
must xenstore-rm /xmt/w/b/c
must xenstore-chmod /xmt/w/a n0 r1
must xenstore-write /xmt/w v
must xenstore-write /xmt/w/x 1 /xmt/w/y 2
must xenstore-chmod /xmt/w b0
must xenstore-rm /xmt/w
must xenstore-write /xmt/w/end 1
watch_end "watch: events for a subtree, in order" "$W/w1"
watch_end "watch: a node below sees its ancestor's rm" "$W/w2"

# a relative watch gets relative paths, also for absolute writes
cat >"$W/w3.want" <<EOF
xmwr
xmwr/x
xmwr/y
xmwr
xmwr/end
EOF
watch_start "$W/w3" xmwr
must xenstore-write xmwr/x 1
must xenstore-write /local/domain/0/xmwr/y 2
must xenstore-rm /local/domain/0/xmwr
must xenstore-write xmwr/end 1
watch_end "watch: a relative watch gets relative paths" "$W/w3"
must xenstore-rm xmwr

chk "watch fires once at once for a missing node" 0 xenstore-watch -n 1 /xmt/nope/x <<EOF
/xmt/nope/x
EOF
chk "watch @introduceDomain: initial event" 0 xenstore-watch -n 1 @introduceDomain <<EOF
@introduceDomain
EOF
chk "watch @releaseDomain: initial event" 0 xenstore-watch -n 1 @releaseDomain <<EOF
@releaseDomain
EOF
chke "watch on an invalid path" 1 "xenstore-watch: Unable to add watch on /xmt//w
" xenstore-watch -n 1 /xmt//w

# ---- xenstore-control -------------------------------------------------------

chk "xenstore-control check" 0 "$XSCTL" check <<EOF
OK
EOF
"$XSCTL" no-such-command >/dev/null 2>"$W/ctl.err"
rc=$?
if [ $rc -eq 3 ] && [ "$(sed -n 1p "$W/ctl.err")" = "Command not supported. Valid commands are:" ]; then
	t_ok "xenstore-control: unknown command"
else
	t_fail "xenstore-control: unknown command" "exit status $rc, stderr: $(head -c 200 "$W/ctl.err")"
fi

# ---- the daemon is still there ----------------------------------------------

if kill -0 "$XS_PID" 2>/dev/null; then t_ok "daemon still running"; else t_fail "daemon still running" "it died"; fi
chk "and serving" 0 xenstore-read /xmt/c <<EOF
two words
EOF

t_summary
