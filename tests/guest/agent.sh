#!/bin/sh
# tests/guest/agent.sh — xmfront, the guest agent, in a real guest.
#
# The host side is what the toolstack will do (until `xm create` exists):
# xmstored, domain 3 introduced with its Xen-shaped area, and QEMU with the
# virtio-serial port "xenbus" on the domain's channel socket (reconnect=1).
# One guest is booted and used for every check; inside it the stock
# xenstore-* tools talk to xmfront. The image gets one extra file, the static
# test client tests/guest/xstest (a client that holds a transaction and
# watches until killed), as a second cpio archive after the image's own.
#
# A client killed mid-transaction must leave nothing behind. That is seen
# through the daemon's quotas: xmstored runs with -t 1 (two open transactions
# per connection) and -W 6 (seven watches per domain); each held client opens
# one transaction and three watches, so if the agent leaked them the third
# held client would be refused.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1

D=3
IMG=$B/guest
PROMPT='xm-guest# '
CMDLINE="console=ttyS0 quiet i8042.noaux i8042.nokbd i8042.nopnp mitigations=off cryptomgr.notests no_timer_check tsc=reliable random.trust_cpu=on 8250.nr_uarts=1"
XMSTORED_ARGS="-t 1 -W 6"

T=
QEMU_PID=
CAT_PID=
cleanup() {
	[ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null
	[ -z "$CAT_PID" ] || kill "$CAT_PID" 2>/dev/null
	[ -z "$QEMU_PID" ] || wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	exec 3>&- 2>/dev/null
	xs_stop
	[ -z "$T" ] || rm -rf "$T"
	T=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# until_ok SECONDS CMD...: retry CMD every 20 ms
until_ok() {
	end=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.02
	done
}

# host-side XenStore, as domain 0
hs_read() { xenstore-read "/local/domain/$D/$1" 2>/dev/null; }
hs_is() { [ "$(hs_read "$1")" = "$2" ]; }

# The domain's area as Xen's toolstack lays it out (after INTRODUCE: a
# permission naming domain N needs N to exist).
setup_domain() {
	p=/local/domain/$D
	xenstore-write /local/domain/0/name Domain-0 /local/domain/0/domid 0 &&
	xenstore-write $p/domid $D $p/name agent-test &&
	xenstore-chmod $p n0 r$D && xenstore-chmod $p/domid n0 r$D &&
	xenstore-chmod $p/name n0 r$D || return 1
	for d in control control/shutdown data attr device; do
		xenstore-write $p/$d "" && xenstore-chmod $p/$d n$D || return 1
	done
}

introduce() { "$B/tests/guest/xstest" introduce $D && setup_domain; }

# gcmd CMD [SECONDS]: run CMD in the guest shell, its output in $out. The
# markers are typed split ("@@""B1") so the echo of the line cannot match.
GN=0
gcmd() {
	GN=$((GN + 1))
	out=
	printf 'echo "@@""B%s"; %s; echo "@@""E%s"\n' "$GN" "$1" "$GN" >&3
	if ! until_ok "${2:-10}" grep -q "^@@E$GN" "$T/console.log"; then
		out="(no answer to: $1)"
		return 1
	fi
	out=$(tr -d '\r' <"$T/console.log" |
		awk -v b="@@B$GN" -v e="@@E$GN" '$0 == e { exit } p { print } $0 == b { p = 1 }')
}

# check NAME EXPECTED: $out must equal EXPECTED
check() {
	if [ "$out" = "$2" ]; then t_ok "$1"; else t_fail "$1" "got '$out', want '$2'"; fi
}
# check_has NAME LINE: $out must have LINE as one of its lines
check_has() {
	if printf '%s\n' "$out" | grep -qxF -- "$2"; then t_ok "$1"; else t_fail "$1" "no line '$2' in: $(echo "$out" | tr '\n' '|')"; fi
}

fatal() {
	t_fail "$1" "$2"
	echo "--- console:"; tr -d '\r' <"$T/console.log" | tail -20
	[ ! -f "$T/qemu.err" ] || { echo "--- qemu:"; cat "$T/qemu.err"; }
	t_summary
	exit 1
}

# --- build ----------------------------------------------------------------------
# only what this test needs: other programs may be mid-work in the tree
T=$(mktemp -d "${TMPDIR:-/tmp}/xm-agent.XXXXXX")
SAN=
case $B in *asan*) SAN=SANITIZE=address,undefined ;; esac
if ! make -s B="$B" $SAN "$B/xmstored/xmstored" "$B/xmfront/xmfront" "$B/tests/guest/xstest" >"$T/build.log" 2>&1 ||
	! make -s B="$B" $SAN image >>"$T/build.log" 2>&1; then
	cat "$T/build.log"
	t_fail build "make B=$B xmstored xmfront xstest image failed"
	t_summary
	exit 1
fi
t_ok "xmfront built ($(wc -c <"$B/xmfront/xmfront" | tr -d ' ') bytes, static), image $(wc -c <"$IMG/initramfs.cpio.gz" | tr -d ' ') bytes"

mkdir -p "$T/extra/usr/bin"
cp "$B/tests/guest/xstest" "$T/extra/usr/bin/xstest"
(cd "$T/extra" && find . -mindepth 1 | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$T/extra.cpio.gz"
cat "$IMG/initramfs.cpio.gz" "$T/extra.cpio.gz" >"$T/initrd"

# --- host side ------------------------------------------------------------------
xs_start xm "$T/xs" || fatal xmstored "did not start"
introduce || fatal "domain $D introduced" "xstest introduce / setup failed"
t_ok "domain $D introduced, channel $T/xs/domains/domain-$D.sock"

# --- boot -------------------------------------------------------------------------
ACCEL=${XM_ACCEL:-}
if [ -z "$ACCEL" ]; then
	ACCEL=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; fi
fi
mkfifo "$T/serial.in" "$T/serial.out"
: >"$T/console.log"
t0=$(now_ms)
qemu-system-x86_64 -machine q35 -accel "$ACCEL" -bios /usr/share/qemu/qboot.rom \
	-m 256 -nodefaults -no-user-config -display none \
	-kernel "$IMG/vmlinux" -initrd "$T/initrd" -append "$CMDLINE" \
	-chardev pipe,id=con,path="$T/serial" -serial chardev:con \
	-chardev socket,id=xenbus,path="$T/xs/domains/domain-$D.sock",reconnect=1 \
	-device virtio-serial-pci,id=vser0 \
	-device virtserialport,bus=vser0.0,chardev=xenbus,name=xenbus \
	2>"$T/qemu.err" &
QEMU_PID=$!
exec 3<>"$T/serial.in"
cat "$T/serial.out" >>"$T/console.log" &
CAT_PID=$!

until_ok 30 hs_is attr/xmfront/state ready || fatal "agent ready" "attr/xmfront/state not ready within 30 s"
t1=$(now_ms)
t_ok "agent announced attr/xmfront/state = ready"
until_ok 30 grep -q "$PROMPT" "$T/console.log" || fatal "shell prompt" "none within 30 s"
t2=$(now_ms)
echo "boot -> agent ready: $((t1 - t0)) ms; boot -> shell prompt: $((t2 - t0)) ms ($ACCEL)"

if hs_is control/feature-poweroff 1 && hs_is control/feature-reboot 1 &&
	[ -n "$(hs_read attr/xmfront/version)" ]; then
	t_ok "control/feature-poweroff, feature-reboot, attr/xmfront/version written"
else
	t_fail "agent features" "feature-poweroff='$(hs_read control/feature-poweroff)' version='$(hs_read attr/xmfront/version)'"
fi

# --- stock clients in the guest -------------------------------------------------
gcmd 'xenstore-read domid'
check "guest: xenstore-read domid" $D

gcmd "xenstore-ls /local/domain/$D"
check_has "guest: xenstore-ls own area" 'name = "agent-test"'

gcmd 'xenstore-write data/x v && echo written'
if [ "$out" = written ] && hs_is data/x v; then t_ok "guest: xenstore-write data/x v (host reads v)"; else t_fail "guest: xenstore-write" "guest '$out', host '$(hs_read data/x)'"; fi

gcmd 'xenstore-read /local/domain/0/name; echo "rc=$?"'
check_has "guest: xenstore-read /local/domain/0/name fails" 'rc=1'
gcmd 'xenstore-ls /local/domain/0 2>&1'
case $out in
*'Permission denied'*) t_ok "guest: dom0's area is EACCES" ;;
*) t_fail "guest: dom0's area is EACCES" "$out" ;;
esac

# latency through the agent: one connection, reads of the own domid
gcmd 'xstest reads 200 domid'
case $out in
*' us per read'*) t_ok "guest: 200 reads on one connection"; echo "guest read round trip through xmfront: $out" ;;
*) t_fail "guest: 200 reads on one connection" "$out" ;;
esac
gcmd 'a=$(cut -d" " -f1 /proc/uptime); i=0; while [ $i -lt 10 ]; do xenstore-read domid >/dev/null || break; i=$((i+1)); done; b=$(cut -d" " -f1 /proc/uptime); awk -v a=$a -v b=$b "BEGIN { printf \"%d\", (b - a) * 100 }"; echo' 30
echo "guest: stock xenstore-read, a process each: $out ms per call"

# xenstore-watch: the first event comes at registration, the second from
# the host's write
gcmd 'rm -f /tmp/w1; xenstore-watch -n 2 data >/tmp/w1 2>&1 & i=0; while [ ! -s /tmp/w1 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; cat /tmp/w1'
check "guest: xenstore-watch registered" data
xenstore-write /local/domain/$D/data/w1 1
gcmd 'wait $!; echo "rc=$?"; cat /tmp/w1'
watch_out=$out
out=$(echo "$watch_out" | grep -v '^rc=\|libgcc_s')
check "guest: xenstore-watch -n 2 data sees the host's write" "data
data/w1"
out=$(echo "$watch_out" | grep '^rc=\|libgcc_s')
check "guest: xenstore-watch exits with status 0" "rc=0"

# two clients at once: one watching in the background, one writing
gcmd 'rm -f /tmp/w2; xenstore-watch -n 3 data/c >/tmp/w2 2>&1 & i=0; while [ ! -s /tmp/w2 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; xenstore-write data/c/a 1 && xenstore-write data/c/b 2 && echo writes-ok; wait $!; cat /tmp/w2'
out=$(echo "$out" | grep -v 'libgcc_s\|^Aborted')
check "guest: a watcher and a writer at once" "writes-ok
data/c
data/c/a
data/c/b"
if hs_is data/c/a 1 && hs_is data/c/b 2; then t_ok "host sees both writes"; else t_fail "host sees both writes" "a='$(hs_read data/c/a)' b='$(hs_read data/c/b)'"; fi

# --- a client killed mid-transaction leaves nothing behind ------------------
ok=0
for i in 1 2 3 4; do
	gcmd 'rm -f /tmp/h; xstest hold data/held 3 >/tmp/h 2>&1 & p=$!; i=0; while [ ! -s /tmp/h ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done; kill -9 $p; wait $p 2>/dev/null; cat /tmp/h'
	case $out in
	'holding tx '*) ok=$((ok + 1)) ;;
	*) t_fail "killed client $i" "$out"; break ;;
	esac
done
if [ $ok -eq 4 ]; then
	t_ok "4 clients killed holding a transaction and 3 watches each: all cleaned up (quota -t 1 -W 6 not hit)"
fi
if xenstore-exists /local/domain/$D/data/held 2>/dev/null; then
	t_fail "aborted transaction wrote nothing" "data/held exists"
else
	t_ok "aborted transaction wrote nothing"
fi
gcmd 'xenstore-read domid'
check "guest: a client works after the killed ones" $D

# --- xmstored restarts under the running guest ---------------------------------
xs_stop
tr0=$(now_ms)
xs_start xm "$T/xs" || fatal "xmstored restarted" "did not start"
introduce || fatal "domain $D introduced again" "xstest introduce / setup failed"
if until_ok 20 hs_is attr/xmfront/state ready; then
	tr1=$(now_ms)
	t_ok "agent reconnected and announced ready again"
	echo "xmstored restart -> agent ready again: $((tr1 - tr0)) ms"
else
	t_fail "agent reconnected" "attr/xmfront/state not ready within 20 s"
fi
gcmd 'xenstore-read domid && xenstore-write data/after 2 && echo ok'
check "guest: clients work after the restart" "$D
ok"
hs_is data/after 2 || t_fail "host sees the write after restart" "data/after='$(hs_read data/after)'"

# --- an agent started again in the same boot resyncs the port --------------------
# (xmfront.service's --resync-restarted: /run/xmfront.ran says an agent ran)
gcmd 'grep -c "resync: the host side" /var/log/xmfront.log'
rs0=${out:-0}
xenstore-rm /local/domain/$D/attr/xmfront/state
gcmd 'kill $(pidof xmfront); sleep 1; test -e /run/xmfront.ran && echo marked; /sbin/xmfront --resync-restarted </dev/null >>/var/log/xmfront.log 2>&1 & true'
check "guest: the first agent left /run/xmfront.ran" marked
if until_ok 20 hs_is attr/xmfront/state ready; then
	gcmd 'grep -c "resync: the host side" /var/log/xmfront.log'
	if [ "${out:-0}" -gt "$rs0" ]; then
		t_ok "xmfront --resync-restarted after an agent ran: resynced, ready again"
	else
		t_fail "resync on restart" "no 'resync:' line in the agent's log ($rs0 before, ${out:-0} after)"
	fi
else
	t_fail "resync on restart" "attr/xmfront/state not ready within 20 s"
fi

# --- control/shutdown -----------------------------------------------------------
# reboot: QEMU keeps its channel connection across the guest's reboot, so
# the new agent starts on a connection that still has the old one's watch
# (RESET_WATCHES clears it)
xenstore-rm /local/domain/$D/attr/xmfront/state
tb0=$(now_ms)
xenstore-write /local/domain/$D/control/shutdown reboot
if until_ok 30 hs_is attr/xmfront/state ready; then
	tb1=$(now_ms)
	t_ok "control/shutdown = reboot: the guest came back, agent ready"
	echo "control/shutdown=reboot -> agent ready again: $((tb1 - tb0)) ms"
else
	t_fail "reboot through control/shutdown" "attr/xmfront/state not ready within 30 s"
fi
hs_is control/shutdown "" || t_fail "reboot acknowledged" "control/shutdown='$(hs_read control/shutdown)'"
# the new shell drops what is typed before it opens the console: retry
i=0
until gcmd 'xenstore-read domid' 1 || [ $i -ge 20 ]; do i=$((i + 1)); done
check "guest: clients work after the reboot" $D

gcmd 'cat /var/log/xmfront.log'
agent_log=$out
tp0=$(now_ms)
xenstore-write /local/domain/$D/control/shutdown poweroff
i=0
while kill -0 "$QEMU_PID" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
tp1=$(now_ms)
if kill -0 "$QEMU_PID" 2>/dev/null; then
	t_fail "poweroff through control/shutdown" "QEMU still running after 10 s"
	echo "--- xmfront.log:"; echo "$agent_log"
else
	wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	t_ok "control/shutdown = poweroff: QEMU exited"
	echo "control/shutdown=poweroff -> QEMU exited: $((tp1 - tp0)) ms"
fi
if xenstore-exists /local/domain/$D/control/shutdown && hs_is control/shutdown ""; then
	t_ok "the agent acknowledged (control/shutdown = \"\")"
else
	t_fail "shutdown acknowledged" "control/shutdown='$(hs_read control/shutdown)'"
fi
t_summary
