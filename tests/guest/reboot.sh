#!/bin/sh
# tests/guest/reboot.sh — what becomes of a guest that reboots (issue 13),
# real guests, a real bridge and taps, reboots typed in the guest:
# - NICs across a reboot: NetA with a vif of its config and one attached by
#   xm network-attach, NetB on the same bridge; after xm reboot, and after
#   a reboot -f typed in NetA, the same domain has both NICs once (QEMU,
#   the guest, the taps on the bridge), with the same MACs, brought up by
#   the agent again, and both carry traffic to NetB;
# - on_reboot = each action Xen defines, the reboot typed in the guest:
#   restart (the default: NetA above), destroy (gone), preserve (kept shut
#   down, ---s--, until xm destroy), rename-restart (kept as NAME-<time>
#   with its NICs; a new NAME from the config file with the config's vif
#   only), coredump-destroy (an ELF core, then gone), coredump-restart (an
#   ELF core, the same domain back with its agent);
# - on_crash = coredump-restart with a real panic (sysrq c): an ELF core
#   (readelf: Type CORE, its memory in LOAD segments), the guest back.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"

DUMPS=$(mktemp -d /tmp/xm-dumps.XXXXXX) || exit 1
export XMBACKD_DUMP_DIR="$DUMPS" # xmbackd's core dumps
export XMBACKD_XM="$TOP/$B/xm/xm" # what rename-restart runs
cleanup() {
	guests_teardown
	rm -rf "$DUMPS"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
guests_setup || { t_fail setup "could not start xmstored/xmbackd or build"; t_summary; exit 1; }
QMPCMD="$TOP/$B/tests/guest/qmpcmd"
make -s -C "$TOP" B="$B" SANITIZE="${SANITIZE-$( [ "$B" = build/asan ] && echo address,undefined )}" \
	"$B/tests/guest/qmpcmd" >/dev/null 2>&1 || { t_fail setup qmpcmd; t_summary; exit 1; }
bridge_make ||
	{ t_fail setup "cannot make bridge $BR"; t_summary; exit 1; }

until_ok() { # until_ok SECONDS CMD...: CMD true within SECONDS
	n=$(($1 * 10)); shift
	while ! "$@"; do n=$((n - 1)); [ $n -le 0 ] && return 1; sleep 0.1; done
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }
flags() { "$XM" list "$1" 2>/dev/null | awk 'NR == 2 { print $5 }'; }
gone() { ! xenstore-exists "/local/domain/$1" 2>/dev/null; }
ready() { [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" = ready ]; }
# the guest's interfaces with MAC $2, one name a line
gnic() {
	guest_run "$1" "for n in /sys/class/net/*; do [ \"\$(cat \$n/address)\" = $2 ] && echo \${n##*/}; done" |
		tr -d '\r'
}
up() { [ $(($(guest_run "$1" "cat /sys/class/net/$2/flags" | tr -d '\r\n') & 1)) = 1 ]; }
pings() { guest_run "$1" "ping -c 2 -W 3 $2 >/dev/null"; }
qemu_nics() { # the xmnet-N QEMU holds for domain $1
	"$QMPCMD" "$XM_RUNDIR/dom/$1/ctl.sock" qom-list '{"path":"/machine/peripheral"}' |
		grep -o '"name": *"xmnet-[0-9]*"' | wc -l
}
# reboot_in DOM: reboot -f typed in the guest's shell (the kernel's own
# reboot, as a reboot of its init ends)
reboot_in() {
	printf '%s\n' "send " "expect xm-guest# " "send sync; reboot -f" \
		"expect Restarting system" "raw 1d" "wait" |
		"$PTY" 60 "$XM" console "$1" >/dev/null 2>"$work/reboot.out" || true
}
# panic DOM: the guest kernel panics (sysrq c)
panic() {
	printf '%s\n' "send " "expect xm-guest# " "send echo c > /proc/sysrq-trigger" \
		"expect Kernel panic" "raw 1d" "wait" |
		"$PTY" 60 "$XM" console "$1" >/dev/null 2>"$work/panic.out" || true
}
# elf_core FILE: an ELF core of a guest's memory (readelf: type CORE, a
# note, LOAD segments); prints its MiB
elf_core() {
	[ -f "$1" ] && [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = 177ELF ] &&
		readelf -h "$1" 2>/dev/null | grep -q 'Type: *CORE' &&
		readelf -l "$1" 2>/dev/null | grep -q ' NOTE ' &&
		readelf -l "$1" 2>/dev/null | grep -q ' LOAD ' &&
		echo $(($(stat -c %s "$1") >> 20))
}
cores() { ls "$DUMPS/$1/"*".$1.$2.core" 2>/dev/null; }

# ---- NICs across a reboot (on_reboot restart, the default) ----
AMAC=00:16:3e:5b:00:01 HMAC=00:16:3e:5b:00:11 BMAC=00:16:3e:5b:00:02
guest_cfg "$work/A.cfg" NetA 128 1 "vif = [ 'mac=$AMAC, bridge=$BR' ]"
guest_cfg "$work/B.cfg" NetB 128 1 "vif = [ 'mac=$BMAC, bridge=$BR' ]"
A=$(guest_create "$work/A.cfg") && Bd=$(guest_create "$work/B.cfg") ||
	{ t_fail "create NetA and NetB" "$(tail -5 "$work/backd.log")"; t_summary; exit 1; }
"$XM" network-attach "$A" "bridge=$BR" "mac=$HMAC" > "$work/out" 2>&1 ||
	t_fail "network-attach to NetA" "$(cat "$work/out")"
nb=$(gnic "$Bd" $BMAC)
guest_run "$Bd" "ip addr add 10.78.0.2/24 dev $nb && ip addr add 10.78.1.2/24 dev $nb" >/dev/null
# nics_ok WHEN: NetA's two NICs after WHEN, each once, up, with traffic
nics_ok() {
	na=$(gnic "$A" $AMAC); nh=$(gnic "$A" $HMAC)
	if [ "$(qemu_nics "$A")" = 2 ] && [ "$(echo "$na" | grep -c .)" = 1 ] &&
		[ "$(echo "$nh" | grep -c .)" = 1 ] && up "$A" "$na" && up "$A" "$nh" &&
		on_bridge "vif$A.0" && on_bridge "vif$A.1" &&
		[ "$(xenstore-read "/local/domain/0/backend/vif/$A/0/mac")" = $AMAC ] &&
		[ "$(xenstore-read "/local/domain/0/backend/vif/$A/1/mac")" = $HMAC ] &&
		[ "$(xenstore-list "/local/domain/$A/device/vif" | tr '\n' ' ')" = "0 1 " ] &&
		[ "$(xenstore-read "/local/domain/$A/device/vif/0/state")" = 4 ] &&
		[ "$(xenstore-read "/local/domain/$A/device/vif/1/state")" = 4 ]; then
		t_ok "$1: NetA (id $A) has vif 0 ($AMAC, $na) and the hot-attached vif 1 ($HMAC, $nh) once each, up, taps vif$A.0 and vif$A.1 on $BR"
	else
		t_fail "NICs $1" "QEMU $(qemu_nics "$A"); guest '$na' '$nh'; fe $(xenstore-list "/local/domain/$A/device/vif" | tr '\n' ' ')"
		return
	fi
	guest_run "$A" "ip addr add 10.78.0.1/24 dev $na && ip addr add 10.78.1.1/24 dev $nh" >/dev/null
	pings "$A" 10.78.0.2 && guest_run "$A" "ping -c 2 -W 3 -I $nh 10.78.1.2 >/dev/null" &&
		t_ok "... both carry traffic to NetB across $BR" ||
		t_fail "traffic $1" "$(tail -3 "$work/pty.txt")"
}
nics_ok "before any reboot"
xenstore-rm "/local/domain/$A/attr/xmfront/state"
t0=$(now_ms)
"$XM" reboot NetA > "$work/out" 2>&1 || t_fail "xm reboot NetA" "$(cat "$work/out")"
if until_ok 60 ready "$A" && [ "$("$XM" domid NetA)" = "$A" ]; then
	t_ok "xm reboot NetA: the same domain (id $A) back, its agent ready in $(($(now_ms) - t0)) ms"
	nics_ok "after xm reboot"
else
	t_fail "xm reboot NetA" "agent '$(xenstore-read "/local/domain/$A/attr/xmfront/state" 2>&1)'"
fi
xenstore-rm "/local/domain/$A/attr/xmfront/state"
t0=$(now_ms)
reboot_in "$A"
if until_ok 60 ready "$A" && [ "$("$XM" domid NetA)" = "$A" ]; then
	t_ok "reboot -f typed in NetA: the same domain back, its agent ready in $(($(now_ms) - t0)) ms"
	nics_ok "after the reboot in the guest"
else
	t_fail "reboot in NetA" "agent '$(xenstore-read "/local/domain/$A/attr/xmfront/state" 2>&1)'; $(tail -c 300 "$work/reboot.out")"
fi
"$XM" destroy NetA; "$XM" destroy NetB

# ---- on_reboot = destroy ----
guest_cfg "$work/d.cfg" RbDestroy 128 1 'on_reboot = "destroy"'
D=$(guest_create "$work/d.cfg") || t_fail "create RbDestroy" "did not start"
reboot_in "$D"
until_ok 30 gone "$D" && [ ! -e "$XM_RUNDIR/dom/$D" ] &&
	t_ok "on_reboot destroy: after reboot -f in the guest, RbDestroy (id $D) is gone (nodes, run dir)" ||
	t_fail "on_reboot destroy" "$("$XM" list 2>&1 | tail -n +2)"

# ---- on_reboot = preserve ----
guest_cfg "$work/p.cfg" RbPreserve 128 1 'on_reboot = "preserve"'
D=$(guest_create "$work/p.cfg") || t_fail "create RbPreserve" "did not start"
reboot_in "$D"
down() { [ "$(flags RbPreserve)" = "---s--" ]; }
until_ok 30 down && sleep 1 && down &&
	grep -q "domain $D (RbPreserve): rebooted: preserve" "$work/backd.log" &&
	t_ok "on_reboot preserve: RbPreserve kept, shut down (xm list ---s--)" ||
	t_fail "on_reboot preserve" "xm list: $("$XM" list RbPreserve 2>&1 | tail -1)"
"$XM" destroy RbPreserve
gone "$D" && t_ok "... until xm destroy" || t_fail "destroy of the preserved guest" "still there"

# ---- on_reboot = rename-restart, with a vif of its config and one attached ----
guest_cfg "$work/n.cfg" RbRename 128 1 "on_reboot = \"rename-restart\"
vif = [ 'bridge=$BR' ]"
D=$(guest_create "$work/n.cfg") || t_fail "create RbRename" "did not start"
"$XM" network-attach "$D" "bridge=$BR" > "$work/out" 2>&1 || t_fail "attach to RbRename" "$(cat "$work/out")"
reboot_in "$D"
new_id() { nid=$("$XM" domid RbRename 2>/dev/null) && [ "$nid" != "$D" ] && ready "$nid"; }
if until_ok 60 new_id && old=$(xenstore-read "/local/domain/$D/name") &&
	expr "$old" : 'RbRename-[0-9]\{8\}T[0-9]\{4\}Z$' >/dev/null &&
	[ "$(flags "$old")" = "---s--" ]; then
	t_ok "on_reboot rename-restart: $old (id $D) kept, shut down; a new RbRename (id $nid) runs"
	n=$nid
	nmac=$(printf '00:16:3e:%02x:%02x:00' $((n >> 8 & 127)) $((n & 255)))
	[ "$(xenstore-list "/local/domain/0/backend/vif/$n" | tr '\n' ' ')" = "0 " ] &&
		[ "$(xenstore-read "/local/domain/$n/device/vif/0/state")" = 4 ] &&
		[ "$(xenstore-read "/local/domain/0/backend/vif/$n/0/mac")" = "$nmac" ] &&
		on_bridge "vif$n.0" && [ "$(xenstore-list "/local/domain/0/backend/vif/$D" | tr '\n' ' ')" = "0 1 " ] &&
		on_bridge "vif$D.0" && on_bridge "vif$D.1" &&
		t_ok "... the new one has its config's vif alone ($nmac, vif$n.0); the kept one its two (vif$D.0, vif$D.1)" ||
		t_fail "rename-restart's vifs" "new: $(xenstore-list "/local/domain/0/backend/vif/$n" | tr '\n' ' '); old: $(xenstore-list "/local/domain/0/backend/vif/$D" | tr '\n' ' ')"
else
	t_fail "on_reboot rename-restart" "old '$(xenstore-read "/local/domain/$D/name" 2>&1)' '$(flags "$D")'; RbRename '$("$XM" domid RbRename 2>&1)'"
	tail -5 "$work/backd.log" | sed 's/^/#   /'
fi
"$XM" destroy "$D"; "$XM" destroy RbRename

# ---- on_reboot = coredump-destroy ----
guest_cfg "$work/e.cfg" RbCoreD 128 1 'on_reboot = "coredump-destroy"'
D=$(guest_create "$work/e.cfg") || t_fail "create RbCoreD" "did not start"
reboot_in "$D"
core=
until_ok 60 gone "$D" && core=$(cores RbCoreD "$D")
if [ -n "$core" ] && mib=$(elf_core "$core"); then
	t_ok "on_reboot coredump-destroy: ${core#$DUMPS/} ($mib MiB, an ELF core), then the guest gone"
else
	t_fail "on_reboot coredump-destroy" "core '$core' in $(ls -R "$DUMPS" | tr '\n' ' '); gone: $(gone "$D" && echo yes || echo no)"
	tail -5 "$work/backd.log" | sed 's/^/#   /'
fi
rm -f "$core"

# ---- on_reboot and on_crash = coredump-restart ----
guest_cfg "$work/c.cfg" RbCoreR 128 1 'on_reboot = "coredump-restart"
on_crash = "coredump-restart"'
D=$(guest_create "$work/c.cfg") || t_fail "create RbCoreR" "did not start"
# back DOM N WHAT: the N-th core of RbCoreR, the same domain running again
back() {
	xenstore-rm "/local/domain/$1/attr/xmfront/state"
	t0=$(now_ms)
	$3 "$1"
	core=
	n_cores() { [ "$(cores RbCoreR "$1" | wc -l)" -ge "$2" ]; }
	if until_ok 60 n_cores "$1" "$2" && until_ok 60 ready "$1" &&
		[ "$("$XM" domid RbCoreR)" = "$1" ] && [ "$(flags RbCoreR)" != "---s--" ] &&
		[ "$(flags RbCoreR)" != "----c-" ] && core=$(cores RbCoreR "$1" | tail -1) &&
		mib=$(elf_core "$core") && guest_run "$1" true; then
		t_ok "$4 coredump-restart: ${core#$DUMPS/} ($mib MiB, an ELF core); RbCoreR (id $1) back, its agent ready in $(($(now_ms) - t0)) ms"
	else
		t_fail "$4 coredump-restart" "cores: $(cores RbCoreR "$1" | tr '\n' ' '); state '$(flags RbCoreR)'; agent '$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>&1)'"
		tail -5 "$work/backd.log" | sed 's/^/#   /'
	fi
}
back "$D" 1 reboot_in "on_reboot"
sleep 1 # two dumps in one second would have one name
back "$D" 2 panic "on_crash (sysrq c)"
grep -q "domain $D (RbCoreR): rebooted: coredump-restart" "$work/backd.log" &&
	grep -q "domain $D (RbCoreR): crashed (guest kernel panic): coredump-restart" "$work/backd.log" &&
	t_ok "... xmbackd's log names each: rebooted, crashed" || t_fail "xmbackd's log" "$(grep "domain $D" "$work/backd.log" | tail -4)"
"$XM" destroy RbCoreR

if grep -l "Sanitizer\|runtime error" "$work"/*.stderr "$work"/*.log "$work"/xs/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs"
else
	t_ok "no sanitizer reports"
fi
t_summary
