#!/bin/sh
# tests/guest/domains.sh — xm's domain commands with real QEMU guests:
# create/list/pause/unpause/console/shutdown/destroy, xmbackd's cleanup after
# kill -9 and across its own restart, bad configs and names. Two guests of
# the default image run at once; a third is created and destroyed.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"

. "$TOP/tests/guest/lib-guest.sh"
trap guests_teardown EXIT INT TERM
guests_setup || { t_fail setup "build, xmstored or xmbackd failed"; t_summary; exit 1; }
cfg() { guest_cfg "$@"; } # cfg FILE NAME MEM VCPUS [extra line]

# Nothing of any domain left: no guest nodes, no private records, no QEMU.
nothing_left() {
	doms=$(xenstore-list /local/domain 2>/dev/null | grep -vx 0 | tr '\n' ' ')
	recs=$(xenstore-list /tool/xm/domain 2>/dev/null | tr '\n' ' ')
	dirs=$(ls "$XM_RUNDIR/dom" 2>/dev/null | tr '\n' ' ')
	vms=$(xenstore-list /vm 2>/dev/null | tr '\n' ' ')
	q=$(pgrep -f "$XM_RUNDIR/dom" | tr '\n' ' ')
	[ -z "$doms$recs$dirs$vms$q" ] || { echo "left: doms[$doms] recs[$recs] dirs[$dirs] vms[$vms] qemu[$q]"; return 1; }
}
wait_ready() { # wait_ready DOMID SECONDS
	i=0
	while [ "$(xenstore-read "/local/domain/$1/attr/xmfront/state" 2>/dev/null)" != ready ]; do
		i=$((i + 1)); [ $i -gt $(($2 * 10)) ] && return 1; sleep 0.1
	done
}
flags() { "$XM" list "$1" | awk 'NR==2 {print $5}'; }

# ---- bad configs and names: one line, exit 1, nothing behind ----
cfg "$work/nokernel.cfg" Bad1 128 1
sed -i "s|^kernel = .*|kernel = \"$work/missing-vmlinux\"|" "$work/nokernel.cfg"
xm_err "config: missing kernel" "Error: kernel $work/missing-vmlinux: No such file or directory" \
	"$XM" create "$work/nokernel.cfg"
cfg "$work/mem.cfg" Bad2 128 1
sed -i 's|^memory = .*|memory = "lots"|' "$work/mem.cfg"
xm_err "config: memory not a number" "Error: config key 'memory' must be a number" \
	"$XM" create "$work/mem.cfg"
cfg "$work/unknown.cfg" Bad3 128 1 'vfi = [ "bridge=xenbr0" ]'
xm_err "config: unknown key" "Error: $work/unknown.cfg:6: unknown config key 'vfi' (did you mean 'vif'?)" \
	"$XM" create "$work/unknown.cfg"
cfg "$work/syntax.cfg" Bad4 128 1 'disk = [ "phy:/dev/x,xvda,w" '
"$XM" create "$work/syntax.cfg" >/dev/null 2>"$work/err"; rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$work/err")" -eq 1 ] && grep -q '^Error: .*syntax.cfg' "$work/err" &&
	t_ok "config: syntax error" || t_fail "config: syntax error" "rc=$rc: $(cat "$work/err")"
xm_err "config: missing file" "Error: Cannot read config file $work/none.cfg: No such file or directory" \
	"$XM" create "$work/none.cfg"
t_check "bad configs leave nothing behind" nothing_left
for c in "list nope" "pause nope" "unpause 42" "destroy nope" "shutdown nope" "console 42" "domid nope"; do
	# shellcheck disable=SC2086
	xm_err "xm $c: unknown domain" "Error: Domain '${c#* }' does not exist." "$XM" $c
done

# ---- two guests at once ----
cfg "$work/g1.cfg" XenGuest1 256 1
cfg "$work/g2.cfg" XenGuest2 192 2
t0=$(date +%s.%N)
out=$("$XM" create "$work/g1.cfg" 2>&1) && echo "$out" | grep -q "^Started domain XenGuest1 (id=1)$" &&
	t_ok "create XenGuest1" || t_fail "create XenGuest1" "$out"
out=$("$XM" create "$work/g2.cfg" 2>&1) && echo "$out" | grep -q "^Started domain XenGuest2 (id=2)$" &&
	t_ok "create XenGuest2" || t_fail "create XenGuest2" "$out"
xm_err "create: duplicate name" "Error: Domain 'XenGuest1' already exists with ID '1'" \
	"$XM" create "$work/g1.cfg"
[ "$(xenstore-list /local/domain | tr '\n' ' ')" = "0 1 2 " ] && [ "$(pgrep -fc "$XM_RUNDIR/dom")" = 2 ] &&
	t_ok "duplicate name left nothing behind" || t_fail "duplicate name left nothing behind" "$(xenstore-list /local/domain)"

"$XM" list > "$work/list"
head -1 "$work/list" | grep -qx 'Name                                        ID   Mem VCPUs      State   Time(s)' &&
	t_ok "list: xm's header" || t_fail "list: xm's header" "$(head -1 "$work/list")"
grep -Eq '^Domain-0 {32} {5}0 +[0-9]+ +[0-9]+ +r----- +[0-9]+\.[0-9]$' "$work/list" &&
	t_ok "list: Domain-0 first" || t_fail "list: Domain-0 first" "$(cat "$work/list")"
grep -Eq '^XenGuest1 {31} {5}1 {3}256 {5}1 {5}(r-|-b)---- +[0-9]+\.[0-9]$' "$work/list" &&
	t_ok "list: XenGuest1 256 MiB, 1 vcpu, running or blocked" || t_fail "list XenGuest1" "$(cat "$work/list")"
grep -Eq '^XenGuest2 {31} {5}2 {3}192 {5}2 {5}(r-|-b)---- +[0-9]+\.[0-9]$' "$work/list" &&
	t_ok "list: XenGuest2 192 MiB, 2 vcpus" || t_fail "list XenGuest2" "$(cat "$work/list")"
[ "$("$XM" domid XenGuest2)" = 2 ] && [ "$("$XM" domname 1)" = XenGuest1 ] &&
	t_ok "domid / domname" || t_fail "domid / domname" "$("$XM" domid XenGuest2) $("$XM" domname 1)"
"$XM" list -l XenGuest2 | grep -q '"memory": 192' && t_ok "list -l: JSON" || t_fail "list -l" "$("$XM" list -l 2)"

if wait_ready 1 60 && wait_ready 2 60; then
	t1=$(date +%s.%N)
	t_ok "both agents ready ($(echo "$t1 - $t0" | bc) s after the first create)"
else
	t_fail "agents ready" "attr/xmfront/state: $(xenstore-read /local/domain/1/attr/xmfront/state 2>&1) $(xenstore-read /local/domain/2/attr/xmfront/state 2>&1)"
fi

"$XM" pause XenGuest1 && [ "$(flags 1)" = "--p---" ] && t_ok "pause: --p---" || t_fail pause "$(flags 1)"
"$XM" unpause 1 && flags 1 | grep -Eq '^(r-|-b)----$' && t_ok "unpause: running again" ||
	t_fail unpause "$(flags 1)"

# ---- the Xen-shaped tree ----
uuid=$(xenstore-read /local/domain/1/vm | sed 's|/vm/||')
[ "$(xenstore-read /local/domain/1/name)" = XenGuest1 ] && [ "$(xenstore-read /local/domain/1/domid)" = 1 ] &&
	[ "$(xenstore-read /local/domain/1/memory/target)" = 262144 ] &&
	[ "$(xenstore-read "/vm/$uuid/name")" = XenGuest1 ] && [ "$(xenstore-read "/vm/$uuid/uuid")" = "$uuid" ] &&
	t_ok "xenstore: name, domid, memory/target, vm" || t_fail "xenstore tree" "$(xenstore-ls -f /local/domain/1)"
perm_of() { xenstore-ls -p "$(dirname "$1")" | grep "^$(basename "$1") = " | sed 's/.*(\(.*\))$/\1/'; }
p="$(perm_of /local/domain/1) $(perm_of /local/domain/1/name) $(perm_of /local/domain/1/control) "
[ "$p" = "n0,r1 n0,r1 n1 " ] && t_ok "xenstore: Xen's permissions (dom0-owned readable; control owned by the guest)" ||
	t_fail "xenstore permissions" "$p"

# ---- console through a pty, as a user ----
if printf '%s\n' "send " "expect xm-guest# " "send echo hello-\$((6*7))" "expect hello-42" \
	"send xenstore-read domid" "expect 1" \
	"send xenstore-read /local/domain/0/name; echo rc=\$?" "expect rc=1" \
	"send xenstore-read name" "expect XenGuest1" "raw 1d" "wait" |
	"$PTY" 30 "$XM" console XenGuest1 > /dev/null 2>"$work/console.log"; then
	t_ok "console: a shell; stock xenstore-read in the guest reads its own area, not dom0's; Ctrl-] leaves"
else
	t_fail console "$(tail -c 600 "$work/console.log")"
fi

# ---- xmbackd restart: nothing lost, cleanup still works ----
kill "$BACKD_PID"; wait "$BACKD_PID" 2>/dev/null
backd_start
[ "$("$XM" list | wc -l)" = 4 ] && t_ok "xmbackd restarted: both guests still there" || t_fail "xmbackd restart" "$("$XM" list)"
sleep 0.5
qpid=$(cat "$XM_RUNDIR/dom/2/qemu.pid")
k0=$(date +%s.%N)
kill -9 "$qpid"
i=0
while xenstore-read /local/domain/2/name >/dev/null 2>&1 && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
k1=$(date +%s.%N)
secs=$(echo "$k1 - $k0" | bc)
if ! xenstore-read /local/domain/2/name >/dev/null 2>&1 && [ "$(echo "$secs < 2" | bc)" = 1 ] &&
	! "$XM" list | grep -q XenGuest2 && [ ! -d "$XM_RUNDIR/dom/2" ] &&
	! xenstore-read /tool/xm/domain/2/name >/dev/null 2>&1; then
	t_ok "kill -9 of QEMU: cleaned up in $secs s (by the restarted xmbackd)"
else
	t_fail "kill -9 cleanup" "after $secs s: $("$XM" list)"
fi

# ---- shutdown through the agent, destroy ----
out=$(timeout 60 "$XM" shutdown -w XenGuest1 2>&1) && [ "$out" = "Domain XenGuest1 terminated" ] &&
	t_ok "shutdown -w: powered off through the agent" || t_fail "shutdown -w" "$out"
t_check "shutdown: nothing left (xm list, XenStore, files, QEMU)" nothing_left
cfg "$work/g3.cfg" XenGuest3 128 1
"$XM" create "$work/g3.cfg" >/dev/null 2>&1 && id3=$("$XM" domid XenGuest3) && "$XM" destroy XenGuest3 &&
	! "$XM" list | grep -q XenGuest3 && t_ok "destroy (domain $id3)" || t_fail destroy "$("$XM" list)"
t_check "destroy: nothing left" nothing_left
[ "$id3" = 3 ] && t_ok "ids increase and are not reused (got $id3)" || t_fail "domain ids" "third domain got id $id3"

# No sanitizer report from the daemons or xm.
if grep -l "Sanitizer\|runtime error" "$work"/*.stderr "$work"/*.log "$work"/xs/*.stderr 2>/dev/null; then
	t_fail sanitizers "a report in the logs above"
else
	t_ok "no sanitizer reports"
fi
t_summary
