#!/bin/sh
# tests/guest/store-restart.sh — xmstored killed with kill -9 under a
# running guest, and started again the way tests/lib.sh's xs_start started
# it, with nothing re-introduced or re-written by the test: the journal
# brings back the tree and the domain's channel, QEMU's chardev
# (reconnect=1) connects again by itself, and the guest's agent (xmfront)
# takes the connection up again: it announces itself again, a guest-side
# xenstore-read works, and a watch a guest client set BEFORE the kill sees
# a host write made after the restart (the agent registers its clients'
# watches again). Prints the times from the restart to the agent's
# announcement and to the first guest read.
#
# Like tests/guest/agent.sh it boots the guest with QEMU directly (the
# channel as the toolstack makes it; no xm, no xmbackd needed) and talks to
# its serial console through FIFOs. Everything it starts is stopped by pid
# (QEMU's, the daemon's pid file) on exit, also when a check fails.
#
#   B=build/asan sh tests/guest/store-restart.sh
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
cd "$TOP" || exit 1

D=4
IMG=$B/guest
PROMPT='xm-guest# '
CMDLINE="console=ttyS0 quiet i8042.noaux i8042.nokbd i8042.nopnp mitigations=off cryptomgr.notests no_timer_check tsc=reliable random.trust_cpu=on 8250.nr_uarts=1"

T=
QEMU_PID=
CAT_PID=
WATCH_PID=
cleanup() {
	[ -z "$QEMU_PID" ] || kill "$QEMU_PID" 2>/dev/null
	[ -z "$CAT_PID" ] || kill "$CAT_PID" 2>/dev/null
	[ -z "$WATCH_PID" ] || kill "$WATCH_PID" 2>/dev/null
	[ -z "$QEMU_PID" ] || wait "$QEMU_PID" 2>/dev/null
	QEMU_PID=
	exec 3>&- 2>/dev/null
	xs_stop
	[ -n "$T" ] && [ -f "$T/xs/xmstored.pid" ] && kill -9 "$(cat "$T/xs/xmstored.pid")" 2>/dev/null
	[ -z "$T" ] || rm -rf "$T"
	T=
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

now_ms() { echo $(($(date +%s%N) / 1000000)); }
until_ok() {
	end=$(($(now_ms) + $1 * 1000))
	shift
	until "$@"; do
		[ "$(now_ms)" -lt "$end" ] || return 1
		sleep 0.02
	done
}
hs_read() { xenstore-read "/local/domain/$D/$1" 2>/dev/null; }
hs_is() { [ "$(hs_read "$1")" = "$2" ]; }

# gcmd CMD [SECONDS]: run CMD in the guest's shell, its output in $out
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
fatal() {
	t_fail "$1" "$2"
	echo "--- console:"; tr -d '\r' <"$T/console.log" | tail -20
	[ ! -f "$T/qemu.err" ] || { echo "--- qemu:"; cat "$T/qemu.err"; }
	[ ! -f "$T/xs/xmstored.log" ] || { echo "--- xmstored:"; tail -20 "$T/xs/xmstored.log"; }
	t_summary
	exit 1
}

# --- build: only what this test needs ----------------------------------------------
T=$(mktemp -d "${TMPDIR:-/tmp}/xm-srestart.XXXXXX")
SAN=${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}
if ! make -s B="$B" SANITIZE="$SAN" "$B/xmstored/xmstored" "$B/xmfront/xmfront" \
	"$B/tests/guest/xstest" >"$T/build.log" 2>&1 ||
	! make -s B="$B" SANITIZE="$SAN" image >>"$T/build.log" 2>&1; then
	cat "$T/build.log"
	fatal build "make B=$B xmstored xmfront xstest image failed"
fi

# --- the host side, the domain, the guest ------------------------------------------
xs_start xm "$T/xs" || fatal xmstored "did not start"
p=/local/domain/$D
"$B/tests/guest/xstest" introduce $D &&
	xenstore-write /local/domain/0/name Domain-0 $p/domid $D $p/name srestart &&
	xenstore-chmod $p n0 r$D && xenstore-chmod $p/domid n0 r$D && xenstore-chmod $p/name n0 r$D &&
	for d in control control/shutdown data attr device; do
		xenstore-write $p/$d "" && xenstore-chmod $p/$d n$D || exit 1
	done || fatal "domain $D introduced" "xstest introduce / its nodes failed"

ACCEL=${XM_ACCEL:-}
if [ -z "$ACCEL" ]; then
	ACCEL=tcg
	if [ -r /dev/kvm ] && [ -w /dev/kvm ] && grep -qwE 'vmx|svm' /proc/cpuinfo; then ACCEL=kvm; fi
fi
mkfifo "$T/serial.in" "$T/serial.out"
: >"$T/console.log"
qemu-system-x86_64 -machine q35 -accel "$ACCEL" -bios /usr/share/qemu/qboot.rom \
	-m 192 -nodefaults -no-user-config -display none \
	-kernel "$IMG/vmlinux" -initrd "$IMG/initramfs.cpio.gz" -append "$CMDLINE" \
	-chardev pipe,id=con,path="$T/serial" -serial chardev:con \
	-chardev socket,id=xenbus,path="$T/xs/domains/domain-$D.sock",reconnect=1 \
	-device virtio-serial-pci,id=vser0 \
	-device virtserialport,bus=vser0.0,chardev=xenbus,name=xenbus \
	2>"$T/qemu.err" &
QEMU_PID=$!
exec 3<>"$T/serial.in"
cat "$T/serial.out" >>"$T/console.log" &
CAT_PID=$!
until_ok 60 hs_is attr/xmfront/state ready || fatal "agent ready" "attr/xmfront/state not ready within 60 s"
until_ok 30 grep -q "$PROMPT" "$T/console.log" || fatal "shell prompt" "none within 30 s"
t_ok "guest booted ($ACCEL), agent ready"

# A guest client's watch, set before the kill: each event prints the value.
xenstore-write $p/data/seen before
gcmd '(xenstore-watch data/seen | while read -r w; do echo "seen=$(xenstore-read data/seen)"; done >/tmp/w.log 2>&1 &); sleep 0.5; cat /tmp/w.log'
case $out in *seen=before*) t_ok "guest: a watch on data/seen is set" ;; *) t_fail "guest watch set" "'$out'" ;; esac

# --- kill -9, restart ------------------------------------------------------------
kill -9 "$(cat "$T/xs/xmstored.pid")"
wait "$XS_PID" 2>/dev/null
XS_PID=
t0=$(now_ms)
xs_start xm "$T/xs" || fatal "xmstored restarted" "did not start"
# the agent writes attr/xmfront/state again when its channel is back: the
# second event of this watch (the first is the watch's own)
xenstore-watch -n 2 $p/attr/xmfront/state >"$T/state.watch" 2>&1 &
WATCH_PID=$!
if until_ok 30 sh -c "! kill -0 $WATCH_PID 2>/dev/null"; then
	t1=$(now_ms)
	WATCH_PID=
	t_ok "the agent reconnected and announced itself again ($((t1 - t0)) ms)"
else
	t_fail "agent reconnected" "no write of attr/xmfront/state within 30 s"
	t1=
fi
grep -q "domain $D introduced, channel" "$T/xs/xmstored.log" &&
	[ "$(grep -c "domain $D introduced, channel" "$T/xs/xmstored.log")" -ge 2 ] &&
	t_ok "domain $D's channel made again by the replay (nothing re-introduced)" ||
	t_fail "channel re-made" "$(grep -c "introduced" "$T/xs/xmstored.log") introductions logged"

gcmd 'until xenstore-read domid; do sleep 0.05; done' 30
t2=$(now_ms)
[ "$out" = $D ] && t_ok "guest: xenstore-read domid works again ($((t2 - t0)) ms after the restart)" ||
	t_fail "guest read after restart" "'$out'"
gcmd 'xenstore-read name'
[ "$out" = srestart ] && t_ok "guest: the nodes written before the kill are there" || t_fail "guest reads name" "'$out'"

xenstore-write $p/data/seen after-restart
n=0
while gcmd 'cat /tmp/w.log' && [ $n -lt 20 ]; do
	case $out in *seen=after-restart*) break ;; esac
	n=$((n + 1)); sleep 0.2
done
case $out in
*seen=after-restart*) t_ok "guest: the watch set before the kill sees a host write after the restart" ;;
*) t_fail "guest watch after restart" "'$(echo "$out" | tr '\n' '|')'" ;;
esac
gcmd 'xenstore-write data/from-guest yes && echo written'
[ "$out" = written ] && hs_is data/from-guest yes && t_ok "guest: writes reach the restarted store" ||
	t_fail "guest write after restart" "'$out' host='$(hs_read data/from-guest)'"
[ -n "${t1:-}" ] && echo "xmstored restart -> agent reconnected (announced): $((t1 - t0)) ms; -> first guest read: $((t2 - t0)) ms ($ACCEL)"

grep -Eq 'Sanitizer|runtime error:' "$T/xs/xmstored.log" "$T/xs/xmstored.stderr" &&
	t_fail "no sanitizer report" "$(grep -Eh 'Sanitizer|runtime error:' "$T/xs/xmstored.log" "$T/xs/xmstored.stderr" | head -3)" ||
	t_ok "no sanitizer report"
t_summary
