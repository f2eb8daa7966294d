#!/bin/sh
# tests/guest/saverestore-dev.sh — xm save / xm restore of guests with a
# NIC and of HVM guests (issue 13), real guests, a real bridge and taps:
# - a guest with a vif on a test bridge, its address set in the guest,
#   pinging the host's address on the bridge: saved (its tap gone from the
#   host) and restored: the tap vifD.0 made again on the bridge by xmbackd,
#   the NIC with the same MAC on the same root port (QEMU's device at the
#   same PCI address), the guest's interface with its address kept and
#   connected again by its agent, and the guest pings the host again; xm
#   network-detach works after it; a restore while its bridge is gone is
#   refused with nothing made;
# - an HVM guest (builder = "hvm", booted by the BIOS from the disk of make
#   disk-image) with a file written in its /tmp: saved and restored, its
#   disk at the same slot with its bootindex, its agent ready again, the
#   file still in its memory-backed /tmp (the same boot), and it powers
#   off with xm shutdown -w.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

trap guests_teardown EXIT
trap 'exit 1' INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
QMPCMD="$TOP/$B/tests/guest/qmpcmd"
san=${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}
make -s -C "$TOP" B="$B" SANITIZE="$san" "$B/tests/guest/qmpcmd" >/dev/null 2>&1
bridge_make 10.78.0.254/24 ||
	{ t_fail setup "cannot make bridge $BR"; t_summary; exit 1; }

gone_link() { ! ip link show "$1" >/dev/null 2>&1; }
# the guest's interface with MAC $2 (empty: none)
gnic() {
	guest_run "$1" "for n in /sys/class/net/*; do [ \"\$(cat \$n/address)\" = $2 ] && echo \${n##*/}; done" |
		tr -d '\r'
}
ready() { # ready ID SECONDS: its agent announced ready
	i=0
	while [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" != ready ]; do
		i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1; sleep 0.1
	done
}
# Where QEMU has device $2 of domain $1: the PCI bus (behind its root port)
# and device of HMP's info pci, and the MAC QEMU gives it, if a NIC
pci_of() {
	"$QMPCMD" "$XM_RUNDIR/dom/$1/ctl.sock" human-monitor-command '{"command-line":"info pci"}' |
		sed 's/\\r//g; s/\\n/\n/g; s/\\"/"/g' | awk -v id="id \"$2\"" '
			/Bus +[0-9]+, device/ { at = $0; sub(/^.*Bus/, "Bus", at); sub(/, function.*/, "", at) }
			index($0, id) { print at; exit }'
}
restored_id() { sed -n "s/^Restored domain $1 (id=\\([0-9]*\\))\$/\\1/p"; }

# ---- a guest with a NIC ----
MAC=00:16:3e:5b:00:01
guest_cfg "$work/n.cfg" NetSave 160 1 "vif = [ 'mac=$MAC, bridge=$BR' ]"
N=$(guest_create "$work/n.cfg") || { t_fail "create NetSave" "$(tail -5 "$work/backd.log")"; t_summary; exit 1; }
nic=$(gnic "$N" $MAC)
guest_run "$N" "ip addr add 10.78.0.1/24 dev $nic" >/dev/null
bus=$(xenstore-read "/tool/xm/domain/$N/vif/0/bus")
where=$(pci_of "$N" xmnet-0)
guest_run "$N" 'ping -c 2 -W 3 10.78.0.254 >/dev/null' &&
	t_ok "NetSave ($N): NIC $nic ($MAC) on $bus ($where), tap vif$N.0 on $BR, pings the host's 10.78.0.254" ||
	t_fail "NetSave's network before the save" "$(tail -3 "$work/pty.txt")"

"$XM" save "$N" "$work/n.save" >"$work/out" 2>&1 && gone_link "vif$N.0" &&
	t_ok "xm save of a guest with a vif: its tap vif$N.0 gone from the host" ||
	t_fail "save with a vif" "$(cat "$work/out") $(ip -o link show | grep "vif$N\.")"
# its bridge gone: refused before anything is made
ip link del "$BR"
before=$(xenstore-list /tool/xm/domain 2>/dev/null | tr '\n' ' ')
xm_err "restore refused while its bridge is gone" "Error: bridge $BR does not exist" \
	"$XM" restore "$work/n.save"
[ "$(xenstore-list /tool/xm/domain 2>/dev/null | tr '\n' ' ')" = "$before" ] &&
	[ -z "$(xenstore-read "$(xenstore-list /tool/xm/saved | sed 's|^|/tool/xm/saved/|;s|$|/restoring|')" 2>&1)" ] &&
	t_ok "... nothing made, the save still restorable" || t_fail "refused restore left" "$(xenstore-ls /tool/xm 2>&1 | head)"
bridge_make 10.78.0.254/24 || t_fail "bridge again" "cannot make $BR"
out=$("$XM" restore "$work/n.save" 2>&1)
N2=$(echo "$out" | restored_id NetSave)
[ -n "$N2" ] && t_ok "xm restore: $out" || { t_fail "restore with a vif" "$out"; t_summary; exit 1; }
bus2=$(xenstore-read "/tool/xm/domain/$N2/vif/0/bus" 2>/dev/null)
where2=$(pci_of "$N2" xmnet-0)
on_bridge "vif$N2.0" && [ "$(xenstore-read "/local/domain/0/backend/vif/$N2/0/mac" 2>/dev/null)" = $MAC ] &&
	t_ok "its tap made again by xmbackd: vif$N2.0 on $BR, the backend's MAC $MAC" ||
	t_fail "tap after restore" "$(ip -o link show | grep vif) $(xenstore-ls "/local/domain/0/backend/vif/$N2" 2>&1)"
[ "$bus2" = "$bus" ] && [ -n "$where" ] && [ "$where2" = "$where" ] &&
	t_ok "the NIC on the same root port $bus, QEMU's device at the same PCI address ($where2)" ||
	t_fail "NIC slot after restore" "bus $bus2 (was $bus), $where2 (was $where)"
# (the restored domain's vif starts at Initialising and the agent connects
# it once it is up, maybe after announcing ready: waited for, not read once)
vif_connected() { [ "$(xenstore-read "/local/domain/$N2/device/vif/0/state" 2>/dev/null)" = 4 ]; }
wait_vif() { i=0; until vif_connected; do i=$((i + 1)); [ $i -gt 100 ] && return 1; sleep 0.1; done; }
ready "$N2" 30 && wait_vif &&
	t_ok "its agent ready again, the vif Connected in the guest" ||
	t_fail "agent after restore" "$(xenstore-ls "/local/domain/$N2/device" 2>&1)"
out=$(guest_run "$N2" "cat /sys/class/net/$nic/address; ip -o -4 addr show dev $nic | grep -c 10.78.0.1/24")
[ "$out" = "$(printf '%s\n1' $MAC)" ] && t_ok "the guest's $nic: the same MAC, its address kept" ||
	t_fail "the guest's NIC after restore" "$out"
guest_run "$N2" 'ping -c 2 -W 3 10.78.0.254 >/dev/null' &&
	t_ok "the restored guest pings the host across $BR" ||
	t_fail "ping after restore" "$(tail -3 "$work/pty.txt")"
"$XM" network-detach "$N2" 0 >"$work/out" 2>&1 && gone_link "vif$N2.0" &&
	t_ok "xm network-detach after the restore: the tap gone" || t_fail "detach after restore" "$(cat "$work/out")"
"$XM" destroy "$N2"

# ---- an HVM guest ----
make -s -C "$TOP" SANITIZE="$san" B="$B" disk-image >"$work/disk.log" 2>&1 ||
	{ t_fail "make disk-image" "$(tail -3 "$work/disk.log")"; t_summary; exit 1; }
cp --sparse=always "$TOP/$B/guest/hvm-disk.img" "$work/hvm.img"
cat >"$work/hvm.cfg" <<EOF
kernel = "/usr/lib/xen/boot/hvmloader"
builder = 'hvm'
name = "HvmSave"
memory = 256
serial = 'pty'
vnc = 0
boot = "c"
on_reboot = "destroy"
disk = [ 'file:$work/hvm.img,xvda,w' ]
EOF
H=$(guest_create "$work/hvm.cfg") || { t_fail "create HvmSave" "see above"; t_summary; exit 1; }
hb=$(xenstore-read "/tool/xm/domain/$H/vbd/51712/bus")
hwhere=$(pci_of "$H" "$(xenstore-read "/tool/xm/domain/$H/vbd/51712/device")")
boot0=$(guest_run "$H" 'cat /proc/sys/kernel/random/boot_id; echo kept-in-memory > /tmp/mark')
t_ok "HVM guest HvmSave ($H) booted from its disk; xvda on $hb; a file written in its /tmp"
"$XM" save "$H" "$work/h.save" >"$work/out" 2>&1 && t_ok "xm save of an HVM guest" ||
	t_fail "save HVM" "$(cat "$work/out")"
out=$("$XM" restore "$work/h.save" 2>&1)
H2=$(echo "$out" | restored_id HvmSave)
[ -n "$H2" ] && t_ok "xm restore: $out" || { t_fail "restore HVM" "$out"; t_summary; exit 1; }
[ "$(xenstore-read "/tool/xm/domain/$H2/vbd/51712/bus" 2>/dev/null)" = "$hb" ] &&
	[ "$(xenstore-read "/local/domain/0/backend/vbd/$H2/51712/bootindex" 2>/dev/null)" = 1 ] &&
	[ -n "$hwhere" ] && [ "$(pci_of "$H2" "$(xenstore-read "/tool/xm/domain/$H2/vbd/51712/device")")" = "$hwhere" ] &&
	t_ok "its disk on the same root port $hb, QEMU's device at the same address, bootindex 1" ||
	t_fail "HVM disk after restore" "$(xenstore-ls "/tool/xm/domain/$H2/vbd" 2>&1)"
ready "$H2" 60 && t_ok "its agent ready again" || t_fail "HVM agent after restore" "not ready"
out=$(guest_run "$H2" 'cat /proc/sys/kernel/random/boot_id; cat /tmp/mark; echo alive > /root/after && sync && cat /root/after')
[ "$out" = "$(printf '%s\nkept-in-memory\nalive' "$boot0")" ] &&
	t_ok "the same boot runs on (boot_id, the file in /tmp), its disk writable" ||
	t_fail "HVM guest after restore" "$out (boot was $boot0)"
# (it failed once in CI, silent at the 60 s timeout: what each part had
# done then is printed, for the next time)
sd_state() {
	qp=$(cat "$XM_RUNDIR/dom/$1/qemu.pid" 2>/dev/null)
	echo "control/shutdown=[$(xenstore-read "/local/domain/$1/control/shutdown" 2>&1)]" \
		"agent=[$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>&1)]" \
		"qemu ${qp:-?} $(kill -0 "$qp" 2>/dev/null && echo running || echo gone)"
	tail -6 "$XM_RUNDIR/dom/$1/console.log" 2>/dev/null | tr -d '\r' | sed 's/^/  console: /'
	tail -4 "$work/backd.log" 2>/dev/null | sed 's/^/  backd: /'
}
out=$(timeout 60 "$XM" shutdown -w "$H2" 2>&1) && t_ok "xm shutdown -w: powered off ($out)" ||
	t_fail "HVM shutdown after restore" "rc=$? $out; $(sd_state "$H2")"

t_summary
