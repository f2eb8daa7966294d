#!/bin/sh
# tests/guest/network.sh — vifs (issue 13, Networks) on real guests, a real
# bridge and real taps:
# - two guests created with a vif each on one test bridge ping each other;
#   the nodes are Xen's (backend/vif, device/vif), the taps vifD.0 on the
#   bridge;
# - xm network-attach to a running guest: the NIC gets traffic across the
#   bridge, xm network-list shows it in xm's format, xm network-detach
#   removes it: the tap gone from the host, the NIC from the guest, the
#   nodes from XenStore;
# - bad input (unknown bridge, bad MAC, duplicate MAC, an unknown key, the
#   detach of a vif that does not exist, a backend xmbackd cannot realise):
#   one clear error, exit 1, nothing left (no tap, no nodes);
# - xmbackd killed -9 with a vif attached and started again: the NIC is
#   still there once, traffic flows, detach works; killed at the crash
#   points of an attach and a detach: each completes after the restart,
#   with one NIC;
# - xm killed at each crash point of network-attach and network-detach
#   (XM_CRASH_AT): each completes, or xmbackd removes what is left once the
#   vif's operation lock is free; that lock held: detach refused;
# - a paused guest's detach (its eject waits) holds up no other guest's
#   attach, and ends once the guest runs again.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

trap guests_teardown EXIT
trap 'exit 1' INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
QMPCMD="$TOP/$B/tests/guest/qmpcmd"
make -s -C "$TOP" B="$B" SANITIZE="${SANITIZE-address,undefined}" "$B/tests/guest/qmpcmd" >/dev/null 2>&1
bridge_make ||
	{ t_fail setup "cannot make bridge $BR"; t_summary; exit 1; }

until_ok() { # until_ok SECONDS CMD...: CMD true within SECONDS
	n=$(($1 * 10)); shift
	while ! "$@"; do n=$((n - 1)); [ $n -le 0 ] && return 1; sleep 0.1; done
}
has_link() { ip link show "$1" >/dev/null 2>&1; }
no_link() { ! ip link show "$1" >/dev/null 2>&1; }
# the guest's interface with MAC $2 (empty: none)
gnic() {
	guest_run "$1" "for n in /sys/class/net/*; do [ \"\$(cat \$n/address)\" = $2 ] && echo \${n##*/}; done" |
		tr -d '\r'
}
pings() { guest_run "$1" "ping -c 2 -W 3 $2 >/dev/null"; }
vif_nodes() { # the vifs' nodes of domain $1 (backend, frontend, record): empty when none
	for p in "/local/domain/0/backend/vif/$1" "/local/domain/$1/device/vif" "/tool/xm/domain/$1/vif"; do
		xenstore-list "$p" 2>/dev/null | sed "s#^#$p/#"
	done
}
qemu_nics() { # how many xmnet-N QEMU holds for domain $1
	"$QMPCMD" "$XM_RUNDIR/dom/$1/ctl.sock" qom-list '{"path":"/machine/peripheral"}' |
		grep -o '"name": *"xmnet-[0-9]*"' | wc -l
}

# ---- two guests on one bridge ----
guest_cfg "$work/A.cfg" NetA 160 1 "vif = [ 'mac=00:16:3e:5a:00:01, bridge=$BR' ]"
guest_cfg "$work/B.cfg" NetB 160 1 "vif = [ 'bridge=$BR' ]"
A=$(guest_create "$work/A.cfg") && Bd=$(guest_create "$work/B.cfg") ||
	{ t_fail "create two guests with a vif" "$(tail -5 "$work/backd.log")"; t_summary; exit 1; }
t_ok "xm create with vif = [...]: NetA ($A) and NetB ($Bd)"
BMAC=$(printf '00:16:3e:%02x:%02x:00' $((Bd >> 8 & 127)) $((Bd & 255)))
[ "$(xenstore-read "/local/domain/0/backend/vif/$Bd/0/mac")" = "$BMAC" ] &&
	t_ok "a vif without mac= gets 00:16:3e, the domain id and the handle ($BMAC)" ||
	t_fail "generated MAC" "$(xenstore-read "/local/domain/0/backend/vif/$Bd/0/mac") (want $BMAC)"
want_be="bridge frontend frontend-id handle hotplug-status mac model online script state type"
got_be=$(xenstore-list "/local/domain/0/backend/vif/$A/0" | sort | tr '\n' ' ' | sed 's/ $//')
got_fe=$(xenstore-list "/local/domain/$A/device/vif/0" | sort | tr '\n' ' ' | sed 's/ $//')
[ "$got_be" = "$want_be" ] && [ "$got_fe" = "backend backend-id handle mac state" ] &&
	[ "$(xenstore-read "/local/domain/0/backend/vif/$A/0/state")" = 4 ] &&
	[ "$(xenstore-read "/local/domain/$A/device/vif/0/state")" = 4 ] &&
	[ "$(xenstore-read "/local/domain/0/backend/vif/$A/0/frontend")" = "/local/domain/$A/device/vif/0" ] &&
	[ "$(xenstore-read "/local/domain/$A/device/vif/0/backend")" = "/local/domain/0/backend/vif/$A/0" ] &&
	[ "$(xenstore-read "/local/domain/0/backend/vif/$A/0/script")" = /etc/xen/scripts/vif-bridge ] &&
	t_ok "Xen's nodes: backend/vif/$A/0 ($got_be), device/vif/0 ($got_fe), both Connected" ||
	t_fail "vif nodes" "be: $got_be; fe: $got_fe"
has_link "vif$A.0" && on_bridge "vif$A.0" && on_bridge "vif$Bd.0" &&
	t_ok "taps vif$A.0 and vif$Bd.0 on $BR" || t_fail "taps" "$(ip -o link show | grep vif)"
na=$(gnic "$A" 00:16:3e:5a:00:01); nb=$(gnic "$Bd" "$BMAC")
[ -n "$na" ] && [ -n "$nb" ] && t_ok "the guests have NICs with those MACs ($na, $nb)" ||
	t_fail "guest NICs" "A: '$na' B: '$nb'"
guest_run "$A" "ip addr add 10.77.0.1/24 dev $na" >/dev/null
guest_run "$Bd" "ip addr add 10.77.0.2/24 dev $nb" >/dev/null
pings "$A" 10.77.0.2 && pings "$Bd" 10.77.0.1 && t_ok "NetA and NetB ping each other across $BR" ||
	t_fail "ping between the guests" "$(tail -3 "$work/pty.txt")"

# ---- hot-plug ----
HMAC=00:16:3e:5a:00:02
"$XM" network-attach "$A" "bridge=$BR" "mac=$HMAC" > "$work/out" 2>&1 &&
	t_ok "xm network-attach $A bridge=$BR mac=$HMAC: exit 0" ||
	t_fail "network-attach" "$(cat "$work/out")"
nh=$(gnic "$A" $HMAC)
flags=$(guest_run "$A" "cat /sys/class/net/$nh/flags" | tr -d '\r\n')
[ -n "$nh" ] && [ $((flags & 1)) = 1 ] && on_bridge "vif$A.1" &&
	t_ok "... the guest has it ($nh), brought up by its agent (flags $flags), tap vif$A.1 on $BR" ||
	t_fail "hot-plugged NIC" "guest: '$nh' flags '$flags'; $(ip -o link show "vif$A.1" 2>&1)"
guest_run "$A" "ip addr add 10.77.1.1/24 dev $nh" >/dev/null
guest_run "$Bd" "ip addr add 10.77.1.2/24 dev $nb" >/dev/null
pings "$A" 10.77.1.2 && t_ok "... traffic flows on it (ping 10.77.1.2 from its address)" ||
	t_fail "traffic on the hot-plugged NIC" "$(tail -3 "$work/pty.txt")"
"$XM" network-list "$A" > "$work/list" 2>&1
{
	echo "Idx BE     MAC Addr.     handle state evt-ch tx-/rx-ring-ref BE-path"
	printf '%-3d %-3d%-17s    %-3d   %-3d    %-3d   %-5d/%-5d   %-30s  \n' 0 0 00:16:3e:5a:00:01 0 4 -1 -1 -1 "/local/domain/0/backend/vif/$A/0"
	printf '%-3d %-3d%-17s    %-3d   %-3d    %-3d   %-5d/%-5d   %-30s  \n' 1 0 $HMAC 1 4 -1 -1 -1 "/local/domain/0/backend/vif/$A/1"
} > "$work/want"
cmp -s "$work/list" "$work/want" && t_ok "xm network-list prints xm's table" ||
	t_fail "network-list" "$(diff "$work/want" "$work/list" | head -6)"
"$XM" network-detach "$A" $HMAC > "$work/out" 2>&1 &&
	t_ok "xm network-detach $A $HMAC: exit 0" || t_fail "network-detach" "$(cat "$work/out")"
no_link "vif$A.1" && t_ok "... the tap is gone from the host" || t_fail "tap after detach" "$(ip -o link show "vif$A.1")"
[ -z "$(gnic "$A" $HMAC)" ] && t_ok "... the NIC is gone from the guest" || t_fail "guest NIC after detach" "still there"
[ -z "$(xenstore-list "/local/domain/0/backend/vif/$A/1" 2>/dev/null)$(xenstore-list "/local/domain/$A/device/vif/1" 2>/dev/null)$(xenstore-list "/tool/xm/domain/$A/vif/1" 2>/dev/null)" ] &&
	[ "$(qemu_nics "$A")" = 1 ] &&
	t_ok "... its nodes are gone from XenStore, QEMU holds one NIC" || t_fail "nodes after detach" "$(vif_nodes "$A")"
pings "$A" 10.77.0.2 && t_ok "... vif 0 still carries traffic" || t_fail "vif 0 after the detach" "no ping"

# ---- bad input: one clear error, nothing left ----
before=$(vif_nodes "$A"); links=$(ip -o link show | grep -c vif)
xm_err "unknown bridge" "Error: bridge nosuchbr$$ does not exist" "$XM" network-attach "$A" "bridge=nosuchbr$$"
xm_err "bad MAC" "Error: bad MAC 'zz:16:3e:00:00:01': six hex pairs are wanted, as 00:16:3e:12:34:56" \
	"$XM" network-attach "$A" "bridge=$BR" mac=zz:16:3e:00:00:01
xm_err "duplicate MAC on the guest" "Error: MAC 00:16:3e:5a:00:01 is already used by vif 0 of domain $A" \
	"$XM" network-attach "$A" "bridge=$BR" mac=00:16:3E:5A:00:01
xm_err "rate= refused by name" "Error: vif key 'rate' is not supported: xm does not limit a vif's bandwidth" \
	"$XM" network-attach "$A" "bridge=$BR" rate=10Mb/s
xm_err "detach of a vif that does not exist" "Error: Device 7 (vif) is not connected." \
	"$XM" network-detach "$A" 7
xm_err "detach by an unknown MAC" "Error: Device 00:16:3e:5a:00:09 (vif) is not connected." \
	"$XM" network-detach "$A" 00:16:3e:5a:00:09
[ "$(vif_nodes "$A")" = "$before" ] && [ "$(ip -o link show | grep -c vif)" = "$links" ] &&
	[ "$(qemu_nics "$A")" = 1 ] &&
	t_ok "... nothing left behind (nodes, taps, QEMU's NICs as before)" ||
	t_fail "left behind" "$(vif_nodes "$A") / $(ip -o link show | grep vif)"
# a backend xmbackd cannot realise (written by hand, this shell holding its
# operation lock as xm would: xm checks the bridge first) is refused in
# hotplug-error, and nothing is made; once the lock is free (its xm gone),
# xmbackd removes the refused backend
be=/local/domain/0/backend/vif/$A/5
exec 9>"$XM_RUNDIR/dom/$A/vif-5.lock" && flock -n 9
xenstore-write "$be/frontend" "/local/domain/$A/device/vif/5" "$be/mac" 00:16:3e:5a:00:05 \
	"$be/bridge" "gone$$" "$be/online" 1 "$be/state" 1
until_ok 10 sh -c "[ \"\$(xenstore-read $be/hotplug-status 2>/dev/null)\" = error ]" &&
	[ "$(xenstore-read "$be/hotplug-error")" = "bridge gone$$ does not exist" ] &&
	no_link "vif$A.5" && [ -z "$(xenstore-list "/tool/xm/domain/$A/vif/5" 2>/dev/null)" ] &&
	t_ok "xmbackd refuses a backend on a missing bridge: hotplug-error '$(xenstore-read "$be/hotplug-error")', no tap, no record" ||
	t_fail "xmbackd's refusal" "$(xenstore-ls "$be" 2>&1 | tr '\n' ' ')"
exec 9>&-
rm -f "$XM_RUNDIR/dom/$A/vif-5.lock"
until_ok 15 sh -c "! xenstore-exists $be" &&
	t_ok "... its lock free (the xm gone), xmbackd removes the refused backend" ||
	t_fail "refused backend with a free lock" "$(xenstore-ls "$be" 2>&1 | tr '\n' ' ')"
xenstore-rm "$be" 2>/dev/null

# ---- xmbackd killed -9 with a vif attached ----
"$XM" network-attach "$A" "bridge=$BR" "mac=$HMAC" > "$work/out" 2>&1 ||
	t_fail "network-attach before the kill" "$(cat "$work/out")"
nh=$(gnic "$A" $HMAC)
guest_run "$A" "ip addr add 10.77.1.1/24 dev $nh" >/dev/null
kill -9 "$BACKD_PID"; wait "$BACKD_PID" 2>/dev/null
backd_start
sleep 1 # its take-over reconciles every guest
[ "$(qemu_nics "$A")" = 2 ] && [ "$(gnic "$A" $HMAC | wc -l)" = 1 ] && on_bridge "vif$A.1" &&
	[ "$(xenstore-read "/tool/xm/domain/$A/vif/1/phase")" = connected ] &&
	t_ok "xmbackd killed -9 and started again: the NIC is there once (QEMU, guest, tap, record)" ||
	t_fail "after xmbackd's restart" "QEMU NICs $(qemu_nics "$A"); guest '$(gnic "$A" $HMAC)'"
pings "$A" 10.77.1.2 && t_ok "... traffic still flows on it" || t_fail "traffic after the restart" "no ping"
"$XM" network-detach "$A" 1 > "$work/out" 2>&1 && no_link "vif$A.1" && [ "$(qemu_nics "$A")" = 1 ] &&
	t_ok "... and xm network-detach still works (tap gone, QEMU has one NIC)" ||
	t_fail "detach after the restart" "$(cat "$work/out")"

# ---- xmbackd killed at each step of an attach and a detach ----
backd_crashing() { # a new xmbackd that kills itself at crash point $1
	kill "$BACKD_PID" 2>/dev/null; wait "$BACKD_PID" 2>/dev/null
	XM_CRASH_AT=$1; export XM_CRASH_AT
	backd_start
	unset XM_CRASH_AT
}
dead() { ! kill -0 "$1" 2>/dev/null; }
backd_recover() { # once the crashing one is dead, a sound one
	until_ok 30 dead "$BACKD_PID" || return 1
	wait "$BACKD_PID" 2>/dev/null
	backd_start
}
CMAC=00:16:3e:5a:00:0c
for point in xmbackd.vif-intended xmbackd.vif-after-device-add; do
	backd_crashing $point
	"$XM" network-attach "$A" "bridge=$BR" "mac=$CMAC" > "$work/out" 2>&1 &
	att=$!
	backd_recover; wait $att; rc=$?
	n=$(gnic "$A" $CMAC | wc -l)
	[ $rc = 0 ] && [ "$(qemu_nics "$A")" = 2 ] && [ "$n" = 1 ] && on_bridge "vif$A.1" &&
		[ "$(xenstore-read "/tool/xm/domain/$A/vif/1/phase")" = connected ] &&
		t_ok "xmbackd killed at $point: the attach completes after its restart, one NIC (QEMU, guest, tap)" ||
		t_fail "attach across a kill at $point" "rc=$rc $(cat "$work/out"); QEMU $(qemu_nics "$A"), guest $n; $(tail -3 "$work/backd.log")"
	backd_crashing xmbackd.vif-after-device-del
	"$XM" network-detach "$A" 1 > "$work/out" 2>&1 &
	det=$!
	backd_recover; wait $det; rc=$?
	[ $rc = 0 ] && no_link "vif$A.1" && [ "$(qemu_nics "$A")" = 1 ] &&
		[ -z "$(xenstore-list "/tool/xm/domain/$A/vif/1" 2>/dev/null)" ] &&
		t_ok "... and killed after device_del: the detach completes after its restart (tap, NIC, record gone)" ||
		t_fail "detach across a kill after device_del" "rc=$rc $(cat "$work/out"); QEMU $(qemu_nics "$A"); $(tail -3 "$work/backd.log")"
done

# ---- xm killed at each crash point of network-attach and -detach ----
# (XM_CRASH_AT): an attach killed after its write completes by itself; a
# detach killed after Closing or after Closed too (xmbackd removes the
# directories once nobody holds the vif's lock); another xm holding the
# lock: refused, nothing touched; a refused attach (a fifth NIC: the
# guest has four NIC slots) killed before its clean-up: xmbackd removes it
vif_left() { # what is left of vif $2 of domain $1 (empty: nothing)
	for p in "/local/domain/0/backend/vif/$1/$2" "/local/domain/$1/device/vif/$2" "/tool/xm/domain/$1/vif/$2"; do
		xenstore-exists "$p" 2>/dev/null && printf '%s ' "$p"
	done
	has_link "vif$1.$2" && printf 'tap vif%s' "$1.$2"
}
vif_gone() { [ -z "$(vif_left "$1" "$2")" ]; }
vif_up() { # vif $2 of domain $1 Connected at both ends
	[ "$(xenstore-read "/local/domain/0/backend/vif/$1/$2/state" 2>/dev/null)" = 4 ] &&
		[ "$(xenstore-read "/local/domain/$1/device/vif/$2/state" 2>/dev/null)" = 4 ]
}
KMAC=00:16:3e:5a:00:0d
for pt in xm.net-attach-written xm.net-attach-waiting; do
	XM_CRASH_AT=$pt "$XM" network-attach "$A" "bridge=$BR" "mac=$KMAC" >/dev/null 2>&1; rc=$?
	if [ $rc = 137 ] && until_ok 15 vif_up "$A" 1 && [ "$(qemu_nics "$A")" = 2 ] &&
		[ "$(gnic "$A" $KMAC | wc -l)" = 1 ] && on_bridge "vif$A.1"; then
		t_ok "xm network-attach killed at $pt: the attach completes by itself (both ends Connected, one NIC in QEMU and the guest, tap on $BR)"
	else
		t_fail "network-attach killed at $pt" "rc=$rc left: $(vif_left "$A" 1); QEMU $(qemu_nics "$A")"
	fi
	"$XM" network-detach "$A" 1 > "$work/out" 2>&1 || t_fail "detach after $pt" "$(cat "$work/out")"
done
for pt in xm.net-detach-closing xm.net-detach-closed; do
	"$XM" network-attach "$A" "bridge=$BR" "mac=$KMAC" > "$work/out" 2>&1 ||
		t_fail "attach before $pt" "$(cat "$work/out")"
	XM_CRASH_AT=$pt "$XM" network-detach "$A" 1 >/dev/null 2>&1; rc=$?
	if [ $rc = 137 ] && until_ok 15 vif_gone "$A" 1 && [ "$(qemu_nics "$A")" = 1 ] &&
		[ -z "$(gnic "$A" $KMAC)" ]; then
		t_ok "xm network-detach killed at $pt: the detach completes by itself (nodes, record, tap, guest NIC gone)"
	else
		t_fail "network-detach killed at $pt" "rc=$rc left: $(vif_left "$A" 1); QEMU $(qemu_nics "$A")"
	fi
done
"$XM" network-attach "$A" "bridge=$BR" "mac=$KMAC" > "$work/out" 2>&1 ||
	t_fail "attach before the lock" "$(cat "$work/out")"
exec 9>"$XM_RUNDIR/dom/$A/vif-1.lock" && flock -n 9
xm_err "another xm holds vif 1's lock: network-detach refused" \
	"Error: another xm is working on vif 1 of domain $A" "$XM" network-detach "$A" 1
vif_up "$A" 1 && t_ok "... the vif is untouched (both ends Connected)" ||
	t_fail "lock: untouched" "$(vif_left "$A" 1)"
exec 9>&-
rm -f "$XM_RUNDIR/dom/$A/vif-1.lock"
ok=1
# two attaches to the guest at once: each locks the next handle, the
# second finds it taken (locked, then written) and takes the one after
"$XM" network-attach "$A" "bridge=$BR" > "$work/out2" 2>&1 & p2=$!
"$XM" network-attach "$A" "bridge=$BR" > "$work/out3" 2>&1 & p3=$!
wait $p2; r2=$?; wait $p3; r3=$?
if [ $r2 = 0 ] && [ $r3 = 0 ] && [ "$(qemu_nics "$A")" = 4 ] &&
	[ "$(xenstore-list "/local/domain/0/backend/vif/$A" | tr '\n' ' ')" = "0 1 2 3 " ] &&
	vif_up "$A" 2 && vif_up "$A" 3; then
	t_ok "two network-attach at once: both exit 0, with handles 2 and 3, both Connected"
else
	ok=0
	t_fail "two network-attach at once" "rc $r2 $r3: $(cat "$work/out2" "$work/out3"); QEMU $(qemu_nics "$A")"
fi
[ $ok = 1 ] && xm_err "a fifth NIC: refused by xmbackd, nothing left" \
	"Error: no free NIC slot in the guest (4 vifs at most)" "$XM" network-attach "$A" "bridge=$BR"
XM_CRASH_AT=xm.net-attach-failed "$XM" network-attach "$A" "bridge=$BR" >/dev/null 2>&1; rc=$?
if [ $rc = 137 ] && until_ok 15 vif_gone "$A" 4 && [ "$(qemu_nics "$A")" = 4 ] &&
	grep -q "domain $A vif 4: refused, left by an xm that died: removed" "$work/backd.log"; then
	t_ok "xm killed at xm.net-attach-failed (a fifth NIC refused): xmbackd removes its nodes, QEMU keeps four"
else
	t_fail "network-attach killed at xm.net-attach-failed" "rc=$rc left: $(vif_left "$A" 4); QEMU $(qemu_nics "$A")"
fi
for h in 3 2 1; do
	"$XM" network-detach "$A" $h > "$work/out" 2>&1 || t_fail "detach vif $h" "$(cat "$work/out")"
done
[ "$(qemu_nics "$A")" = 1 ] && [ "$(xenstore-list "/local/domain/0/backend/vif/$A")" = 0 ] &&
	t_ok "... vifs 1-3 detached: vif 0 alone again" || t_fail "after the crash points" "$(vif_nodes "$A")"

# ---- a guest that does not let its NIC go holds up no other guest ----
# NetA paused: its eject of vif 0 waits until it runs again; meanwhile
# NetB gets a NIC, and NetA's detach ends once it is unpaused
"$XM" pause "$A"
XM_DETACH_TIMEOUT=60 "$XM" network-detach "$A" 0 > "$work/det" 2>&1 &
det=$!
until_ok 10 sh -c "[ \"\$(xenstore-read /tool/xm/domain/$A/vif/0/phase 2>/dev/null)\" = unplugging ]"
"$XM" network-attach "$Bd" "bridge=$BR" > "$work/out" 2>&1; rc=$?
if [ $rc = 0 ] && kill -0 $det 2>/dev/null && has_link "vif$A.0"; then
	t_ok "NetA paused, its vif being detached: NetB's network-attach completes meanwhile"
else
	t_fail "attach while another guest's detach waits" "rc=$rc $(cat "$work/out"); detach $(kill -0 $det 2>/dev/null && echo waiting || echo ended: $(cat "$work/det"))"
fi
"$XM" unpause "$A"
wait $det; rc=$?
[ $rc = 0 ] && no_link "vif$A.0" && [ -z "$(vif_nodes "$A")" ] &&
	t_ok "... unpaused, NetA lets it go: the detach ends (exit 0, tap and nodes gone)" ||
	t_fail "detach after unpause" "rc=$rc $(cat "$work/det"); $(vif_nodes "$A")"

# ---- the guest's end takes its taps ----
"$XM" destroy "$Bd" >/dev/null 2>&1
until_ok 10 no_link "vif$Bd.0" && [ -z "$(vif_nodes "$Bd")" ] &&
	t_ok "xm destroy: the guest's tap and vif nodes go with it" || t_fail "after destroy" "$(vif_nodes "$Bd")"
t_summary
