#!/bin/sh
# tests/guest/bootattach.sh — attaching to a guest whose agent is not up
# (issue 13), as Xen accepts it: the device is realised in QEMU at once and
# the guest connects it when its agent starts.
# - xm create, then xm block-attach at once, while the guest boots: exit 0
#   once the guest has connected it, the disk readable in the guest;
# - disk = [...] in the config: xm create attaches it while the guest boots;
# - the agent stopped in the guest: xm block-attach waits to its deadline,
#   says the device is attached and the agent not up, exits 0, and leaves it
#   attached; the agent started again connects it;
# - a guest rebooted with devices attached finds them again;
# - a backend that fails is still a failure (exit 1, nothing left).
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

trap guests_teardown EXIT
trap 'exit 1' INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }

now_ms() { date +%s%3N; }
until_ok() { # until_ok SECONDS CMD...: CMD true within SECONDS
	n=$(($1 * 10)); shift
	while ! "$@"; do n=$((n - 1)); [ $n -le 0 ] && return 1; sleep 0.1; done
}
# an image whose first bytes say which it is
mkimg() { truncate -s 8M "$work/$1.img"; printf 'mark-%s.' "$1" | dd of="$work/$1.img" conv=notrunc 2>/dev/null; }
for i in a b c d; do mkimg $i; done
be() { echo "/local/domain/0/backend/vbd/$1/$2"; }
fe() { echo "/local/domain/$1/device/vbd/$2"; }
state_is() { [ "$(xenstore-read "$1/state" 2>/dev/null)" = "$2" ]; }
reads() { # reads ID DEV NAME: the guest reads NAME's mark on /dev/DEV
	guest_run "$1" "head -c 7 /dev/$2" | grep -q "mark-$3"
}
ready() { [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" = ready ]; }
none_left() { [ -z "$(xenstore-list "/local/domain/0/backend/vbd/$1" 2>/dev/null)$(xenstore-list "/tool/xm/domain/$1/vbd" 2>/dev/null)" ]; }

# ---- xm create, then xm block-attach at once ----
guest_cfg "$work/A.cfg" GuestA
out=$("$XM" create "$work/A.cfg" 2>&1) || { t_fail "create GuestA" "$out"; t_summary; exit 1; }
A=$(echo "$out" | sed -n 's/^Started domain .* (id=\([0-9]*\))$/\1/p')
t0=$(now_ms)
if ready "$A"; then
	echo "     (GuestA's agent was up before the attach: the boot-time case is not exercised)"
fi
"$XM" block-attach "$A" "file:$work/a.img" xvdb w >"$work/out" 2>&1; rc=$?
t1=$(now_ms)
[ $rc -eq 0 ] && state_is "$(fe "$A" 51728)" 4 && state_is "$(be "$A" 51728)" 4 &&
	t_ok "block-attach right after create, the guest booting: exit 0 in $((t1 - t0)) ms, both ends Connected" ||
	t_fail "boot-time block-attach" "rc=$rc $(cat "$work/out")"
until_ok 30 ready "$A" || t_fail "GuestA's agent" "not ready"
reads "$A" xvdb a && t_ok "... the guest reads the disk" || t_fail "... the guest reads the disk" "$(tail -3 "$work/pty.txt" 2>/dev/null)"

# ---- disk = [...] while the guest boots ----
guest_cfg "$work/B.cfg" GuestB 160 1 "disk = [ 'file:$work/b.img,xvdb,w', 'file:$work/c.img,xvdc,r' ]"
t0=$(now_ms)
out=$("$XM" create "$work/B.cfg" 2>&1); rc=$?
Bd=$(echo "$out" | sed -n 's/^Started domain .* (id=\([0-9]*\))$/\1/p')
[ $rc -eq 0 ] && [ -n "$Bd" ] && state_is "$(fe "$Bd" 51728)" 4 && state_is "$(fe "$Bd" 51744)" 4 &&
	t_ok "xm create with two disks: exit 0 in $(($(now_ms) - t0)) ms, both connected by the guest" ||
	t_fail "create with disks" "rc=$rc $out"
if [ -n "$Bd" ]; then
	until_ok 30 ready "$Bd"
	reads "$Bd" xvdb b && reads "$Bd" xvdc c && t_ok "... the guest reads both" ||
		t_fail "... the guest reads both" "$(tail -3 "$work/pty.txt" 2>/dev/null)"
	"$XM" destroy "$Bd" >/dev/null 2>&1
fi

# ---- the agent not up: attached, said so, connected when it starts ----
guest_run "$A" 'kill $(pidof xmfront)' >/dev/null
agent_off() { [ "$(xenstore-read "/tool/xm/domain/$A/agent" 2>/dev/null)" = disconnected ]; }
until_ok 10 agent_off || t_fail "agent stopped" "$(xenstore-read "/tool/xm/domain/$A/agent" 2>&1)"
t0=$(now_ms)
XM_ATTACH_TIMEOUT=3 "$XM" block-attach "$A" "file:$work/d.img" xvdc r >"$work/out" 2>&1; rc=$?
[ $rc -eq 0 ] && grep -q "is attached; domain $A's agent is not up yet, and connects it when it starts" "$work/out" &&
	state_is "$(be "$A" 51744)" 4 && state_is "$(fe "$A" 51744)" 1 &&
	t_ok "agent not up: exit 0 at the deadline ($(($(now_ms) - t0)) ms): $(cat "$work/out")" ||
	t_fail "attach with the agent down" "rc=$rc $(cat "$work/out"); be $(xenstore-read "$(be "$A" 51744)/state" 2>&1) fe $(xenstore-read "$(fe "$A" 51744)/state" 2>&1)"
guest_run "$A" '/sbin/xmfront </dev/null >>/var/log/xmfront.log 2>&1 & echo started' >/dev/null
t0=$(now_ms)
if until_ok 15 state_is "$(fe "$A" 51744)" 4; then
	t_ok "... the agent started again connects it ($(($(now_ms) - t0)) ms)"
else
	t_fail "... connected once the agent is back" "fe $(xenstore-read "$(fe "$A" 51744)/state" 2>&1)"
fi
reads "$A" xvdc d && t_ok "... and the guest reads it" || t_fail "... the guest reads xvdc" "$(tail -3 "$work/pty.txt" 2>/dev/null)"

# ---- a rebooted guest finds its devices again ----
t0=$(now_ms)
"$XM" reboot "$A" >"$work/out" 2>&1 || t_fail "xm reboot" "$(cat "$work/out")"
sleep 1
until_ok 60 ready "$A" && until_ok 20 state_is "$(fe "$A" 51728)" 4 && reads "$A" xvdb a && reads "$A" xvdc d &&
	t_ok "rebooted with two devices: the guest has both again ($(($(now_ms) - t0)) ms)" ||
	t_fail "devices after reboot" "fe xvdb $(xenstore-read "$(fe "$A" 51728)/state" 2>&1), xvdc $(xenstore-read "$(fe "$A" 51744)/state" 2>&1)"

# ---- a backend that fails is still a failure, nothing left ----
"$XM" block-attach "$A" "file:$work/absent.img" xvdd w >"$work/out" 2>&1; rc=$?
[ $rc -eq 1 ] && [ -z "$(xenstore-read "$(be "$A" 51760)/state" 2>/dev/null)" ] &&
	t_ok "a missing image: exit 1 ($(cat "$work/out")), nothing left" || t_fail "missing image" "rc=$rc $(cat "$work/out")"

"$XM" block-detach "$A" xvdb >"$work/out" 2>&1 && "$XM" block-detach "$A" xvdc >>"$work/out" 2>&1 &&
	until_ok 15 none_left "$A" && t_ok "both detached, nothing left" || t_fail "detach" "$(cat "$work/out")"

if grep -l "Sanitizer\|runtime error" "$work"/*.stderr "$work"/xs/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs"
else
	t_ok "no sanitizer reports"
fi
t_summary
