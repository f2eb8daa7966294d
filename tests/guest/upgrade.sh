#!/bin/sh
# tests/guest/upgrade.sh — both daemons restarted with SIGTERM, as a
# package upgrade does, under two running guests that hold disks: nothing
# may be lost. Guest A has an ext4 image attached writable and mounted, a
# writer filling it; guest B has a loop device attached writable whose
# backing file is then offered to A. After xmstored and xmbackd are
# stopped (SIGTERM) and started again (the same way, the same run
# directory): the whole tree is as it was (xenstore-ls -fp), xm list and
# xm block-list show the same guests and devices, the writable claim still
# refuses the loop's backing file to the other guest, the writer never
# stopped, a new attach and a clean detach work, and the disk checks clean
# (e2fsck -fn). Prints the time from the restart to the agents' return.
set -u
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
B=${B:-build/asan}
. "$TOP/tests/lib.sh"
. "$TOP/tests/guest/lib-guest.sh"
loop=
cleanup() {
	[ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
	guests_teardown
}
trap cleanup EXIT INT TERM
guests_setup || { t_fail setup "build, xmstored or xmbackd failed"; t_summary; exit 1; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
die() { t_fail "$1" "$2"; t_summary; exit 1; }

truncate -s 32M "$work/a.img" && mkfs.ext4 -q -F "$work/a.img" &&
	truncate -s 16M "$work/b.img" && mkfs.ext4 -q -F "$work/b.img" &&
	truncate -s 4M "$work/c.img" || die setup "images"
loop=$(losetup -f --show "$work/b.img") || die setup "losetup"
guest_cfg "$work/a.cfg" UpgA 160 1
guest_cfg "$work/b.cfg" UpgB 160 1
A=$(guest_create "$work/a.cfg") && B_=$(guest_create "$work/b.cfg") || die setup "guests"
"$XM" block-attach "$A" "file:$work/a.img" xvdb w && "$XM" block-attach "$B_" "phy:$loop" xvdb w ||
	die setup "block-attach"
guest_run "$A" 'mkdir -p /m && mount /dev/xvdb /m && sh -c "echo \$\$ > /tmp/w.pid; i=0; while :; do echo \$i > /m/n; i=\$((i+1)); sync; sleep 0.2; done" >/dev/null 2>&1 & true' >/dev/null ||
	die setup "mount and writer in $A"
count() { guest_run "$A" 'cat /m/n'; }

# what must survive: the tree, and what xm shows (not the times and states
# xm list computes from the running guests)
snapshot() {
	xenstore-ls -fp / | sort > "$work/tree.$1"
	"$XM" list | awk '{ print $1, $2, $3, $4 }' > "$work/list.$1"
	{ "$XM" block-list "$A"; "$XM" block-list "$B_"; } > "$work/blk.$1"
}
i=0 # the writer's first number
until n0=$(count) && [ "$n0" -ge 0 ] 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 20 ] && die setup "the writer in $A did not start"
	sleep 0.2
done
snapshot before

xs_stop
kill "$BACKD_PID" 2>/dev/null; wait "$BACKD_PID" 2>/dev/null
t0=$(now_ms)
xs_start xm "$work/xs" || die restart "xmstored did not start again"
backd_start
# the agents announce themselves again once QEMU's chardev has reconnected
i=0
until [ "$(xenstore-read "/local/domain/$A/attr/xmfront/state" 2>/dev/null)" = ready ] &&
	guest_run "$A" 'xenstore-read name' 2>/dev/null | grep -qx UpgA; do
	i=$((i + 1)); [ $i -gt 100 ] && die "agent back" "guest A's agent did not come back"
	sleep 0.1
done
echo "restart -> guest A's agent answers: $(($(now_ms) - t0)) ms"
snapshot after

d=$(diff "$work/tree.before" "$work/tree.after")
[ -z "$d" ] && t_ok "the tree is as it was ($(wc -l < "$work/tree.after") nodes)" ||
	t_fail "the tree is as it was" "$d"
cmp -s "$work/list.before" "$work/list.after" && t_ok "xm list shows the same guests" ||
	t_fail "xm list shows the same guests" "$(diff "$work/list.before" "$work/list.after")"
cmp -s "$work/blk.before" "$work/blk.after" && t_ok "xm block-list shows the same devices" ||
	t_fail "xm block-list shows the same devices" "$(diff "$work/blk.before" "$work/blk.after")"
xm_err "the loop's backing file is still refused to the other guest" \
	"Error: Device $work/b.img is mounted read-write in a guest domain (UpgB, xvdb), and so cannot be mounted now." \
	"$XM" block-attach "$A" "file:$work/b.img" xvdc w
sleep 1
n1=$(count)
[ -n "$n1" ] && [ "$n1" -gt "$n0" ] 2>/dev/null && t_ok "the guest's writer went on ($n0 -> $n1)" ||
	t_fail "the guest's writer went on" "before '$n0', after '$n1'"
"$XM" block-attach "$B_" "file:$work/c.img" xvdc r && "$XM" block-detach "$B_" xvdc &&
	t_ok "attach and detach after the restart" || t_fail "attach and detach after the restart" ""
guest_run "$A" 'kill $(cat /tmp/w.pid); sleep 0.5; umount /m' >/dev/null
"$XM" block-detach "$A" xvdb && t_ok "clean detach of the written disk" ||
	t_fail "clean detach of the written disk" ""
e2fsck -fn "$work/a.img" >"$work/fsck" 2>&1 && t_ok "the written disk checks clean" ||
	t_fail "the written disk checks clean" "$(tail -3 "$work/fsck")"
t_summary
